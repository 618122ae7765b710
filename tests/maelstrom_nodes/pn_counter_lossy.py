#!/usr/bin/env python3
"""A BROKEN counter: each delta is sent to the other nodes once, fire-and-forget,
and added to their total on arrival. A dropped message loses that delta on that node
for good, so the nodes' final reads disagree with the acknowledged adds."""
import threading

from maelstrom import Node

node = Node()
total = 0
lock = threading.Lock()


@node.on("add")
def add(msg):
    global total
    d = msg["body"]["delta"]
    with lock:
        total += d
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "delta", "delta": d})
    node.reply(msg, {"type": "add_ok"})


@node.on("delta")
def delta(msg):
    global total
    with lock:
        total += msg["body"]["delta"]


@node.on("read")
def read(msg):
    with lock:
        value = total
    node.reply(msg, {"type": "read_ok", "value": value})


node.run()

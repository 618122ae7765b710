#!/usr/bin/env python3
"""A BROKEN broadcast node: a new message is forwarded to each neighbour once,
without waiting for an acknowledgement; a dropped message is never resent."""
import threading

from maelstrom import Node

node = Node()
messages = set()
neighbours = []
lock = threading.Lock()


@node.on("topology")
def topology(msg):
    global neighbours
    neighbours = msg["body"]["topology"].get(node.node_id, [])
    node.reply(msg, {"type": "topology_ok"})


def learn(m, reply_to=None):
    with lock:
        new = m not in messages
        messages.add(m)
    if new:
        for peer in neighbours:
            node.send(peer, {"type": "forward", "message": m})


@node.on("broadcast")
def broadcast(msg):
    learn(msg["body"]["message"])
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("forward")
def forward(msg):
    learn(msg["body"]["message"])


@node.on("read")
def read(msg):
    with lock:
        value = sorted(messages)
    node.reply(msg, {"type": "read_ok", "messages": value})


node.run()

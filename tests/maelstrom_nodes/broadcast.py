#!/usr/bin/env python3
"""A correct broadcast node: it keeps every message it has seen and, every 100 ms,
sends its neighbours (from `topology`) the messages they have not acknowledged."""
import threading

from maelstrom import Node

node = Node()
messages = set()
acked = {}
neighbours = []
lock = threading.Lock()


@node.on("topology")
def topology(msg):
    global neighbours
    neighbours = msg["body"]["topology"].get(node.node_id, [])
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    with lock:
        messages.add(msg["body"]["message"])
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("read")
def read(msg):
    with lock:
        value = sorted(messages)
    node.reply(msg, {"type": "read_ok", "messages": value})


@node.on("gossip")
def gossip_in(msg):
    with lock:
        messages.update(msg["body"]["messages"])
    node.reply(msg, {"type": "gossip_ok", "messages": msg["body"]["messages"]})


def gossip():
    for peer in neighbours:
        with lock:
            missing = list(messages - acked.get(peer, set()))
        if missing:
            def done(reply, peer=peer):
                with lock:
                    acked.setdefault(peer, set()).update(reply["body"]["messages"])
            node.rpc(peer, {"type": "gossip", "messages": missing}, done)


node.every(0.1, gossip)
node.run()

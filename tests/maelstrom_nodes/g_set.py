#!/usr/bin/env python3
"""A correct g-set: adds go into the local set, and every 100 ms each node sends
its whole set to every other node (anti-entropy), so a lost gossip message is
repaired by the next one and every node converges once the network heals."""
import threading

from maelstrom import Node

node = Node()
elements = set()
lock = threading.Lock()


def key(e):
    import json
    return json.dumps(e, sort_keys=True)


@node.on("add")
def add(msg):
    e = msg["body"]["element"]
    with lock:
        elements.add(key(e))
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    import json
    with lock:
        value = [json.loads(e) for e in elements]
    node.reply(msg, {"type": "read_ok", "value": value})


@node.on("replicate")
def replicate(msg):
    with lock:
        elements.update(msg["body"]["value"])


def gossip():
    with lock:
        value = list(elements)
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "replicate", "value": value})


node.every(0.1, gossip)
node.run()

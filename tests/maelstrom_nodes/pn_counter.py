#!/usr/bin/env python3
"""A correct pn-counter (a g-counter when every delta is positive): each node counts
its own increments and decrements; every 100 ms it sends both per-node maps to every
other node, which merges by taking maxima; a read is the sum of increments minus the
sum of decrements. Lost gossip is repaired by the next round."""
import threading

from maelstrom import Node

node = Node()
inc = {}
dec = {}
lock = threading.Lock()


@node.on("add")
def add(msg):
    d = msg["body"]["delta"]
    with lock:
        table = inc if d >= 0 else dec
        table[node.node_id] = table.get(node.node_id, 0) + abs(d)
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    with lock:
        value = sum(inc.values()) - sum(dec.values())
    node.reply(msg, {"type": "read_ok", "value": value})


@node.on("replicate")
def replicate(msg):
    with lock:
        for mine, theirs in ((inc, msg["body"]["inc"]), (dec, msg["body"]["dec"])):
            for n, v in theirs.items():
                mine[n] = max(mine.get(n, 0), v)


def gossip():
    with lock:
        body = {"type": "replicate", "inc": dict(inc), "dec": dict(dec)}
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, body)


node.every(0.1, gossip)
node.run()

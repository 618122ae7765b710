#!/usr/bin/env python3
"""A BROKEN g-set: an add is told to the other nodes once, fire-and-forget. When
the network drops that one message (loss or a partition) the other node never
learns the element: acknowledged adds are missing from its final read."""
import json
import threading

from maelstrom import Node

node = Node()
elements = set()
lock = threading.Lock()


@node.on("add")
def add(msg):
    e = json.dumps(msg["body"]["element"], sort_keys=True)
    with lock:
        elements.add(e)
    for peer in node.node_ids:
        if peer != node.node_id:
            node.send(peer, {"type": "replicate", "value": [e]})
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    with lock:
        value = [json.loads(e) for e in elements]
    node.reply(msg, {"type": "read_ok", "value": value})


@node.on("replicate")
def replicate(msg):
    with lock:
        elements.update(msg["body"]["value"])


node.run()

#!/usr/bin/env python3
"""A correct unique-ids node: an id is the node's id and a per-node counter."""
import itertools
import threading

from maelstrom import Node

node = Node()
counter = itertools.count()
lock = threading.Lock()


@node.on("generate")
def generate(msg):
    with lock:
        n = next(counter)
    node.reply(msg, {"type": "generate_ok", "id": f"{node.node_id}-{n}"})


node.run()

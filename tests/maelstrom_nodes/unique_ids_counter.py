#!/usr/bin/env python3
"""A BROKEN unique-ids node: a per-node counter alone, so two nodes hand out the
same ids."""
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
    node.reply(msg, {"type": "generate_ok", "id": n})


node.run()

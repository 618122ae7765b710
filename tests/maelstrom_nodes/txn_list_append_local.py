#!/usr/bin/env python3
"""A BROKEN txn-list-append node: each node keeps its own lists and runs txns on them
alone, without telling the others. Each node's lists are consistent, but two nodes
hold different lists for one key, so reads across nodes cannot be ordered."""
import threading

from maelstrom import Node

node = Node()
lists = {}
lock = threading.Lock()


def txn(msg):
    out = []
    with lock:
        for f, k, v in msg["body"]["txn"]:
            key = str(k)
            if f == "append":
                lists.setdefault(key, []).append(v)
                out.append([f, k, v])
            else:
                out.append([f, k, list(lists.get(key, []))])
    node.reply(msg, {"type": "txn_ok", "txn": out})


node.on("txn")(txn)
node.run()

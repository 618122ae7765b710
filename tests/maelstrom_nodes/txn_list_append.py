#!/usr/bin/env python3
"""A correct Maelstrom txn-list-append node in which n0 alone holds the lists: every
other node forwards a client's txn to n0 unchanged (the client stays its `src`), and
n0 runs each txn whole under one lock. Strict serializable, since there is one copy
and each txn is atomic."""
import threading

from maelstrom import Node

node = Node()
lists = {}
lock = threading.Lock()


def txn(msg):
    if node.node_id != node.node_ids[0]:
        node.forward(msg, node.node_ids[0])
        return
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

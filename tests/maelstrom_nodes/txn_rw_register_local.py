#!/usr/bin/env python3
"""A BROKEN txn-rw-register node: each node keeps its own registers and runs txns on them
alone, without telling the others. Each node's registers are consistent, but two nodes
hold different values for one key, so reads across nodes cannot be ordered."""
import threading

from maelstrom import Node

node = Node()
registers = {}
lock = threading.Lock()


def txn(msg):
    out = []
    with lock:
        for f, k, v in msg["body"]["txn"]:
            key = str(k)
            if f == "w":
                registers[key] = v
                out.append([f, k, v])
            else:
                out.append([f, k, registers.get(key)])
    node.reply(msg, {"type": "txn_ok", "txn": out})


node.on("txn")(txn)
node.run()

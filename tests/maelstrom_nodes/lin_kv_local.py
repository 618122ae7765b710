#!/usr/bin/env python3
"""A BROKEN lin-kv node: each node keeps its own map and answers from it, without
consensus and without telling the others. Writes on one node are never seen on
another, so a history across nodes is not linearizable."""
import threading

from maelstrom import Node

node = Node()
data = {}
lock = threading.Lock()


@node.on("read")
def read(msg):
    key = str(msg["body"]["key"])
    with lock:
        if key in data:
            node.reply(msg, {"type": "read_ok", "value": data[key]})
        else:
            node.error(msg, 20, "key does not exist")


@node.on("write")
def write(msg):
    with lock:
        data[str(msg["body"]["key"])] = msg["body"]["value"]
    node.reply(msg, {"type": "write_ok"})


@node.on("cas")
def cas(msg):
    b = msg["body"]
    key = str(b["key"])
    with lock:
        if key not in data:
            if b.get("create_if_not_exists"):
                data[key] = b["to"]
                node.reply(msg, {"type": "cas_ok"})
            else:
                node.error(msg, 20, "key does not exist")
        elif data[key] == b["from"]:
            data[key] = b["to"]
            node.reply(msg, {"type": "cas_ok"})
        else:
            node.error(msg, 22, "precondition failed")


node.run()

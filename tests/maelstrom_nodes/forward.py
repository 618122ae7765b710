#!/usr/bin/env python3
"""A correct lin-kv node in which n0 alone holds the data: every other node forwards
a client's read, write or cas to n0 unchanged -- the client stays its `src` and its
`msg_id` stays the client's -- so n0's reply goes straight to the client, as the
proxies of Maelstrom's own Raft demo do. Linearizable, since there is one copy."""
import threading

from maelstrom import Node

node = Node()
data = {}
lock = threading.Lock()


def serve(msg):
    if node.node_id != node.node_ids[0]:
        node.forward(msg, node.node_ids[0])
        return
    body = msg["body"]
    key = str(body.get("key"))
    kind = body["type"]
    with lock:
        if kind == "write":
            data[key] = body["value"]
            out = {"type": "write_ok"}
        elif key not in data:
            if kind == "cas" and body.get("create_if_not_exists"):
                data[key] = body["to"]
                out = {"type": "cas_ok"}
            else:
                out = {"type": "error", "code": 20, "text": "no such key"}
        elif kind == "read":
            out = {"type": "read_ok", "value": data[key]}
        elif data[key] == body["from"]:
            data[key] = body["to"]
            out = {"type": "cas_ok"}
        else:
            out = {"type": "error", "code": 22, "text": f"had {data[key]}"}
    node.reply(msg, out)


for kind in ("read", "write", "cas"):
    node.on(kind)(serve)

node.run()

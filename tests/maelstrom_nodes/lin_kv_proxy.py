#!/usr/bin/env python3
"""A correct lin-kv node: every read, write and cas is forwarded to the lin-kv
service and its answer (or error) relayed; no reply from the service is relayed as
an indefinite error (timeout, code 0)."""
from maelstrom import Node

node = Node()


def forward(msg):
    body = dict(msg["body"])
    body.pop("msg_id", None)
    reply = node.sync_rpc("lin-kv", body, timeout=0.5)
    if reply is None:
        node.error(msg, 0, "lin-kv did not answer")
        return
    out = dict(reply["body"])
    out.pop("msg_id", None)
    out.pop("in_reply_to", None)
    node.reply(msg, out)


for kind in ("read", "write", "cas"):
    node.on(kind)(forward)

node.run()

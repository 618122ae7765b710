#!/usr/bin/env python3
"""A correct Kafka-style log node: n0 holds every log; the other nodes forward each
request to n0 unchanged (the client stays its src), so there is one log per key and
n0 answers the client directly. Offsets are dense from 0; a poll returns every
message from the offset asked; committed offsets only grow."""
import threading

from maelstrom import Node

node = Node()
logs = {}
committed = {}
lock = threading.Lock()
# kafka_local.py sets this: every node keeps its own logs (broken).
LOCAL = False


def serve(msg):
    if not LOCAL and node.node_id != node.node_ids[0]:
        node.forward(msg, node.node_ids[0])
        return
    body = msg["body"]
    kind = body["type"]
    with lock:
        if kind == "send":
            log = logs.setdefault(body["key"], [])
            log.append(body["msg"])
            out = {"type": "send_ok", "offset": len(log) - 1}
        elif kind == "poll":
            msgs = {}
            for k, start in body["offsets"].items():
                log = logs.get(k, [])
                msgs[k] = [[o, log[o]] for o in range(max(start, 0), len(log))]
            out = {"type": "poll_ok", "msgs": msgs}
        elif kind == "commit_offsets":
            for k, o in body["offsets"].items():
                committed[k] = max(committed.get(k, 0), o)
            out = {"type": "commit_offsets_ok"}
        else:
            offsets = {k: committed[k] for k in body["keys"] if k in committed}
            out = {"type": "list_committed_offsets_ok", "offsets": offsets}
    node.reply(msg, out)


for kind in ("send", "poll", "commit_offsets", "list_committed_offsets"):
    node.on(kind)(serve)

if __name__ == "__main__":
    node.run()

#!/usr/bin/env python3
"""A broadcast node strict about the start of its life: it crashes (exit 3, "FATAL"
on stderr) if its first message is not `init`, or if the one after it is not
`topology` -- as many real nodes do when a peer's message arrives before they know
who they are. Otherwise correct even across crashes: every 100 ms it sends its
neighbours every message it has seen, so a restarted (empty) node catches up."""
import json
import os
import sys
import threading

from maelstrom import Node


def checked(lines):
    seen = 0
    for line in lines:
        if line.strip():
            kind = json.loads(line)["body"].get("type")
            expected = {0: "init", 1: "topology"}.get(seen)
            if expected is not None and kind != expected:
                print(f"FATAL: got {kind} before {expected}", file=sys.stderr, flush=True)
                os._exit(3)
            seen += 1
        yield line


sys.stdin = checked(sys.stdin)
node = Node()
messages = set()
neighbours = []
lock = threading.Lock()


@node.on("topology")
def topology(msg):
    global neighbours
    neighbours = msg["body"]["topology"].get(node.node_id, [])
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    with lock:
        messages.add(msg["body"]["message"])
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("read")
def read(msg):
    with lock:
        value = sorted(messages)
    node.reply(msg, {"type": "read_ok", "messages": value})


@node.on("gossip")
def gossip_in(msg):
    with lock:
        messages.update(msg["body"]["messages"])


def gossip():
    with lock:
        value = sorted(messages)
    for peer in neighbours:
        node.send(peer, {"type": "gossip", "messages": value})


node.every(0.1, gossip)
node.run()

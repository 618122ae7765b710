#!/usr/bin/env python3
"""A broken Maelstrom echo: every fifth echo comes back with its payload changed."""
from maelstrom import Node

node = Node()
count = 0


@node.on("echo")
def echo(msg):
    global count
    count += 1
    payload = msg["body"]["echo"]
    if count % 5 == 0:
        payload = payload + " (changed)"
    node.reply(msg, {"type": "echo_ok", "echo": payload})


node.run()

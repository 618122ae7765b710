#!/usr/bin/env python3
"""Maelstrom echo: answers every echo with echo_ok carrying the same payload."""
from maelstrom import Node

node = Node()


@node.on("echo")
def echo(msg):
    node.reply(msg, {"type": "echo_ok", "echo": msg["body"]["echo"]})


node.run()

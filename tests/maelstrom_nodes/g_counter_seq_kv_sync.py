#!/usr/bin/env python3
"""A correct g-counter on seq-kv: each read first writes a key of its own, which
brings it to the newest state, then reads the total."""
from g_counter_kv import run

run("seq-kv", sync=True)

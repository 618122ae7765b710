#!/usr/bin/env python3
"""A BROKEN g-counter on seq-kv: its reads may be stale, so a final read can miss
another node's adds."""
from g_counter_kv import run

run("seq-kv", sync=False)

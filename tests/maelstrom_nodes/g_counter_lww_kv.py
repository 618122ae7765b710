#!/usr/bin/env python3
"""A BROKEN g-counter on lww-kv: concurrent compare-and-sets on two replicas both
succeed, and the merge keeps only one of them."""
from g_counter_kv import run

run("lww-kv", sync=True)

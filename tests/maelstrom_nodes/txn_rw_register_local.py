#!/usr/bin/env python3
"""A BROKEN txn-rw-register node: each node keeps its own registers (see txn_node.py)."""
from txn_node import rw_register, serve

serve(rw_register, one_copy=False)

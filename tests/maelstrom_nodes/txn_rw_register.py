#!/usr/bin/env python3
"""A correct Maelstrom txn-rw-register node: n0 alone holds the registers (see txn_node.py)."""
from txn_node import rw_register, serve

serve(rw_register, one_copy=True)

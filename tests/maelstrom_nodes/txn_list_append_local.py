#!/usr/bin/env python3
"""A BROKEN txn-list-append node: each node keeps its own lists (see txn_node.py)."""
from txn_node import append_list, serve

serve(append_list, one_copy=False)

#!/usr/bin/env python3
"""A correct Maelstrom txn-list-append node: n0 alone holds the lists (see txn_node.py)."""
from txn_node import append_list, serve

serve(append_list, one_copy=True)

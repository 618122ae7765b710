"""Maelstrom transaction nodes for the tests (txn_list_append*.py, txn_rw_register*.py):
each txn runs whole under one lock against this node's state, one micro-op at a time.
With `one_copy`, every node but n0 forwards a client's txn to n0 unchanged (the client
stays its `src`, so n0's reply goes straight back): one copy, strict serializable.
Without it each node keeps its own state and tells no one: broken across nodes."""
import threading

from maelstrom import Node


def append_list(state, f, key, v):
    """list-append: `append` adds v to the key's list; `r` reads the whole list."""
    if f == "append":
        state.setdefault(key, []).append(v)
        return v
    return list(state.get(key, []))


def rw_register(state, f, key, v):
    """rw-register: `w` writes v; `r` reads the value (null before any write)."""
    if f == "w":
        state[key] = v
        return v
    return state.get(key)


def serve(micro, one_copy):
    node = Node()
    state = {}
    lock = threading.Lock()

    def txn(msg):
        if one_copy and node.node_id != node.node_ids[0]:
            node.forward(msg, node.node_ids[0])
            return
        with lock:
            out = [[f, k, micro(state, f, str(k), v)] for f, k, v in msg["body"]["txn"]]
        node.reply(msg, {"type": "txn_ok", "txn": out})

    node.on("txn")(txn)
    node.run()

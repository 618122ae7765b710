"""A grow-only counter kept in one key of a Maelstrom key-value service (seq-kv or
lww-kv), for the scripts g_counter_seq_kv.py, g_counter_seq_kv_sync.py and
g_counter_lww_kv.py. An add reads the total and
compare-and-sets it to total + delta, retrying until the cas succeeds; a read
returns the total as the service answers it.

With `sync` a read first writes a fresh value to a key of its own, which brings it
to the newest state of a sequentially consistent service before it reads (the
Gossip Glomers trick); without it, a seq-kv read may be stale. Neither is correct on
lww-kv, whose replicas lose concurrent increments."""
import threading

from maelstrom import Node

SERVICE = None
SYNC = False
node = Node()
syncs = 0
lock = threading.Lock()


def total():
    reply = node.sync_rpc(SERVICE, {"type": "read", "key": "counter"}, timeout=1.0)
    if reply is None:
        return None
    body = reply["body"]
    if body.get("type") == "read_ok":
        return body["value"]
    if body.get("code") == 20:
        return 0
    return None


def add(msg):
    delta = msg["body"]["delta"]
    while True:
        cur = total()
        if cur is None:
            node.error(msg, 0, f"{SERVICE} did not answer")
            return
        reply = node.sync_rpc(
            SERVICE,
            {"type": "cas", "key": "counter", "from": cur, "to": cur + delta,
             "create_if_not_exists": True},
            timeout=1.0,
        )
        if reply is None:
            node.error(msg, 0, f"{SERVICE} did not answer")
            return
        if reply["body"].get("type") == "cas_ok":
            node.reply(msg, {"type": "add_ok"})
            return


def read(msg):
    global syncs
    if SYNC:
        with lock:
            syncs += 1
            n = syncs
        node.sync_rpc(SERVICE, {"type": "write", "key": f"sync-{node.node_id}", "value": n})
    value = total()
    if value is None:
        node.error(msg, 0, f"{SERVICE} did not answer")
    else:
        node.reply(msg, {"type": "read_ok", "value": value})


def run(service, sync):
    global SERVICE, SYNC
    SERVICE, SYNC = service, sync
    node.on("add")(add)
    node.on("read")(read)
    node.run()

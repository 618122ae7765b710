"""A tiny Maelstrom node library for faultline's test nodes: one JSON message per
line on stdin/stdout, init handling, replies, RPCs with callbacks, periodic tasks."""
import json
import sys
import threading
import time


class Node:
    def __init__(self):
        self.node_id = None
        self.node_ids = []
        self.handlers = {}
        self.callbacks = {}
        self.next_id = 0
        self.lock = threading.RLock()
        self.out = threading.Lock()

    def on(self, kind):
        def register(f):
            self.handlers[kind] = f
            return f
        return register

    def send(self, dest, body):
        line = json.dumps({"src": self.node_id, "dest": dest, "body": body})
        with self.out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def forward(self, msg, dest):
        """Sends `msg` on to `dest` unchanged: its `src` (a client) stays the sender,
        so `dest`'s reply goes straight back to that client."""
        line = json.dumps({"src": msg["src"], "dest": dest, "body": msg["body"]})
        with self.out:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def reply(self, msg, body):
        body = dict(body)
        body["in_reply_to"] = msg["body"].get("msg_id")
        self.send(msg["src"], body)

    def error(self, msg, code, text):
        self.reply(msg, {"type": "error", "code": code, "text": text})

    def rpc(self, dest, body, callback):
        with self.lock:
            self.next_id += 1
            mid = self.next_id
            self.callbacks[mid] = callback
        body = dict(body)
        body["msg_id"] = mid
        self.send(dest, body)

    def sync_rpc(self, dest, body, timeout=1.0):
        """Sends and waits for the reply (None on timeout). Call from a thread."""
        done = threading.Event()
        box = {}

        def cb(reply):
            box["reply"] = reply
            done.set()

        self.rpc(dest, body, cb)
        done.wait(timeout)
        return box.get("reply")

    def every(self, seconds, f):
        def loop():
            while True:
                time.sleep(seconds)
                try:
                    f()
                except Exception as e:  # keep gossiping
                    print(f"periodic task failed: {e}", file=sys.stderr)
        threading.Thread(target=loop, daemon=True).start()

    def run(self):
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            msg = json.loads(line)
            body = msg["body"]
            kind = body.get("type")
            if kind == "init":
                self.node_id = body["node_id"]
                self.node_ids = body["node_ids"]
                self.reply(msg, {"type": "init_ok"})
                if "init" in self.handlers:
                    self.handlers["init"](msg)
                continue
            irt = body.get("in_reply_to")
            if irt is not None:
                with self.lock:
                    cb = self.callbacks.pop(irt, None)
                if cb:
                    cb(msg)
                continue
            h = self.handlers.get(kind)
            if h is None:
                self.error(msg, 10, f"unsupported: {kind}")
            else:
                # Handlers may block on RPCs: run each in its own thread.
                threading.Thread(target=h, args=(msg,), daemon=True).start()

//! What faultline's Maelstrom network did, counted as it goes: messages sent,
//! delivered and dropped, split as Maelstrom splits them into *client* messages (a
//! client at either end) and *server* messages (between nodes, or a node and a
//! service), and the client operations they served, so that a run can say how many
//! server messages each operation cost (Maelstrom's `msgs-per-op`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde_json::{json, Value as Json};

/// Sent / delivered / dropped counts for one kind of message.
#[derive(Debug, Default)]
pub struct Counts {
    /// Messages handed to the network.
    pub sent: AtomicU64,
    /// Messages that reached their destination (a node's stdin, a service, a waiting
    /// client).
    pub delivered: AtomicU64,
    /// Messages lost: cut by a partition, dropped at random, sent to a node that was
    /// not running (or not yet initialized), or a reply nobody waited for any more.
    pub dropped: AtomicU64,
}

impl Counts {
    fn json(&self, ops: u64) -> Json {
        let sent = self.sent.load(Relaxed);
        json!({
            "sent": sent,
            "delivered": self.delivered.load(Relaxed),
            "dropped": self.dropped.load(Relaxed),
            "msgs_per_op": per_op(sent, ops),
        })
    }
}

fn per_op(messages: u64, ops: u64) -> Json {
    if ops == 0 {
        Json::Null
    } else {
        // Two decimals are plenty for a ratio people compare against a target.
        json!(((messages as f64 / ops as f64) * 100.0).round() / 100.0)
    }
}

/// Counts of what the network did, for `test.json` and the report.
#[derive(Debug, Default)]
pub struct NetStats {
    /// Messages with a client at one end (requests, replies, `init`).
    pub client: Counts,
    /// Messages between nodes, and between nodes and services.
    pub server: Counts,
    /// Client operations (requests from workload clients; not `init`/`topology`).
    pub ops: AtomicU64,
    /// Requests answered by a service.
    pub service_requests: AtomicU64,
    /// Lines on a node's stdout that were not messages.
    pub malformed: AtomicU64,
    /// Messages whose `src` was neither a node nor a client id (dropped).
    pub bad_src: AtomicU64,
    /// Times a node's process exited (killed, crashed, or stopped at the end).
    pub node_exits: AtomicU64,
}

impl NetStats {
    /// The counters of messages between `src` and `dest` (client or server).
    pub fn of(&self, client_side: bool) -> &Counts {
        if client_side {
            &self.client
        } else {
            &self.server
        }
    }

    /// Everything, as JSON (`msgs_per_op` is `null` before the first operation).
    pub fn json(&self) -> Json {
        let ops = self.ops.load(Relaxed);
        let all = Counts::default();
        for c in [&self.client, &self.server] {
            all.sent.fetch_add(c.sent.load(Relaxed), Relaxed);
            all.delivered.fetch_add(c.delivered.load(Relaxed), Relaxed);
            all.dropped.fetch_add(c.dropped.load(Relaxed), Relaxed);
        }
        json!({
            "all": all.json(ops),
            "clients": self.client.json(ops),
            "servers": self.server.json(ops),
            "ops": ops,
            "service_requests": self.service_requests.load(Relaxed),
            "malformed_lines": self.malformed.load(Relaxed),
            "bad_src": self.bad_src.load(Relaxed),
            "node_exits": self.node_exits.load(Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_per_operation_count_server_messages_per_client_request() {
        let s = NetStats::default();
        assert_eq!(s.json()["servers"]["msgs_per_op"], Json::Null);
        s.ops.fetch_add(4, Relaxed);
        s.server.sent.fetch_add(10, Relaxed);
        s.client.sent.fetch_add(8, Relaxed);
        s.server.dropped.fetch_add(3, Relaxed);
        let j = s.json();
        assert_eq!(j["servers"]["msgs_per_op"], json!(2.5));
        assert_eq!(j["all"]["sent"], json!(18));
        assert_eq!(j["all"]["msgs_per_op"], json!(4.5));
        assert_eq!(j["servers"]["dropped"], json!(3));
    }
}

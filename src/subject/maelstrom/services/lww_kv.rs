//! `lww-kv` as pathological as Maelstrom's: several independent replicas, each
//! answering requests on its own, that merge by last write wins.
//!
//! Each request goes to one replica chosen at random. A write (or a cas, compared
//! with that replica's value) is stamped with the replica's clock — the service's
//! time plus a per-replica skew, so the replicas' clocks are only roughly in step
//! — and the replica id breaks ties. Every [`GOSSIP`] the replicas gossip: each key
//! ends up with the version of the highest stamp on every replica. (The gossip is
//! run lazily, before the first request after it is due, which a client cannot
//! tell from a periodic one.) Concurrent updates on two replicas lose one of them,
//! and a read may miss a write acknowledged by another replica: a node that treats
//! `lww-kv` as a linearizable store is caught.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::Value as Json;

use super::request::{answer, Effect, Request};

/// How many replicas, as Maelstrom's default.
pub const REPLICAS: usize = 5;

/// How often the replicas merge.
pub const GOSSIP: Duration = Duration::from_millis(200);

/// The most a replica's clock is ahead of the service's.
const MAX_SKEW_MS: u64 = 50;

/// A value and its stamp: (clock ms, replica).
type Stamped = ((u64, usize), Json);

/// The last-write-wins key-value service.
#[derive(Debug)]
pub struct LwwKv {
    start: Instant,
    /// Per replica, its clock's skew in ms.
    skew: Vec<u64>,
    /// Per replica, its keys.
    replicas: Vec<HashMap<String, Stamped>>,
    /// When the replicas last merged.
    gossiped: Instant,
}

impl LwwKv {
    /// `replicas` replicas, with random clock skews, starting now.
    pub fn new(replicas: usize, now: Instant) -> LwwKv {
        let mut rng = rand::thread_rng();
        LwwKv {
            start: now,
            skew: (0..replicas)
                .map(|_| rng.gen_range(0..=MAX_SKEW_MS))
                .collect(),
            replicas: vec![HashMap::new(); replicas],
            gossiped: now,
        }
    }

    /// Handles `req` at `now` on a replica chosen at random: the reply body.
    pub fn handle(&mut self, req: &Request, now: Instant) -> Json {
        let replica = rand::thread_rng().gen_range(0..self.replicas.len());
        self.handle_on(replica, req, now)
    }

    /// Handles `req` at `now` on replica `replica`.
    pub fn handle_on(&mut self, replica: usize, req: &Request, now: Instant) -> Json {
        if now.saturating_duration_since(self.gossiped) >= GOSSIP {
            self.gossip();
            self.gossiped = now;
        }
        let clock =
            now.saturating_duration_since(self.start).as_millis() as u64 + self.skew[replica];
        let local = &mut self.replicas[replica];
        let (reply, effect) = answer(local.get(req.key()).map(|(_, v)| v), req);
        if let Effect::Set(v) = effect {
            // A replica's own updates get growing stamps.
            let stamp = match local.get(req.key()) {
                Some(((c, _), _)) if *c >= clock => (*c + 1, replica),
                _ => (clock, replica),
            };
            local.insert(req.key().to_string(), (stamp, v));
        }
        reply
    }

    /// Every replica takes, per key, the version with the highest stamp.
    fn gossip(&mut self) {
        let mut merged: HashMap<String, Stamped> = HashMap::new();
        for replica in &self.replicas {
            for (k, (stamp, v)) in replica {
                let newer = merged.get(k).is_none_or(|(s, _)| stamp > s);
                if newer {
                    merged.insert(k.clone(), (*stamp, v.clone()));
                }
            }
        }
        for replica in &mut self.replicas {
            replica.clone_from(&merged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(key: &str) -> Request {
        Request::Read { key: key.into() }
    }

    fn cas(key: &str, from: i64, to: i64) -> Request {
        Request::Cas {
            key: key.into(),
            from: json!(from),
            to: json!(to),
            create: false,
        }
    }

    #[test]
    fn a_write_is_missed_by_other_replicas_until_they_gossip() {
        let t0 = Instant::now();
        let mut s = LwwKv::new(2, t0);
        let w = Request::Write {
            key: "x".into(),
            value: json!(1),
        };
        s.handle_on(0, &w, t0);
        assert_eq!(s.handle_on(0, &read("x"), t0)["value"], 1);
        assert_eq!(s.handle_on(1, &read("x"), t0)["code"], 20);
        assert_eq!(s.handle_on(1, &read("x"), t0 + GOSSIP)["value"], 1);
    }

    #[test]
    fn two_cas_from_the_same_value_both_succeed_and_one_is_lost() {
        let t0 = Instant::now();
        let mut s = LwwKv::new(2, t0);
        let w = Request::Write {
            key: "c".into(),
            value: json!(0),
        };
        s.handle_on(0, &w, t0);
        let t1 = t0 + GOSSIP;
        s.handle_on(0, &read("c"), t1);
        // Both replicas hold 0 now; each takes an increment.
        assert_eq!(s.handle_on(0, &cas("c", 0, 1), t1)["type"], "cas_ok");
        assert_eq!(s.handle_on(1, &cas("c", 0, 1), t1)["type"], "cas_ok");
        let t2 = t1 + GOSSIP;
        // After the gossip both hold 1: one of the two increments is gone.
        assert_eq!(s.handle_on(0, &read("c"), t2)["value"], 1);
        assert_eq!(s.handle_on(1, &read("c"), t2)["value"], 1);
    }
}

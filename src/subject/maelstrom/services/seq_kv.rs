//! `seq-kv` as weak as Maelstrom's: sequentially consistent, not linearizable.
//!
//! Every update (a write, a cas that succeeds) is applied to the newest state and
//! numbered; the service keeps each key's versions by number. Each client (the node
//! that sends the request) has a position: the newest state it has interacted with.
//! An update, or a cas that fails, puts it at the newest state. A read is served
//! from an older state: the newest one that is at least [`SeqKv::lag`] old, but
//! never older than the client's position. So a client always reads its own
//! updates and never goes back in time, while others' updates reach it only after
//! the lag, or once it updates something itself.
//!
//! That is sequentially consistent: order every update by its number and place each
//! read right after the update whose state it saw; every client's operations are in
//! its own order there, because its position only grows. It is the pattern that
//! catches nodes which rely on a `seq-kv` read being fresh (a grow-only counter that
//! reads its total without writing first reads a stale total).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::request::{answer, Effect, Request};

/// How far behind the newest state a read may be served by default.
pub const DEFAULT_LAG: Duration = Duration::from_secs(5);

/// The sequentially consistent key-value service.
#[derive(Debug)]
pub struct SeqKv {
    /// How far behind others' updates a read may be.
    lag: Duration,
    /// When each update was applied; update `i` (from 1) made state `i`.
    applied: Vec<Instant>,
    /// Per key, its versions: (the state that set it, its value), oldest first.
    versions: HashMap<String, Vec<(usize, Json)>>,
    /// Per client, the newest state it has interacted with.
    position: HashMap<String, usize>,
}

impl SeqKv {
    /// An empty service whose reads lag by up to `lag`.
    pub fn new(lag: Duration) -> SeqKv {
        SeqKv {
            lag,
            applied: Vec::new(),
            versions: HashMap::new(),
            position: HashMap::new(),
        }
    }

    /// The newest state's number.
    fn newest(&self) -> usize {
        self.applied.len()
    }

    /// What `key` held in state `state`.
    fn value_at(&self, key: &str, state: usize) -> Option<&Json> {
        let versions = self.versions.get(key)?;
        let i = versions.partition_point(|(s, _)| *s <= state);
        versions[..i].last().map(|(_, v)| v)
    }

    /// The state a read by a client at `position` is served from, at `now`.
    fn read_state(&self, position: usize, now: Instant) -> usize {
        // The newest state applied at least `lag` ago.
        let old = self
            .applied
            .partition_point(|t| now.saturating_duration_since(*t) >= self.lag);
        old.max(position)
    }

    /// Handles `req` from `client` at `now`: the reply body.
    pub fn handle(&mut self, client: &str, req: &Request, now: Instant) -> Json {
        let position = self.position.get(client).copied().unwrap_or(0);
        if let Request::Read { key } = req {
            let state = self.read_state(position, now);
            self.position.insert(client.to_string(), state);
            return answer(self.value_at(key, state), req).0;
        }
        let newest = self.newest();
        let (reply, effect) = answer(self.value_at(req.key(), newest), req);
        let state = match effect {
            Effect::Set(v) => {
                self.applied.push(now);
                let state = self.newest();
                self.versions
                    .entry(req.key().to_string())
                    .or_default()
                    .push((state, v));
                state
            }
            // A failed cas saw the newest state.
            Effect::None => newest,
        };
        self.position.insert(client.to_string(), state);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(key: &str) -> Request {
        Request::Read { key: key.into() }
    }

    fn write(key: &str, v: i64) -> Request {
        Request::Write {
            key: key.into(),
            value: json!(v),
        }
    }

    #[test]
    fn a_client_reads_its_own_writes_but_others_only_after_the_lag() {
        let mut s = SeqKv::new(Duration::from_secs(5));
        let t0 = Instant::now();
        s.handle("n0", &write("x", 1), t0);
        assert_eq!(s.handle("n0", &read("x"), t0)["value"], 1);
        // n1 has seen nothing: the key does not exist for it yet.
        assert_eq!(s.handle("n1", &read("x"), t0)["code"], 20);
        let later = t0 + Duration::from_secs(6);
        assert_eq!(s.handle("n1", &read("x"), later)["value"], 1);
    }

    #[test]
    fn a_client_never_goes_back_and_an_update_brings_it_to_the_newest_state() {
        let mut s = SeqKv::new(Duration::from_secs(5));
        let t0 = Instant::now();
        s.handle("n0", &write("x", 1), t0);
        s.handle("n0", &write("x", 2), t0 + Duration::from_secs(10));
        let t = t0 + Duration::from_secs(11);
        // n1 reads the state as of 5 s ago: x = 1 ...
        assert_eq!(s.handle("n1", &read("x"), t)["value"], 1);
        // ... a failed cas (it expected 1) puts it at the newest state ...
        let cas = Request::Cas {
            key: "x".into(),
            from: json!(1),
            to: json!(3),
            create: false,
        };
        assert_eq!(s.handle("n1", &cas, t)["code"], 22);
        // ... and from there it never reads an older one.
        assert_eq!(s.handle("n1", &read("x"), t)["value"], 2);
        assert_eq!(s.handle("n1", &read("x"), t)["value"], 2);
    }

    #[test]
    fn a_cas_applies_to_the_newest_state() {
        let mut s = SeqKv::new(Duration::from_secs(5));
        let t0 = Instant::now();
        s.handle("n0", &write("x", 1), t0);
        let cas = Request::Cas {
            key: "x".into(),
            from: json!(1),
            to: json!(2),
            create: false,
        };
        assert_eq!(s.handle("n1", &cas, t0)["type"], "cas_ok");
        assert_eq!(s.handle("n1", &read("x"), t0)["value"], 2);
    }
}

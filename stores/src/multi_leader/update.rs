//! Updates and how a node's state absorbs them, per `--conflict` (pure; no I/O).
//!
//! An update is made by the node a client wrote to (its *origin*), numbered by that
//! origin (`seq`, from 1), stamped with the origin's wall clock (`ts`, ms) and with
//! `deps`: how many updates of each origin the origin had applied when it made this
//! one (its own count being `seq`) — the update's version vector. Update `b` causally
//! follows update `a` when `b.deps[a.origin] >= a.seq`.
//!
//! - `lww`: every update carries the key's whole new value; of two updates the one
//!   that causally follows wins, or — when neither does, or with `--causality none`
//!   (which ignores vectors) — the higher `(ts, origin)`. Concurrent writes lose all but
//!   one; a clock running ahead wins over later writes.
//! - `siblings`: versions no other version causally follows are all kept (a read
//!   returns them as siblings); an update supersedes every version it follows.
//! - `crdt`: counter adds and set adds are kept as operations (a counter is the sum of
//!   every add, a set the union of every add: no add is ever lost); appends are kept as
//!   elements ordered by `(ts, origin, seq)`; writes and cas are an LWW register.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What an update does to its key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The key's whole new value.
    Set(Value),
    /// crdt: add this to a counter.
    Add(i64),
    /// crdt: add this element to a set.
    Insert(Value),
    /// crdt: append this element to a list.
    Append(Value),
}

/// One replicated update.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Update {
    /// The node that made it.
    pub origin: String,
    /// Its number at the origin (from 1).
    pub seq: u64,
    /// The origin's wall clock when it made it (ms).
    pub ts: u64,
    /// The origin's applied counts per origin, its own being `seq`.
    pub deps: BTreeMap<String, u64>,
    /// The key.
    pub key: String,
    /// What it does.
    pub effect: Effect,
}

impl Update {
    /// Whether this update causally follows `other`.
    pub fn follows(&self, other: &Update) -> bool {
        self.deps.get(&other.origin).copied().unwrap_or(0) >= other.seq
            && (self.origin != other.origin || self.seq != other.seq)
    }

    fn stamp(&self) -> (u64, &str, u64) {
        (self.ts, self.origin.as_str(), self.seq)
    }
}

/// How concurrent updates are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Last write wins (vectors first when `causal`).
    Lww {
        /// Whether causal order decides before timestamps.
        causal: bool,
    },
    /// Keep concurrent versions.
    Siblings,
    /// Merge counters, sets and lists; LWW for plain values.
    Crdt,
}

/// One key's state: the updates that are still current.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyState {
    /// The current versions (one, except for siblings and crdt operations).
    pub updates: Vec<Update>,
}

impl KeyState {
    /// Absorbs `u`.
    pub fn absorb(&mut self, u: Update, how: Resolution) {
        match (how, &u.effect) {
            (Resolution::Crdt, Effect::Add(_) | Effect::Insert(_) | Effect::Append(_)) => {
                self.updates.retain(|v| !matches!(v.effect, Effect::Set(_)));
                if !self
                    .updates
                    .iter()
                    .any(|v| v.origin == u.origin && v.seq == u.seq)
                {
                    self.updates.push(u);
                }
            }
            (Resolution::Siblings, _) => {
                if self
                    .updates
                    .iter()
                    .any(|v| v.follows(&u) || (v.origin == u.origin && v.seq == u.seq))
                {
                    return;
                }
                self.updates.retain(|v| !u.follows(v));
                self.updates.push(u);
            }
            _ => {
                let causal = match how {
                    Resolution::Lww { causal } => causal,
                    _ => true,
                };
                let wins = |cur: &Update| {
                    if causal && u.follows(cur) {
                        true
                    } else if causal && cur.follows(&u) {
                        false
                    } else {
                        u.stamp() > cur.stamp()
                    }
                };
                if how == Resolution::Crdt
                    && self
                        .updates
                        .iter()
                        .any(|v| !matches!(v.effect, Effect::Set(_)))
                {
                    // A plain write over a crdt value replaces it only if it follows all.
                    if self.updates.iter().all(|v| u.follows(v)) {
                        self.updates = vec![u];
                    }
                    return;
                }
                match self.updates.first() {
                    Some(cur) if !wins(cur) => {}
                    _ => self.updates = vec![u],
                }
            }
        }
    }

    /// The value a read returns: `None` when absent, or `{"siblings": [...]}`.
    pub fn value(&self) -> Option<Value> {
        let sets: Vec<&Value> = self
            .updates
            .iter()
            .filter_map(|u| match &u.effect {
                Effect::Set(v) => Some(v),
                _ => None,
            })
            .collect();
        if sets.len() == self.updates.len() {
            return match sets.len() {
                0 => None,
                1 => Some(sets[0].clone()),
                _ => {
                    let mut v: Vec<Value> = sets.into_iter().cloned().collect();
                    v.sort_by_key(|x| x.to_string());
                    v.dedup();
                    Some(if v.len() == 1 {
                        v.remove(0)
                    } else {
                        json!({ "siblings": v })
                    })
                }
            };
        }
        let mut ops: Vec<&Update> = self.updates.iter().collect();
        ops.sort_by(|a, b| a.stamp().cmp(&b.stamp()));
        let mut sum = 0i64;
        let mut set: Vec<Value> = Vec::new();
        let mut list: Vec<Value> = Vec::new();
        let mut counter = false;
        for u in ops {
            match &u.effect {
                Effect::Add(d) => {
                    counter = true;
                    sum += d;
                }
                Effect::Insert(e) => {
                    if !set.contains(e) {
                        set.push(e.clone());
                    }
                }
                Effect::Append(e) => list.push(e.clone()),
                Effect::Set(_) => {}
            }
        }
        Some(if counter {
            json!(sum)
        } else if !set.is_empty() {
            Value::Array(set)
        } else {
            Value::Array(list)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(origin: &str, seq: u64, ts: u64, deps: &[(&str, u64)], effect: Effect) -> Update {
        let mut d: BTreeMap<String, u64> = deps.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        d.insert(origin.to_string(), seq);
        Update {
            origin: origin.into(),
            seq,
            ts,
            deps: d,
            key: "k".into(),
            effect,
        }
    }

    #[test]
    fn with_vectors_a_causally_later_write_wins_over_a_clock_running_ahead() {
        let ahead = up("n1", 1, 10_000, &[], Effect::Set(json!(1)));
        let later = up("n2", 1, 5, &[("n1", 1)], Effect::Set(json!(2)));
        let mut s = KeyState::default();
        s.absorb(ahead.clone(), Resolution::Lww { causal: true });
        s.absorb(later.clone(), Resolution::Lww { causal: true });
        assert_eq!(s.value(), Some(json!(2)));
        // Without vectors the skewed clock wins: the later write is lost.
        let mut s = KeyState::default();
        s.absorb(ahead, Resolution::Lww { causal: false });
        s.absorb(later, Resolution::Lww { causal: false });
        assert_eq!(s.value(), Some(json!(1)));
    }

    #[test]
    fn concurrent_writes_stay_siblings_until_a_write_follows_both() {
        let a = up("n1", 1, 1, &[], Effect::Set(json!(1)));
        let b = up("n2", 1, 2, &[], Effect::Set(json!(2)));
        let c = up("n3", 1, 0, &[("n1", 1), ("n2", 1)], Effect::Set(json!(3)));
        let mut s = KeyState::default();
        s.absorb(b.clone(), Resolution::Siblings);
        s.absorb(a.clone(), Resolution::Siblings);
        assert_eq!(s.value(), Some(json!({"siblings": [1, 2]})));
        s.absorb(c, Resolution::Siblings);
        assert_eq!(s.value(), Some(json!(3)));
        s.absorb(a, Resolution::Siblings); // a late duplicate changes nothing
        assert_eq!(s.value(), Some(json!(3)));
    }

    #[test]
    fn crdt_counters_and_sets_keep_every_concurrent_add_in_any_order() {
        let adds = [
            up("n1", 1, 9, &[], Effect::Add(2)),
            up("n2", 1, 1, &[], Effect::Add(3)),
            up("n3", 1, 5, &[], Effect::Add(-1)),
        ];
        let mut fwd = KeyState::default();
        let mut back = KeyState::default();
        for u in &adds {
            fwd.absorb(u.clone(), Resolution::Crdt);
        }
        for u in adds.iter().rev() {
            back.absorb(u.clone(), Resolution::Crdt);
            back.absorb(u.clone(), Resolution::Crdt); // duplicates count once
        }
        assert_eq!(fwd.value(), Some(json!(4)));
        assert_eq!(back.value(), Some(json!(4)));
        let mut s = KeyState::default();
        s.absorb(
            up("n1", 1, 1, &[], Effect::Insert(json!(7))),
            Resolution::Crdt,
        );
        s.absorb(
            up("n2", 1, 1, &[], Effect::Insert(json!(8))),
            Resolution::Crdt,
        );
        s.absorb(
            up("n3", 1, 1, &[], Effect::Insert(json!(7))),
            Resolution::Crdt,
        );
        assert_eq!(s.value(), Some(json!([7, 8])));
    }
}

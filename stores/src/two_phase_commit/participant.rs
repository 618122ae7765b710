//! A participant's state: the keys it owns, their locks, and the txns it has prepared
//! or committed (pure; the node logs and locks around it, see [`super::Node`]).
//!
//! Locking is strict two-phase: a txn's prepare takes every key it touches here at
//! once — exclusive for a key it writes, shared for a key it only reads — or none of
//! them, and holds them until the commit or abort. Its micro-ops run at the prepare,
//! under those locks, against the committed values and the txn's own earlier writes;
//! the reads are answered with the vote, the writes are staged (each key's whole new
//! value) and applied at the commit. While a key is locked its committed value cannot
//! change, so the staged values stay right.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::log::{InDoubt, Locks, Writes};

/// One micro-op sent to a participant: `[f, key, value]` with `f` one of `r`,
/// `append`, `w`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mop {
    /// `r`, `append` or `w`.
    pub f: String,
    /// The key (as text).
    pub key: String,
    /// The appended or written value (`null` for a read).
    pub value: Value,
}

/// Why micro-ops cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MopError {
    /// An append to a key that holds something other than a list.
    #[error("append to key {0}, which does not hold a list")]
    NotAList(String),
    /// An unknown function.
    #[error("unknown micro-op {0:?}")]
    Unknown(String),
}

/// A key's lock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lock {
    /// Held by these txns, for reading.
    Shared(BTreeSet<String>),
    /// Held by this txn, for writing.
    Exclusive(String),
}

/// A txn prepared here, waiting for its outcome.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Its coordinator.
    pub coordinator: String,
    /// Its locks.
    pub locks: Locks,
    /// Its staged writes.
    pub writes: Writes,
    /// Since when (the resolver asks the coordinator about old ones).
    pub since: Instant,
}

/// What a commit message finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitAnswer {
    /// Applied now, or earlier.
    Committed,
    /// Neither prepared nor committed here (the prepare was lost).
    Unknown,
}

/// A participant's state.
#[derive(Debug, Default)]
pub struct Participant {
    /// Committed values of the keys this node owns.
    pub values: BTreeMap<String, Value>,
    /// Locked keys.
    pub locks: BTreeMap<String, Lock>,
    /// Prepared txns.
    pub prepared: BTreeMap<String, Prepared>,
    /// Txns committed here.
    pub committed: BTreeSet<String>,
}

/// The locks `mops` need: each key once, exclusive if any micro-op writes it.
pub fn locks_for(mops: &[Mop]) -> Locks {
    let mut out: Locks = Vec::new();
    for m in mops {
        let write = m.f != "r";
        match out.iter_mut().find(|(k, _)| *k == m.key) {
            Some(l) => l.1 |= write,
            None => out.push((m.key.clone(), write)),
        }
    }
    out
}

impl Participant {
    /// The state a replay rebuilt: in-doubt txns prepared again, their locks held.
    pub fn recovered(
        values: BTreeMap<String, Value>,
        committed: BTreeSet<String>,
        in_doubt: BTreeMap<String, InDoubt>,
    ) -> Participant {
        let mut p = Participant {
            values,
            committed,
            ..Participant::default()
        };
        for (txn, d) in in_doubt {
            p.grant(&txn, &d.locks);
            p.prepared.insert(
                txn,
                Prepared {
                    coordinator: d.coordinator,
                    locks: d.locks,
                    writes: d.writes,
                    since: Instant::now(),
                },
            );
        }
        p
    }

    /// Whether `txn` could take `locks` now.
    pub fn can_lock(&self, txn: &str, locks: &Locks) -> bool {
        locks.iter().all(|(k, exclusive)| match self.locks.get(k) {
            None => true,
            Some(Lock::Exclusive(t)) => t == txn,
            Some(Lock::Shared(ts)) => !exclusive || ts.iter().all(|t| t == txn),
        })
    }

    /// Takes `locks` for `txn` (check [`Participant::can_lock`] first).
    pub fn grant(&mut self, txn: &str, locks: &Locks) {
        for (k, exclusive) in locks {
            if *exclusive {
                self.locks
                    .insert(k.clone(), Lock::Exclusive(txn.to_string()));
            } else {
                match self.locks.get_mut(k) {
                    Some(Lock::Shared(ts)) => {
                        ts.insert(txn.to_string());
                    }
                    Some(Lock::Exclusive(_)) => {}
                    None => {
                        self.locks
                            .insert(k.clone(), Lock::Shared([txn.to_string()].into()));
                    }
                }
            }
        }
    }

    /// Releases every lock `txn` holds on `locks`.
    pub fn release(&mut self, txn: &str, locks: &Locks) {
        for (k, _) in locks {
            let free = match self.locks.get_mut(k) {
                Some(Lock::Exclusive(t)) => t == txn,
                Some(Lock::Shared(ts)) => {
                    ts.remove(txn);
                    ts.is_empty()
                }
                None => false,
            };
            if free {
                self.locks.remove(k);
            }
        }
    }

    /// Runs `mops` against the committed values: the micro-ops with reads filled in,
    /// and the writes to stage. A read of a key never written returns `null`.
    pub fn execute(&self, mops: &[Mop]) -> Result<(Vec<Value>, Writes), MopError> {
        let mut staged: Writes = BTreeMap::new();
        let mut out = Vec::with_capacity(mops.len());
        for m in mops {
            let cur = staged
                .get(&m.key)
                .or_else(|| self.values.get(&m.key))
                .cloned()
                .unwrap_or(Value::Null);
            match m.f.as_str() {
                "r" => out.push(cur),
                "append" => {
                    let mut list = match cur {
                        Value::Null => Vec::new(),
                        Value::Array(a) => a,
                        _ => return Err(MopError::NotAList(m.key.clone())),
                    };
                    list.push(m.value.clone());
                    staged.insert(m.key.clone(), Value::Array(list));
                    out.push(m.value.clone());
                }
                "w" => {
                    staged.insert(m.key.clone(), m.value.clone());
                    out.push(m.value.clone());
                }
                f => return Err(MopError::Unknown(f.to_string())),
            }
        }
        Ok((out, staged))
    }

    /// Records `txn` as prepared (its locks granted already).
    pub fn prepare(&mut self, txn: &str, coordinator: &str, locks: Locks, writes: Writes) {
        self.prepared.insert(
            txn.to_string(),
            Prepared {
                coordinator: coordinator.to_string(),
                locks,
                writes,
                since: Instant::now(),
            },
        );
    }

    /// Applies `txn`'s staged writes and releases its locks.
    pub fn commit(&mut self, txn: &str) -> CommitAnswer {
        if let Some(p) = self.prepared.remove(txn) {
            self.release(txn, &p.locks);
            self.values.extend(p.writes);
            self.committed.insert(txn.to_string());
        }
        if self.committed.contains(txn) {
            CommitAnswer::Committed
        } else {
            CommitAnswer::Unknown
        }
    }

    /// Drops `txn` and releases its locks; whether it was prepared here.
    pub fn abort(&mut self, txn: &str) -> bool {
        match self.prepared.remove(txn) {
            Some(p) => {
                self.release(txn, &p.locks);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mop(f: &str, key: &str, value: Value) -> Mop {
        Mop {
            f: f.into(),
            key: key.into(),
            value,
        }
    }

    #[test]
    fn readers_share_a_key_and_a_writer_excludes_everyone_else() {
        let mut p = Participant::default();
        let read = vec![("x".to_string(), false)];
        let write = vec![("x".to_string(), true)];
        assert!(p.can_lock("t1", &read));
        p.grant("t1", &read);
        assert!(p.can_lock("t2", &read));
        p.grant("t2", &read);
        assert!(!p.can_lock("t3", &write), "two readers hold it");
        p.release("t1", &read);
        assert!(!p.can_lock("t3", &write));
        assert!(p.can_lock("t2", &write), "the only reader may upgrade");
        p.release("t2", &read);
        p.grant("t3", &write);
        assert!(!p.can_lock("t1", &read) && p.can_lock("t3", &read));
        p.release("t1", &write); // not its lock: nothing happens
        assert!(!p.can_lock("t1", &read));
        p.release("t3", &write);
        assert!(p.locks.is_empty());
    }

    #[test]
    fn micro_ops_see_the_txns_own_earlier_writes_and_stage_whole_values() {
        let mut p = Participant::default();
        p.values.insert("l".into(), json!([1]));
        let mops = vec![
            mop("r", "l", Value::Null),
            mop("append", "l", json!(2)),
            mop("r", "l", Value::Null),
            mop("r", "new", Value::Null),
            mop("w", "reg", json!(7)),
            mop("r", "reg", Value::Null),
        ];
        let (out, writes) = p.execute(&mops).unwrap();
        assert_eq!(
            out,
            vec![
                json!([1]),
                json!(2),
                json!([1, 2]),
                Value::Null,
                json!(7),
                json!(7)
            ]
        );
        assert_eq!(writes["l"], json!([1, 2]));
        assert_eq!(
            p.values["l"],
            json!([1]),
            "nothing applied before the commit"
        );
        assert_eq!(
            locks_for(&mops),
            vec![
                ("l".to_string(), true),
                ("new".to_string(), false),
                ("reg".to_string(), true)
            ]
        );
        assert_eq!(
            p.execute(&[mop("append", "reg2", json!(1)), mop("x", "k", Value::Null)]),
            Err(MopError::Unknown("x".into()))
        );
        p.values.insert("reg".into(), json!(3));
        assert_eq!(
            p.execute(&[mop("append", "reg", json!(1))]),
            Err(MopError::NotAList("reg".into()))
        );
    }

    #[test]
    fn a_commit_applies_once_and_a_lost_prepare_is_unknown() {
        let mut p = Participant::default();
        let locks = vec![("x".to_string(), true)];
        p.grant("t1", &locks);
        let writes: Writes = [("x".to_string(), json!([1]))].into_iter().collect();
        p.prepare("t1", "n1", locks.clone(), writes);
        assert_eq!(p.commit("t1"), CommitAnswer::Committed);
        assert_eq!(p.commit("t1"), CommitAnswer::Committed, "a retried commit");
        assert_eq!(p.values["x"], json!([1]));
        assert!(p.locks.is_empty());
        assert_eq!(p.commit("t2"), CommitAnswer::Unknown);
        p.grant("t3", &locks);
        p.prepare("t3", "n1", locks, Writes::new());
        assert!(p.abort("t3") && !p.abort("t3"));
        assert!(p.locks.is_empty());
    }

    #[test]
    fn a_recovered_participant_holds_the_locks_of_its_in_doubt_txns() {
        let d = InDoubt {
            coordinator: "n2".into(),
            locks: vec![("x".into(), true), ("y".into(), false)],
            writes: [("x".to_string(), json!(4))].into_iter().collect(),
        };
        let mut p = Participant::recovered(
            BTreeMap::new(),
            BTreeSet::new(),
            [("t9".to_string(), d)].into_iter().collect(),
        );
        assert!(!p.can_lock("t1", &vec![("x".to_string(), false)]));
        assert!(!p.can_lock("t1", &vec![("y".to_string(), true)]));
        assert!(p.can_lock("t1", &vec![("y".to_string(), false)]));
        assert_eq!(p.commit("t9"), CommitAnswer::Committed);
        assert_eq!(p.values["x"], json!(4));
        assert!(p.locks.is_empty());
    }
}

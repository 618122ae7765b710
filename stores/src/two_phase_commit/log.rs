//! The durable log of a two-phase-commit node: JSON lines in `DATA_DIR/2pc.log`, one
//! file for both of a node's roles, replayed at start ([`Recovered`]). A torn last line
//! is cut off; any other bad line is an error naming the file and line.
//!
//! Records (`"t"` names the kind):
//! - `boot {incarnation}` — written at every start; txn ids carry the incarnation, so
//!   they are never reused.
//! - participant: `prepared {txn, coordinator, locks, writes}` (only with
//!   `--prepare-log on`): the txn's locks and staged writes, written before the yes
//!   vote; `committed {txn, writes}`: written before the writes are applied (the only
//!   copy of the data, in both modes); `aborted {txn}`.
//! - coordinator: `decided {txn, participants}` (only with `--prepare-log on`): the
//!   commit decision, written before any participant is told to commit; `ended {txn}`:
//!   every participant acknowledged the commit.
//!
//! Every record is written with `write(2)` before the caller goes on (it survives
//! `kill -9`); with `--fsync always` it is also fsynced first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A txn's staged writes: each key's whole new value.
pub type Writes = BTreeMap<String, Value>;

/// The keys a txn locks at one participant: (key, exclusive).
pub type Locks = Vec<(String, bool)>;

/// One log record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    /// A start of the node.
    Boot {
        /// Its number, from 1.
        incarnation: u64,
    },
    /// A participant voted yes.
    Prepared {
        /// The txn.
        txn: String,
        /// Its coordinator (asked for the decision after a restart).
        coordinator: String,
        /// The keys it holds.
        locks: Locks,
        /// What it writes here.
        writes: Writes,
    },
    /// A participant applies the txn's writes.
    Committed {
        /// The txn.
        txn: String,
        /// What it writes here.
        writes: Writes,
    },
    /// A participant dropped the txn.
    Aborted {
        /// The txn.
        txn: String,
    },
    /// A coordinator decided to commit.
    Decided {
        /// The txn.
        txn: String,
        /// Every participant, to be told.
        participants: Vec<String>,
    },
    /// Every participant acknowledged the commit.
    Ended {
        /// The txn.
        txn: String,
    },
}

/// A prepared txn whose outcome the log does not hold (in doubt).
#[derive(Clone, Debug, PartialEq)]
pub struct InDoubt {
    /// Its coordinator.
    pub coordinator: String,
    /// Its locks.
    pub locks: Locks,
    /// Its staged writes.
    pub writes: Writes,
}

/// What a replay of the log rebuilds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recovered {
    /// The last incarnation booted (0: none).
    pub incarnation: u64,
    /// Every key's committed value.
    pub values: BTreeMap<String, Value>,
    /// Participant: txns committed here.
    pub committed: BTreeSet<String>,
    /// Participant: prepared txns with no outcome.
    pub in_doubt: BTreeMap<String, InDoubt>,
    /// Coordinator: txns decided commit.
    pub decided: BTreeSet<String>,
    /// Coordinator: decided txns some participant may not know of yet, with their
    /// participants.
    pub unended: BTreeMap<String, Vec<String>>,
}

impl Recovered {
    /// Takes in one record, as the node did when it wrote it.
    pub fn absorb(&mut self, r: Record) {
        match r {
            Record::Boot { incarnation } => self.incarnation = self.incarnation.max(incarnation),
            Record::Prepared {
                txn,
                coordinator,
                locks,
                writes,
            } => {
                if !self.committed.contains(&txn) {
                    self.in_doubt.insert(
                        txn,
                        InDoubt {
                            coordinator,
                            locks,
                            writes,
                        },
                    );
                }
            }
            Record::Committed { txn, writes } => {
                self.in_doubt.remove(&txn);
                self.values.extend(writes);
                self.committed.insert(txn);
            }
            Record::Aborted { txn } => {
                self.in_doubt.remove(&txn);
            }
            Record::Decided { txn, participants } => {
                self.decided.insert(txn.clone());
                self.unended.insert(txn, participants);
            }
            Record::Ended { txn } => {
                self.unended.remove(&txn);
            }
        }
    }
}

pub use crate::record_log::LogError;
use crate::record_log::RecordLog;

/// The open log.
#[derive(Debug)]
pub struct Log(RecordLog);

impl Log {
    /// Opens (creating) `dir/2pc.log` and replays it.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Log, Recovered), LogError> {
        let mut rec = Recovered::default();
        let log = RecordLog::open(dir, "2pc.log", fsync, |r| {
            rec.absorb(r);
            Ok(())
        })?;
        Ok((Log(log), rec))
    }

    /// Appends `r` (`write(2)`, and fsync with `--fsync always`).
    pub fn append(&mut self, r: &Record) -> Result<(), LogError> {
        self.0.append(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn writes(k: &str, v: Value) -> Writes {
        [(k.to_string(), v)].into_iter().collect()
    }

    #[test]
    fn a_replay_rebuilds_values_in_doubt_txns_and_unended_decisions() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut log, rec) = Log::open(dir.path(), false).unwrap();
            assert_eq!(rec, Recovered::default());
            for r in [
                Record::Boot { incarnation: 1 },
                Record::Prepared {
                    txn: "n1.1.1".into(),
                    coordinator: "n1".into(),
                    locks: vec![("x".into(), true)],
                    writes: writes("x", json!([1])),
                },
                Record::Committed {
                    txn: "n1.1.1".into(),
                    writes: writes("x", json!([1])),
                },
                Record::Prepared {
                    txn: "n2.1.1".into(),
                    coordinator: "n2".into(),
                    locks: vec![("x".into(), true), ("y".into(), false)],
                    writes: writes("x", json!([1, 2])),
                },
                Record::Prepared {
                    txn: "n3.1.1".into(),
                    coordinator: "n3".into(),
                    locks: vec![("z".into(), true)],
                    writes: writes("z", json!(5)),
                },
                Record::Aborted {
                    txn: "n3.1.1".into(),
                },
                Record::Decided {
                    txn: "n1.1.2".into(),
                    participants: vec!["n1".into(), "n2".into()],
                },
                Record::Decided {
                    txn: "n1.1.3".into(),
                    participants: vec!["n2".into()],
                },
                Record::Ended {
                    txn: "n1.1.3".into(),
                },
                Record::Boot { incarnation: 2 },
            ] {
                log.append(&r).unwrap();
            }
        }
        let (_, rec) = Log::open(dir.path(), false).unwrap();
        assert_eq!(rec.incarnation, 2);
        assert_eq!(rec.values, writes("x", json!([1])), "only committed writes");
        assert_eq!(rec.committed, ["n1.1.1".to_string()].into());
        assert_eq!(rec.in_doubt.keys().collect::<Vec<_>>(), ["n2.1.1"]);
        assert_eq!(rec.in_doubt["n2.1.1"].coordinator, "n2");
        assert_eq!(rec.in_doubt["n2.1.1"].locks.len(), 2);
        assert_eq!(rec.decided.len(), 2);
        assert_eq!(rec.unended.keys().collect::<Vec<_>>(), ["n1.1.2"]);
    }

    #[test]
    fn a_torn_tail_is_cut_off_and_a_corrupt_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2pc.log");
        {
            let (mut log, _) = Log::open(dir.path(), true).unwrap();
            log.append(&Record::Boot { incarnation: 1 }).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{{\"t\":\"decided\",\"tx")).unwrap();
        let (mut log, rec) = Log::open(dir.path(), false).unwrap();
        assert!(rec.decided.is_empty() && rec.incarnation == 1);
        log.append(&Record::Boot { incarnation: 2 }).unwrap();
        drop(log);
        assert_eq!(Log::open(dir.path(), false).unwrap().1.incarnation, 2);
        std::fs::write(&path, "{\"t\":\"boot\",\"incarnation\":1}\nnope\n").unwrap();
        let e = Log::open(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("2pc.log:2: corrupt"), "{e}");
    }
}

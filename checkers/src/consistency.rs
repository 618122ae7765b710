//! Consistency models by name: the one list `--consistency` accepts, for `faultline
//! check` and `faultline run` alike, with a one-line definition of each.
//!
//! The names are DESIGN.md's. Which of them a build can decide for a model is the
//! checker factory's business ([`crate::factory`]); this module only names them, says
//! which family each belongs to (single-object histories or transactions) and parses
//! them, `all` included.

use serde::{Deserialize, Serialize};

/// A consistency model a checker can be asked to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    // Non-transactional (per-op) models, strongest first.
    /// Every op takes effect at one instant between its invoke and its completion.
    Linearizable,
    /// One order of all ops that keeps each process's own order.
    Sequential,
    /// Causal consistency (CC, Bouajjani et al. 2017).
    Causal,
    /// Causal memory (CM).
    CausalMemory,
    /// Causal convergence (CCv).
    CausalConvergence,
    /// PRAM: every process sees each process's writes in that process's order.
    Pram,
    /// Read-your-writes (Terry et al. 1994).
    ReadYourWrites,
    /// Monotonic reads.
    MonotonicReads,
    /// Monotonic writes.
    MonotonicWrites,
    /// Writes-follow-reads.
    WritesFollowReads,
    /// After healing and quiescence, final reads show every acknowledged update.
    Eventual,
    // Transactional models (Adya, Elle), weakest first.
    /// No dirty writes (G0).
    ReadUncommitted,
    /// No aborted or intermediate reads, no write cycles (G0, G1).
    ReadCommitted,
    /// Read committed without lost updates on a cursor (G-cursor).
    CursorStability,
    /// Once a txn sees another's effects it sees all of them (G1, G-MAV).
    MonotonicAtomicView,
    /// A txn sees all or none of another txn's effects (no fractured reads).
    ReadAtomic,
    /// Serializable except for predicates (no G2-item).
    RepeatableRead,
    /// Adya's PL-2+: no G-single.
    ConsistentView,
    /// Snapshot isolation: no G-single, no lost updates, no G1, G0.
    SnapshotIsolation,
    /// Some total order of committed txns explains every read.
    Serializable,
    /// Serializable in an order that respects real time.
    StrictSerializable,
    /// Snapshot isolation whose snapshots include each process's earlier txns.
    StrongSessionSnapshotIsolation,
    /// Serializable in an order that respects each process's order.
    StrongSessionSerializable,
}

use Consistency::*;

impl Consistency {
    /// Every model, in the order above.
    pub const EVERY: [Consistency; 23] = [
        Linearizable,
        Sequential,
        Causal,
        CausalMemory,
        CausalConvergence,
        Pram,
        ReadYourWrites,
        MonotonicReads,
        MonotonicWrites,
        WritesFollowReads,
        Eventual,
        ReadUncommitted,
        ReadCommitted,
        CursorStability,
        MonotonicAtomicView,
        ReadAtomic,
        RepeatableRead,
        ConsistentView,
        SnapshotIsolation,
        Serializable,
        StrictSerializable,
        StrongSessionSnapshotIsolation,
        StrongSessionSerializable,
    ];

    /// The name as written on the command line and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Linearizable => "linearizable",
            Sequential => "sequential",
            Causal => "causal",
            CausalMemory => "causal-memory",
            CausalConvergence => "causal-convergence",
            Pram => "pram",
            ReadYourWrites => "read-your-writes",
            MonotonicReads => "monotonic-reads",
            MonotonicWrites => "monotonic-writes",
            WritesFollowReads => "writes-follow-reads",
            Eventual => "eventual",
            ReadUncommitted => "read-uncommitted",
            ReadCommitted => "read-committed",
            CursorStability => "cursor-stability",
            MonotonicAtomicView => "monotonic-atomic-view",
            ReadAtomic => "read-atomic",
            RepeatableRead => "repeatable-read",
            ConsistentView => "consistent-view",
            SnapshotIsolation => "snapshot-isolation",
            Serializable => "serializable",
            StrictSerializable => "strict-serializable",
            StrongSessionSnapshotIsolation => "strong-session-snapshot-isolation",
            StrongSessionSerializable => "strong-session-serializable",
        }
    }

    /// One line a newcomer understands, for `--help` and reports.
    pub fn definition(self) -> &'static str {
        match self {
            Linearizable => {
                "every op takes effect at one instant between its invoke and its completion"
            }
            Sequential => "one total order of all ops that keeps each process's own order",
            Causal => "every process sees writes in an order that respects causality (CC)",
            CausalMemory => {
                "causal, and each process's reads are explained by the writes it has seen (CM)"
            }
            CausalConvergence => {
                "causal, and all processes agree on one order of conflicting writes (CCv)"
            }
            Pram => "every process sees each other process's writes in the order they were made",
            ReadYourWrites => "a process's reads reflect its own earlier writes",
            MonotonicReads => "a process never reads something older than what it read before",
            MonotonicWrites => "a process's writes take effect in the order it made them",
            WritesFollowReads => {
                "a write is ordered after the writes its process had read before it"
            }
            Eventual => "after healing and quiescence, final reads show every acknowledged update",
            ReadUncommitted => "no dirty writes: no cycle of write-write dependencies (G0)",
            ReadCommitted => {
                "no aborted or intermediate reads and no cycles of writes and reads (G0, G1)"
            }
            CursorStability => "read committed, and no lost update on a key read then written",
            MonotonicAtomicView => {
                "once a txn sees one of another txn's writes, it sees all of them"
            }
            ReadAtomic => "a txn sees all or none of another txn's writes",
            RepeatableRead => "serializable except for predicate reads (no G2-item)",
            ConsistentView => "no cycle with exactly one anti-dependency (G-single, Adya's PL-2+)",
            SnapshotIsolation => {
                "each txn reads one snapshot and no two concurrent txns write one key"
            }
            Serializable => "some total order of the committed txns explains every read",
            StrictSerializable => "serializable in an order that respects real time",
            StrongSessionSnapshotIsolation => {
                "snapshot isolation where each process sees its own earlier txns"
            }
            StrongSessionSerializable => {
                "serializable in an order that respects each process's order"
            }
        }
    }

    /// Whether this is a model of transactions (judged over `txn` ops).
    pub fn is_transactional(self) -> bool {
        self >= ReadUncommitted
    }

    /// The names `--consistency` accepts, for error messages and `--help`.
    pub fn names() -> String {
        let mut names: Vec<&str> = Consistency::EVERY.iter().map(|c| c.as_str()).collect();
        names.push("all");
        names.join(", ")
    }
}

impl std::fmt::Display for Consistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Consistency {
    type Err = String;
    fn from_str(s: &str) -> Result<Consistency, String> {
        Consistency::EVERY
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown consistency model \"{s}\"; expected one of {}",
                    Consistency::names()
                )
            })
    }
}

/// What `--consistency` asks for: one model, or `all` (every model that applies to
/// the history's model, and the strongest that held).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsistencyRequest {
    /// This one model.
    One(Consistency),
    /// Every model that applies.
    All,
}

impl std::str::FromStr for ConsistencyRequest {
    type Err = String;
    fn from_str(s: &str) -> Result<ConsistencyRequest, String> {
        if s == "all" {
            Ok(ConsistencyRequest::All)
        } else {
            s.parse().map(ConsistencyRequest::One)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_model() {
        for c in Consistency::EVERY {
            assert_eq!(c.as_str().parse::<Consistency>(), Ok(c));
            assert!(!c.definition().is_empty());
        }
        assert_eq!("all".parse(), Ok(ConsistencyRequest::All));
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = "strong".parse::<Consistency>().unwrap_err();
        assert!(err.contains("linearizable") && err.contains("all"), "{err}");
    }

    #[test]
    fn transactional_models_are_told_apart() {
        assert!(!Eventual.is_transactional());
        assert!(ReadUncommitted.is_transactional());
        assert!(StrongSessionSerializable.is_transactional());
    }
}

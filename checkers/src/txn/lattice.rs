//! The lattice of transactional models: which models imply which, which anomalies
//! each forbids, and from a set of anomalies found, the models ruled out (the
//! weakest of them, Elle's `:not`, and the stronger rest, `:also-not`) and the
//! strongest models still standing.
//!
//! The relations follow Elle's `elle.consistency-model` (after Adya, Bailis, Cerone,
//! Daudjee), restricted to the twelve models faultline names. Every cycle this
//! checker finds is over item dependencies, so G-single and G-nonadjacent are also
//! G2-item and repeatable read forbids them too.

use crate::consistency::Consistency::{self, *};

use super::anomaly::Anomaly::{self, *};

/// The transactional models, weakest first.
pub const MODELS: [Consistency; 12] = [
    ReadUncommitted,
    ReadCommitted,
    CursorStability,
    MonotonicAtomicView,
    ReadAtomic,
    RepeatableRead,
    ConsistentView,
    SnapshotIsolation,
    Serializable,
    StrongSessionSnapshotIsolation,
    StrongSessionSerializable,
    StrictSerializable,
];

/// The models `m` directly implies (one step weaker).
fn weaker(m: Consistency) -> &'static [Consistency] {
    match m {
        ReadCommitted => &[ReadUncommitted],
        CursorStability => &[ReadCommitted],
        MonotonicAtomicView => &[ReadCommitted],
        ReadAtomic => &[MonotonicAtomicView],
        RepeatableRead => &[CursorStability, MonotonicAtomicView],
        ConsistentView => &[CursorStability],
        SnapshotIsolation => &[ConsistentView, ReadAtomic],
        Serializable => &[RepeatableRead, SnapshotIsolation],
        StrongSessionSnapshotIsolation => &[SnapshotIsolation],
        StrongSessionSerializable => &[Serializable, StrongSessionSnapshotIsolation],
        StrictSerializable => &[StrongSessionSerializable],
        _ => &[],
    }
}

/// The anomalies `m` forbids over and above the models it implies.
fn forbids_directly(m: Consistency) -> &'static [Anomaly] {
    match m {
        ReadUncommitted => &[G0, DuplicateElements, UnwrittenRead],
        ReadCommitted => &[G1a, G1b, G1c, IncompatibleOrder, DirtyUpdate, FutureRead],
        CursorStability => &[LostUpdate],
        ReadAtomic => &[Internal, FutureRead],
        RepeatableRead => &[G2Item, GSingle, GNonadjacent, LostUpdate],
        ConsistentView => &[GSingle],
        SnapshotIsolation => &[Internal, GSingle, GNonadjacent],
        Serializable => &[Internal],
        StrongSessionSnapshotIsolation => {
            &[G0Process, G1cProcess, GSingleProcess, GNonadjacentProcess]
        }
        StrongSessionSerializable => &[G2ItemProcess],
        StrictSerializable => &[
            G0Realtime,
            G1cRealtime,
            GSingleRealtime,
            GNonadjacentRealtime,
            G2ItemRealtime,
        ],
        _ => &[],
    }
}

/// Whether `strong` implies `weak` (every history `strong` allows, `weak` allows).
pub fn implies(strong: Consistency, weak: Consistency) -> bool {
    strong == weak || weaker(strong).iter().any(|&w| implies(w, weak))
}

/// Whether `m` forbids anomaly `a`.
pub fn forbids(m: Consistency, a: Anomaly) -> bool {
    MODELS
        .iter()
        .any(|&w| implies(m, w) && forbids_directly(w).contains(&a))
}

/// What a set of anomalies says about the lattice.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Boundary {
    /// The weakest models ruled out (Elle's `:not`).
    pub not: Vec<Consistency>,
    /// The other models ruled out, all stronger (Elle's `:also-not`).
    pub also_not: Vec<Consistency>,
    /// The strongest models no anomaly found rules out.
    pub strongest_consistent: Vec<Consistency>,
}

/// The boundary `found` draws in the lattice.
pub fn boundary(found: &[Anomaly]) -> Boundary {
    let ruled_out: Vec<Consistency> = MODELS
        .iter()
        .copied()
        .filter(|&m| found.iter().any(|&a| forbids(m, a)))
        .collect();
    let standing: Vec<Consistency> = MODELS
        .iter()
        .copied()
        .filter(|m| !ruled_out.contains(m))
        .collect();
    let not = ruled_out
        .iter()
        .copied()
        .filter(|&m| !ruled_out.iter().any(|&w| w != m && implies(m, w)))
        .collect::<Vec<_>>();
    let also_not = ruled_out
        .iter()
        .copied()
        .filter(|m| !not.contains(m))
        .collect();
    let strongest_consistent = standing
        .iter()
        .copied()
        .filter(|&m| !standing.iter().any(|&s| s != m && implies(s, m)))
        .collect();
    Boundary {
        not,
        also_not,
        strongest_consistent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_serializability_implies_every_other_model() {
        for m in MODELS {
            assert!(implies(StrictSerializable, m), "{m}");
        }
        assert!(!implies(SnapshotIsolation, RepeatableRead));
        assert!(!implies(Serializable, StrongSessionSnapshotIsolation));
    }

    #[test]
    fn write_skew_rules_out_repeatable_read_but_not_snapshot_isolation() {
        let b = boundary(&[G2Item]);
        assert_eq!(b.not, vec![RepeatableRead]);
        assert!(b.also_not.contains(&Serializable));
        assert!(b.also_not.contains(&StrictSerializable));
        assert!(b
            .strongest_consistent
            .contains(&StrongSessionSnapshotIsolation));
        assert!(!b.strongest_consistent.contains(&SnapshotIsolation));
    }

    #[test]
    fn read_skew_rules_out_consistent_view_and_repeatable_read() {
        let b = boundary(&[GSingle]);
        assert_eq!(b.not, vec![RepeatableRead, ConsistentView]);
        assert_eq!(b.strongest_consistent, vec![CursorStability, ReadAtomic]);
    }

    #[test]
    fn a_realtime_cycle_rules_out_only_strict_serializability() {
        let b = boundary(&[GSingleRealtime]);
        assert_eq!(b.not, vec![StrictSerializable]);
        assert_eq!(b.strongest_consistent, vec![StrongSessionSerializable]);
    }

    #[test]
    fn no_anomaly_leaves_strict_serializability_standing() {
        let b = boundary(&[]);
        assert!(b.not.is_empty());
        assert_eq!(b.strongest_consistent, vec![StrictSerializable]);
    }

    #[test]
    fn a_dirty_write_rules_out_everything() {
        let b = boundary(&[G0]);
        assert_eq!(b.not, vec![ReadUncommitted]);
        assert_eq!(b.also_not.len(), 11);
        assert!(b.strongest_consistent.is_empty());
    }
}

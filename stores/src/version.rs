//! Version vectors with dots, sibling merge and last-write-wins resolution.
//!
//! Every version carries a *dot* — (coordinating actor, that actor's counter), unique — and
//! the *context* the writer had read: a version vector summarising every dot it saw
//! (`ctx[a] = c` means "saw actor a's dots up to c for this key"; an actor is a node
//! incarnation, see `actor`). A version is obsolete once
//! another version's context covers its dot. This is the dotted-version-vector refinement
//! of Dynamo's per-node vectors: two writes coordinated by the same node without seeing
//! each other stay siblings instead of the later silently replacing the earlier. It is
//! sound because a coordinator always re-sends, with a new write, its own earlier versions
//! of the key that the new write's context does not cover (see `actor::Actor::issue`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Conflict;

/// A version vector: node name → highest counter of that node seen.
pub type VersionVector = BTreeMap<String, u64>;

/// One stored version of a key.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Version {
    /// The context the writer had read (the versions it supersedes).
    pub ctx: VersionVector,
    /// The value written.
    pub value: Value,
    /// Coordinator's wall clock at the write, ms since the epoch (LWW order).
    pub ts: u64,
    /// The coordinating actor, a node incarnation like `n1#9f3a02c1` (first half of the dot).
    pub actor: String,
    /// The coordinator's counter for this write (second half of the dot).
    pub dot: u64,
}

impl Version {
    /// The LWW order key: (timestamp, actor, dot).
    fn lww_key(&self) -> (u64, &str, u64) {
        (self.ts, self.actor.as_str(), self.dot)
    }

    /// Whether a context covers (has seen) this version's dot.
    pub fn covered_by(&self, ctx: &VersionVector) -> bool {
        ctx.get(&self.actor).copied().unwrap_or(0) >= self.dot
    }

    fn same_dot(&self, other: &Version) -> bool {
        self.dot == other.dot && self.actor == other.actor
    }
}

/// The context a read hands back: the pointwise maximum over the versions' contexts
/// and their own dots. A write carrying it supersedes exactly these versions (and
/// what they superseded).
pub fn join(versions: &[Version]) -> VersionVector {
    let mut out = VersionVector::new();
    for v in versions {
        for (n, c) in v.ctx.iter().chain([(&v.actor, &v.dot)]) {
            let e = out.entry(n.clone()).or_insert(0);
            *e = (*e).max(*c);
        }
    }
    out
}

/// Merges two sets of versions of one key under the given conflict policy.
///
/// `Siblings`: keeps every version whose dot no other version's context covers (the
/// same dot is one version). `Lww`: keeps the single version with the highest
/// (timestamp, coordinator, dot). The result is in a canonical order, so two replicas
/// holding the same versions hold equal vectors of them.
pub fn merge(existing: &[Version], incoming: &[Version], mode: Conflict) -> Vec<Version> {
    let all: Vec<&Version> = existing.iter().chain(incoming.iter()).collect();
    let mut out: Vec<Version> = match mode {
        Conflict::Lww => all
            .iter()
            .max_by(|a, b| a.lww_key().cmp(&b.lww_key()))
            .map(|v| vec![(*v).clone()])
            .unwrap_or_default(),
        Conflict::Siblings => {
            let mut kept: Vec<Version> = Vec::new();
            for v in &all {
                let obsolete = all.iter().any(|w| !w.same_dot(v) && v.covered_by(&w.ctx));
                if !obsolete && !kept.iter().any(|k| k.same_dot(v)) {
                    kept.push((*v).clone());
                }
            }
            kept
        }
    };
    out.sort_by(|a, b| a.lww_key().cmp(&b.lww_key()));
    out
}

/// The newest version by LWW order: how a read-modify-write resolves siblings.
pub fn newest(versions: &[Version]) -> Option<&Version> {
    versions.iter().max_by(|a, b| a.lww_key().cmp(&b.lww_key()))
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)] // `&[x.clone()]` reads better in tests
mod tests {
    use super::*;
    use serde_json::json;

    fn vv(pairs: &[(&str, u64)]) -> VersionVector {
        pairs.iter().map(|(n, c)| (n.to_string(), *c)).collect()
    }

    /// A version with dot (node, dot) written after reading `ctx`.
    fn v(node: &str, dot: u64, ctx: &[(&str, u64)], value: Value, ts: u64) -> Version {
        Version {
            ctx: vv(ctx),
            value,
            ts,
            actor: node.into(),
            dot,
        }
    }

    #[test]
    fn concurrent_writes_become_siblings() {
        let x = v("n1", 1, &[], json!("x"), 10);
        let y = v("n2", 1, &[], json!("y"), 5);
        let m = merge(&[x.clone()], &[y.clone()], Conflict::Siblings);
        assert_eq!(m.len(), 2);
        assert!(m.contains(&x) && m.contains(&y));
    }

    #[test]
    fn two_blind_writes_through_one_coordinator_stay_siblings() {
        let first = v("n1", 5, &[], json!(1), 10);
        let second = v("n1", 6, &[], json!(2), 11);
        let m = merge(&[first.clone()], &[second.clone()], Conflict::Siblings);
        assert_eq!(m, vec![first, second]);
    }

    #[test]
    fn a_write_with_the_read_context_supersedes_the_siblings_it_saw() {
        let x = v("n1", 1, &[], json!("x"), 10);
        let y = v("n2", 1, &[], json!("y"), 5);
        let siblings = merge(&[x], &[y], Conflict::Siblings);
        let z = v("n3", 1, &[], json!("z"), 1);
        let z = Version {
            ctx: join(&siblings),
            ..z
        };
        let m = merge(&siblings, &[z.clone()], Conflict::Siblings);
        assert_eq!(m, vec![z]);
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let old = v("n1", 1, &[], json!(1), 100);
        let new = v("n2", 1, &[("n1", 1)], json!(2), 1);
        assert_eq!(
            merge(&[new.clone()], &[old.clone()], Conflict::Siblings),
            vec![new.clone()]
        );
        assert_eq!(merge(&[old], &[new.clone()], Conflict::Siblings), vec![new]);
    }

    #[test]
    fn obsolescence_is_transitive_through_contexts() {
        let a = v("n1", 1, &[], json!("a"), 1);
        let b = v("n2", 1, &[("n1", 1)], json!("b"), 2);
        let c = Version {
            ctx: join(&[b]),
            ..v("n3", 1, &[], json!("c"), 3)
        };
        // A stale replica still holding `a` meets `c`, which never saw `a` directly.
        assert_eq!(merge(&[a], &[c.clone()], Conflict::Siblings), vec![c]);
    }

    #[test]
    fn merging_is_idempotent_and_order_independent() {
        let a = v("n1", 1, &[], json!(1), 3);
        let b = v("n2", 1, &[], json!(2), 2);
        let c = v("n3", 1, &[("n1", 1)], json!(3), 1);
        let s = Conflict::Siblings;
        let m1 = merge(&merge(&[a.clone()], &[b.clone()], s), &[c.clone()], s);
        let m2 = merge(&merge(&[c.clone()], &[a.clone()], s), &[b.clone()], s);
        assert_eq!(m1, m2);
        assert_eq!(merge(&m1, &m1, s), m1);
        assert_eq!(m1, vec![c, b], "c saw a");
    }

    #[test]
    fn the_read_context_covers_every_dot_read() {
        let a = v("n1", 4, &[("n2", 7)], json!(1), 1);
        let b = v("n3", 2, &[("n1", 1)], json!(2), 1);
        assert_eq!(join(&[a, b]), vv(&[("n1", 4), ("n2", 7), ("n3", 2)]));
    }

    #[test]
    fn lww_keeps_the_highest_timestamp_even_if_causally_older() {
        let later_clock = v("n1", 1, &[], json!("skewed"), 2_000);
        let causally_newer = v("n2", 1, &[("n1", 1)], json!("newer"), 1_000);
        let m = merge(&[later_clock.clone()], &[causally_newer], Conflict::Lww);
        assert_eq!(m, vec![later_clock]);
    }

    #[test]
    fn lww_breaks_timestamp_ties_by_node_name() {
        let a = v("n1", 1, &[], json!("a"), 7);
        let b = v("n2", 1, &[], json!("b"), 7);
        assert_eq!(
            merge(&[b.clone()], &[a.clone()], Conflict::Lww),
            vec![b.clone()]
        );
        assert_eq!(merge(&[a], &[b.clone()], Conflict::Lww), vec![b]);
    }
}

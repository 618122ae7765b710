//! Saturation before search: a polynomial-time refutation of sequential consistency
//! for read/write (and cas) histories with unique writes.
//!
//! With unique written values each read names the write it read from (see
//! [`crate::causal::observation`] for the assumptions and how `info`, `fail` and
//! `cas` ops are treated; where they fail, saturation says nothing and the search
//! decides). Any sequential order must contain program order and reads-from, and
//! two orders they force, derived here to a fixpoint:
//!
//! - a read `r` of `x` from `w`: every other write of `x` that precedes `r` must
//!   precede `w` (it cannot sit between `w` and `r`);
//! - a read `r` of `x` from `w`: every write of `x` that `w` precedes must follow `r`;
//!   a read of the initial value precedes every write of its key.
//!
//! A cycle is a proof that no sequential order exists; it is reported, in words, as
//! the evidence. This part is exact as a refutation (sound: every edge is forced) but
//! not complete: an acyclic saturated graph need not have a legal order, because the
//! remaining choices (which of two unordered writes of a key comes first, for every
//! read at once) are where sequential consistency with a read mapping is NP-complete
//! (Gibbons & Korach 1997). What saturation leaves open goes to the search
//! ([`super::search`]), split into the components of [`super`].
//!
//! A `cas` is judged here as its read followed by its write; that only drops its
//! atomicity, so a cycle of the relaxed history is a cycle of the real one.

use serde::Serialize;

use crate::causal::observation::{last_before, AccessId, Kind, Observed, Refusal};
use crate::causal::order::{clocks, Cycle, Edge, ReadsFrom, Step, Why};
use crate::history::Op;
use crate::model::{ModelKind, ModelSpec};
use crate::verdict::Budget;

/// A cycle that proves a component has no sequential order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SaturationCycle {
    /// The ops of the cycle (history op ids), in order.
    pub ops: Vec<usize>,
    /// Each step and why it is forced.
    pub steps: Vec<Step>,
    /// One sentence.
    pub explanation: String,
    /// How many ops the cycle has.
    pub length: usize,
}

/// What saturation found.
pub enum Saturated {
    /// No sequential order exists: the cycle proves it.
    Cycle(SaturationCycle),
    /// A read of a value no write that happened wrote.
    ThinAir(String),
    /// Nothing proven (the search decides).
    Open,
}

/// Saturates `ops` (one component, invoke order) of a register-like history.
pub fn saturate(spec: &ModelSpec, ops: &[&Op], budget: &Budget) -> Saturated {
    if !matches!(
        spec.kind,
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
    ) {
        return Saturated::Open;
    }
    let obs = match Observed::from_ops(ops, &spec.initial) {
        Ok(obs) => obs,
        Err(Refusal::Undecidable(_)) => return Saturated::Open,
        Err(Refusal::ThinAir(t)) => return Saturated::ThinAir(t.explanation),
    };
    let writes = obs.key_writes();
    let mut extra: Vec<Edge> = Vec::new();
    let mut have: rustc_hash::FxHashSet<(AccessId, AccessId)> = Default::default();
    loop {
        if budget.expired() {
            return Saturated::Open;
        }
        let vc = match clocks(&obs, ReadsFrom::All, &extra) {
            Ok(vc) => vc,
            Err(cycle) => return Saturated::Cycle(evidence(&obs, &cycle)),
        };
        let before = extra.len();
        let mut add = |from: AccessId, to: AccessId, why: Why, extra: &mut Vec<Edge>| {
            if !vc.reaches(&obs, from, to) && have.insert((from, to)) {
                extra.push(Edge { from, to, why });
            }
        };
        for (r, acc) in obs.accesses.iter().enumerate() {
            let r = r as AccessId;
            let Kind::Read { from } = acc.kind else {
                continue;
            };
            let clock = vc.of(r);
            for (q, list) in writes.of(acc.key) {
                // Writes of the key before the read go before the write it read.
                if let (Some(w), Some((_, w2))) = (from, last_before(list, clock[*q as usize])) {
                    if w2 != w {
                        add(w2, w, Why::Overwritten { read: r }, &mut extra);
                    }
                }
                // Writes of the key after the write it read go after the read.
                let first_after = match from {
                    None => list.first().map(|&(_, id)| id),
                    Some(w) => {
                        let i =
                            list.partition_point(|&(_, id)| id == w || !vc.reaches(&obs, w, id));
                        list[i..].iter().map(|&(_, id)| id).find(|&id| id != w)
                    }
                };
                if let Some(w2) = first_after {
                    if w2 != r {
                        add(r, w2, Why::ReadBeforeOverwrite, &mut extra);
                    }
                }
            }
        }
        if extra.len() == before {
            return Saturated::Open;
        }
    }
}

fn evidence(obs: &Observed, cycle: &Cycle) -> SaturationCycle {
    let ops: Vec<usize> = cycle
        .0
        .iter()
        .map(|e| obs.accesses[e.from as usize].op)
        .collect();
    let mut distinct = ops.clone();
    distinct.sort_unstable();
    distinct.dedup();
    SaturationCycle {
        length: distinct.len(),
        steps: cycle.steps(obs),
        explanation: format!(
            "a cycle of {} ops that every sequential order would have to follow: {}",
            distinct.len(),
            cycle.sentence(obs)
        ),
        ops,
    }
}

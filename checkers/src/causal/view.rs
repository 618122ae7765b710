//! One process's view: PRAM and causal memory (CM) ask, for every process `p`, for one
//! sequence of all writes and `p`'s reads that keeps a base order (program order for
//! PRAM; the causal order, program order plus reads-from, for CM) and in which each of
//! `p`'s reads returns the last write of its key before it (or the initial value when
//! there is none).
//!
//! **Decided exactly, in polynomial time, by saturation.** Start from the base order
//! plus reads-from into `p`'s reads. For each read `r` of `p` of key `x` from write
//! `w`, every other write of `x` that precedes `r` must precede `w` (it cannot come
//! between `w` and `r`, and it cannot follow `r`); if `r` reads the initial value, no
//! write of `x` may precede `r` at all. Add those edges and repeat until nothing
//! changes. A cycle, or a write of `x` before a read of the initial value, is a
//! violation. Otherwise a view exists: take `p`'s ops in program order, and before each
//! emit its not-yet-emitted ancestors in a topological order of the saturated graph.
//! A write of `x` emitted between `w` and `r` would be an ancestor of `r`, hence
//! ordered before `w` by saturation: there is none. (This works because the reads that
//! must be legal, `p`'s, form one chain; with every process's reads at once — sequential
//! consistency — the same rule is necessary but no longer sufficient.)

use serde::{Deserialize, Serialize};

use super::observation::{last_before, AccessId, KeyWrites, Kind, Observed};
use super::order::{clocks, Cycle, Edge, ReadsFrom, Step, Why};
use super::sweep::{self, Fast, Order};
use crate::verdict::Budget;

/// Which view model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// Program order: PRAM.
    ProgramOrder,
    /// Causal order: causal memory.
    Causal,
}

/// How one process's view fails.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewFailure {
    /// The forced orders form a cycle.
    Cycle(Cycle),
    /// A write of the key precedes a read of the initial value.
    InitialReadAfterWrite {
        /// The write.
        write: AccessId,
        /// The read of the initial value.
        read: AccessId,
    },
}

/// The evidence of a view that does not exist, in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewEvidence {
    /// The process whose view does not exist.
    pub process: u64,
    /// `cycle` or `initial-read-after-write`.
    pub pattern: String,
    /// The ops involved (history op ids).
    pub ops: Vec<usize>,
    /// The cycle's steps (empty for an initial read).
    pub steps: Vec<Step>,
    /// One sentence.
    pub explanation: String,
}

/// The outcome for all processes.
pub enum ViewOutcome {
    /// Every process has a view.
    Valid,
    /// This process has none.
    Invalid(u32, ViewFailure),
    /// The budget ran out.
    OutOfTime,
}

/// Decides every process's view over `base`.
///
/// Each process is first decided by the fast path of [`sweep`] (over program order for
/// PRAM, over the causal order's clocks for causal memory). Only when that meets a
/// possible violation does the reference algorithm, [`reference`], decide the process
/// and name the evidence.
pub fn check(obs: &Observed, base: Base, budget: &Budget) -> ViewOutcome {
    let writes = obs.key_writes();
    // Causal memory's fast path needs the causal order's clocks; with a cycle in the
    // causal order, the reference finds the cycle.
    let co = match base {
        Base::Causal => clocks(obs, ReadsFrom::All, &[]).ok(),
        Base::ProgramOrder => None,
    };
    for p in 0..obs.processes.len() as u32 {
        let (reads_from, order) = match (base, &co) {
            (Base::ProgramOrder, _) => (ReadsFrom::Of(p), Some(Order::Program)),
            (Base::Causal, co) => (ReadsFrom::All, co.as_ref().map(Order::Causal)),
        };
        if let Some(order) = order {
            match sweep::view_of(obs, p, order, &writes, budget) {
                Fast::Holds => continue,
                Fast::OutOfTime => return ViewOutcome::OutOfTime,
                Fast::Suspect => {}
            }
        }
        match reference(obs, p, reads_from, &writes, budget) {
            ViewOutcome::Valid => {}
            outcome => return outcome,
        }
    }
    ViewOutcome::Valid
}

/// The reference algorithm for process `p`: rounds of full clocks over program order
/// plus `reads_from` and the forced orders so far, until a round forces nothing new.
/// `Valid` when `p` has a view.
pub fn reference(
    obs: &Observed,
    p: u32,
    reads_from: ReadsFrom,
    writes: &KeyWrites,
    budget: &Budget,
) -> ViewOutcome {
    let mut extra: Vec<Edge> = Vec::new();
    loop {
        if budget.expired() {
            return ViewOutcome::OutOfTime;
        }
        let vc = match clocks(obs, reads_from, &extra) {
            Ok(vc) => vc,
            Err(cycle) => return ViewOutcome::Invalid(p, ViewFailure::Cycle(cycle)),
        };
        let before = extra.len();
        for &r in &obs.by_process[p as usize] {
            let acc = &obs.accesses[r as usize];
            let Kind::Read { from } = acc.kind else {
                continue;
            };
            let clock = vc.of(r);
            for (q, list) in writes.of(acc.key) {
                let Some((_, w2)) = last_before(list, clock[*q as usize]) else {
                    continue;
                };
                match from {
                    None => {
                        return ViewOutcome::Invalid(
                            p,
                            ViewFailure::InitialReadAfterWrite { write: w2, read: r },
                        )
                    }
                    Some(w) if w2 != w && !vc.reaches(obs, w2, w) => extra.push(Edge {
                        from: w2,
                        to: w,
                        why: Why::Overwritten { read: r },
                    }),
                    Some(_) => {}
                }
            }
        }
        if extra.len() == before {
            break;
        }
    }
    ViewOutcome::Valid
}

/// The failure in words.
pub fn evidence(obs: &Observed, p: u32, f: &ViewFailure) -> ViewEvidence {
    let process = obs.processes[p as usize];
    match f {
        ViewFailure::Cycle(c) => ViewEvidence {
            process,
            pattern: "cycle".into(),
            ops: c
                .0
                .iter()
                .map(|e| obs.accesses[e.from as usize].op)
                .collect(),
            steps: c.steps(obs),
            explanation: format!(
                "no order of the writes explains what p{process} read: {}",
                c.sentence(obs)
            ),
        },
        &ViewFailure::InitialReadAfterWrite { write, read } => ViewEvidence {
            process,
            pattern: "initial-read-after-write".into(),
            ops: vec![
                obs.accesses[write as usize].op,
                obs.accesses[read as usize].op,
            ],
            steps: Vec::new(),
            explanation: format!(
                "{} precedes {} in p{process}'s view, yet the read returned the initial value",
                obs.describe(write),
                obs.describe(read)
            ),
        },
    }
}

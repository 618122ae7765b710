//! Causal consistency for read/write histories — the three variants of Bouajjani,
//! Enea, Guerraoui & Hamza, "On verifying causal consistency" (POPL 2017) — and PRAM.
//!
//! All four are decided exactly and in polynomial time under the assumption of
//! [`observation`]: unique writes, so each read names the write it read from. The
//! causal order `CO` is then the smallest one possible, program order plus
//! reads-from, transitively closed (any larger causal order only adds constraints).
//!
//! - **causal (CC)**: every read has its own explanation: its causal past, ordered
//!   consistently with `CO`, ends (for the read's key) with the write it read. The bad
//!   patterns: *CyclicCO* (`CO` has a cycle), *WriteCOInitRead* (a read of the initial
//!   value with a write of that key in its causal past), *ThinAirRead* (a value nobody
//!   wrote), *WriteCORead* (a read of `w` whose causal past has another write of the
//!   key that causally follows `w`).
//! - **causal convergence (CCv)**: CC, and one total arbitration order of all writes
//!   that every read's causal past is ordered by. Bad pattern added: *CyclicCF*: `w'`
//!   conflicts before `w` when a read of `w` has `w'` (same key) in its causal past;
//!   `CO` plus these must have no cycle. (Any topological order of them is an
//!   arbitration that explains every read, so this is exact.)
//! - **causal memory (CM)**: every process has one view of all writes and its own
//!   reads, ordered consistently with `CO` (Ahamad et al.). Decided per process by
//!   saturation ([`view`]), in one sweep of the process's reads ([`sweep`]).
//! - **PRAM**: every process has one view of all writes and its own reads that keeps
//!   every process's program order (Lipton & Sandberg). Decided like CM with program
//!   order as the base ([`view`]).
//!
//! Every checker builds its [`CheckResult`] in one function, [`result`], from the
//! typed [`CausalEvidence`] of this module.

pub mod observation;
pub mod order;
pub mod sweep;
pub mod view;

use serde::{Deserialize, Serialize};

use crate::consistency::Consistency;
use crate::history::History;
use crate::model::{ModelKind, ModelSpec};
use crate::verdict::{Budget, CheckResult, Checker, Verdict};
use observation::{last_before, AccessId, Kind, Observed, Refusal, ThinAirRead};
use order::{acyclic, causal_path, clocks, Clocks, Edge, ReadsFrom, Step, Why};
use view::{Base, ViewEvidence, ViewOutcome};

/// Which model of this module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CausalModel {
    /// CC.
    Causal,
    /// CM.
    CausalMemory,
    /// CCv.
    CausalConvergence,
    /// PRAM.
    Pram,
}

impl CausalModel {
    /// The model's [`Consistency`] name.
    pub fn consistency(self) -> Consistency {
        match self {
            CausalModel::Causal => Consistency::Causal,
            CausalModel::CausalMemory => Consistency::CausalMemory,
            CausalModel::CausalConvergence => Consistency::CausalConvergence,
            CausalModel::Pram => Consistency::Pram,
        }
    }
}

/// A checker for one of the models of this module.
#[derive(Clone, Debug)]
pub struct Causal {
    /// The history's model (register, cas-register or kv).
    pub spec: ModelSpec,
    /// Which consistency model.
    pub model: CausalModel,
}

/// Whether this module judges histories of `kind`.
pub fn applies_to(kind: ModelKind) -> bool {
    matches!(
        kind,
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
    )
}

impl Checker for Causal {
    fn name(&self) -> &str {
        self.model.consistency().as_str()
    }

    fn check(&self, history: &History, budget: &Budget) -> CheckResult {
        let evidence = decide(history, &self.spec, self.model, budget);
        result(self.model.consistency(), &self.spec, evidence)
    }
}

/// A bad pattern of causal consistency, with the ops that form it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadPattern {
    /// `CyclicCO`, `WriteCOInitRead`, `WriteCORead` or `CyclicCF`.
    pub pattern: String,
    /// The ops that form it (history op ids), in the order of the explanation.
    pub ops: Vec<usize>,
    /// For cycles, each step and its reason.
    pub steps: Vec<Step>,
    /// One sentence, e.g. "WriteCOInitRead: p1 wrote x=1 -> p1 wrote y=2 -> p2 read
    /// y=2 -> p2 read x=⊥".
    pub explanation: String,
}

/// What a check of this module found (the `evidence` of its [`CheckResult`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum CausalEvidence {
    /// Valid.
    Valid {
        /// Accesses judged.
        accesses: usize,
        /// Processes.
        processes: usize,
    },
    /// A value nobody wrote was read.
    ThinAir(ThinAirRead),
    /// A bad pattern of CC or CCv.
    Pattern(BadPattern),
    /// A process without a view (PRAM, CM).
    View(ViewEvidence),
    /// Not decided, and why.
    Undecided {
        /// Why.
        reason: String,
    },
}

impl CausalEvidence {
    /// The verdict this evidence stands for.
    pub fn verdict(&self) -> Verdict {
        match self {
            CausalEvidence::Valid { .. } => Verdict::Valid,
            CausalEvidence::Undecided { .. } => Verdict::Unknown,
            _ => Verdict::Invalid,
        }
    }

    /// A few words for the one-line answer: the pattern's name.
    pub fn brief(&self) -> String {
        match self {
            CausalEvidence::Valid { .. } => "valid".into(),
            CausalEvidence::ThinAir(_) => "ThinAirRead".into(),
            CausalEvidence::Pattern(b) => b.pattern.clone(),
            CausalEvidence::View(v) => format!("no view for p{}", v.process),
            CausalEvidence::Undecided { .. } => "undecided".into(),
        }
    }
}

/// The one place a result of this module is built.
pub fn result(model: Consistency, spec: &ModelSpec, evidence: CausalEvidence) -> CheckResult {
    let verdict = evidence.verdict();
    let summary = match &evidence {
        CausalEvidence::Valid {
            accesses,
            processes,
        } => {
            format!("{model}: {accesses} reads and writes of {processes} processes are consistent")
        }
        CausalEvidence::ThinAir(t) => format!("not {model}: {}", t.explanation),
        CausalEvidence::Pattern(b) => format!("not {model}: {}", b.explanation),
        CausalEvidence::View(v) => format!("not {model}: {}", v.explanation),
        CausalEvidence::Undecided { reason } => format!("{model} not decided: {reason}"),
    };
    let evidence = crate::evidence::Evidence::Causal(crate::evidence::Briefed {
        brief: evidence.brief(),
        evidence,
    });
    CheckResult {
        checker: model.as_str().to_string(),
        model: spec.kind.as_str().to_string(),
        verdict,
        summary,
        evidence: evidence.into_json(),
    }
}

/// Decides `model` for `history`.
pub fn decide(
    history: &History,
    spec: &ModelSpec,
    model: CausalModel,
    budget: &Budget,
) -> CausalEvidence {
    if !applies_to(spec.kind) {
        return CausalEvidence::Undecided {
            reason: format!(
                "{} histories are not read/write histories",
                spec.kind.as_str()
            ),
        };
    }
    let obs = match Observed::from_history(history, &spec.initial) {
        Ok(obs) => obs,
        Err(Refusal::Undecidable(reason)) => return CausalEvidence::Undecided { reason },
        Err(Refusal::ThinAir(t)) => return CausalEvidence::ThinAir(t),
    };
    let valid = CausalEvidence::Valid {
        accesses: obs.accesses.len(),
        processes: obs.processes.len(),
    };
    match model {
        CausalModel::Causal | CausalModel::CausalConvergence => {
            match causal(&obs, model == CausalModel::CausalConvergence) {
                Some(b) => CausalEvidence::Pattern(b),
                None => valid,
            }
        }
        CausalModel::CausalMemory | CausalModel::Pram => {
            let base = if model == CausalModel::Pram {
                Base::ProgramOrder
            } else {
                Base::Causal
            };
            match view::check(&obs, base, budget) {
                ViewOutcome::Valid => valid,
                ViewOutcome::Invalid(p, f) => CausalEvidence::View(view::evidence(&obs, p, &f)),
                ViewOutcome::OutOfTime => CausalEvidence::Undecided {
                    reason: "the time budget ran out".into(),
                },
            }
        }
    }
}

/// The first bad pattern of CC (and, with `convergence`, of CCv), if any.
fn causal(obs: &Observed, convergence: bool) -> Option<BadPattern> {
    let vc = match clocks(obs, ReadsFrom::All, &[]) {
        Ok(vc) => vc,
        Err(cycle) => {
            return Some(BadPattern {
                pattern: "CyclicCO".into(),
                ops: cycle
                    .0
                    .iter()
                    .map(|e| obs.accesses[e.from as usize].op)
                    .collect(),
                steps: cycle.steps(obs),
                explanation: format!(
                    "CyclicCO: the causal order has a cycle: {}",
                    cycle.sentence(obs)
                ),
            })
        }
    };
    let writes = obs.key_writes();
    let mut conflicts: Vec<Edge> = Vec::new();
    for (r, acc) in obs.accesses.iter().enumerate() {
        let r = r as AccessId;
        let Kind::Read { from } = acc.kind else {
            continue;
        };
        let clock = vc.of(r);
        // What the write read already has in its past: a later write of the key that
        // is there too precedes the write, so it neither breaks CC nor needs a CCv
        // edge (a cheap filter before looking at the later write's own past).
        let w_clock = from.map(|w| vc.of(w));
        for (q, list) in writes.of(acc.key) {
            let q = *q as usize;
            // Where the read's past holds no more of `q` than the write's, the last
            // write of `q` there is in the write's past too: no search needed.
            if w_clock.is_some_and(|c| clock[q] <= c[q]) {
                continue;
            }
            let Some((pos2, w2)) = last_before(list, clock[q]) else {
                continue;
            };
            if w_clock.is_some_and(|c| pos2 < c[q]) {
                continue;
            }
            match from {
                None => return Some(chain("WriteCOInitRead", obs, &vc, w2, r, None)),
                Some(w) if w2 == w => {}
                Some(w) if vc.reaches(obs, w, w2) => {
                    return Some(chain("WriteCORead", obs, &vc, w2, r, Some(w)))
                }
                Some(w) => {
                    if convergence && !vc.reaches(obs, w2, w) {
                        conflicts.push(Edge {
                            from: w2,
                            to: w,
                            why: Why::Overwritten { read: r },
                        });
                    }
                }
            }
        }
    }
    if !convergence {
        return None;
    }
    // Only whether `CO` plus the conflicts has a cycle matters: no clocks.
    match acyclic(obs, ReadsFrom::All, &conflicts) {
        Ok(()) => None,
        Err(cycle) => Some(BadPattern {
            pattern: "CyclicCF".into(),
            ops: cycle
                .0
                .iter()
                .map(|e| obs.accesses[e.from as usize].op)
                .collect(),
            steps: cycle.steps(obs),
            explanation: format!(
                "CyclicCF: no one order of the writes agrees with what every read saw: {}",
                cycle.sentence(obs)
            ),
        }),
    }
}

/// A WriteCOInitRead or WriteCORead: `w2` is in the causal past of read `r`, which
/// read the initial value or `w` (which causally precedes `w2`).
fn chain(
    pattern: &str,
    obs: &Observed,
    vc: &Clocks,
    w2: AccessId,
    r: AccessId,
    w: Option<AccessId>,
) -> BadPattern {
    let mut path = causal_path(obs, vc, w2, r);
    if let Some(w) = w {
        let before = causal_path(obs, vc, w, w2);
        path = before.into_iter().chain(path.into_iter().skip(1)).collect();
    }
    let words: Vec<String> = path.iter().map(|&a| obs.describe(a)).collect();
    let tail = match w {
        None => format!(
            "; the read returned the initial value although {} is in its causal past",
            obs.describe(w2)
        ),
        Some(w) => format!(
            "; the read returned {} although {} overwrote it in the read's causal past",
            obs.describe(w),
            obs.describe(w2)
        ),
    };
    BadPattern {
        pattern: pattern.into(),
        ops: path.iter().map(|&a| obs.accesses[a as usize].op).collect(),
        steps: Vec::new(),
        explanation: format!("{pattern}: {}{tail}", words.join(" -> ")),
    }
}

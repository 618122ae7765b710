//! The session guarantees of Terry et al. (1994), per process, for read/write
//! histories with unique writes ([`crate::causal::observation`] says what is assumed
//! and how `info` and `fail` ops are treated).
//!
//! Each guarantee is judged from one process's own session: versions of a key are
//! ordered only by what that session can prove (the initial value is older than every
//! write; one process's writes of a key are in its program order; what a session has
//! seen is not older than what it saw before). A violation is therefore certain, and
//! names the process and the ops. What needs several sessions at once to see (two
//! sessions disagreeing on the order of two writes) is for causal convergence and
//! sequential consistency, not for these.
//!
//! - **read-your-writes**: after `p` writes `x=a`, `p` never reads `x` as the initial
//!   value, nor as a value `p` itself wrote to `x` before `a`.
//! - **monotonic reads**: once `p` has read `x=a` and then a different `x=b`, `p` never
//!   reads `x=a` again, nor the initial value after any write.
//! - **monotonic writes**: once `p` has read a write of process `q`, `p` never reads a
//!   key `k` as the initial value or as a write of `q` older than `q`'s last write of
//!   `k` up to the write `p` read (`q` wrote `x=1` then `y=2`; `p` read `y=2` then
//!   `x=⊥`).
//! - **writes-follow-reads**: once `p` has read a write `w` of process `q`, `p` never
//!   reads a key `k` as the initial value or as a write of some `s` older than `s`'s
//!   last write of `k` that `q` had read before writing `w` (`q` read `x=1`, then
//!   wrote `y=2`; `p` read `y=2`, then `x=⊥`).
//!
//! Each check is one pass over each process's ops (with a binary search per process
//! that wrote the key), and reports the first violation in history order.

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::causal::observation::{last_before, AccessId, Kind, Observed, Refusal, ThinAirRead};
use crate::consistency::Consistency;
use crate::history::History;
use crate::model::ModelSpec;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// Which session guarantee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guarantee {
    /// Read-your-writes.
    ReadYourWrites,
    /// Monotonic reads.
    MonotonicReads,
    /// Monotonic writes.
    MonotonicWrites,
    /// Writes-follow-reads.
    WritesFollowReads,
}

impl Guarantee {
    /// The guarantee's [`Consistency`] name.
    pub fn consistency(self) -> Consistency {
        match self {
            Guarantee::ReadYourWrites => Consistency::ReadYourWrites,
            Guarantee::MonotonicReads => Consistency::MonotonicReads,
            Guarantee::MonotonicWrites => Consistency::MonotonicWrites,
            Guarantee::WritesFollowReads => Consistency::WritesFollowReads,
        }
    }
}

/// A checker for one session guarantee.
#[derive(Clone, Debug)]
pub struct Session {
    /// The history's model (register, cas-register or kv).
    pub spec: ModelSpec,
    /// Which guarantee.
    pub guarantee: Guarantee,
}

impl Checker for Session {
    fn name(&self) -> &str {
        self.guarantee.consistency().as_str()
    }

    fn check(&self, history: &History, _budget: &Budget) -> CheckResult {
        result(
            self.guarantee.consistency(),
            &self.spec,
            decide(history, &self.spec, self.guarantee),
        )
    }
}

/// A violation of a session guarantee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionViolation {
    /// The process whose session is broken.
    pub process: u64,
    /// The ops (history op ids), the offending read last.
    pub ops: Vec<usize>,
    /// In words.
    pub explanation: String,
}

/// What a session check found (the `evidence` of its [`CheckResult`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum SessionEvidence {
    /// Valid.
    Valid {
        /// Processes judged.
        processes: usize,
    },
    /// A value nobody wrote was read.
    ThinAir(ThinAirRead),
    /// The guarantee is broken.
    Violation(SessionViolation),
    /// Not decided, and why.
    Undecided {
        /// Why.
        reason: String,
    },
}

impl SessionEvidence {
    /// The verdict this evidence stands for.
    pub fn verdict(&self) -> Verdict {
        match self {
            SessionEvidence::Valid { .. } => Verdict::Valid,
            SessionEvidence::Undecided { .. } => Verdict::Unknown,
            _ => Verdict::Invalid,
        }
    }
}

/// The one place a result of this module is built.
pub fn result(model: Consistency, spec: &ModelSpec, evidence: SessionEvidence) -> CheckResult {
    let (summary, brief) = match &evidence {
        SessionEvidence::Valid { processes } => (
            format!("{model}: holds for every one of {processes} processes"),
            "valid".to_string(),
        ),
        SessionEvidence::ThinAir(t) => (
            format!("not {model}: {}", t.explanation),
            "ThinAirRead".into(),
        ),
        SessionEvidence::Violation(v) => (
            format!("not {model}: {}", v.explanation),
            format!("p{}", v.process),
        ),
        SessionEvidence::Undecided { reason } => {
            (format!("{model} not decided: {reason}"), "undecided".into())
        }
    };
    let verdict = evidence.verdict();
    let evidence = crate::evidence::Evidence::Session(crate::evidence::Briefed { brief, evidence });
    CheckResult {
        checker: model.as_str().to_string(),
        model: spec.kind.as_str().to_string(),
        verdict,
        summary,
        evidence: evidence.into_json(),
    }
}

/// Decides `guarantee` for `history`.
pub fn decide(history: &History, spec: &ModelSpec, guarantee: Guarantee) -> SessionEvidence {
    if !crate::causal::applies_to(spec.kind) {
        return SessionEvidence::Undecided {
            reason: format!(
                "{} histories are not read/write histories",
                spec.kind.as_str()
            ),
        };
    }
    let obs = match Observed::from_history(history, &spec.initial) {
        Ok(obs) => obs,
        Err(Refusal::Undecidable(reason)) => return SessionEvidence::Undecided { reason },
        Err(Refusal::ThinAir(t)) => return SessionEvidence::ThinAir(t),
    };
    let found = match guarantee {
        Guarantee::ReadYourWrites => read_your_writes(&obs),
        Guarantee::MonotonicReads => monotonic_reads(&obs),
        Guarantee::MonotonicWrites | Guarantee::WritesFollowReads => {
            observed_writes(&obs, guarantee == Guarantee::WritesFollowReads)
        }
    };
    match found {
        Some(v) => SessionEvidence::Violation(v),
        None => SessionEvidence::Valid {
            processes: obs.processes.len(),
        },
    }
}

fn violation(obs: &Observed, ops: &[AccessId], why: String) -> SessionViolation {
    let mut ops = ops.to_vec();
    ops.dedup();
    let last = *ops.last().expect("a violation names ops");
    SessionViolation {
        process: obs.process_of(last),
        ops: ops.iter().map(|&a| obs.accesses[a as usize].op).collect(),
        explanation: why.replace("{}", &obs.describe(last)),
    }
}

fn read_your_writes(obs: &Observed) -> Option<SessionViolation> {
    for accesses in &obs.by_process {
        // Per key: this process's last write, and the positions of its writes.
        let mut last: HashMap<u32, AccessId> = HashMap::default();
        for &a in accesses {
            let acc = &obs.accesses[a as usize];
            match acc.kind {
                Kind::Write => {
                    last.insert(acc.key, a);
                }
                Kind::Read { from } => {
                    let Some(&mine) = last.get(&acc.key) else {
                        continue;
                    };
                    let stale = match from {
                        None => true,
                        Some(w) => {
                            let wa = &obs.accesses[w as usize];
                            w != mine
                                && wa.process == acc.process
                                && wa.pos < obs.accesses[mine as usize].pos
                        }
                    };
                    if stale {
                        let mut ops = vec![mine];
                        if let Some(w) = from {
                            ops.insert(0, w);
                        }
                        ops.push(a);
                        let why = format!(
                            "{} then {{}}: the read does not show the process's own latest write",
                            obs.describe(mine)
                        );
                        return Some(violation(obs, &ops, why));
                    }
                }
            }
        }
    }
    None
}

fn monotonic_reads(obs: &Observed) -> Option<SessionViolation> {
    for accesses in &obs.by_process {
        // Per key: the last read (and what it read), and the writes left behind, each
        // with the read that saw it.
        let mut last: HashMap<u32, (AccessId, Option<AccessId>)> = HashMap::default();
        let mut behind: HashMap<u32, HashMap<AccessId, AccessId>> = HashMap::default();
        for &a in accesses {
            let acc = &obs.accesses[a as usize];
            let Kind::Read { from } = acc.kind else {
                continue;
            };
            if let Some(&(prev, prev_from)) = last.get(&acc.key) {
                if from != prev_from {
                    match from {
                        None => {
                            let why = format!(
                                "{} then {{}}: a read older than the one before",
                                obs.describe(prev)
                            );
                            return Some(violation(obs, &[prev, a], why));
                        }
                        Some(w) => {
                            if let Some(&seen) = behind.get(&acc.key).and_then(|b| b.get(&w)) {
                                let why = format!(
                                    "{}, then {}, then {{}} again: the process read a newer value and then the older one",
                                    obs.describe(seen),
                                    obs.describe(prev)
                                );
                                return Some(violation(obs, &[seen, prev, a], why));
                            }
                        }
                    }
                    if let Some(pf) = prev_from {
                        behind.entry(acc.key).or_default().insert(pf, prev);
                    }
                }
            }
            last.insert(acc.key, (a, from));
        }
    }
    None
}

/// Monotonic writes (`follows_reads == false`) or writes-follow-reads.
fn observed_writes(obs: &Observed, follows_reads: bool) -> Option<SessionViolation> {
    let width = obs.processes.len();
    let writes = obs.key_writes();
    // For writes-follow-reads: for each write, what its process had read before it,
    // per process: (count of that process's accesses covered, the read that saw it).
    let mut read_before: HashMap<AccessId, Vec<(u32, AccessId)>> = HashMap::default();
    if follows_reads {
        for accesses in &obs.by_process {
            let mut seen: Vec<(u32, AccessId)> = vec![(0, 0); width];
            for &a in accesses {
                let acc = &obs.accesses[a as usize];
                match acc.kind {
                    Kind::Write => {
                        read_before.insert(a, seen.clone());
                    }
                    Kind::Read { from: Some(w) } => {
                        let wa = &obs.accesses[w as usize];
                        if seen[wa.process as usize].0 < wa.pos + 1 {
                            seen[wa.process as usize] = (wa.pos + 1, a);
                        }
                    }
                    Kind::Read { from: None } => {}
                }
            }
        }
    }
    for accesses in &obs.by_process {
        // Per process q: how far into q's program order this session must be
        // (exclusive count), and the ops that oblige it.
        let mut floor: Vec<(u32, Vec<AccessId>)> = vec![(0, Vec::new()); width];
        for &a in accesses {
            let acc = &obs.accesses[a as usize];
            let Kind::Read { from } = acc.kind else {
                continue;
            };
            for (q, list) in writes.of(acc.key) {
                let q = *q;
                let (bound, ref why_ops) = floor[q as usize];
                if bound == 0 || q == acc.process {
                    continue;
                }
                let Some((pos2, w2)) = last_before(list, bound) else {
                    continue;
                };
                let stale = match from {
                    None => true,
                    Some(w) => {
                        let wa = &obs.accesses[w as usize];
                        wa.process == q && wa.pos < pos2
                    }
                };
                if stale {
                    let mut ops = vec![w2];
                    ops.extend(why_ops.iter().copied());
                    ops.push(a);
                    ops.dedup();
                    let words: Vec<String> = ops[..ops.len() - 1]
                        .iter()
                        .map(|&o| obs.describe(o))
                        .collect();
                    let why = format!(
                        "{}, then {{}}: the read is older than a write the session had already seen the effects of",
                        words.join(", ")
                    );
                    return Some(violation(obs, &ops, why));
                }
            }
            let Some(w) = from else { continue };
            let wa = &obs.accesses[w as usize];
            if wa.process == acc.process {
                continue;
            }
            if follows_reads {
                for (s, &(count, via)) in read_before[&w].iter().enumerate() {
                    if count > floor[s].0 && s as u32 != acc.process {
                        let seen_w = obs.accesses[via as usize].kind;
                        let mut ops = Vec::new();
                        if let Kind::Read { from: Some(sw) } = seen_w {
                            ops.push(sw);
                        }
                        ops.extend([via, w, a]);
                        floor[s] = (count, ops);
                    }
                }
            } else if wa.pos + 1 > floor[wa.process as usize].0 {
                floor[wa.process as usize] = (wa.pos + 1, vec![w, a]);
            }
        }
    }
    None
}

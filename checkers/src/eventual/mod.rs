//! The eventual-consistency checker: after the faults heal and the system quiesces,
//! do the final reads show every acknowledged update, and do replicas agree?
//!
//! **Final reads (part of the history contract).** The driver writes the nemesis event
//! `{"process":"nemesis","type":"info","f":"final-reads","value":null}` after it has
//! healed every fault and let the system quiesce, just before it performs the final
//! reads; the final reads are the `ok` reads *invoked after* the last such marker. A
//! history without the marker (e.g. from another tool) uses, per key, the `ok` reads
//! invoked after the last non-failed update of that key completed (an update still
//! open at the end of the history leaves that key with no final read). A history with
//! no final read at all is `unknown`: nothing can be decided.
//!
//! **Sets** (`add` / `read`; a read returns a list, `null` is the empty set), per key,
//! as Jepsen's set-full classifies elements:
//! - *lost*: an `ok` add whose element is missing from some final read;
//! - *unexpected*: an element some read returned that no `ok` or `info` add tried to
//!   add and that is not in the initial set (a failed add did not happen);
//! - *duplicated*: an element that appears twice in one read;
//! - *stale*: an `ok` add, not lost, that some read invoked after the add completed did
//!   not show; `ms` is how long it stayed invisible: from the add's completion to the
//!   latest completion of such a read;
//! - *never read*: added (`ok` or `info`) but in no read at all;
//! - *stable*: the other `ok` adds (visible to every read invoked after their ack).
//!
//! Invalid iff anything is lost, unexpected or duplicated; otherwise unknown if some
//! read returned something that is not a list (it cannot be accounted for); else valid.
//!
//! **Counters** (`add` of a signed integer delta / `read`), per key: every final read
//! must equal the initial value (`null` = 0) plus the sum of the `ok` deltas plus the
//! sum of some subset of the `info` deltas (failed adds count for nothing). The subset
//! sums are computed exactly with a bitset over the range [sum of negative info deltas,
//! sum of positive ones] when that range is at most 2^26 wide (and deltas × words at
//! most 4·10^8), else enumerated when there are at most 20 info deltas; only past both
//! does the check fall back to the interval itself, which can miss an anomaly but
//! never invents one (the evidence then says `"exact": false`). A non-integer delta
//! makes the verdict unknown.
//!
//! **Registers and kv** (`write` / `cas` / `read`): per key, the final reads from all
//! nodes (by `node`, else by process; a node's last final read counts) return the same
//! value, and that value was written by some op that did not fail (a write, or the new
//! value of a cas), or is the initial value when no write of that key was
//! acknowledged. Siblings (a read returning `{"siblings": [...]}`) have not converged.
//! Invalid if any key breaks this; otherwise unknown if a key with an acknowledged
//! write has no final read.
//!
//! Evidence (JSON): sets `{"final_reads", "elements": {"lost", "stale": [{"element",
//! "ms"}], "never_read", "unexpected", "duplicated", "stable", "acknowledged"},
//! "malformed_reads"}`; counters `{"final_reads", "counter": {"initial", "ok_sum",
//! "info_deltas", "lower", "upper", "exact", "bad_reads"}}`; registers `{"final_reads",
//! "keys": [{"key", "final_values": {node: value}, "problem"}], "unread_keys"}`. Sets
//! and counters over several keys nest one such object per key under
//! `"keys": {key: {"verdict", "summary", "evidence"}}`.

mod counter;
mod register;
mod set;

use crate::evidence::{Accounting, EventualEvidence, Evidence, KeyJudgement};

use crate::history::{History, Op, Outcome, F};
use crate::model::{ModelKind, ModelSpec};
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// The eventual-consistency checker as a [`Checker`].
#[derive(Clone, Debug)]
pub struct Eventual {
    /// The model: `set`, `counter`, `register`, `cas-register` or `kv`.
    pub spec: ModelSpec,
}

impl Checker for Eventual {
    fn name(&self) -> &str {
        "eventual"
    }

    fn check(&self, history: &History, budget: &Budget) -> CheckResult {
        check(history, &self.spec, budget)
    }
}

/// A checker's verdict, summary and evidence, before naming.
pub(crate) struct Judgement {
    pub verdict: Verdict,
    pub summary: String,
    pub evidence: EventualEvidence,
}

/// Checks `history` for eventual consistency under `spec`.
pub fn check(history: &History, spec: &ModelSpec, _budget: &Budget) -> CheckResult {
    let finals = final_reads(history);
    let j = if finals.is_empty() {
        Judgement {
            verdict: Verdict::Unknown,
            summary: "unknown: the history has no final reads (reads after the faults healed), so convergence cannot be judged".into(),
            evidence: EventualEvidence::default(),
        }
    } else {
        match spec.kind {
            ModelKind::Set => per_key(history, spec, &finals, set::judge),
            ModelKind::Counter => per_key(history, spec, &finals, counter::judge),
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv => {
                register::judge(history, spec, &finals)
            }
            ModelKind::Queue => Judgement {
                verdict: Verdict::Unknown,
                summary: "unknown: eventual consistency is not defined for queues".into(),
                evidence: EventualEvidence::default(),
            },
            ModelKind::UniqueIds | ModelKind::Kafka | ModelKind::Echo => Judgement {
                verdict: Verdict::Unknown,
                summary: format!(
                    "unknown: {} histories are judged by their own checker, not for convergence",
                    spec.kind.as_str()
                ),
                evidence: EventualEvidence::default(),
            },
            ModelKind::ListAppend | ModelKind::RwRegister => Judgement {
                verdict: Verdict::Unknown,
                summary: format!(
                    "unknown: {} histories are transactions; judge them with a transactional model such as serializable",
                    spec.kind.as_str()
                ),
                evidence: EventualEvidence::default(),
            },
        }
    };
    CheckResult {
        checker: "eventual".into(),
        model: spec.kind.as_str().into(),
        verdict: j.verdict,
        summary: j.summary,
        evidence: Evidence::Eventual(j.evidence).into_json(),
    }
}

/// Judges each key apart (sets and counters are per key) and combines the answers:
/// the worst verdict, the summaries of the keys that are not valid (or the one
/// summary when there is a single key), evidence per key under `"keys"`.
fn per_key(
    history: &History,
    spec: &ModelSpec,
    finals: &[&Op],
    judge: fn(&History, &ModelSpec, &[&Op]) -> Judgement,
) -> Judgement {
    let parts = crate::linearizable::partition(history);
    if parts.len() <= 1 {
        return judge(history, spec, finals);
    }
    let mut verdict = Verdict::Valid;
    let mut bad = Vec::new();
    let mut keys = std::collections::BTreeMap::new();
    let mut final_count = 0;
    for (key, ops) in parts {
        let sub = History {
            ops: ops.into_iter().cloned().collect(),
            nemesis: Vec::new(),
            event_count: 0,
            untimed: history.untimed,
        };
        let key_finals: Vec<&Op> = finals.iter().copied().filter(|o| o.key == key).collect();
        final_count += key_finals.len();
        let label = crate::history::key_label(key.as_ref());
        let j = if key_finals.is_empty() {
            Judgement {
                verdict: Verdict::Unknown,
                summary: "unknown: no final read of this key".into(),
                evidence: EventualEvidence::default(),
            }
        } else {
            judge(&sub, spec, &key_finals)
        };
        verdict = verdict.worst(j.verdict);
        if j.verdict != Verdict::Valid {
            bad.push(format!("key {label}: {}", j.summary));
        }
        keys.insert(
            label,
            KeyJudgement {
                verdict: j.verdict,
                summary: j.summary,
                evidence: j.evidence,
            },
        );
    }
    let n = keys.len();
    let summary = if bad.is_empty() {
        format!(
            "eventually consistent: all {n} keys (every acknowledged update is in the final reads)"
        )
    } else {
        let word = if verdict == Verdict::Invalid {
            "not eventually consistent"
        } else {
            "unknown"
        };
        format!("{word}: {} of {n} keys; {}", bad.len(), bad.join("; "))
    };
    Judgement {
        verdict,
        summary,
        evidence: EventualEvidence {
            final_reads: final_count,
            accounting: Accounting::PerKey { keys },
        },
    }
}

/// Whether `op` changes state (anything but a read).
fn is_update(op: &Op) -> bool {
    op.f != F::Read
}

/// The final reads (see the module docs).
pub fn final_reads(history: &History) -> Vec<&Op> {
    let marker = history
        .nemesis
        .iter()
        .rev()
        .find(|e| e.f.as_str() == crate::history::FINAL_READS)
        .map(|e| e.index);
    let ok_reads = history
        .ops
        .iter()
        .filter(|o| o.f == F::Read && o.outcome == Outcome::Ok);
    match marker {
        Some(m) => ok_reads.filter(|o| o.invoke_index > m).collect(),
        None => {
            let mut last_update: std::collections::HashMap<&Option<crate::Value>, u64> =
                Default::default();
            for o in history
                .ops
                .iter()
                .filter(|o| is_update(o) && o.outcome != Outcome::Fail)
            {
                let end = o.complete_index.unwrap_or(u64::MAX);
                let e = last_update.entry(&o.key).or_insert(0);
                *e = (*e).max(end);
            }
            ok_reads
                .filter(|o| o.invoke_index > last_update.get(&o.key).copied().unwrap_or(0))
                .collect()
        }
    }
}

/// Seconds, for summaries.
pub(crate) fn secs(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// A list of values for a summary: the first few, then "and N more".
pub(crate) fn some<T: std::fmt::Display>(items: &[T]) -> String {
    let mut s: Vec<String> = items.iter().take(8).map(|v| v.to_string()).collect();
    if items.len() > 8 {
        s.push(format!("and {} more", items.len() - 8));
    }
    s.join(", ")
}

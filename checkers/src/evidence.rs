//! Typed evidence: what every checker says about a history beyond its verdict, as
//! plain data with serde, so a report, a CI job or a test reads fields by name and
//! type instead of guessing at JSON shapes.
//!
//! [`Evidence`] is tagged by `kind` (`linearizable`, `sequential`, `eventual`,
//! `causal`, `session`, `txn`, `none`); each variant's fields sit beside the tag, so
//! `results.json` reads `{"kind": "linearizable", "keys": [...], "decided": 3, ...}`.
//! A checker builds its variant and stores it in [`CheckResult::evidence`] with
//! [`Evidence::into_json`]; a reader gets it back with [`CheckResult::typed_evidence`]
//! (anything unreadable, e.g. from another tool, becomes [`Evidence::None`]).
//! The shapes are documented field by field here and in `docs/formats.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::causal::CausalEvidence;
use crate::linearizable::explain::Explanation;
use crate::sequential::saturate::SaturationCycle;
use crate::session::SessionEvidence;
use crate::txn::TxnEvidence;
use crate::verdict::{CheckResult, Verdict};

/// What a checker found, per checker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    /// Nothing beyond the summary (e.g. a history with no `ok` op).
    None,
    /// Linearizability, per key.
    Linearizable(LinearizableEvidence),
    /// Sequential consistency, per independent component.
    Sequential(SequentialEvidence),
    /// Eventual consistency: the accounting of the final reads.
    Eventual(EventualEvidence),
    /// Causal consistency (CC, CM, CCv) and PRAM: the bad pattern found.
    Causal(Briefed<CausalEvidence>),
    /// A session guarantee: the counterexample.
    Session(Briefed<SessionEvidence>),
    /// A transactional model: anomalies with their cycles.
    Txn(Box<TxnEvidence>),
}

impl Evidence {
    /// The JSON stored in a [`CheckResult`].
    pub fn into_json(self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Reads evidence back; whatever does not fit a shape is [`Evidence::None`].
    pub fn from_json(v: &serde_json::Value) -> Evidence {
        Evidence::deserialize(v).unwrap_or(Evidence::None)
    }

    /// The failing windows (linearizable keys, sequential components), first anomaly
    /// first (by the culprit's invoke time, then index).
    pub fn windows(&self) -> Vec<&Window> {
        let mut w: Vec<&Window> = match self {
            Evidence::Linearizable(l) => l.keys.iter().filter_map(|k| k.window.as_ref()).collect(),
            Evidence::Sequential(s) => s
                .components
                .iter()
                .filter_map(|c| c.window.as_ref())
                .collect(),
            _ => Vec::new(),
        };
        w.sort_by_key(|w| (w.culprit_time_ns.unwrap_or(u64::MAX), w.culprit));
        w
    }

    /// (affected, total, unit): how many keys or groups of keys broke, of how many.
    pub fn affected(&self) -> Option<(u64, u64, &'static str)> {
        match self {
            Evidence::Linearizable(l) => Some((l.invalid_keys, l.total_keys, "keys")),
            Evidence::Sequential(s) => {
                let bad = s
                    .components
                    .iter()
                    .filter(|c| c.verdict == Verdict::Invalid)
                    .count() as u64;
                let unit = if s.total_components == 1 {
                    "group of keys"
                } else {
                    "groups of keys"
                };
                Some((bad, s.total_components, unit))
            }
            Evidence::Eventual(e) => match &e.accounting {
                Accounting::PerKey { keys } => {
                    let bad = keys
                        .values()
                        .filter(|k| k.verdict == Verdict::Invalid)
                        .count() as u64;
                    Some((bad, keys.len() as u64, "keys"))
                }
                Accounting::Registers { keys, .. } => {
                    let bad = keys.iter().filter(|k| k.problem.is_some()).count() as u64;
                    Some((bad, keys.len() as u64, "keys"))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// How many keys or groups were decided, when the checker counts them.
    pub fn decided(&self) -> Option<u64> {
        match self {
            Evidence::Linearizable(l) => Some(l.decided),
            Evidence::Sequential(s) => Some(s.decided),
            _ => None,
        }
    }

    /// A few words for the one-line answer of `--consistency all`, when the evidence
    /// has them (a bad pattern's name, a cycle's length).
    pub fn brief(&self) -> Option<String> {
        match self {
            Evidence::Causal(b) => Some(b.brief.clone()),
            Evidence::Session(b) => Some(b.brief.clone()),
            Evidence::Sequential(s) => s
                .components
                .iter()
                .find_map(|c| c.window.as_ref()?.saturation.as_ref())
                .and_then(|p| p.length)
                .map(|n| format!("cycle of {n} ops")),
            _ => None,
        }
    }
}

impl CheckResult {
    /// This result's evidence, typed (see [`Evidence::from_json`]).
    pub fn typed_evidence(&self) -> Evidence {
        Evidence::from_json(&self.evidence)
    }
}

/// A checker's own evidence with a few words for the one-line answer beside it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Briefed<T> {
    /// A few words: a bad pattern's name, the process whose session broke.
    pub brief: String,
    /// The evidence.
    #[serde(flatten)]
    pub evidence: T,
}

/// Linearizability evidence: every key that is not valid (and a few that are).
/// Read leniently: a missing field is empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinearizableEvidence {
    /// The keys listed: every invalid or undecided key, and up to
    /// `valid_keys_listed` valid ones.
    pub keys: Vec<KeyEvidence>,
    /// Keys decided (valid or invalid).
    pub decided: u64,
    /// The keys the budget ran out for (as JSON values; `null`: the unkeyed register).
    pub undecided: Vec<Option<serde_json::Value>>,
    /// Keys not linearizable.
    pub invalid_keys: u64,
    /// Keys in the history.
    pub total_keys: u64,
    /// How many valid keys are listed at most.
    pub valid_keys_listed: u64,
}

fn unknown() -> Verdict {
    Verdict::Unknown
}

/// One key's verdict and, when it is not linearizable, its failing window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyEvidence {
    /// The key (`null`: the unkeyed register).
    pub key: Option<serde_json::Value>,
    /// Its verdict (`unknown` when missing).
    #[serde(default = "unknown")]
    pub verdict: Verdict,
    /// The failing window, or for an undecided key only an explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// A failing window: a set of ops with no legal order, the longest legal order the
/// search found, the op it could not place, and why — shared by the linearizable and
/// sequential checkers (fields only one of them fills are optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// The window's ops (invoke indices), ascending.
    #[serde(default)]
    pub ops: Vec<u64>,
    /// The ops that may or may not have taken effect.
    #[serde(default)]
    pub optional: Vec<u64>,
    /// Earlier ops shown for context (whose values the window starts from).
    #[serde(default)]
    pub context: Vec<u64>,
    /// The invoke index where a standalone window begins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<u64>,
    /// The longest legal order found, in order (invoke indices).
    #[serde(default)]
    pub prefix: Vec<u64>,
    /// The same order with the state after each op (its last [`MAX_STEPS`] ops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linearization: Option<Linearization>,
    /// The op that cannot be placed after the prefix.
    #[serde(default)]
    pub culprit: Option<u64>,
    /// The culprit's invoke time, ns.
    #[serde(default)]
    pub culprit_time_ns: Option<u64>,
    /// Why, in words.
    #[serde(default)]
    pub explanation: String,
    /// The explanation as claims about the history (linearizable only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Explanation>,
    /// Whether the window was verified to have no legal order.
    #[serde(default)]
    pub verified: bool,
    /// Whether it was verified from every state the key may have held when it begins.
    #[serde(default)]
    pub standalone: bool,
    /// What it was checked from, in words.
    #[serde(default)]
    pub checked_from: String,
    /// The key, as a label (linearizable only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// How many ops the component has (sequential only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_ops: Option<u64>,
    /// Saturation's proof (sequential only): a cycle of forced orders, or a read of
    /// a value nobody wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saturation: Option<Saturation>,
}

/// Most steps of a linearization kept in evidence (the last ones before the culprit).
pub const MAX_STEPS: usize = 2000;

/// The longest legal order with the state after each op, for stepping through.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Linearization {
    /// How many earlier ops of the order are left out (only the last
    /// [`MAX_STEPS`] are kept).
    pub skipped: u64,
    /// The state before the first step kept.
    pub start: String,
    /// Each step: the op placed and the state after it.
    pub steps: Vec<Step>,
    /// The state the culprit could not follow.
    pub end: String,
}

/// One op placed in a linearization, and the state it leaves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The op's invoke index.
    pub op: u64,
    /// The state after it, in the model's words (`3`, `{"a":1}`).
    pub state: String,
}

/// Saturation's proof of a component with no sequential order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Saturation {
    /// The ops of the cycle (history op ids), in order.
    #[serde(default)]
    pub ops: Vec<usize>,
    /// How many ops the cycle has (`None`: a read of a value nobody wrote).
    #[serde(default)]
    pub length: Option<usize>,
    /// Each step of the cycle and why it is forced.
    #[serde(default)]
    pub steps: Vec<crate::causal::order::Step>,
    /// One sentence.
    pub explanation: String,
}

impl From<SaturationCycle> for Saturation {
    fn from(c: SaturationCycle) -> Saturation {
        Saturation {
            ops: c.ops,
            length: Some(c.length),
            steps: c.steps,
            explanation: c.explanation,
        }
    }
}

/// Sequential-consistency evidence: the components that are not valid. Read
/// leniently: a missing field is empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SequentialEvidence {
    /// Every component that is not valid.
    pub components: Vec<ComponentEvidence>,
    /// Components decided.
    pub decided: u64,
    /// The undecided components, by their keys' labels.
    pub undecided: Vec<String>,
    /// Components in the history.
    pub total_components: u64,
}

/// One independent group of processes and keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComponentEvidence {
    /// Its keys.
    pub keys: Vec<Option<serde_json::Value>>,
    /// Its processes.
    pub processes: Vec<u64>,
    /// Its verdict.
    pub verdict: Verdict,
    /// The failing window, when invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// Eventual-consistency evidence.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventualEvidence {
    /// How many final reads were judged.
    pub final_reads: usize,
    /// The accounting, by data type.
    #[serde(flatten)]
    pub accounting: Accounting,
}

/// What the final reads showed, by data type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "kebab-case")]
pub enum Accounting {
    /// Nothing to account (no final reads, or a type without eventual consistency).
    #[default]
    Nothing,
    /// A set: every element's fate.
    Set {
        /// The elements.
        elements: SetAccounting,
        /// Final reads whose value is not a set.
        malformed_reads: usize,
    },
    /// A counter: the totals that are possible and the reads that are not.
    Counter {
        /// The accounting.
        counter: CounterAccounting,
    },
    /// Registers (and kv): each key's final values.
    Registers {
        /// Every key read at the end.
        keys: Vec<RegisterConvergence>,
        /// Keys written but never read at the end.
        unread_keys: Vec<String>,
    },
    /// Sets or counters with several keys: each judged apart.
    PerKey {
        /// By key label.
        keys: BTreeMap<String, KeyJudgement>,
    },
}

/// The fate of a set's elements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetAccounting {
    /// Acknowledged adds missing from the final reads.
    pub lost: Vec<serde_json::Value>,
    /// Elements that showed up late, with how long after their add completed.
    pub stale: Vec<StaleElement>,
    /// Indeterminate adds never read.
    pub never_read: Vec<serde_json::Value>,
    /// Elements read that nobody added.
    pub unexpected: Vec<serde_json::Value>,
    /// Elements read twice within one read.
    pub duplicated: Vec<serde_json::Value>,
    /// Elements present in every read since their add completed.
    pub stable: usize,
    /// Acknowledged adds.
    pub acknowledged: usize,
}

/// An element that some read missed after its add completed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaleElement {
    /// The element.
    pub element: serde_json::Value,
    /// How long after the add completed the last read that missed it completed, ms.
    pub ms: f64,
}

/// A counter's possible totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CounterAccounting {
    /// The initial value.
    pub initial: i64,
    /// Initial value plus every acknowledged add.
    pub ok_sum: i64,
    /// The deltas of indeterminate adds.
    pub info_deltas: Vec<i64>,
    /// The lowest possible total.
    pub lower: i64,
    /// The highest possible total.
    pub upper: i64,
    /// Whether every total in between was checked exactly (subset sums).
    pub exact: bool,
    /// Final reads that are not possible totals.
    pub bad_reads: Vec<BadRead>,
}

/// A final read of a counter that is not a possible total.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadRead {
    /// The value read.
    pub value: serde_json::Value,
    /// Who read it (node or process).
    pub from: String,
}

/// A register key's final values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegisterConvergence {
    /// The key.
    pub key: Option<serde_json::Value>,
    /// The final value each reader (node or process) saw.
    pub final_values: BTreeMap<String, serde_json::Value>,
    /// What is wrong, if anything.
    pub problem: Option<String>,
}

/// One key of a set or counter judged apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyJudgement {
    /// Its verdict.
    pub verdict: Verdict,
    /// Its summary.
    pub summary: String,
    /// Its evidence.
    pub evidence: EventualEvidence,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linearizable_evidence_reads_back_as_written() {
        let e = Evidence::Linearizable(LinearizableEvidence {
            keys: vec![KeyEvidence {
                key: Some("k".into()),
                verdict: Verdict::Invalid,
                window: Some(Window {
                    ops: vec![1, 2],
                    culprit: Some(2),
                    culprit_time_ns: Some(5),
                    linearization: Some(Linearization {
                        skipped: 0,
                        start: "null".into(),
                        steps: vec![Step {
                            op: 1,
                            state: "3".into(),
                        }],
                        end: "3".into(),
                    }),
                    ..Window::default()
                }),
            }],
            invalid_keys: 1,
            total_keys: 1,
            ..LinearizableEvidence::default()
        });
        let json = e.clone().into_json();
        assert_eq!(json["kind"], "linearizable");
        assert_eq!(json["keys"][0]["window"]["culprit"], 2);
        assert_eq!(Evidence::from_json(&json), e);
        assert_eq!(e.affected(), Some((1, 1, "keys")));
    }

    #[test]
    fn eventual_per_key_evidence_nests_and_reads_back() {
        let inner = EventualEvidence {
            final_reads: 1,
            accounting: Accounting::Set {
                elements: SetAccounting {
                    lost: vec![7.into()],
                    ..SetAccounting::default()
                },
                malformed_reads: 0,
            },
        };
        let e = Evidence::Eventual(EventualEvidence {
            final_reads: 1,
            accounting: Accounting::PerKey {
                keys: [(
                    "a".to_string(),
                    KeyJudgement {
                        verdict: Verdict::Invalid,
                        summary: "lost".into(),
                        evidence: inner,
                    },
                )]
                .into(),
            },
        });
        let json = e.clone().into_json();
        assert_eq!(json["keys"]["a"]["evidence"]["elements"]["lost"][0], 7);
        assert_eq!(Evidence::from_json(&json), e);
        assert_eq!(e.affected(), Some((1, 1, "keys")));
    }

    #[test]
    fn evidence_of_another_shape_reads_as_none() {
        let odd = serde_json::json!({"keys": [{"window": {"ops": [999]}}]});
        assert_eq!(Evidence::from_json(&odd), Evidence::None);
        assert_eq!(
            Evidence::from_json(&serde_json::Value::Null),
            Evidence::None
        );
    }
}

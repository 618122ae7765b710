//! The typed evidence of a transactional check, and the words that go with it.
//!
//! Everything a report needs to draw a cycle is here: for each anomaly its txns
//! (name, process, outcome, times, micro-ops as written in the history) and, for a
//! cycle, its steps (from, to, edge type, key and value, a sentence).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::anomaly::Anomaly;
use super::cycle::{Cycle, Searched};
use super::finding::{name, EdgeWhy, Finding};
use super::graph::label;
use super::parse::Txns;
use crate::history::{History, Outcome};

/// Everything the checker says about a history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnEvidence {
    /// `list-append` or `rw-register`.
    pub data_model: String,
    /// The model the verdict is about.
    pub consistency: String,
    /// How many txns: committed, indeterminate, failed.
    pub txns: TxnCounts,
    /// Nodes and edges of the dependency graph.
    pub graph: GraphSize,
    /// Anomalies found, by name: how many (for cycles, how many strongly connected
    /// components hold one).
    pub anomaly_counts: BTreeMap<String, usize>,
    /// The anomalies found that the requested model forbids.
    pub forbidden_found: Vec<String>,
    /// Examples of every anomaly found.
    pub anomalies: Vec<AnomalyEvidence>,
    /// The weakest models ruled out (Elle's `:not`).
    pub not: Vec<String>,
    /// The other models ruled out, all stronger (Elle's `:also-not`).
    pub also_not: Vec<String>,
    /// The strongest models no anomaly found rules out.
    pub strongest_consistent: Vec<String>,
    /// How each cycle class's search ended (every search is exhaustive).
    pub searched: Vec<SearchedClass>,
    /// Ops that are not `txn` ops and were ignored.
    pub ignored_ops: usize,
    /// Models no anomaly rules out but that cannot be claimed either, and why.
    pub undecided: Vec<Undecided>,
}

/// A model left undecided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undecided {
    /// The model.
    pub consistency: String,
    /// Why it cannot be decided.
    pub why: String,
}

/// Txn counts by outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TxnCounts {
    /// `ok`.
    pub ok: usize,
    /// `info` (indeterminate).
    pub info: usize,
    /// `fail`.
    pub fail: usize,
}

/// The size of the dependency graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct GraphSize {
    /// Txns in the graph.
    pub nodes: usize,
    /// Distinct edges.
    pub edges: usize,
}

/// How one class's cycle search ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchedClass {
    /// The class.
    pub anomaly: String,
    /// found / absent / not-needed.
    pub result: Searched,
}

/// One anomaly, with what proves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyEvidence {
    /// Its name (Elle's).
    pub anomaly: String,
    /// What the name means.
    pub meaning: String,
    /// What happened, in plain words.
    pub explanation: String,
    /// The txns involved.
    pub txns: Vec<TxnView>,
    /// For a cycle, its steps in order (the last leads back to the first txn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Vec<CycleStep>>,
}

/// A txn as evidence shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxnView {
    /// `T<op>`.
    pub name: String,
    /// The op's position in the history.
    pub op: usize,
    /// Its process.
    pub process: u64,
    /// ok / info / fail.
    pub outcome: Outcome,
    /// Invoke time, ns.
    pub invoke_time: u64,
    /// Completion time, ns.
    pub complete_time: Option<u64>,
    /// Its micro-ops as the history has them (the completion's for `ok`).
    pub ops: serde_json::Value,
}

/// One edge of a cycle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CycleStep {
    /// Source txn name.
    pub from: String,
    /// Target txn name.
    pub to: String,
    /// ww / wr / rw / process / realtime.
    pub edge: String,
    /// The key the edge is about, if a data edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The value the edge is about, if a data edge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The sentence.
    pub why: String,
}

/// The view of txn `t`.
pub fn txn_view(history: &History, txns: &Txns, t: u32) -> TxnView {
    let tx = &txns.txns[t as usize];
    let op = &history.ops[tx.op];
    TxnView {
        name: name(txns, t),
        op: tx.op,
        process: tx.process,
        outcome: tx.outcome,
        invoke_time: tx.invoke_time,
        complete_time: tx.complete_time,
        ops: if tx.outcome == Outcome::Ok {
            op.value.to_json()
        } else {
            op.invoke_value.to_json()
        },
    }
}

/// The evidence of a non-cycle finding.
pub fn finding_evidence(history: &History, txns: &Txns, f: &Finding) -> AnomalyEvidence {
    AnomalyEvidence {
        anomaly: f.anomaly.as_str().to_string(),
        meaning: f.anomaly.meaning().to_string(),
        explanation: f.explanation.clone(),
        txns: f.txns.iter().map(|&t| txn_view(history, txns, t)).collect(),
        cycle: None,
    }
}

/// The evidence of a cycle, its steps explained by `why`.
pub fn cycle_evidence(
    history: &History,
    txns: &Txns,
    why: &dyn EdgeWhy,
    c: &Cycle,
) -> AnomalyEvidence {
    let steps: Vec<CycleStep> = c
        .steps
        .iter()
        .map(|s| {
            let (sentence, key, value) = why.why(txns, s.from, s.to, s.label);
            CycleStep {
                from: name(txns, s.from),
                to: name(txns, s.to),
                edge: label::names(s.label).to_string(),
                key,
                value,
                why: sentence,
            }
        })
        .collect();
    let mut explanation = String::new();
    for (i, s) in steps.iter().enumerate() {
        if i > 0 {
            explanation.push_str("; ");
        }
        explanation.push_str(&s.why);
    }
    explanation.push_str(&format!(
        ". That is a cycle: {} would have to precede itself.",
        steps.first().map_or(String::new(), |s| s.from.clone())
    ));
    AnomalyEvidence {
        anomaly: c.anomaly.as_str().to_string(),
        meaning: c.anomaly.meaning().to_string(),
        explanation,
        txns: {
            let mut seen = Vec::new();
            c.steps
                .iter()
                .filter(|s| {
                    let new = !seen.contains(&s.from);
                    seen.push(s.from);
                    new
                })
                .map(|s| txn_view(history, txns, s.from))
                .collect()
        },
        cycle: Some(steps),
    }
}

/// Names of anomalies, for evidence.
pub fn names(a: &[Anomaly]) -> Vec<String> {
    a.iter().map(|a| a.as_str().to_string()).collect()
}

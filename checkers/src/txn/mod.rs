//! Transactional isolation: an Elle-class checker for list-append and rw-register
//! histories, judging any model of the transactional lattice (read uncommitted up to
//! strict serializability and the strong-session variants).
//!
//! The pipeline: [`parse`] turns `txn` ops into micro-ops over interned keys and
//! values; [`append`] (list-append) or [`register`] (rw-register) infers version
//! orders, the ww / wr / rw dependencies and the anomalies that need no cycle
//! (internal, aborted and intermediate reads, …); [`order`] adds process-order and
//! real-time edges; [`graph`] holds the graph; [`cycle`] searches it exhaustively
//! per anomaly class; [`lattice`] says which models each anomaly rules out;
//! [`evidence`] writes it all up. [`Analysis`] is one history analysed once;
//! [`TxnChecker`] is the [`Checker`] the factory hands out for every transactional
//! [`Consistency`].

pub mod anomaly;
pub mod append;
pub mod cycle;
pub mod evidence;
pub mod finding;
pub mod graph;
pub mod lattice;
pub mod order;
pub mod parse;
pub mod register;

use std::collections::BTreeMap;

use crate::consistency::Consistency;
use crate::history::{History, Outcome};
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

pub use anomaly::Anomaly;
pub use evidence::TxnEvidence;
pub use parse::DataModel;
pub use register::RegisterOrders;

use cycle::CycleReport;
use finding::{EdgeWhy, Finding};
use parse::Txns;

/// How many example cycles per class the evidence keeps.
const CYCLES_PER_CLASS: usize = 8;
/// How many examples per non-cycle anomaly the evidence keeps.
const FINDINGS_PER_ANOMALY: usize = 8;

/// One history, analysed once: every anomaly found, whatever model is asked about.
pub struct Analysis {
    txns: Txns,
    findings: Vec<Finding>,
    cycles: CycleReport,
    why: Box<dyn EdgeWhy>,
    nodes: usize,
    edges: usize,
}

/// Why a history could not be analysed (bad input).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// A txn's value is not understood.
    #[error(transparent)]
    Parse(#[from] parse::ParseError),
    /// Written values are not unique, so reads cannot be traced to writes.
    #[error(transparent)]
    NotUnique(#[from] append::NotUnique),
}

impl Analysis {
    /// Analyses `history` as `model` histories (`orders`: which extra version-order
    /// sources rw-register inference may use).
    pub fn new(
        history: &History,
        model: DataModel,
        orders: RegisterOrders,
    ) -> Result<Analysis, AnalysisError> {
        let txns = parse::parse(history, model)?;
        let (inferred, why): (finding::Inferred, Box<dyn EdgeWhy>) = match model {
            DataModel::ListAppend => {
                let (i, la) = append::infer(&txns)?;
                (i, Box::new(la))
            }
            DataModel::RwRegister => {
                let (i, rr) = register::infer(&txns, orders)?;
                (i, Box::new(rr))
            }
        };
        let finding::Inferred {
            findings,
            in_graph,
            mut edges,
        } = inferred;
        order::process_edges(&txns.txns, &in_graph, &mut edges);
        order::realtime_edges(&txns.txns, &in_graph, &mut edges);
        let graph = edges.build(txns.txns.len());
        let cycles = cycle::search(&graph, CYCLES_PER_CLASS);
        Ok(Analysis {
            nodes: in_graph.iter().filter(|&&b| b).count(),
            edges: graph.edges(),
            txns,
            findings,
            cycles,
            why,
        })
    }

    /// Every anomaly found, each once, most severe first.
    pub fn found(&self) -> Vec<Anomaly> {
        Anomaly::EVERY
            .into_iter()
            .filter(|a| {
                self.findings.iter().any(|f| f.anomaly == *a)
                    || self.cycles.counts.iter().any(|(c, _)| c == a)
            })
            .collect()
    }

    /// Counts by anomaly name.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.anomaly.as_str().to_string()).or_insert(0) += 1;
        }
        for (a, n) in &self.cycles.counts {
            *counts.entry(a.as_str().to_string()).or_insert(0) += n;
        }
        counts
    }

    /// The typed evidence for a verdict on `consistency`.
    pub fn evidence(
        &self,
        history: &History,
        consistency: Consistency,
        model: DataModel,
    ) -> TxnEvidence {
        let found = self.found();
        let b = lattice::boundary(&found);
        let forbidden: Vec<Anomaly> = found
            .iter()
            .copied()
            .filter(|&a| lattice::forbids(consistency, a))
            .collect();
        let mut anomalies = Vec::new();
        for a in &found {
            for f in self
                .findings
                .iter()
                .filter(|f| f.anomaly == *a)
                .take(FINDINGS_PER_ANOMALY)
            {
                anomalies.push(evidence::finding_evidence(history, &self.txns, f));
            }
            for c in self.cycles.cycles.iter().filter(|c| c.anomaly == *a) {
                anomalies.push(evidence::cycle_evidence(history, &self.txns, &*self.why, c));
            }
        }
        let mut counts = evidence::TxnCounts::default();
        for t in &self.txns.txns {
            match t.outcome {
                Outcome::Ok => counts.ok += 1,
                Outcome::Info => counts.info += 1,
                Outcome::Fail => counts.fail += 1,
            }
        }
        let strs = |v: &[Consistency]| v.iter().map(|c| c.as_str().to_string()).collect();
        TxnEvidence {
            data_model: model_name(model).to_string(),
            consistency: consistency.as_str().to_string(),
            txns: counts,
            graph: evidence::GraphSize {
                nodes: self.nodes,
                edges: self.edges,
            },
            anomaly_counts: self.counts(),
            forbidden_found: evidence::names(&forbidden),
            anomalies,
            not: strs(&b.not),
            also_not: strs(&b.also_not),
            strongest_consistent: strs(&b.strongest_consistent),
            searched: self
                .cycles
                .searched
                .iter()
                .map(|(a, r)| evidence::SearchedClass {
                    anomaly: a.as_str().to_string(),
                    result: *r,
                })
                .collect(),
            ignored_ops: self.txns.ignored_ops,
        }
    }

    /// The verdict on `consistency`: invalid when an anomaly it forbids was found.
    pub fn verdict(&self, consistency: Consistency) -> Verdict {
        if self.txns.txns.iter().all(|t| t.outcome != Outcome::Ok) {
            return Verdict::Unknown;
        }
        if self
            .found()
            .iter()
            .any(|&a| lattice::forbids(consistency, a))
        {
            Verdict::Invalid
        } else {
            Verdict::Valid
        }
    }

    /// The check result for `consistency`.
    pub fn result(
        &self,
        history: &History,
        consistency: Consistency,
        model: DataModel,
    ) -> CheckResult {
        let verdict = self.verdict(consistency);
        let ev = self.evidence(history, consistency, model);
        let c = consistency.as_str();
        let summary = match verdict {
            Verdict::Unknown => format!(
                "not decided: none of the {} txns committed, so nothing constrains the history",
                self.txns.txns.len()
            ),
            Verdict::Invalid => {
                let counts: Vec<String> = ev
                    .forbidden_found
                    .iter()
                    .map(|a| format!("{a} ({})", ev.anomaly_counts.get(a).copied().unwrap_or(0)))
                    .collect();
                format!(
                    "not {c}: found {} among {} txns; the weakest models this rules out: {}; the strongest still consistent: {}",
                    counts.join(", "),
                    self.txns.txns.len(),
                    list_or_none(&ev.not),
                    list_or_none(&ev.strongest_consistent)
                )
            }
            Verdict::Valid => {
                let allowed: Vec<&str> = ev.anomaly_counts.keys().map(|s| s.as_str()).collect();
                let tail = if allowed.is_empty() {
                    "no anomaly of any kind".to_string()
                } else {
                    format!("only anomalies {c} allows: {}", allowed.join(", "))
                };
                format!(
                    "{c}: {} txns, {tail}; every cycle class searched in full; the strongest models consistent: {}",
                    self.txns.txns.len(),
                    list_or_none(&ev.strongest_consistent)
                )
            }
        };
        result(consistency, model, verdict, summary, ev)
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// The txn data model of a model kind, if it is a transactional one.
pub fn data_model(kind: crate::model::ModelKind) -> Option<DataModel> {
    match kind {
        crate::model::ModelKind::ListAppend => Some(DataModel::ListAppend),
        crate::model::ModelKind::RwRegister => Some(DataModel::RwRegister),
        _ => None,
    }
}

/// The data model's name as results write it.
pub fn model_name(model: DataModel) -> &'static str {
    match model {
        DataModel::ListAppend => "list-append",
        DataModel::RwRegister => "rw-register",
    }
}

/// The one place a [`CheckResult`] is built from typed evidence.
fn result(
    consistency: Consistency,
    model: DataModel,
    verdict: Verdict,
    summary: String,
    evidence: TxnEvidence,
) -> CheckResult {
    CheckResult {
        checker: consistency.as_str().to_string(),
        model: model_name(model).to_string(),
        verdict,
        summary,
        evidence: serde_json::to_value(evidence).unwrap_or(serde_json::Value::Null),
    }
}

/// The transactional checker: decides one model of the lattice for list-append or
/// rw-register histories.
#[derive(Clone, Copy, Debug)]
pub struct TxnChecker {
    /// The model to decide.
    pub consistency: Consistency,
    /// The histories' data model.
    pub model: DataModel,
    /// Extra version-order sources for rw-register (ignored for list-append).
    pub orders: RegisterOrders,
}

impl Checker for TxnChecker {
    fn name(&self) -> &str {
        self.consistency.as_str()
    }

    fn check(&self, history: &History, _budget: &Budget) -> CheckResult {
        match Analysis::new(history, self.model, self.orders) {
            Ok(a) => a.result(history, self.consistency, self.model),
            Err(e) => CheckResult {
                checker: self.consistency.as_str().to_string(),
                model: model_name(self.model).to_string(),
                verdict: Verdict::Unknown,
                summary: format!(
                    "not decided: the history's txns cannot be read as {}: {e}",
                    model_name(self.model)
                ),
                evidence: serde_json::Value::Null,
            },
        }
    }
}

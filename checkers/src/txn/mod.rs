//! Transactional isolation: an Elle-class checker for list-append and rw-register
//! histories, judging any model of the transactional lattice (read uncommitted up to
//! strict serializability and the strong-session variants).
//!
//! The pipeline: [`parse`] turns `txn` ops into micro-ops over interned keys and
//! values; [`append`] (list-append) or [`register`] (rw-register) infers version
//! orders, the ww / wr / rw dependencies and the anomalies that need no cycle
//! (internal, aborted and intermediate reads, …), which `append_words` and
//! [`finding`] put into words; [`order`] adds process-order and
//! real-time edges; [`graph`] holds the graph; [`cycle`] searches it exhaustively
//! per anomaly class; [`lattice`] says which models each anomaly rules out;
//! [`evidence`] writes it all up. [`Analysis`] is one history analysed once;
//! [`TxnChecker`] is the [`Checker`] the factory hands out for every transactional
//! [`Consistency`].

pub mod anomaly;
pub mod append;
#[cfg(test)]
mod append_reference;
mod append_tables;
mod append_words;
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
    /// Models whose verdict the unknown order of some writes leaves undecided
    /// (when nothing else rules them out), with why.
    undecided: Vec<(Consistency, String)>,
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
            unordered,
        } = inferred;
        order::process_edges(&txns.txns, &in_graph, &mut edges);
        order::realtime_edges(&txns.txns, &in_graph, &mut edges);
        let graph = edges.build(txns.txns.len());
        let cycles = cycle::search(&graph, CYCLES_PER_CLASS);
        let undecided = undecided(&txns, &graph, model, &unordered);
        Ok(Analysis {
            undecided,
            nodes: in_graph.iter().filter(|&&b| b).count(),
            edges: graph.edges(),
            txns,
            findings,
            cycles,
            why,
        })
    }

    /// Whether `consistency` is ruled out by an anomaly found.
    pub fn ruled_out(&self, consistency: Consistency) -> bool {
        self.found()
            .iter()
            .any(|&a| lattice::forbids(consistency, a))
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
        let mut b = lattice::boundary(&found);
        let undecided: Vec<(Consistency, String)> = self
            .undecided
            .iter()
            .filter(|(c, _)| !self.ruled_out(*c))
            .cloned()
            .collect();
        if !undecided.is_empty() {
            // The strongest models known to hold: undecided ones do not count.
            let holds: Vec<Consistency> = lattice::MODELS
                .iter()
                .copied()
                .filter(|&m| !self.ruled_out(m) && !undecided.iter().any(|(c, _)| *c == m))
                .collect();
            b.strongest_consistent = holds
                .iter()
                .copied()
                .filter(|&m| !holds.iter().any(|&s| s != m && lattice::implies(s, m)))
                .collect();
        }
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
            undecided: undecided
                .iter()
                .map(|(c, why)| evidence::Undecided {
                    consistency: c.as_str().to_string(),
                    why: why.clone(),
                })
                .collect(),
        }
    }

    /// The verdict on `consistency`: invalid when an anomaly it forbids was found.
    pub fn verdict(&self, consistency: Consistency) -> Verdict {
        if self.txns.txns.iter().all(|t| t.outcome != Outcome::Ok) {
            return Verdict::Unknown;
        }
        if self.ruled_out(consistency) {
            Verdict::Invalid
        } else if self.undecided.iter().any(|(c, _)| *c == consistency) {
            Verdict::Unknown
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
            Verdict::Unknown => match ev.undecided.iter().find(|u| u.consistency == c) {
                Some(u) => format!(
                    "not decided: no anomaly {c} forbids was found, but {}",
                    u.why
                ),
                None => format!(
                    "not decided: none of the {} txns committed, so nothing constrains the history",
                    self.txns.txns.len()
                ),
            },
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

/// Which models the unknown order of writes leaves undecided. For list-append the
/// only unknown order is among committed appends nobody read, all after every
/// observed element; ordering them along a topological order of the graph's
/// strongly connected components adds no cycle, so only appenders of one key
/// inside one nontrivial component matter, and only to the models that forbid
/// some but not all cycles there (consistent view and snapshot isolation over
/// data edges; strong-session snapshot isolation also over process edges): every
/// model that forbids every cycle of those edges is already ruled out by the
/// component itself. For rw-register, an unknown order also hides rw edges, so
/// any key whose writes are not in one known chain leaves every model undecided.
fn undecided(
    txns: &Txns,
    graph: &graph::Graph,
    model: DataModel,
    unordered: &[Vec<u32>],
) -> Vec<(Consistency, String)> {
    if unordered.is_empty() {
        return Vec::new();
    }
    if model == DataModel::RwRegister {
        let why = format!(
            "the order of the writes to {} key(s) is unknown (nothing orders them but the values read), so a cycle could be hiding",
            unordered.len()
        );
        return lattice::MODELS.iter().map(|&c| (c, why.clone())).collect();
    }
    let in_one_component = |mask: u8| -> Option<String> {
        let (comp, sizes) = cycle::sccs(graph, mask);
        for group in unordered {
            let mut seen: rustc_hash::FxHashMap<u32, u32> = rustc_hash::FxHashMap::default();
            for &t in group {
                let c = comp[t as usize];
                if sizes[c as usize] < 2 {
                    continue;
                }
                if let Some(&other) = seen.get(&c) {
                    return Some(format!(
                        "{} and {} made appends to one key that nobody read, and they lie on a common cycle, so their unknown order decides the anomaly class",
                        finding::name(txns, other),
                        finding::name(txns, t)
                    ));
                }
                seen.insert(c, t);
            }
        }
        None
    };
    let mut out = Vec::new();
    if let Some(why) = in_one_component(graph::label::DATA) {
        for c in [
            Consistency::ConsistentView,
            Consistency::SnapshotIsolation,
            Consistency::StrongSessionSnapshotIsolation,
        ] {
            out.push((c, why.clone()));
        }
    } else if let Some(why) = in_one_component(graph::label::DATA | graph::label::PROCESS) {
        out.push((Consistency::StrongSessionSnapshotIsolation, why));
    }
    out
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
        evidence: crate::evidence::Evidence::Txn(Box::new(evidence)).into_json(),
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

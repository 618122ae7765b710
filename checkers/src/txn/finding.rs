//! What inference hands to the rest of the checker: the non-cycle anomalies it found
//! directly (with their words), which txns belong in the graph, and the data edges.

use super::anomaly::Anomaly;
use super::graph::{label, GraphBuilder};
use super::parse::Txns;

/// One anomaly found without a cycle search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which anomaly.
    pub anomaly: Anomaly,
    /// The txns involved (positions in [`Txns::txns`]).
    pub txns: Vec<u32>,
    /// What happened, in plain words.
    pub explanation: String,
}

/// The result of inferring version orders and dependencies.
#[derive(Debug, Default)]
pub struct Inferred {
    /// Anomalies found directly.
    pub findings: Vec<Finding>,
    /// Which txns are nodes of the graph (committed, or `info` with an observed
    /// effect).
    pub in_graph: Vec<bool>,
    /// The ww, wr and rw edges.
    pub edges: GraphBuilder,
    /// Groups of writers of one key whose relative version order is unknown (for
    /// list-append: committed appends nobody read).
    pub unordered: Vec<Vec<u32>>,
}

/// Why an edge exists, in plain words, for one (from, to, label) of a cycle.
pub trait EdgeWhy {
    /// The sentence (Elle's style), and the key and value it is about.
    fn why(
        &self,
        txns: &Txns,
        from: u32,
        to: u32,
        label: u8,
    ) -> (String, Option<String>, Option<String>);
}

/// `T<n>`, the name of a txn in evidence (its op position in the history).
pub fn name(txns: &Txns, t: u32) -> String {
    format!("T{}", txns.txns[t as usize].op)
}

/// A list of interned values as `[1 2 3]`.
pub fn list(txns: &Txns, l: &[u32]) -> String {
    let items: Vec<String> = l.iter().map(|&v| txns.values.label(v)).collect();
    format!("[{}]", items.join(" "))
}

/// The words for a process-order or real-time edge.
pub fn order_why(txns: &Txns, from: u32, to: u32, l: u8) -> String {
    let (a, b) = (name(txns, from), name(txns, to));
    let (ta, tb) = (&txns.txns[from as usize], &txns.txns[to as usize]);
    if l & label::PROCESS != 0 {
        format!("process {} ran {a} and then {b} (process)", ta.process)
    } else if l & label::REALTIME != 0 {
        format!(
            "{a} completed at {} before {b} began at {} (realtime)",
            ms(ta.complete_time.unwrap_or(0)),
            ms(tb.invoke_time)
        )
    } else {
        format!("{a} precedes {b} ({})", label::names(l))
    }
}

/// Nanoseconds as milliseconds for people.
pub fn ms(ns: u64) -> String {
    format!("{:.3} ms", ns as f64 / 1e6)
}

//! The history: what a run recorded, as checkers consume it.
//!
//! A file is a sequence of [`Event`]s (one per line in JSONL). A [`HistoryBuilder`]
//! validates them in order and pairs every client invoke with its completion into an
//! [`Op`]; the result is a [`History`]. Every reader in [`crate::read`] goes through
//! the builder, so the rules of DESIGN.md are enforced in one place.

pub mod admit;
mod builder;
mod event;

use std::sync::Arc;

pub use builder::{HistoryBuilder, HistoryError};
pub use event::{Event, EventKind, Process, F};

use crate::value::Value;

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It happened, between its invoke and its completion.
    Ok,
    /// It definitely did not happen.
    Fail,
    /// It may have happened, at any time after its invoke, or never. Also every
    /// invoke with no completion.
    Info,
}

/// One client operation: an invoke paired with its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    /// Position in [`History::ops`] (ops are in invoke order).
    pub id: usize,
    /// The logical client that performed it.
    pub process: u64,
    /// The function.
    pub f: F,
    /// The key, for multi-key workloads.
    pub key: Option<Value>,
    /// The value the invoke carried (what a write meant to write; `null` for reads).
    pub invoke_value: Value,
    /// The value that describes what happened: the completion's value for `ok`
    /// completions (what a read returned), else the invoke's value.
    pub value: Value,
    /// How it ended.
    pub outcome: Outcome,
    /// `index` of the invoke event.
    pub invoke_index: u64,
    /// `index` of the completion event; `None` if the history ended first.
    pub complete_index: Option<u64>,
    /// `time` of the invoke, ns since the test began.
    pub invoke_time: u64,
    /// `time` of the completion; `None` if the history ended first.
    pub complete_time: Option<u64>,
    /// The node that served it, if recorded.
    pub node: Option<Arc<str>>,
    /// The error recorded on the completion, if any.
    pub error: Option<Value>,
}

impl Op {
    /// Whether this op certainly happened before `other` began (real-time order):
    /// it completed `ok` or `fail` before `other`'s invoke was recorded.
    /// Indeterminate ops never precede anything.
    pub fn precedes(&self, other: &Op) -> bool {
        match (self.outcome, self.complete_index) {
            (Outcome::Ok | Outcome::Fail, Some(c)) => c < other.invoke_index,
            _ => false,
        }
    }

    /// The key as text for messages (`"k7"` prints as `k7`; no key prints as `-`).
    pub fn key_label(&self) -> String {
        key_label(self.key.as_ref())
    }
}

/// A key as a person reads it: strings bare, other values as JSON, no key as `-`.
pub fn key_label(key: Option<&Value>) -> String {
    match key {
        None => "-".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(v) => v.to_string(),
    }
}

/// The nemesis note (`{"process":"nemesis","type":"info","f":"final-reads","value":null}`)
/// a run records where its final reads begin: what is read after it is what every
/// replica converged to (the eventual checker's evidence).
pub const FINAL_READS: &str = "final-reads";

/// The nemesis note (`{"process":"nemesis","type":"info","f":"nodes-exited",...}`) a
/// run records when every node process of the subject had exited on its own and
/// stayed down at the end of the run, before faultline stopped the cluster. Its value
/// is `{"nodes": {"n1": "exited with status 1", ...}}`: how each node ended.
pub const NODES_EXITED: &str = "nodes-exited";

/// A validated history: client operations paired, nemesis notes kept apart.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Client operations, in the order of their invokes.
    pub ops: Vec<Op>,
    /// Nemesis events, in order.
    pub nemesis: Vec<Event>,
    /// How many events the source had.
    pub event_count: u64,
    /// Whether the source had no clock (Knossos EDN without `:time`, Porcupine logs):
    /// each event's `time` is then its index, and times are shown as "op #N".
    pub untimed: bool,
}

impl History {
    /// Builds a history from events in order (for tests and for the driver).
    pub fn from_events(events: impl IntoIterator<Item = Event>) -> Result<History, HistoryError> {
        let mut b = HistoryBuilder::new("<events>");
        for (i, e) in events.into_iter().enumerate() {
            b.push(e, i + 1)?;
        }
        Ok(b.finish())
    }

    /// The distinct keys of the ops, in order of first appearance (`None` for ops
    /// without a key).
    pub fn keys(&self) -> Vec<Option<Value>> {
        let mut seen = std::collections::HashSet::new();
        let mut keys = Vec::new();
        for op in &self.ops {
            if seen.insert(&op.key) {
                keys.push(op.key.clone());
            }
        }
        keys
    }

    /// A time as a person reads it: "1.234 s", or "op #N" when the history is
    /// [`untimed`](History::untimed). N is then the event's index: in Jepsen's terms
    /// each map in the file is an op, numbered from 0 in file order (its `:index`
    /// when the file gives one), so op #N is the (N+1)-th op of the file.
    pub fn at(&self, ns: u64) -> String {
        if self.untimed {
            format!("op #{ns}")
        } else {
            format!("{:.3} s", ns as f64 / 1e9)
        }
    }

    /// Time of the last event, ns (0 for an empty history).
    pub fn end_time(&self) -> u64 {
        let ops = self
            .ops
            .iter()
            .map(|o| o.complete_time.unwrap_or(o.invoke_time));
        let nem = self.nemesis.iter().map(|e| e.time);
        ops.chain(nem).max().unwrap_or(0)
    }
}

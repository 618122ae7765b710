//! faultline's checkers: the history data model, readers for the history formats
//! faultline understands, and the consistency checkers that judge a history.
//!
//! Everything here is pure and synchronous: no async runtime, no I/O beyond reading
//! the history file. The driver (`faultline run`) and `faultline check` both use it.
//!
//! The flow is: a reader ([`read`]) turns a file into [`History`] (validated, with
//! invokes paired to their completions as [`Op`]s); a checker turns a history into a
//! [`CheckResult`] with a [`Verdict`] and evidence. [`consistency`] names every model
//! `--consistency` accepts; [`factory`] picks the checker for a model and folds results
//! into one verdict.
//!
//! Modules: [`history`] (events, ops, the builder that pairs them), [`read`] (JSONL,
//! Jepsen EDN, Porcupine logs), [`value`] (JSON-like values), [`model`] (sequential
//! specifications), [`linearizable`], [`sequential`], [`eventual`], [`txn`] (transactions),
//! [`causal`] (CC, CM, CCv, PRAM), [`session`] (the session guarantees), and Maelstrom's
//! own invariants [`unique_ids`], [`kafka`] and [`echo`] — the checkers; [`evidence`]
//! (what each checker shows);
//! [`lattice`] (which models imply which, and the strongest that held),
//! [`consistency`], [`factory`], [`verdict`].

pub mod causal;
pub mod consistency;
pub mod echo;
pub mod eventual;
pub mod evidence;
pub mod factory;
pub mod history;
pub mod kafka;
pub mod lattice;
pub mod linearizable;
pub mod model;
pub mod read;
pub mod sequential;
pub mod session;
pub mod txn;
pub mod unique_ids;
pub mod value;
pub mod verdict;

pub use consistency::{Consistency, ConsistencyRequest};
pub use evidence::Evidence;
pub use history::{
    Event, EventKind, History, HistoryBuilder, HistoryError, Op, Outcome, Process, F,
};
pub use value::Value;
pub use verdict::{Budget, CheckResult, Checker, Verdict};

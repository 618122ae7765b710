//! The seam between the driver and a store: a [`Client`] performs one [`Invocation`]
//! at a time for one logical process and says how it ended, as a [`Completion`].
//!
//! The rule every client must follow (DESIGN.md): `Ok` only when the operation
//! certainly happened; `Fail` only when it certainly did not (the store said so
//! before applying it); anything uncertain (timeouts, connection reset after the
//! request was sent, 5xx) is `Info`.

use std::sync::Arc;

use checkers::{Value, F};
pub use workloads::DataKind;

pub mod http;
pub mod noop;

/// An operation for a client to perform.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// The logical process performing it.
    pub process: u64,
    /// What the key holds (a register, a set, a counter, lists): which API to call.
    pub data: DataKind,
    /// The function.
    pub f: F,
    /// The key, for multi-key workloads.
    pub key: Option<Value>,
    /// The value (shape per `f`, DESIGN.md).
    pub value: Value,
}

/// The prefix of the error of an [`Completion::unsupported`] completion.
pub const UNSUPPORTED: &str = "unsupported: ";

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It happened.
    Ok,
    /// It definitely did not happen.
    Fail,
    /// It may or may not have happened.
    Info,
}

/// A client's answer to an invocation.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// How it ended.
    pub ending: Ending,
    /// The value to record: what a read returned; for writes the written value.
    pub value: Value,
    /// The node that served it.
    pub node: Option<Arc<str>>,
    /// Why it failed or is indeterminate.
    pub error: Option<String>,
}

impl Completion {
    /// An `ok` completion with `value`.
    pub fn ok(value: Value) -> Completion {
        Completion {
            ending: Ending::Ok,
            value,
            node: None,
            error: None,
        }
    }

    /// A `fail` completion (definitely did not happen), with the reason.
    pub fn fail(value: Value, error: impl Into<String>) -> Completion {
        Completion {
            ending: Ending::Fail,
            value,
            node: None,
            error: Some(error.into()),
        }
    }

    /// An `info` completion (may or may not have happened), with the reason.
    pub fn info(value: Value, error: impl Into<String>) -> Completion {
        Completion {
            ending: Ending::Info,
            value,
            node: None,
            error: Some(error.into()),
        }
    }

    /// A `fail` completion saying the store does not implement this operation; the
    /// driver then stops the test as unable to run (exit 3) instead of judging it.
    pub fn unsupported(value: Value, what: impl std::fmt::Display) -> Completion {
        Completion::fail(value, format!("{UNSUPPORTED}{what}"))
    }

    /// Whether this completion says the operation is not supported by the store.
    pub fn is_unsupported(&self) -> bool {
        self.ending == Ending::Fail
            && self
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with(UNSUPPORTED))
    }

    /// The same completion, naming the node that served it.
    pub fn on(mut self, node: impl Into<Arc<str>>) -> Completion {
        self.node = Some(node.into());
        self
    }
}

/// Performs operations against one store node for one logical process.
///
/// A client is used by a single process at a time (one outstanding operation), so it
/// may keep per-connection state.
#[async_trait::async_trait]
pub trait Client: Send {
    /// Performs `op` and reports how it ended. Must not panic; must return within the
    /// driver's per-operation timeout or be cancelled (then the driver records `info`).
    async fn invoke(&mut self, op: &Invocation) -> Completion;
}

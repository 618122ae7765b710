//! Models: the sequential specifications that checkers search against.
//!
//! A [`Model`] says, for a state and an operation (with what the history observed of
//! it), whether the operation is legal there and what the state becomes. Models are
//! single-key: multi-key histories are split by key (linearizability) or composed
//! over keys (sequential consistency) by the checkers.
//!
//! Semantics (DESIGN.md): an `ok` op happened, with the observed result; a `fail` op
//! did not happen (checkers drop it); an `info` op may have happened at any time after
//! its invoke, or never: checkers may place it or leave it out, and a model steps it
//! with only what its invoke said (an `info` read constrains nothing).

use std::fmt::Debug;
use std::hash::Hash;

use crate::history::Op;
use crate::value::Value;

/// A sequential specification of one object (one key).
pub trait Model: Send + Sync {
    /// The object's state. Cheap to clone, hashable for memoization.
    type State: Clone + Eq + Hash + Debug + Send + Sync;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// If `op` (an `ok` op, or an `info` op taking effect) is legal in `state`, the
    /// state after it; `None` if the observed result cannot happen in `state`.
    fn step(&self, state: &Self::State, op: &Op) -> Option<Self::State>;

    /// Why `op` cannot happen in `state`, in plain words (for evidence), e.g.
    /// "read returned 3, but the register held 5".
    fn explain(&self, state: &Self::State, op: &Op) -> String;

    /// The state in a person's words, for the steps of a linearization in evidence.
    fn show(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// Which model a history is judged against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// read / write.
    Register,
    /// read / write / cas (`[expected, new]`).
    CasRegister,
    /// Independent keys; per key: read|get, write|put, cas, append (string concat).
    Kv,
    /// add (element) / read (the whole set).
    Set,
    /// add (signed delta) / read.
    Counter,
    /// enqueue / dequeue, FIFO.
    Queue,
    /// Transactions of appends to lists and reads of whole lists (Elle's
    /// list-append); judged by [`crate::txn`], no single-object model.
    ListAppend,
    /// Transactions of register writes and reads (Elle's rw-register); judged by
    /// [`crate::txn`], no single-object model.
    RwRegister,
    /// Maelstrom's `unique-ids`: `generate` ops whose ids must all differ; judged by
    /// [`crate::unique_ids`], no single-object model.
    UniqueIds,
    /// Maelstrom's `kafka`: keyed logs (`send`, `poll`, committed offsets); judged by
    /// [`crate::kafka`], no single-object model.
    Kafka,
    /// Maelstrom's `echo`: each `ok` reply must carry the payload sent; judged by
    /// [`crate::echo`], no single-object model.
    Echo,
}

impl ModelKind {
    /// The model's name as written on the command line and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Register => "register",
            ModelKind::CasRegister => "cas-register",
            ModelKind::Kv => "kv",
            ModelKind::Set => "set",
            ModelKind::Counter => "counter",
            ModelKind::Queue => "queue",
            ModelKind::ListAppend => "list-append",
            ModelKind::RwRegister => "rw-register",
            ModelKind::UniqueIds => "unique-ids",
            ModelKind::Kafka => "kafka",
            ModelKind::Echo => "echo",
        }
    }

    /// Whether histories of this model are transactions (judged by [`crate::txn`],
    /// with no single-object [`Model`]).
    pub fn is_transactional(self) -> bool {
        matches!(self, ModelKind::ListAppend | ModelKind::RwRegister)
    }
}

impl std::str::FromStr for ModelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<ModelKind, String> {
        match s {
            "register" => Ok(ModelKind::Register),
            "cas-register" => Ok(ModelKind::CasRegister),
            "kv" => Ok(ModelKind::Kv),
            "set" => Ok(ModelKind::Set),
            "counter" => Ok(ModelKind::Counter),
            "queue" => Ok(ModelKind::Queue),
            "list-append" => Ok(ModelKind::ListAppend),
            "rw-register" => Ok(ModelKind::RwRegister),
            "unique-ids" => Ok(ModelKind::UniqueIds),
            "kafka" => Ok(ModelKind::Kafka),
            "echo" => Ok(ModelKind::Echo),
            other => Err(format!(
                "unknown model \"{other}\"; expected one of register, cas-register, kv, set, counter, queue, list-append, rw-register, unique-ids, kafka, echo"
            )),
        }
    }
}

/// A model and its initial value (`--initial`; default `null`, "absent").
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSpec {
    /// Which model.
    pub kind: ModelKind,
    /// The initial value of every key (a register's value, a set's elements as a
    /// list, a counter's integer, a queue's elements as a list).
    pub initial: Value,
}

impl ModelSpec {
    /// `kind` with the default initial value (`null`).
    pub fn new(kind: ModelKind) -> ModelSpec {
        ModelSpec {
            kind,
            initial: Value::Null,
        }
    }
}

mod counter;
mod kv;
mod queue;
mod register;
mod set;

pub use counter::Counter;
pub use kv::{AppendChain, Kv};
pub use queue::Queue;
pub use register::{cas_pair, Register};
pub use set::Set;

/// Something to do with a concrete model: lets callers be generic over the model
/// that a [`ModelSpec`] names (see [`ModelSpec::visit`]).
pub trait ModelVisitor {
    /// What the visit returns.
    type Output;
    /// Called with the concrete model.
    fn visit<M: Model + 'static>(self, model: M) -> Self::Output;
}

/// A model kind with no single-object [`Model`] (the transactional ones): single-
/// object checkers cannot judge its histories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} histories are transactions with no single-object model; judge them with a transactional consistency model such as serializable", .0.as_str())]
pub struct NoObjectModel(pub ModelKind);

impl ModelSpec {
    /// Calls `visitor` with the concrete model this spec names, or says there is
    /// none (list-append and rw-register are judged by [`crate::txn`]).
    pub fn visit<V: ModelVisitor>(&self, visitor: V) -> Result<V::Output, NoObjectModel> {
        let initial = self.initial.clone();
        Ok(match self.kind {
            ModelKind::Register => visitor.visit(Register {
                initial,
                cas: false,
            }),
            ModelKind::CasRegister => visitor.visit(Register { initial, cas: true }),
            ModelKind::Kv => visitor.visit(Kv { initial }),
            ModelKind::Set => visitor.visit(Set { initial }),
            ModelKind::Counter => visitor.visit(Counter { initial }),
            ModelKind::Queue => visitor.visit(Queue { initial }),
            kind @ (ModelKind::ListAppend
            | ModelKind::RwRegister
            | ModelKind::UniqueIds
            | ModelKind::Kafka
            | ModelKind::Echo) => return Err(NoObjectModel(kind)),
        })
    }
}

/// An `ok` op with `f` and `value`, for model unit tests.
#[cfg(test)]
pub(crate) fn test_op(f: crate::history::F, value: Value) -> Op {
    Op {
        id: 0,
        process: 0,
        f,
        key: None,
        invoke_value: Value::Null,
        value,
        outcome: crate::history::Outcome::Ok,
        invoke_index: 0,
        complete_index: Some(1),
        invoke_time: 0,
        complete_time: Some(1),
        node: None,
        error: None,
    }
}

//! One line of a history: an [`Event`] (an invoke, a completion, or a nemesis note),
//! with its [`Process`], [`EventKind`] and operation name [`F`].

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::value::Value;

/// Who performed an event: a logical client (single-threaded) or the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    /// A logical client process; at most one outstanding operation at a time.
    Client(u64),
    /// The fault injector. Its events are notes (`info`), not operations.
    Nemesis,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

impl Serialize for Process {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => s.serialize_u64(*p),
            Process::Nemesis => s.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Process, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Process;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or \"nemesis\"")
            }
            fn visit_u64<E: de::Error>(self, u: u64) -> Result<Process, E> {
                Ok(Process::Client(u))
            }
            fn visit_i64<E: de::Error>(self, i: i64) -> Result<Process, E> {
                u64::try_from(i).map(Process::Client).map_err(|_| {
                    E::custom(format!(
                        "process {i} is negative; expected a non-negative integer or \"nemesis\""
                    ))
                })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Process, E> {
                if s == "nemesis" {
                    Ok(Process::Nemesis)
                } else {
                    Err(E::custom(format!(
                        "process \"{s}\" is not understood; expected a non-negative integer or \"nemesis\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The `type` of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The operation was started.
    Invoke,
    /// The operation happened.
    Ok,
    /// The operation definitely did not happen.
    Fail,
    /// Indeterminate: the operation may or may not have happened, at any time after its
    /// invoke. For the nemesis, a note.
    Info,
}

impl EventKind {
    /// Parses a `type` field; `None` for anything else.
    pub fn parse(s: &str) -> Option<EventKind> {
        match s {
            "invoke" => Some(EventKind::Invoke),
            "ok" => Some(EventKind::Ok),
            "fail" => Some(EventKind::Fail),
            "info" => Some(EventKind::Info),
            _ => None,
        }
    }

    /// The name as written in a history.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

/// The operation's function (`f`). The common ones are variants; `get` and `put`
/// (Porcupine's kv logs, many stores' APIs) are read as [`F::Read`] and [`F::Write`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum F {
    /// Read a register, key, set or counter; a `dequeue`-free read of anything.
    Read,
    /// Write (overwrite) a register or key.
    Write,
    /// Compare-and-set: value `[expected, new]`.
    Cas,
    /// Add an element to a set, or a signed delta to a counter.
    Add,
    /// Append to a string (kv) or to a list (list-append).
    Append,
    /// A transaction: value `[[f, key, value], ...]`.
    Txn,
    /// Put an element at the back of a queue.
    Enqueue,
    /// Take the element at the front of a queue.
    Dequeue,
    /// Anything else (nemesis functions such as `start-partition`, workload extras).
    Other(Arc<str>),
}

impl F {
    /// Parses an `f` field, mapping the aliases `get` and `put`.
    pub fn parse(s: &str) -> F {
        match s {
            "read" | "get" | "r" => F::Read,
            "write" | "put" | "w" => F::Write,
            "cas" => F::Cas,
            "add" => F::Add,
            "append" => F::Append,
            "txn" => F::Txn,
            "enqueue" => F::Enqueue,
            "dequeue" => F::Dequeue,
            other => F::Other(Arc::from(other)),
        }
    }

    /// The name as written in a faultline history.
    pub fn as_str(&self) -> &str {
        match self {
            F::Read => "read",
            F::Write => "write",
            F::Cas => "cas",
            F::Add => "add",
            F::Append => "append",
            F::Txn => "txn",
            F::Enqueue => "enqueue",
            F::Dequeue => "dequeue",
            F::Other(s) => s,
        }
    }
}

impl fmt::Display for F {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for F {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<F, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(F::parse(&s))
    }
}

/// One line of a history, exactly as DESIGN.md specifies the JSONL format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 0-based, dense position in the history.
    pub index: u64,
    /// Nanoseconds since the test began (monotonic clock).
    pub time: u64,
    /// Who performed it.
    pub process: Process,
    /// invoke / ok / fail / info.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// The operation's function.
    pub f: F,
    /// The key, for multi-key workloads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Value>,
    /// The operation's value (shape per `f`; a read's invoke carries `null`).
    #[serde(default)]
    pub value: Value,
    /// The node that served the operation (completions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Arc<str>>,
    /// Why an operation failed or is indeterminate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// How long the operation took, in nanoseconds (completions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<u64>,
}

//! A faultline [`Client`] that speaks a Maelstrom workload's messages to one node.
//!
//! Which workload's messages depends on what the faultline workload's keys hold:
//!
//! | faultline workload | data | Maelstrom workload | messages |
//! |---|---|---|---|
//! | `register`, `cas-register`, `kv` | register | `lin-kv` | `read {key}`, `write {key, value}`, `cas {key, from, to}` |
//! | `set` | set | `g-set` | `add {element}`, `read` -> `value` |
//! | `set` + `maelstrom-workload broadcast` | set | `broadcast` | `broadcast {message}`, `read` -> `messages` |
//! | `counter` | counter | `g-counter` / `pn-counter` | `add {delta}`, `read` -> `value` |
//! | `list-append` | lists | `txn-list-append` | `txn {txn: [["append", k, v], ["r", k, null]]}` |
//!
//! A g-set has no keys, so faultline adds `[key, element]` pairs and a read keeps the
//! pairs of its key. A Maelstrom counter is a single counter: only one key is allowed.
//! A read of a missing `lin-kv` key (error 20) reads `null`. Definite errors are
//! `fail`, indefinite ones (timeout, crash, unknown codes) and no reply are `info`;
//! a read that got no answer is `fail` (a read changes nothing), and so is a request
//! that was never delivered because its node was down.

use std::sync::Arc;
use std::time::Duration;

use checkers::{Value, F};
use serde_json::{json, Value as Json};

use crate::client::{Client, Completion, DataKind, Invocation};

use super::net::Network;
use super::protocol::{error_of, ErrorCode};

/// A client for one logical process, talking to one node.
#[derive(Debug)]
pub struct MaelstromClient {
    /// The network.
    pub net: Network,
    /// The node it talks to.
    pub node: Arc<str>,
    /// Its client id on the network (`c1`, `c2`, ...).
    pub id: String,
    /// How long to wait for a reply.
    pub timeout: Duration,
    /// Set data is spoken as Maelstrom's `broadcast` workload, not `g-set`.
    pub broadcast: bool,
    /// The Maelstrom workload whose shapes to speak (`--workload lin-kv`, ...);
    /// `None` for faultline's workloads (the table above).
    pub workload: Option<String>,
}

fn json_of(v: &Value) -> Json {
    v.to_json()
}

impl MaelstromClient {
    /// Whether ops are spoken in the shapes of Maelstrom's own workload `name`.
    fn speaks(&self, name: &str) -> bool {
        self.workload.as_deref() == Some(name)
    }

    /// The request body for `op`, or why it cannot be expressed.
    fn body(&self, op: &Invocation) -> Result<Json, String> {
        if let Some(b) = super::shapes::body(self.workload.as_deref(), op)? {
            return Ok(b);
        }
        let key = op.key.as_ref().map(json_of).unwrap_or(Json::Null);
        match (op.data, &op.f) {
            (DataKind::Register, F::Read) => Ok(json!({"type": "read", "key": key})),
            (DataKind::Register, F::Write) => {
                Ok(json!({"type": "write", "key": key, "value": json_of(&op.value)}))
            }
            (DataKind::Register, F::Cas) => {
                let pair = op.value.as_list().filter(|l| l.len() == 2).ok_or_else(|| {
                    format!("cas value {:?} is not [expected, new]", op.value.to_json())
                })?;
                let mut b = json!({"type": "cas", "key": key, "from": json_of(&pair[0]), "to": json_of(&pair[1])});
                if pair[0].is_null() {
                    b["create_if_not_exists"] = Json::Bool(true);
                }
                Ok(b)
            }
            (DataKind::Set, F::Add) if self.broadcast => {
                Ok(json!({"type": "broadcast", "message": json_of(&op.value)}))
            }
            (DataKind::Set, F::Add) => {
                Ok(json!({"type": "add", "element": [key, json_of(&op.value)]}))
            }
            (DataKind::Set, F::Read) | (DataKind::Counter, F::Read) => Ok(json!({"type": "read"})),
            (DataKind::Counter, F::Add) => Ok(json!({"type": "add", "delta": json_of(&op.value)})),
            (DataKind::List, F::Txn) => Ok(json!({"type": "txn", "txn": json_of(&op.value)})),
            (data, f) => Err(format!("Maelstrom has no {f} for {data:?} data")),
        }
    }

    /// What a successful reply means for `op`.
    fn value_of(&self, op: &Invocation, reply: &Json) -> Result<Value, String> {
        if let Some(v) = super::shapes::value_of(self.workload.as_deref(), op, reply)? {
            return Ok(v);
        }
        let field = |name: &str| {
            reply
                .get(name)
                .cloned()
                .ok_or_else(|| format!("the reply has no `{name}`: {reply}"))
        };
        Ok(match (op.data, &op.f) {
            (DataKind::Register, F::Read) | (DataKind::Counter, F::Read) => {
                Value::from_json(&field("value")?)
            }
            (DataKind::Set, F::Read) if self.broadcast => {
                let all = field("messages")?;
                let mut v: Vec<Value> = all
                    .as_array()
                    .ok_or_else(|| format!("a broadcast read returned {all}, not a list"))?
                    .iter()
                    .map(Value::from_json)
                    .collect();
                v.sort_by_key(|x| x.as_int());
                Value::List(v)
            }
            (DataKind::Set, F::Read) => {
                let key = op.key.as_ref().map(json_of).unwrap_or(Json::Null);
                let all = field("value")?;
                let all = all
                    .as_array()
                    .ok_or_else(|| format!("a g-set read returned {all}, not a list"))?;
                let mut mine: Vec<Value> = all
                    .iter()
                    .filter_map(|e| match e.as_array() {
                        Some(p) if p.len() == 2 && p[0] == key => Some(Value::from_json(&p[1])),
                        _ => None,
                    })
                    .collect();
                mine.sort_by_key(|v| v.as_int());
                Value::List(mine)
            }
            (DataKind::List, F::Txn) => Value::from_json(&field("txn")?),
            _ => op.value.clone(),
        })
    }
}

#[async_trait::async_trait]
impl Client for MaelstromClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let node = self.node.clone();
        let single = op.data == DataKind::Counter
            || (op.data == DataKind::Set && (self.broadcast || self.speaks("g-set")));
        if single && op.key.as_ref().and_then(Value::as_str) != Some("k0") {
            return Completion::unsupported(
                op.value.clone(),
                "Maelstrom's counters and broadcast have no keys: run with --keys 1",
            );
        }
        let body = match self.body(op) {
            Ok(b) => b,
            Err(e) => return Completion::unsupported(op.value.clone(), e),
        };
        let reply = match self.net.request(&self.id, &node, body, self.timeout).await {
            Ok(m) => m,
            // Never delivered (the node was down), or a read: it did not happen.
            Err(e) if e.undelivered() || op.f == F::Read => {
                return Completion::fail(op.value.clone(), e.to_string()).on(node)
            }
            Err(e) => return Completion::info(op.value.clone(), e.to_string()).on(node),
        };
        if let Some((code, text)) = error_of(&reply.body) {
            let why = format!("{} ({}): {text}", code.name(), code.code());
            return if code == ErrorCode::KeyDoesNotExist && op.f == F::Read {
                Completion::ok(Value::Null).on(node)
            } else if code == ErrorCode::NotSupported {
                Completion::unsupported(op.value.clone(), why).on(node)
            } else if code.is_definite() || op.f == F::Read {
                Completion::fail(op.value.clone(), why).on(node)
            } else {
                Completion::info(op.value.clone(), why).on(node)
            };
        }
        match self.value_of(op, &reply.body) {
            Ok(v) => Completion::ok(v).on(node),
            // A reply we cannot read: the operation may have happened.
            Err(e) if op.f == F::Read => Completion::fail(op.value.clone(), e).on(node),
            Err(e) => Completion::info(op.value.clone(), e).on(node),
        }
    }
}

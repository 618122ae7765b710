//! Client operations (register, cas, list append, set, counter, txn) built on the
//! quorum read and write. Every read-modify-write is NOT atomic: it is a quorum read
//! followed by a write carrying the read's context.

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::coordinator::{self, QuorumError, ReadResult};
use crate::node::Node;
use crate::version::{newest, VersionVector};

/// Why an operation failed, mapped onto HTTP by `http`.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The request was malformed (400, nothing happened).
    #[error("{0}")]
    BadRequest(String),
    /// A cas whose expected value did not match (409, nothing written).
    #[error("cas-mismatch")]
    CasMismatch,
    /// A quorum was not reached.
    #[error(transparent)]
    Quorum(#[from] QuorumError),
    /// A transaction failed after some of its writes may have been applied.
    #[error("transaction aborted after partial effects: {0}")]
    Partial(String),
}

/// Encodes a read context as the opaque string handed to clients.
pub fn encode_context(vv: &VersionVector) -> String {
    serde_json::to_string(vv).expect("maps serialise")
}

/// Decodes a client's context string.
pub fn decode_context(s: Option<&Value>) -> Result<Option<VersionVector>, OpError> {
    match s {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s)
            .map(Some)
            .map_err(|e| OpError::BadRequest(format!("bad context: {e}"))),
        Some(other) => Err(OpError::BadRequest(format!(
            "context must be a string, got {other}"
        ))),
    }
}

/// A register read: `null`, one value, or the list of sibling values.
pub fn register_value(r: &ReadResult) -> (Value, Option<Vec<Value>>) {
    let vals = coordinator::values(&r.versions);
    match vals.len() {
        0 => (Value::Null, None),
        1 => (vals[0].clone(), None),
        _ => (json!({ "siblings": vals }), Some(vals)),
    }
}

/// Compare-and-set: read with quorum R, then write with the read's context if the
/// (single, sibling-free) value equals `expected`.
pub async fn cas(node: &Arc<Node>, key: &str, expected: &Value, new: Value) -> Result<(), OpError> {
    let r = coordinator::read(node, key).await?;
    let (current, siblings) = register_value(&r);
    if siblings.is_some() || &current != expected {
        return Err(OpError::CasMismatch);
    }
    coordinator::write(node, key, new, Some(r.context)).await?;
    Ok(())
}

/// The list stored at a key, resolving siblings to the newest by LWW order.
fn list_of(r: &ReadResult, key: &str) -> Result<Vec<Value>, OpError> {
    match newest(&r.versions).map(|v| &v.value) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a.clone()),
        Some(other) => Err(OpError::BadRequest(format!(
            "key {key:?} holds {other}, not a list"
        ))),
    }
}

/// Appends to the list at `key` (read-modify-write; returns the list before the append).
pub async fn append(node: &Arc<Node>, key: &str, value: Value) -> Result<(), OpError> {
    let r = coordinator::read(node, key).await?;
    let mut list = list_of(&r, key)?;
    list.push(value);
    coordinator::write(node, key, Value::Array(list), Some(r.context)).await?;
    Ok(())
}

/// The union of the siblings' sets (a set is a JSON array without duplicates).
fn set_of(r: &ReadResult) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in &r.versions {
        if let Value::Array(a) = &v.value {
            for e in a {
                if !out.contains(e) {
                    out.push(e.clone());
                }
            }
        }
    }
    out
}

/// Adds an element to the set at `key`; siblings are merged by union.
pub async fn set_add(node: &Arc<Node>, key: &str, element: Value) -> Result<(), OpError> {
    let r = coordinator::read(node, key).await?;
    let mut set = set_of(&r);
    if !set.contains(&element) {
        set.push(element);
    }
    coordinator::write(node, key, Value::Array(set), Some(r.context)).await?;
    Ok(())
}

/// Reads the set at `key` (union of siblings).
pub async fn set_read(node: &Arc<Node>, key: &str) -> Result<Vec<Value>, OpError> {
    Ok(set_of(&coordinator::read(node, key).await?))
}

/// The union of the siblings' increment maps (increment id → delta).
fn increments_of(r: &ReadResult) -> Map<String, Value> {
    let mut out = Map::new();
    for v in &r.versions {
        if let Value::Object(m) = &v.value {
            for (id, d) in m {
                out.insert(id.clone(), d.clone());
            }
        }
    }
    out
}

/// Adds `delta` to the counter at `key`: a uniquely named increment, merged by union,
/// so concurrent adds are never lost (the value is the sum of all increments).
pub async fn counter_add(node: &Arc<Node>, key: &str, delta: i64) -> Result<(), OpError> {
    let r = coordinator::read(node, key).await?;
    let mut incs = increments_of(&r);
    let id = node.actor.next_dot();
    incs.insert(format!("{}:{id}", node.actor.id), json!(delta));
    coordinator::write(node, key, Value::Object(incs), Some(r.context)).await?;
    Ok(())
}

/// Reads the counter at `key`.
pub async fn counter_read(node: &Arc<Node>, key: &str) -> Result<i64, OpError> {
    let r = coordinator::read(node, key).await?;
    Ok(increments_of(&r).values().filter_map(Value::as_i64).sum())
}

/// Runs a transaction's micro-ops one after another (`r`, `append`, `w`), each its own
/// quorum operation: no isolation, no atomicity. Fills in the reads. The whole txn is
/// checked before anything runs; a failure after a write was attempted is `Partial`
/// (indefinite), since earlier micro-ops are not rolled back.
pub async fn txn(node: &Arc<Node>, ops: &[Value]) -> Result<Vec<Value>, OpError> {
    let mut parsed = Vec::with_capacity(ops.len());
    for op in ops {
        let parts = op.as_array().filter(|a| a.len() == 3).ok_or_else(|| {
            OpError::BadRequest(format!("micro-op must be [f, key, value], got {op}"))
        })?;
        let f = parts[0].as_str().unwrap_or_default();
        if !["r", "append", "w"].contains(&f) {
            return Err(OpError::BadRequest(format!(
                "unknown micro-op {}",
                parts[0]
            )));
        }
        let key = parts[1]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| parts[1].to_string());
        parsed.push((f, key, parts));
    }
    let mut out = Vec::with_capacity(ops.len());
    let mut wrote = false;
    for (f, key, parts) in parsed {
        let step = async {
            match f {
                "r" => {
                    let r = coordinator::read(node, &key).await?;
                    let value = match newest(&r.versions).map(|v| v.value.clone()) {
                        None | Some(Value::Null) => json!([]),
                        Some(v) => v,
                    };
                    Ok(json!(["r", parts[1], value]))
                }
                "append" => append(node, &key, parts[2].clone())
                    .await
                    .map(|()| json!(parts)),
                _ => {
                    let r = coordinator::read(node, &key).await?;
                    coordinator::write(node, &key, parts[2].clone(), Some(r.context)).await?;
                    Ok(json!(parts))
                }
            }
        };
        match step.await {
            Ok(v) => out.push(v),
            Err(e) if wrote => return Err(OpError::Partial(e.to_string())),
            Err(e) => return Err(e),
        }
        wrote |= f != "r";
    }
    Ok(out)
}

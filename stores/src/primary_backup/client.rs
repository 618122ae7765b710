//! The HTTP-KV endpoints of a primary-backup node (docs/http-kv.md): which node serves
//! an operation ([`route`]), the operation itself on the serving node ([`serve`]), and
//! forwarding to the serving node when that is another one.
//!
//! Writes (write, cas, append, set add, counter add) are served by the primary: it
//! computes the key's new value under the state lock (so cas and appends are atomic),
//! appends it to its log, and answers once `--replication` is satisfied. Reads are
//! served by whom `--read-from` says. A node that does not serve an operation forwards
//! it once (marked by a header, so it is never forwarded twice).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::log::Entry;
use super::{Node, Role};
use crate::config::{ReadFrom, Replication};

/// The header a forwarded request carries.
const FORWARDED: &str = "x-faultline-forwarded";

/// A client operation, parsed from its path and body.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `/kv/read`, `/set/read`, `/counter/read`: the key's value, or this when absent.
    Read { key: String, absent: Value },
    /// `/kv/write`.
    Write { key: String, value: Value },
    /// `/kv/cas`.
    Cas {
        key: String,
        expected: Value,
        new: Value,
    },
    /// `/kv/append`.
    Append { key: String, value: Value },
    /// `/set/add`.
    SetAdd { key: String, element: Value },
    /// `/counter/add`.
    CounterAdd { key: String, delta: i64 },
}

/// An answer: status and JSON body.
pub type Answer = (StatusCode, Value);

fn error(status: StatusCode, msg: &str, definite: bool) -> Answer {
    (status, json!({ "error": msg, "definite": definite }))
}

/// Parses an operation (`Err`: a 400 answer).
pub fn parse(path: &str, body: &Value) -> Result<Op, Answer> {
    let bad = |m: String| error(StatusCode::BAD_REQUEST, &m, true);
    let key = match body.get("key") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        other => return Err(bad(format!("expected a string \"key\", got {other:?}"))),
    };
    let field = |name: &str| {
        body.get(name)
            .cloned()
            .ok_or_else(|| bad(format!("missing field {name:?}")))
    };
    Ok(match path {
        "/kv/read" => Op::Read {
            key,
            absent: Value::Null,
        },
        "/set/read" => Op::Read {
            key,
            absent: json!([]),
        },
        "/counter/read" => Op::Read {
            key,
            absent: json!(0),
        },
        "/kv/write" => Op::Write {
            key,
            value: field("value")?,
        },
        "/kv/cas" => Op::Cas {
            key,
            expected: field("expected")?,
            new: field("new")?,
        },
        "/kv/append" => Op::Append {
            key,
            value: field("value")?,
        },
        "/set/add" => Op::SetAdd {
            key,
            element: field("element")?,
        },
        "/counter/add" => Op::CounterAdd {
            key,
            delta: field("delta")?
                .as_i64()
                .ok_or_else(|| bad("delta must be a signed integer".into()))?,
        },
        _ => return Err(error(StatusCode::NOT_FOUND, "unsupported", true)),
    })
}

/// The key's new value after `op` given its current value, or the answer refusing it
/// (cas mismatch, a type clash).
pub fn next_value(op: &Op, current: Option<&Value>) -> Result<Value, Answer> {
    let clash = |what: &str| {
        error(
            StatusCode::CONFLICT,
            &format!("the key does not hold {what}"),
            true,
        )
    };
    match op {
        Op::Read { .. } => unreachable!("reads write nothing"),
        Op::Write { value, .. } => Ok(value.clone()),
        Op::Cas { expected, new, .. } => {
            if current.unwrap_or(&Value::Null) == expected {
                Ok(new.clone())
            } else {
                Err(error(StatusCode::CONFLICT, "cas-mismatch", true))
            }
        }
        Op::Append { value, .. } => match current {
            None | Some(Value::Null) => Ok(json!([value])),
            Some(Value::Array(a)) => {
                let mut a = a.clone();
                a.push(value.clone());
                Ok(Value::Array(a))
            }
            Some(_) => Err(clash("a list")),
        },
        Op::SetAdd { element, .. } => match current {
            None | Some(Value::Null) => Ok(json!([element])),
            Some(Value::Array(a)) => {
                let mut a = a.clone();
                if !a.contains(element) {
                    a.push(element.clone());
                }
                Ok(Value::Array(a))
            }
            Some(_) => Err(clash("a set")),
        },
        Op::CounterAdd { delta, .. } => match current {
            None | Some(Value::Null) => Ok(json!(delta)),
            Some(v) => v
                .as_i64()
                .map(|n| json!(n + delta))
                .ok_or_else(|| clash("a counter")),
        },
    }
}

/// Who serves an operation.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// This node.
    Here,
    /// These peers, in order (the first that answers).
    Forward(Vec<String>),
    /// Nobody: answer 503 (definite) with this.
    Refuse(&'static str),
}

/// Who serves `op` arriving at this node (`forwarded`: it was forwarded here).
pub fn route(node: &Node, is_read: bool, forwarded: bool) -> Route {
    let st = node.lock();
    let to_primary = || match (&st.primary, forwarded) {
        (_, true) => Route::Refuse("not the primary"),
        (Some(p), false) if p != &node.name => Route::Forward(vec![p.clone()]),
        _ => Route::Refuse("no primary known"),
    };
    if !is_read || node.args.read_from == ReadFrom::Primary {
        return if st.role == Role::Primary {
            Route::Here
        } else {
            to_primary()
        };
    }
    match (node.args.read_from, st.role) {
        (ReadFrom::Any, _) | (ReadFrom::Backups, Role::Backup) => Route::Here,
        (ReadFrom::Backups, Role::Primary) if forwarded => Route::Refuse("not a backup"),
        _ => Route::Forward(node.peers.keys().cloned().collect()),
    }
}

/// How many backups must hold an entry before the primary answers.
fn required_acks(node: &Node) -> usize {
    let backups = node.peers.len();
    match node.args.replication {
        Replication::Sync => backups,
        Replication::SemiSync => backups.min(1),
        Replication::Async => 0,
    }
}

/// Serves `op` on this node.
pub async fn serve(node: &Node, op: Op) -> Answer {
    let written = {
        let mut st = node.lock();
        if let Op::Read { key, absent } = &op {
            if st.role == Role::Primary && !node.lease_holds(&st) {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "primary lease expired",
                    true,
                );
            }
            let value = st.log.state.get(key).cloned().unwrap_or(absent.clone());
            return (StatusCode::OK, json!({ "value": value }));
        }
        if st.role != Role::Primary {
            return error(StatusCode::SERVICE_UNAVAILABLE, "not the primary", true);
        }
        if !node.lease_holds(&st) {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "primary lease expired",
                true,
            );
        }
        let key = match &op {
            Op::Write { key, .. }
            | Op::Cas { key, .. }
            | Op::Append { key, .. }
            | Op::SetAdd { key, .. }
            | Op::CounterAdd { key, .. } => key.clone(),
            Op::Read { .. } => unreachable!(),
        };
        let value = match next_value(&op, st.log.state.get(&key)) {
            Ok(v) => v,
            Err(a) => return a,
        };
        let entry = Entry {
            index: st.log.last_index() + 1,
            epoch: st.epoch,
            key,
            value,
        };
        let index = entry.index;
        if let Err(e) = st.log.append(entry) {
            tracing::error!(error = %e, "log append failed");
            return error(StatusCode::SERVICE_UNAVAILABLE, "log append failed", false);
        }
        node.wake.notify_waiters();
        (index, st.epoch)
    };
    wait_replicated(node, written).await
}

/// Waits until enough backups hold entry `index` of `epoch`, or the request timeout.
async fn wait_replicated(node: &Node, (index, epoch): (u64, u64)) -> Answer {
    let need = required_acks(node);
    let deadline = Instant::now() + Duration::from_millis(node.args.request_timeout_ms);
    loop {
        let changed = node.progress.notified();
        {
            let st = node.lock();
            if st.role != Role::Primary || st.epoch != epoch {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no longer the primary",
                    false,
                );
            }
            let have = st.peers.values().filter(|p| p.matched >= index).count();
            if have >= need {
                return (StatusCode::OK, json!({}));
            }
        }
        if tokio::time::timeout_at(deadline.into(), changed)
            .await
            .is_err()
        {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "not replicated to enough backups in time",
                false,
            );
        }
    }
}

async fn forward(node: &Node, peers: &[String], path: &str, body: &Value, is_read: bool) -> Answer {
    let timeout = Duration::from_millis(node.args.request_timeout_ms * 2);
    for peer in peers {
        let Some(addr) = node.peers.get(peer) else {
            continue;
        };
        let sent = node
            .http
            .post(format!("http://{addr}{path}"))
            .header(FORWARDED, "1")
            .json(body)
            .timeout(timeout)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let status =
                    StatusCode::from_u16(r.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
                let body = r.json::<Value>().await.unwrap_or(Value::Null);
                if is_read && status == StatusCode::SERVICE_UNAVAILABLE && peers.len() > 1 {
                    continue; // that backup cannot serve; try the next
                }
                return (status, body);
            }
            // Nothing reached the peer: the next may serve, and nothing happened.
            Err(e) if e.is_connect() => continue,
            Err(_) => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "forwarding timed out",
                    is_read,
                )
            }
        }
    }
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "no node could serve it",
        true,
    )
}

async fn operation(
    State(node): State<Arc<Node>>,
    uri: Uri,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let path = uri.path();
    let op = match parse(path, &body) {
        Ok(op) => op,
        Err(a) => return (a.0, Json(a.1)).into_response(),
    };
    let is_read = matches!(op, Op::Read { .. });
    let (status, body) = match route(&node, is_read, headers.contains_key(FORWARDED)) {
        Route::Here => serve(&node, op).await,
        Route::Forward(peers) => forward(&node, &peers, path, &body, is_read).await,
        Route::Refuse(why) => error(StatusCode::SERVICE_UNAVAILABLE, why, true),
    };
    (status, Json(body)).into_response()
}

async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    let st = node.lock();
    Json(json!({
        "node": node.name,
        "ok": true,
        "mode": "primary-backup",
        "wall_clock_ms": crate::node::wall_clock_ms(),
        "role": st.role.as_str(),
        "epoch": st.epoch,
        "primary": st.primary,
        "last_index": st.log.last_index(),
        "replication": format!("{:?}", node.args.replication).to_lowercase(),
    }))
}

async fn unsupported() -> Response {
    let (s, b) = error(StatusCode::NOT_FOUND, "unsupported", true);
    (s, Json(b)).into_response()
}

/// The client routes.
pub fn routes() -> Router<Arc<Node>> {
    let mut r = Router::new().route("/health", get(health));
    for path in [
        "/kv/read",
        "/kv/write",
        "/kv/cas",
        "/kv/append",
        "/set/add",
        "/set/read",
        "/counter/add",
        "/counter/read",
    ] {
        r = r.route(path, post(operation));
    }
    r.fallback(unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cas_applies_only_from_the_expected_value_and_absent_is_null() {
        let op = Op::Cas {
            key: "k".into(),
            expected: json!(1),
            new: json!(2),
        };
        assert_eq!(next_value(&op, Some(&json!(1))).unwrap(), json!(2));
        assert_eq!(
            next_value(&op, Some(&json!(3))).unwrap_err().0,
            StatusCode::CONFLICT
        );
        let from_null = Op::Cas {
            key: "k".into(),
            expected: Value::Null,
            new: json!(5),
        };
        assert_eq!(next_value(&from_null, None).unwrap(), json!(5));
    }

    #[test]
    fn appends_grow_lists_set_adds_keep_one_copy_and_counters_sum() {
        let a = Op::Append {
            key: "k".into(),
            value: json!(2),
        };
        assert_eq!(next_value(&a, Some(&json!([1]))).unwrap(), json!([1, 2]));
        assert_eq!(next_value(&a, None).unwrap(), json!([2]));
        let s = Op::SetAdd {
            key: "k".into(),
            element: json!(1),
        };
        assert_eq!(next_value(&s, Some(&json!([1]))).unwrap(), json!([1]));
        let c = Op::CounterAdd {
            key: "k".into(),
            delta: -2,
        };
        assert_eq!(next_value(&c, Some(&json!(5))).unwrap(), json!(3));
        assert_eq!(
            next_value(&c, Some(&json!("x"))).unwrap_err().0,
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn a_request_without_a_key_or_on_an_unknown_path_is_refused() {
        assert_eq!(
            parse("/kv/read", &json!({})).unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse("/kv/write", &json!({"key": "k"})).unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse("/txn", &json!({"key": "k"})).unwrap_err().0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            parse("/counter/read", &json!({"key": 3})).unwrap(),
            Op::Read {
                key: "3".into(),
                absent: json!(0)
            }
        );
    }
}

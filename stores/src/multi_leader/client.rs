//! The HTTP-KV endpoints of a multi-leader node (docs/http-kv.md): every operation is
//! served by the node asked, from and onto its own copy, and answered at once;
//! replication follows. cas compares with the local copy only (two nodes can both
//! apply a cas from one value). Reads return siblings as `{"siblings": [...]}`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::update::{Effect, KeyState};
use super::Node;
use crate::config::Resolve;

type Answer = (StatusCode, Value);

fn error(status: StatusCode, msg: &str, definite: bool) -> Answer {
    (status, json!({ "error": msg, "definite": definite }))
}

/// The effect of a write-like request on a key whose state is `cur`, or the answer
/// refusing it.
pub fn effect(
    path: &str,
    body: &Value,
    cur: Option<&KeyState>,
    resolve: Resolve,
) -> Result<Effect, Answer> {
    let bad = |m: &str| error(StatusCode::BAD_REQUEST, m, true);
    let field = |n: &str| {
        body.get(n)
            .cloned()
            .ok_or_else(|| bad(&format!("missing field {n:?}")))
    };
    let value = cur.and_then(KeyState::value);
    let single = || match &value {
        Some(v) if v.get("siblings").is_some() => {
            Err(error(StatusCode::CONFLICT, "the key holds siblings", true))
        }
        v => Ok(v.clone()),
    };
    let crdt = resolve == Resolve::Crdt;
    match path {
        "/kv/write" => Ok(Effect::Set(field("value")?)),
        "/kv/cas" => {
            let (expected, new) = (field("expected")?, field("new")?);
            if single()?.unwrap_or(Value::Null) == expected {
                Ok(Effect::Set(new))
            } else {
                Err(error(StatusCode::CONFLICT, "cas-mismatch", true))
            }
        }
        "/kv/append" if crdt => Ok(Effect::Append(field("value")?)),
        "/set/add" if crdt => Ok(Effect::Insert(field("element")?)),
        "/counter/add" if crdt => Ok(Effect::Add(
            field("delta")?
                .as_i64()
                .ok_or_else(|| bad("delta must be a signed integer"))?,
        )),
        "/kv/append" | "/set/add" => {
            let e = field(if path == "/set/add" {
                "element"
            } else {
                "value"
            })?;
            let mut list = match single()? {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a,
                Some(_) => {
                    return Err(error(
                        StatusCode::CONFLICT,
                        "the key does not hold a list",
                        true,
                    ))
                }
            };
            if path == "/kv/append" || !list.contains(&e) {
                list.push(e);
            }
            Ok(Effect::Set(Value::Array(list)))
        }
        "/counter/add" => {
            let d = field("delta")?
                .as_i64()
                .ok_or_else(|| bad("delta must be a signed integer"))?;
            let n = match single()? {
                None | Some(Value::Null) => 0,
                Some(v) => v.as_i64().ok_or_else(|| {
                    error(
                        StatusCode::CONFLICT,
                        "the key does not hold a counter",
                        true,
                    )
                })?,
            };
            Ok(Effect::Set(json!(n + d)))
        }
        _ => Err(error(StatusCode::NOT_FOUND, "unsupported", true)),
    }
}

fn key_of(body: &Value) -> Result<String, Answer> {
    match body.get("key") {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        other => Err(error(
            StatusCode::BAD_REQUEST,
            &format!("expected a string \"key\", got {other:?}"),
            true,
        )),
    }
}

fn serve(node: &Node, path: &str, body: &Value) -> Answer {
    let key = match key_of(body) {
        Ok(k) => k,
        Err(a) => return a,
    };
    let absent = match path {
        "/kv/read" => Some(Value::Null),
        "/set/read" => Some(json!([])),
        "/counter/read" => Some(json!(0)),
        _ => None,
    };
    if let Some(absent) = absent {
        let g = node.lock();
        let v =
            g.0.keys
                .get(&key)
                .and_then(KeyState::value)
                .unwrap_or(absent);
        let mut out = json!({ "value": v });
        if let Some(s) = v.get("siblings") {
            out["siblings"] = s.clone();
        }
        return (StatusCode::OK, out);
    }
    let resolve = node.args.resolution;
    match node.originate(&key, |cur| effect(path, body, cur, resolve)) {
        Ok(()) => (StatusCode::OK, json!({})),
        Err(Some(a)) => a,
        Err(None) => error(StatusCode::SERVICE_UNAVAILABLE, "log append failed", false),
    }
}

async fn operation(State(node): State<Arc<Node>>, uri: Uri, Json(body): Json<Value>) -> Response {
    let (s, b) = serve(&node, uri.path(), &body);
    (s, Json(b)).into_response()
}

async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    let g = node.lock();
    Json(json!({
        "node": node.name,
        "ok": true,
        "mode": "multi-leader",
        "wall_clock_ms": crate::node::wall_clock_ms(),
        "applied": g.0.applied,
        "waiting": g.0.waiting.len(),
    }))
}

async fn unsupported() -> Response {
    let (s, b) = error(StatusCode::NOT_FOUND, "unsupported", true);
    (s, Json(b)).into_response()
}

/// The client routes.
pub fn routes() -> Router<Arc<Node>> {
    let mut r = Router::new().route("/health", get(health));
    for p in [
        "/kv/read",
        "/kv/write",
        "/kv/cas",
        "/kv/append",
        "/set/add",
        "/set/read",
        "/counter/add",
        "/counter/read",
    ] {
        r = r.route(p, post(operation));
    }
    r.fallback(unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_crdts_an_add_is_a_read_modify_write_and_with_them_an_operation() {
        let b = json!({"key": "c", "delta": 2});
        assert_eq!(
            effect("/counter/add", &b, None, Resolve::Lww).unwrap(),
            Effect::Set(json!(2))
        );
        assert_eq!(
            effect("/counter/add", &b, None, Resolve::Crdt).unwrap(),
            Effect::Add(2)
        );
        let cas = json!({"key": "k", "expected": 1, "new": 2});
        assert_eq!(
            effect("/kv/cas", &cas, None, Resolve::Lww).unwrap_err().0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            effect("/txn", &cas, None, Resolve::Lww).unwrap_err().0,
            StatusCode::NOT_FOUND
        );
    }
}

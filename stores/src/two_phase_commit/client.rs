//! The client endpoints of a two-phase-commit node (docs/http-kv.md's `/txn`): every
//! txn is coordinated by the node asked.
//!
//! - `POST /txn {"ops": [[f, key, value], ...]}` with `f` one of `r`, `append`, `w` →
//!   `200 {"value": [...]}` (the micro-ops with reads filled in; a read of a key never
//!   written is `null`); `400` malformed (nothing ran); `409 {"error": "aborted: ...",
//!   "definite": true}` (a participant voted no or could not be reached: nothing was
//!   applied, nothing will be); `503 {"definite": false}` (the decision record could
//!   not be written).
//! - `POST /2pc/shard {"key": K}` → `{"owner": NODE}`.
//! - `GET /health`.
//!
//! Any other operation answers `404 unsupported`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::coordinator::{transact, TxnError};
use super::participant::Mop;
use super::Node;

fn error(status: StatusCode, msg: &str, definite: bool) -> Response {
    (status, Json(json!({ "error": msg, "definite": definite }))).into_response()
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The micro-ops of a `/txn` body, or why they are malformed.
pub fn parse(body: &Value) -> Result<(Vec<Mop>, Vec<Value>), String> {
    let ops = body
        .get("ops")
        .and_then(Value::as_array)
        .ok_or("expected {\"ops\": [[f, key, value], ...]}")?;
    let mut mops = Vec::with_capacity(ops.len());
    let mut keys = Vec::with_capacity(ops.len());
    for op in ops {
        let parts = op
            .as_array()
            .filter(|a| a.len() == 3)
            .ok_or_else(|| format!("micro-op must be [f, key, value], got {op}"))?;
        let f = parts[0].as_str().unwrap_or_default();
        if !["r", "append", "w"].contains(&f) {
            return Err(format!("unknown micro-op {}", parts[0]));
        }
        mops.push(Mop {
            f: f.to_string(),
            key: key_text(&parts[1]),
            value: parts[2].clone(),
        });
        keys.push(parts[1].clone());
    }
    Ok((mops, keys))
}

async fn txn(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Response {
    let (mops, keys) = match parse(&body) {
        Ok(x) => x,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e, true),
    };
    let fs: Vec<String> = mops.iter().map(|m| m.f.clone()).collect();
    match transact(&node, mops).await {
        Ok(results) => {
            let value: Vec<Value> = fs
                .into_iter()
                .zip(keys)
                .zip(results)
                .map(|((f, k), r)| json!([f, k, r]))
                .collect();
            Json(json!({ "value": value })).into_response()
        }
        Err(e @ TxnError::BadRequest(_)) => error(StatusCode::BAD_REQUEST, &e.to_string(), true),
        Err(e @ TxnError::Aborted(_)) => error(StatusCode::CONFLICT, &e.to_string(), true),
        Err(e @ TxnError::Indefinite(_)) => {
            error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string(), false)
        }
    }
}

async fn shard(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Response {
    match body.get("key") {
        Some(k) => Json(json!({ "owner": node.shards.owner(&key_text(k)) })).into_response(),
        None => error(StatusCode::BAD_REQUEST, "missing field \"key\"", true),
    }
}

async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    let st = node.lock();
    Json(json!({
        "node": node.name,
        "ok": true,
        "mode": "two-phase-commit",
        "wall_clock_ms": crate::node::wall_clock_ms(),
        "incarnation": node.incarnation,
        "prepare_log": node.prepare_log(),
        "members": node.shards.members(),
        "prepared": st.participant.prepared.len(),
        "locked_keys": st.participant.locks.len(),
        "in_flight": st.decisions.in_flight.len(),
        "unended": st.decisions.unended.len(),
    }))
}

async fn unsupported() -> Response {
    error(StatusCode::NOT_FOUND, "unsupported", true)
}

/// The client routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/health", get(health))
        .route("/txn", post(txn))
        .route("/2pc/shard", post(shard))
        .fallback(unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_txn_body_parses_into_micro_ops_with_keys_as_text() {
        let (m, k) = parse(&json!({"ops": [["append", "x", 1], ["r", 7, null]]})).unwrap();
        assert_eq!((m[0].f.as_str(), m[0].key.as_str()), ("append", "x"));
        assert_eq!(m[1].key, "7");
        assert_eq!(k[1], json!(7));
        assert!(parse(&json!({"ops": [["cas", "x", 1]]})).is_err());
        assert!(parse(&json!({"ops": [["r", "x"]]})).is_err());
        assert!(parse(&json!({"op": []})).is_err());
    }
}

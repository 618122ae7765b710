//! The client-facing HTTP-KV endpoints (docs/http-kv.md) and their error mapping.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::coordinator::{self, QuorumError};
use crate::node::{wall_clock_ms, Node};
use crate::ops::{self, OpError};

impl IntoResponse for OpError {
    fn into_response(self) -> Response {
        let (status, definite) = match &self {
            OpError::BadRequest(_) => (StatusCode::BAD_REQUEST, true),
            OpError::CasMismatch => (StatusCode::CONFLICT, true),
            OpError::Quorum(QuorumError::Read { .. }) => (StatusCode::SERVICE_UNAVAILABLE, true),
            OpError::Quorum(QuorumError::Write { .. }) => (StatusCode::SERVICE_UNAVAILABLE, false),
            OpError::Partial(_) => (StatusCode::SERVICE_UNAVAILABLE, false),
        };
        let msg = match &self {
            OpError::Quorum(QuorumError::Write { .. }) => "quorum not reached".to_string(),
            e => e.to_string(),
        };
        let detail = self.to_string();
        (
            status,
            Json(json!({ "error": msg, "definite": definite, "detail": detail })),
        )
            .into_response()
    }
}

type Reply = Result<Json<Value>, OpError>;

fn field<'a>(body: &'a Value, name: &str) -> Result<&'a Value, OpError> {
    body.get(name)
        .ok_or_else(|| OpError::BadRequest(format!("missing field {name:?} in {body}")))
}

fn key_of(body: &Value) -> Result<String, OpError> {
    match field(body, "key")? {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(OpError::BadRequest(format!(
            "key must be a string, got {other}"
        ))),
    }
}

async fn health(State(node): State<Arc<Node>>) -> Json<Value> {
    Json(json!({
        "node": node.name,
        "ok": true,
        "actor": node.actor.id,
        "wall_clock_ms": wall_clock_ms(),
        "ring": node.ring.nodes(),
        "n": node.args.n, "w": node.args.w, "r": node.args.r,
        "conflict": coordinator::mode_name(node.args.conflict),
        "hints_pending": node.storage.hints().len(),
    }))
}

async fn kv_read(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    let r = coordinator::read(&node, &key).await?;
    let (value, siblings) = ops::register_value(&r);
    let mut out = json!({ "value": value, "context": ops::encode_context(&r.context) });
    if let Some(s) = siblings {
        out["siblings"] = Value::Array(s);
    }
    Ok(Json(out))
}

async fn kv_write(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    let value = field(&body, "value")?.clone();
    let ctx = ops::decode_context(body.get("context"))?;
    coordinator::write(&node, &key, value, ctx).await?;
    Ok(Json(json!({})))
}

async fn kv_cas(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    let expected = field(&body, "expected")?;
    let new = field(&body, "new")?.clone();
    ops::cas(&node, &key, expected, new).await?;
    Ok(Json(json!({})))
}

async fn kv_append(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    ops::append(&node, &key, field(&body, "value")?.clone()).await?;
    Ok(Json(json!({})))
}

async fn set_add(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    ops::set_add(&node, &key, field(&body, "element")?.clone()).await?;
    Ok(Json(json!({})))
}

async fn set_read(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    Ok(Json(json!({ "value": ops::set_read(&node, &key).await? })))
}

async fn counter_add(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    let delta = field(&body, "delta")?
        .as_i64()
        .ok_or_else(|| OpError::BadRequest("delta must be a signed integer".into()))?;
    ops::counter_add(&node, &key, delta).await?;
    Ok(Json(json!({})))
}

async fn counter_read(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let key = key_of(&body)?;
    Ok(Json(
        json!({ "value": ops::counter_read(&node, &key).await? }),
    ))
}

async fn txn(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Reply {
    let ops_list = field(&body, "ops")?
        .as_array()
        .ok_or_else(|| OpError::BadRequest("ops must be an array".into()))?;
    Ok(Json(json!({ "value": ops::txn(&node, ops_list).await? })))
}

async fn unsupported() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "unsupported", "definite": true })),
    )
        .into_response()
}

/// The client routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/health", get(health))
        .route("/kv/read", post(kv_read))
        .route("/kv/write", post(kv_write))
        .route("/kv/cas", post(kv_cas))
        .route("/kv/append", post(kv_append))
        .route("/set/add", post(set_add))
        .route("/set/read", post(set_read))
        .route("/counter/add", post(counter_add))
        .route("/counter/read", post(counter_read))
        .route("/txn", post(txn))
        .fallback(unsupported)
}

//! The peer-facing endpoints: replica put/get and the anti-entropy exchange.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::anti_entropy::{self, BucketsRequest, BucketsResponse, TreeRequest, TreeResponse};
use crate::node::{GetRequest, GetResponse, Node, PutRequest};

type Failure = (StatusCode, Json<Value>);

fn failure(e: impl std::fmt::Display) -> Failure {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": e.to_string(), "definite": false })),
    )
}

async fn put(
    State(node): State<Arc<Node>>,
    Json(req): Json<PutRequest>,
) -> Result<Json<Value>, Failure> {
    tracing::trace!(from = %req.from, key = %req.key, "replica put");
    node.accept_put(&req.key, &req.versions, req.hint_for.as_deref())
        .map_err(failure)?;
    Ok(Json(json!({})))
}

async fn get(State(node): State<Arc<Node>>, Json(req): Json<GetRequest>) -> Json<GetResponse> {
    tracing::trace!(from = %req.from, key = %req.key, "replica get");
    Json(GetResponse {
        versions: node.storage.get(&req.key),
    })
}

async fn merkle(State(node): State<Arc<Node>>, Json(req): Json<TreeRequest>) -> Json<TreeResponse> {
    Json(anti_entropy::tree_for(&node, &req.from))
}

async fn buckets(
    State(node): State<Arc<Node>>,
    Json(req): Json<BucketsRequest>,
) -> Result<Json<BucketsResponse>, Failure> {
    anti_entropy::exchange(&node, req)
        .map(Json)
        .map_err(failure)
}

/// The internal (peer) routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/internal/put", post(put))
        .route("/internal/get", post(get))
        .route("/internal/merkle", post(merkle))
        .route("/internal/buckets", post(buckets))
}

//! The peer-facing endpoints: the peer stream (replica puts and gets, see `wire` and
//! `link`) and the anti-entropy exchange.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request as HttpRequest, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, BufReader};
use tokio::sync::mpsc;

use crate::anti_entropy::{self, BucketsRequest, BucketsResponse, TreeRequest, TreeResponse};
use crate::node::Node;
use crate::wire::{self, Reply, Request};

type Failure = (StatusCode, Json<Value>);

fn failure(e: impl std::fmt::Display) -> Failure {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": e.to_string(), "definite": false })),
    )
}

/// `GET /internal/stream` with `Upgrade: faultline-peer/1`: switches the connection to
/// the peer stream.
async fn stream(State(node): State<Arc<Node>>, mut req: HttpRequest) -> Response {
    let asked = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok());
    if asked != Some(wire::UPGRADE_TOKEN) {
        let msg = format!("expected `Upgrade: {}`", wire::UPGRADE_TOKEN);
        return (StatusCode::BAD_REQUEST, msg).into_response();
    }
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(io) => serve_stream(node, TokioIo::new(io)).await,
            Err(e) => tracing::debug!(error = %e, "peer stream upgrade failed"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, wire::UPGRADE_TOKEN)
        .body(Body::empty())
        .expect("a static response")
}

/// Answers one peer's requests until it hangs up. Gets are answered in order; puts
/// run concurrently (each waits for its own durability) and reply when done.
async fn serve_stream<S: AsyncRead + AsyncWrite + Send + 'static>(node: Arc<Node>, io: S) {
    let (input, output) = tokio::io::split(io);
    let (replies, queue) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        if let Err(e) = wire::write_frames(output, queue).await {
            tracing::debug!(error = %e, "peer stream write failed");
        }
    });
    let mut input = BufReader::new(input);
    loop {
        let (id, req) = match wire::read::<Request, _>(&mut input).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e, "peer stream closed");
                break;
            }
        };
        match req {
            Request::Get { from, key } => {
                tracing::trace!(%from, %key, "replica get");
                let versions = node.storage.get(&key);
                let _ = replies.send(wire::encode(id, &Reply::Versions { versions }));
            }
            Request::Put {
                from,
                key,
                versions,
                hint_for,
            } => {
                tracing::trace!(%from, %key, "replica put");
                let node = node.clone();
                let replies = replies.clone();
                tokio::spawn(async move {
                    let reply = match node.accept_put(&key, &versions, hint_for.as_deref()).await {
                        Ok(()) => Reply::Stored,
                        Err(e) => Reply::Failed {
                            error: e.to_string(),
                        },
                    };
                    let _ = replies.send(wire::encode(id, &reply));
                });
            }
        }
    }
}

/// `POST /internal/get {"key": K}`: the versions this node itself holds for `K` (no
/// quorum, no repair); for inspecting a replica from outside.
async fn local_get(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Response {
    match body.get("key").and_then(Value::as_str) {
        Some(key) => Json(json!({ "versions": node.storage.get(key) })).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "expected {\"key\": string}", "definite": true })),
        )
            .into_response(),
    }
}

async fn merkle(State(node): State<Arc<Node>>, Json(req): Json<TreeRequest>) -> Json<TreeResponse> {
    Json(anti_entropy::tree_for(&node, &req.from))
}

async fn buckets(
    State(node): State<Arc<Node>>,
    Json(req): Json<BucketsRequest>,
) -> Result<Json<BucketsResponse>, Failure> {
    anti_entropy::exchange(&node, req)
        .await
        .map(Json)
        .map_err(failure)
}

/// The internal (peer) routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route(wire::STREAM_PATH, get(stream))
        .route("/internal/get", post(local_get))
        .route("/internal/merkle", post(merkle))
        .route("/internal/buckets", post(buckets))
}

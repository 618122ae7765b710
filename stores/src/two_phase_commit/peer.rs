//! The peer protocol between a coordinator and its participants (HTTP/JSON on the
//! node's one port, each request bounded by `--request-timeout-ms`), and the calls that
//! make it — a call to the node itself runs locally, with no request.
//!
//! - `POST /2pc/prepare {txn, coordinator, mops}` → `{"vote":"yes","reads":[...],
//!   "wrote":bool}` or `{"vote":"no","reason":...,"bad_request":bool}`.
//! - `POST /2pc/commit {txn}` → `{"answer":"committed"}` or `{"answer":"unknown"}`
//!   (neither prepared nor committed here: the prepare was lost); `500` when the
//!   commit record could not be written.
//! - `POST /2pc/abort {txn}` → `{}`.
//! - `POST /2pc/decision {txn}` (asked of the coordinator) → `{"decision":"commit"}`,
//!   `"abort"` or `"pending"`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::participant::{CommitAnswer, Mop};
use super::Node;

/// `POST /2pc/prepare`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Prepare {
    /// The txn.
    pub txn: String,
    /// Its coordinator.
    pub coordinator: String,
    /// Its micro-ops on this participant's keys, in txn order.
    pub mops: Vec<Mop>,
}

/// A participant's vote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "vote", rename_all = "snake_case")]
pub enum Vote {
    /// Prepared: the locks are held and the writes staged.
    Yes {
        /// Each micro-op's result (reads filled in).
        reads: Vec<Value>,
        /// Whether the txn writes here.
        wrote: bool,
    },
    /// Not prepared: nothing is held.
    No {
        /// Why.
        reason: String,
        /// The micro-ops themselves are wrong (the client's fault).
        bad_request: bool,
    },
}

/// `POST /2pc/commit`, `/2pc/abort`, `/2pc/decision`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TxnRef {
    /// The txn.
    pub txn: String,
}

/// `/2pc/commit`'s answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Committed {
    /// What the participant found.
    pub answer: CommitAnswer,
}

/// A coordinator's decision on a txn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Commit.
    Commit,
    /// Abort (decided, or presumed: no commit decision and not running).
    Abort,
    /// Still running: ask again later.
    Pending,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Decided {
    decision: Decision,
}

async fn call<T: DeserializeOwned>(
    node: &Node,
    peer: &str,
    path: &str,
    body: &impl Serialize,
) -> Result<T, String> {
    let addr = node
        .peers
        .get(peer)
        .ok_or_else(|| format!("no peer {peer}"))?;
    let r = node
        .http
        .post(format!("http://{addr}{path}"))
        .json(body)
        .timeout(node.request_timeout())
        .send()
        .await
        .map_err(|e| format!("{peer}{path}: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("{peer}{path}: {}", r.status()));
    }
    r.json().await.map_err(|e| format!("{peer}{path}: {e}"))
}

/// Asks `peer` to prepare; an unreachable peer is a no vote.
pub async fn prepare_at(node: &Node, peer: &str, req: &Prepare) -> Vote {
    if peer == node.name {
        return node.prepare(&req.txn, &req.coordinator, &req.mops).await;
    }
    call(node, peer, "/2pc/prepare", req)
        .await
        .unwrap_or_else(|reason| Vote::No {
            reason,
            bad_request: false,
        })
}

/// Tells `peer` to commit `txn`.
pub async fn commit_at(node: &Node, peer: &str, txn: &str) -> Result<CommitAnswer, String> {
    if peer == node.name {
        return node.commit(txn).map_err(|e| e.to_string());
    }
    let c: Committed = call(node, peer, "/2pc/commit", &TxnRef { txn: txn.into() }).await?;
    Ok(c.answer)
}

/// Tells `peer` to abort `txn` (once; a participant that misses it asks later).
pub async fn abort_at(node: &Node, peer: &str, txn: &str) {
    if peer == node.name {
        return node.abort(txn);
    }
    let r: Result<Value, String> =
        call(node, peer, "/2pc/abort", &TxnRef { txn: txn.into() }).await;
    if let Err(e) = r {
        tracing::debug!(error = %e, "abort not delivered");
    }
}

/// Asks `coordinator` for its decision on `txn`.
pub async fn decision_of(node: &Node, coordinator: &str, txn: &str) -> Result<Decision, String> {
    if coordinator == node.name {
        return Ok(node.decision(txn));
    }
    let d: Decided = call(
        node,
        coordinator,
        "/2pc/decision",
        &TxnRef { txn: txn.into() },
    )
    .await?;
    Ok(d.decision)
}

async fn prepare(State(node): State<Arc<Node>>, Json(req): Json<Prepare>) -> Json<Vote> {
    Json(node.prepare(&req.txn, &req.coordinator, &req.mops).await)
}

async fn commit(
    State(node): State<Arc<Node>>,
    Json(req): Json<TxnRef>,
) -> Result<Json<Committed>, (StatusCode, String)> {
    node.commit(&req.txn)
        .map(|answer| Json(Committed { answer }))
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn abort(State(node): State<Arc<Node>>, Json(req): Json<TxnRef>) -> Json<Value> {
    node.abort(&req.txn);
    Json(serde_json::json!({}))
}

async fn decision(State(node): State<Arc<Node>>, Json(req): Json<TxnRef>) -> Json<Decided> {
    Json(Decided {
        decision: node.decision(&req.txn),
    })
}

/// The peer routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/2pc/prepare", post(prepare))
        .route("/2pc/commit", post(commit))
        .route("/2pc/abort", post(abort))
        .route("/2pc/decision", post(decision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn votes_and_decisions_have_their_documented_wire_form() {
        let yes = Vote::Yes {
            reads: vec![json!([1])],
            wrote: true,
        };
        assert_eq!(
            serde_json::to_value(&yes).unwrap(),
            json!({"vote": "yes", "reads": [[1]], "wrote": true})
        );
        let no: Vote =
            serde_json::from_value(json!({"vote": "no", "reason": "x", "bad_request": false}))
                .unwrap();
        assert!(matches!(no, Vote::No { .. }));
        assert_eq!(
            serde_json::to_value(Decided {
                decision: Decision::Pending
            })
            .unwrap(),
            json!({"decision": "pending"})
        );
        assert_eq!(
            serde_json::to_value(Committed {
                answer: CommitAnswer::Unknown
            })
            .unwrap(),
            json!({"answer": "unknown"})
        );
    }
}

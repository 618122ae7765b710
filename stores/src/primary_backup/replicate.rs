//! Shipping the log from the primary to each backup (`POST /pb/append`, HTTP/JSON),
//! the backup's side of it, and `GET /pb/status` (what failover asks).
//!
//! An append carries the primary's epoch, the index and epoch of the entry before the
//! ones it carries, and the entries (none: a heartbeat, every 100 ms). A backup whose
//! entry at that index has another epoch (an old primary's divergent tail) drops it
//! and asks for an earlier start; entries it already holds with the same epoch are
//! skipped; the rest are appended.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::log::{Entry, LogError};
use super::{Node, Role};

/// The most entries one append carries.
const BATCH: usize = 512;
/// How often a primary with nothing new sends a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_millis(100);

/// `POST /pb/append`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Append {
    /// The sender (a primary).
    pub from: String,
    /// Its epoch.
    pub epoch: u64,
    /// The index of the entry before `entries`.
    pub prev_index: u64,
    /// That entry's epoch.
    pub prev_epoch: u64,
    /// The entries.
    pub entries: Vec<Entry>,
}

/// The answer to an append.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Appended {
    /// Whether the entries are now in the backup's log.
    pub ok: bool,
    /// The backup's epoch.
    pub epoch: u64,
    /// The backup's last index (after the append when ok).
    pub last_index: u64,
}

/// `GET /pb/status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Status {
    /// The node.
    pub node: String,
    /// `primary` or `backup`.
    pub role: String,
    /// Its epoch.
    pub epoch: u64,
    /// Its primary, when known.
    pub primary: Option<String>,
    /// Its last index.
    pub last_index: u64,
    /// The epoch of its last entry.
    pub last_epoch: u64,
    /// Milliseconds since it last heard from its primary.
    pub heard_ms: u64,
}

/// What a backup does with an append, given its state (the pure part of the handler).
pub fn accept(node: &Node, append: &Append) -> Result<Appended, LogError> {
    let mut st = node.lock();
    let refuse = |st: &super::State| Appended {
        ok: false,
        epoch: st.epoch,
        last_index: st.log.last_index(),
    };
    if node.fencing() {
        if append.epoch < st.epoch {
            return Ok(refuse(&st));
        }
        if append.epoch == st.epoch && st.role == Role::Primary {
            // Two primaries of one epoch (both promoted at once): the lower name stays.
            if append.from > node.name {
                return Ok(refuse(&st));
            }
        }
        if append.epoch > st.epoch
            || st.primary.as_deref() != Some(append.from.as_str())
            || st.role == Role::Primary
        {
            node.become_backup(&mut st, append.epoch, Some(append.from.clone()))?;
        }
    } else {
        // No fence: a primary keeps believing it is one; a backup follows anybody.
        if st.role == Role::Primary {
            return Ok(refuse(&st));
        }
        if st.primary.as_deref() != Some(append.from.as_str()) {
            let epoch = st.epoch.max(append.epoch);
            node.become_backup(&mut st, epoch, Some(append.from.clone()))?;
        }
    }
    st.last_heard = Instant::now();
    let last = st.log.last_index();
    if append.prev_index > last {
        return Ok(refuse(&st));
    }
    if append.prev_index > 0 && st.log.epoch_at(append.prev_index) != append.prev_epoch {
        // Our entry there came from another primary: drop it and what follows.
        st.log.truncate(append.prev_index)?;
        return Ok(refuse(&st));
    }
    for e in &append.entries {
        let have = st.log.last_index();
        if e.index <= have {
            if st.log.epoch_at(e.index) == e.epoch {
                continue;
            }
            st.log.truncate(e.index)?;
        }
        st.log.append(e.clone())?;
    }
    Ok(Appended {
        ok: true,
        epoch: st.epoch,
        last_index: append.prev_index + append.entries.len() as u64,
    })
}

async fn append(
    State(node): State<Arc<Node>>,
    Json(body): Json<Append>,
) -> Result<Json<Appended>, (axum::http::StatusCode, String)> {
    accept(&node, &body)
        .map(Json)
        .map_err(|e| (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// This node's status.
pub fn status(node: &Node) -> Status {
    let st = node.lock();
    let last = st.log.last_index();
    Status {
        node: node.name.clone(),
        role: st.role.as_str().to_string(),
        epoch: st.epoch,
        primary: st.primary.clone(),
        last_index: last,
        last_epoch: st.log.epoch_at(last),
        heard_ms: st.last_heard.elapsed().as_millis() as u64,
    }
}

async fn status_route(State(node): State<Arc<Node>>) -> Json<Status> {
    Json(status(&node))
}

/// The peer routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new()
        .route("/pb/append", post(append))
        .route("/pb/status", get(status_route))
}

/// The append a primary sends `peer` now, or `None` when it is not primary.
fn next_append(node: &Node, peer: &str) -> Option<Append> {
    let st = node.lock();
    if st.role != Role::Primary {
        return None;
    }
    let last = st.log.last_index();
    let next = st
        .peers
        .get(peer)
        .map_or(last + 1, |p| p.next)
        .clamp(1, last + 1);
    let prev_index = next - 1;
    let end = (last as usize).min(prev_index as usize + BATCH);
    Some(Append {
        from: node.name.clone(),
        epoch: st.epoch,
        prev_index,
        prev_epoch: st.log.epoch_at(prev_index),
        entries: st.log.entries[prev_index as usize..end].to_vec(),
    })
}

/// What the primary learns from `peer`'s answer to `sent`.
fn absorb(node: &Node, peer: &str, sent: &Append, answer: &Appended) {
    let mut st = node.lock();
    if st.role != Role::Primary || st.epoch != sent.epoch {
        return;
    }
    if !answer.ok && node.fencing() && answer.epoch > st.epoch {
        tracing::warn!(
            peer,
            epoch = answer.epoch,
            "a newer epoch exists: stepping down"
        );
        if let Err(e) = node.become_backup(&mut st, answer.epoch, None) {
            tracing::error!(error = %e, "recording the step-down failed");
        }
        return;
    }
    let Some(p) = st.peers.get_mut(peer) else {
        return;
    };
    if answer.ok {
        p.matched = p.matched.max(answer.last_index);
        p.next = answer.last_index + 1;
        p.acked_at = Some(Instant::now());
        node.progress.notify_waiters();
    } else {
        p.next = (sent.prev_index).min(answer.last_index + 1).max(1);
    }
}

/// The primary's shipping loop for one backup: runs for the node's life, idle while
/// it is a backup.
pub async fn ship_to(node: Arc<Node>, peer: String) {
    let Some(addr) = node.peers.get(&peer).cloned() else {
        return;
    };
    let url = format!("http://{addr}/pb/append");
    let timeout = Duration::from_millis(node.args.request_timeout_ms);
    let lag = Duration::from_millis(node.args.backup_lag_ms);
    loop {
        let wake = node.wake.notified();
        let Some(append) = next_append(&node, &peer) else {
            tokio::select! {
                _ = wake => {}
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
            continue;
        };
        if !append.entries.is_empty() && !lag.is_zero() {
            tokio::time::sleep(lag).await;
        }
        let sent = node
            .http
            .post(&url)
            .json(&append)
            .timeout(timeout)
            .send()
            .await;
        let answer = match sent {
            Ok(r) if r.status().is_success() => r.json::<Appended>().await.ok(),
            _ => None,
        };
        match answer {
            Some(a) => {
                absorb(&node, &peer, &append, &a);
                if a.ok && !append.entries.is_empty() {
                    continue; // more may be waiting
                }
            }
            None => {
                // Down, paused or cut off: try again after a heartbeat.
                tokio::time::sleep(HEARTBEAT).await;
                continue;
            }
        }
        let caught_up = next_append(&node, &peer).is_none_or(|a| a.entries.is_empty());
        if caught_up {
            tokio::select! {
                _ = wake => {}
                _ = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
    }
}

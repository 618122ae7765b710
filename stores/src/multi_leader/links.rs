//! The links between multi-leader nodes: per peer, a FIFO queue drained by one sender
//! task that ships batches over `POST /ml/replicate` (HTTP/JSON), retrying every
//! 100 ms while the peer cannot be reached (nothing is dropped while the sender lives;
//! after a restart the node passes on its whole log again). On a slow link
//! ([`super::topology::slow_link`]) each update leaves `--link-delay-ms` after it was
//! queued.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::update::Update;
use super::Node;

type Queued = (Instant, Update);

/// The queues to every peer.
#[derive(Debug)]
pub struct Links {
    senders: BTreeMap<String, mpsc::UnboundedSender<Queued>>,
    receivers: Mutex<BTreeMap<String, mpsc::UnboundedReceiver<Queued>>>,
}

impl Links {
    /// One queue per peer.
    pub fn new(peers: &BTreeMap<String, String>) -> Links {
        let mut senders = BTreeMap::new();
        let mut receivers = BTreeMap::new();
        for p in peers.keys() {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.insert(p.clone(), tx);
            receivers.insert(p.clone(), rx);
        }
        Links {
            senders,
            receivers: Mutex::new(receivers),
        }
    }

    /// Queues `u` for `peer`.
    pub fn send(&self, peer: &str, u: Update) {
        if let Some(tx) = self.senders.get(peer) {
            let _ = tx.send((Instant::now(), u));
        }
    }
}

/// `POST /ml/replicate`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Batch {
    /// The sender.
    pub from: String,
    /// The updates, in the order the sender queued them.
    pub updates: Vec<Update>,
}

/// Starts one sender task per peer.
pub fn spawn_senders(node: &Arc<Node>) {
    let receivers = std::mem::take(
        &mut *node
            .links
            .receivers
            .lock()
            .unwrap_or_else(|p| p.into_inner()),
    );
    for (peer, rx) in receivers {
        tokio::spawn(ship(node.clone(), peer, rx));
    }
}

async fn ship(node: Arc<Node>, peer: String, mut rx: mpsc::UnboundedReceiver<Queued>) {
    let Some(addr) = node.peers.get(&peer).cloned() else {
        return;
    };
    let url = format!("http://{addr}/ml/replicate");
    let delay = if super::topology::slow_link(&node.members, &node.name, &peer) {
        Duration::from_millis(node.args.link_delay_ms)
    } else {
        Duration::ZERO
    };
    let timeout = Duration::from_millis(node.args.request_timeout_ms);
    let mut batch: Vec<Update> = Vec::new();
    // The head of the queue, taken out but not yet due.
    let mut next: Option<Queued> = None;
    loop {
        if batch.is_empty() {
            let head = match next.take() {
                Some(q) => q,
                None => match rx.recv().await {
                    Some(q) => q,
                    None => return,
                },
            };
            let (at, u) = head;
            tokio::time::sleep_until((at + delay).into()).await;
            batch.push(u);
        }
        // Everything else already due goes in the same batch; the first update not
        // due yet waits for the next batch (waiting for it here would hold back the
        // ones already due for as long as updates keep coming).
        while next.is_none() && batch.len() < 512 {
            match rx.try_recv() {
                Ok((at, u)) if at + delay <= Instant::now() => batch.push(u),
                Ok(q) => next = Some(q),
                Err(_) => break,
            }
        }
        let body = Batch {
            from: node.name.clone(),
            updates: batch.clone(),
        };
        let sent = node
            .http
            .post(&url)
            .json(&body)
            .timeout(timeout)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => batch.clear(),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn replicate(
    State(node): State<Arc<Node>>,
    Json(batch): Json<Batch>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    for u in batch.updates {
        node.receive(u)
            .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    }
    Ok(Json(serde_json::json!({})))
}

/// The peer routes.
pub fn routes() -> Router<Arc<Node>> {
    Router::new().route("/ml/replicate", post(replicate))
}

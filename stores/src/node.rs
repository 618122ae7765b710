//! A node's shared state and its calls to replicas (itself or peers over HTTP).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::config::Args;
use crate::ring::Ring;
use crate::storage::Storage;
use crate::version::Version;

/// Why a call to a replica failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The peer is not in this node's `--peer` list.
    #[error("unknown node {0}")]
    Unknown(String),
    /// The request failed, timed out, or the peer answered an error.
    #[error("peer {node}: {msg}")]
    Failed {
        /// The peer.
        node: String,
        /// What happened.
        msg: String,
    },
    /// The local log failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
}

/// Body of `/internal/put`: versions for a replica (or a fallback holding a hint).
#[derive(Serialize, Deserialize, Debug)]
pub struct PutRequest {
    /// The sending node.
    pub from: String,
    /// The key.
    pub key: String,
    /// The versions to merge.
    pub versions: Vec<Version>,
    /// Set when the receiver is a sloppy-quorum fallback for this node.
    pub hint_for: Option<String>,
}

/// Body of `/internal/get`.
#[derive(Serialize, Deserialize, Debug)]
pub struct GetRequest {
    /// The sending node.
    pub from: String,
    /// The key.
    pub key: String,
}

/// Answer of `/internal/get`.
#[derive(Serialize, Deserialize, Debug)]
pub struct GetResponse {
    /// The versions the replica holds.
    pub versions: Vec<Version>,
}

/// One node: configuration, ring, local storage and a client for its peers.
pub struct Node {
    /// This node's name.
    pub name: String,
    /// The command line.
    pub args: Args,
    /// The ring of all members.
    pub ring: Ring,
    /// The local replica state.
    pub storage: Storage,
    /// This incarnation as a writer (dots, versions it coordinated).
    pub actor: Actor,
    peers: BTreeMap<String, String>,
    http: reqwest::Client,
}

/// Milliseconds since the epoch by this node's wall clock (libfaketime can skew it).
pub fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Node {
    /// Builds the node state.
    pub fn new(args: Args, storage: Storage) -> anyhow::Result<Arc<Node>> {
        let peers = args.peer_map();
        let ring = Ring::new(peers.keys().cloned().chain([args.node.clone()]));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(args.request_timeout_ms))
            .connect_timeout(Duration::from_millis(args.request_timeout_ms))
            .build()?;
        let actor = Actor::new(&args.node);
        tracing::info!(actor = %actor.id, "this incarnation's actor id");
        Ok(Arc::new(Node {
            name: args.node.clone(),
            args,
            ring,
            storage,
            actor,
            peers,
            http,
        }))
    }

    /// The per-request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.args.request_timeout_ms)
    }

    async fn post<B: Serialize, R: for<'de> Deserialize<'de>>(
        &self,
        peer: &str,
        path: &str,
        body: &B,
    ) -> Result<R, PeerError> {
        let addr = self
            .peers
            .get(peer)
            .ok_or_else(|| PeerError::Unknown(peer.into()))?;
        let url = if addr.starts_with("http://") {
            format!("{addr}{path}")
        } else {
            format!("http://{addr}{path}")
        };
        let fail = |msg: String| PeerError::Failed {
            node: peer.to_string(),
            msg,
        };
        let resp = self
            .http
            .post(url)
            .json(body)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(fail(format!("{status}: {text}")));
        }
        resp.json::<R>().await.map_err(|e| fail(e.to_string()))
    }

    /// Sends versions to a replica (applied locally when `target` is this node). With
    /// `hint_for`, the target is a fallback that also keeps a hint for that node.
    pub async fn replica_put(
        &self,
        target: &str,
        key: &str,
        versions: &[Version],
        hint_for: Option<&str>,
    ) -> Result<(), PeerError> {
        if target == self.name {
            return self.accept_put(key, versions, hint_for);
        }
        if self.args.replication_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.args.replication_delay_ms)).await;
        }
        let body = PutRequest {
            from: self.name.clone(),
            key: key.into(),
            versions: versions.to_vec(),
            hint_for: hint_for.map(String::from),
        };
        let _: serde_json::Value = self.post(target, "/internal/put", &body).await?;
        Ok(())
    }

    /// Applies a replica write arriving at this node.
    pub fn accept_put(
        &self,
        key: &str,
        versions: &[Version],
        hint_for: Option<&str>,
    ) -> Result<(), PeerError> {
        if self.args.fsync == crate::config::Fsync::Always {
            // An fsync blocks: let the runtime move other tasks off this worker.
            tokio::task::block_in_place(|| self.storage.apply(key, versions))?;
        } else {
            self.storage.apply(key, versions)?;
        }
        if let Some(t) = hint_for.filter(|t| *t != self.name) {
            self.storage.add_hint(t, key, versions)?;
        }
        Ok(())
    }

    /// Reads a replica's versions of `key`.
    pub async fn replica_get(&self, target: &str, key: &str) -> Result<Vec<Version>, PeerError> {
        if target == self.name {
            return Ok(self.storage.get(key));
        }
        let body = GetRequest {
            from: self.name.clone(),
            key: key.into(),
        };
        let r: GetResponse = self.post(target, "/internal/get", &body).await?;
        Ok(r.versions)
    }

    /// Generic peer call for the anti-entropy exchange.
    pub async fn call<B: Serialize, R: for<'de> Deserialize<'de>>(
        &self,
        peer: &str,
        path: &str,
        body: &B,
    ) -> Result<R, PeerError> {
        self.post(peer, path, body).await
    }
}

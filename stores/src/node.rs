//! A node's shared state and its calls to replicas: itself directly, peers over their
//! peer streams (`link`), and the anti-entropy exchange over HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::config::Args;
use crate::link::Link;
use crate::ring::Ring;
use crate::storage::Storage;
use crate::version::Version;
use crate::wire::{Reply, Request};

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
    links: BTreeMap<String, Link>,
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
        let links = peers
            .iter()
            .map(|(name, addr)| (name.clone(), Link::new(name, addr)))
            .collect();
        let actor = Actor::new(&args.node);
        tracing::info!(actor = %actor.id, "this incarnation's actor id");
        Ok(Arc::new(Node {
            name: args.node.clone(),
            args,
            ring,
            storage,
            actor,
            peers,
            links,
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

    /// Sends `req` over the peer stream to `peer` and waits (bounded by the request
    /// timeout) for its reply.
    async fn stream_call(&self, peer: &str, req: Request) -> Result<Reply, PeerError> {
        let link = self
            .links
            .get(peer)
            .ok_or_else(|| PeerError::Unknown(peer.into()))?;
        let deadline = tokio::time::Instant::now() + self.timeout();
        match link.call(&req, deadline).await {
            Ok(Reply::Failed { error }) | Err(error) => Err(PeerError::Failed {
                node: peer.to_string(),
                msg: error,
            }),
            Ok(reply) => Ok(reply),
        }
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
            return self.accept_put(key, versions, hint_for).await;
        }
        if self.args.replication_delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.args.replication_delay_ms)).await;
        }
        let req = Request::Put {
            from: self.name.clone(),
            key: key.into(),
            versions: versions.to_vec(),
            hint_for: hint_for.map(String::from),
        };
        match self.stream_call(target, req).await? {
            Reply::Stored => Ok(()),
            other => Err(PeerError::Failed {
                node: target.into(),
                msg: format!("unexpected reply to a put: {other:?}"),
            }),
        }
    }

    /// Applies a replica write arriving at this node; returns once it is durable.
    pub async fn accept_put(
        &self,
        key: &str,
        versions: &[Version],
        hint_for: Option<&str>,
    ) -> Result<(), PeerError> {
        self.storage.apply(key, versions).await?;
        if let Some(t) = hint_for.filter(|t| *t != self.name) {
            self.storage.add_hint(t, key, versions).await?;
        }
        Ok(())
    }

    /// Reads a replica's versions of `key`.
    pub async fn replica_get(&self, target: &str, key: &str) -> Result<Vec<Version>, PeerError> {
        if target == self.name {
            return Ok(self.storage.get(key));
        }
        let req = Request::Get {
            from: self.name.clone(),
            key: key.into(),
        };
        match self.stream_call(target, req).await? {
            Reply::Versions { versions } => Ok(versions),
            other => Err(PeerError::Failed {
                node: target.into(),
                msg: format!("unexpected reply to a get: {other:?}"),
            }),
        }
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

//! Anti-entropy: each node periodically compares, with one peer at a time, a Merkle
//! tree of the keys both replicate, then swaps and merges the differing buckets.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::merkle::{bucket_of, digest, Tree};
use crate::node::{Node, PeerError};
use crate::storage::StorageError;
use crate::version::Version;

/// Body of `/internal/merkle`: "your tree of the keys you and I both replicate".
#[derive(Serialize, Deserialize, Debug)]
pub struct TreeRequest {
    /// The asking node.
    pub from: String,
}

/// Answer of `/internal/merkle`.
#[derive(Serialize, Deserialize, Debug)]
pub struct TreeResponse {
    /// The answering node's tree.
    pub tree: Tree,
}

/// Body of `/internal/buckets`: the asker's entries in the differing buckets.
#[derive(Serialize, Deserialize, Debug)]
pub struct BucketsRequest {
    /// The asking node.
    pub from: String,
    /// Buckets that differ.
    pub buckets: Vec<usize>,
    /// The asker's keys in those buckets with their versions.
    pub entries: Vec<(String, Vec<Version>)>,
}

/// Answer of `/internal/buckets`: the answerer's entries in those buckets.
#[derive(Serialize, Deserialize, Debug)]
pub struct BucketsResponse {
    /// Keys with versions.
    pub entries: Vec<(String, Vec<Version>)>,
}

/// This node's keys that `peer` also replicates (both in the key's preference list).
fn shared_entries(node: &Node, peer: &str) -> Vec<(String, Vec<Version>)> {
    node.storage
        .snapshot()
        .into_iter()
        .filter(|(k, _)| {
            let p = node.ring.preference_list(k, node.args.n);
            p.iter().any(|n| n == peer) && p.contains(&node.name)
        })
        .collect()
}

/// The Merkle tree of the keys this node shares with `peer`.
pub fn tree_for(node: &Node, peer: &str) -> TreeResponse {
    let entries = shared_entries(node, peer);
    TreeResponse {
        tree: Tree::build(entries.iter().map(|(k, v)| (k.as_str(), digest(v)))),
    }
}

fn in_buckets(
    entries: Vec<(String, Vec<Version>)>,
    buckets: &[usize],
) -> Vec<(String, Vec<Version>)> {
    entries
        .into_iter()
        .filter(|(k, _)| buckets.contains(&bucket_of(k)))
        .collect()
}

/// Answers a bucket exchange: merges the asker's entries, returns ours.
pub async fn exchange(node: &Node, req: BucketsRequest) -> Result<BucketsResponse, StorageError> {
    let ours = in_buckets(shared_entries(node, &req.from), &req.buckets);
    let mine = req.entries.iter().filter(|(k, _)| {
        node.ring
            .preference_list(k, node.args.n)
            .contains(&node.name)
    });
    node.storage
        .apply_many(mine.map(|(k, vs)| (k.as_str(), vs.as_slice())))
        .await?;
    Ok(BucketsResponse { entries: ours })
}

/// One anti-entropy round with `peer`; returns how many buckets differed.
pub async fn round(node: &Arc<Node>, peer: &str) -> Result<usize, PeerError> {
    let theirs: TreeResponse = node
        .call(
            peer,
            "/internal/merkle",
            &TreeRequest {
                from: node.name.clone(),
            },
        )
        .await?;
    let ours = tree_for(node, peer);
    if ours.tree.root() == theirs.tree.root() {
        return Ok(0);
    }
    let buckets = ours.tree.diff(&theirs.tree);
    if buckets.is_empty() {
        return Ok(0);
    }
    let entries = in_buckets(shared_entries(node, peer), &buckets);
    let req = BucketsRequest {
        from: node.name.clone(),
        buckets: buckets.clone(),
        entries,
    };
    let resp: BucketsResponse = node.call(peer, "/internal/buckets", &req).await?;
    node.storage
        .apply_many(
            resp.entries
                .iter()
                .map(|(k, vs)| (k.as_str(), vs.as_slice())),
        )
        .await?;
    tracing::debug!(%peer, buckets = buckets.len(), "anti-entropy repaired buckets");
    Ok(buckets.len())
}

/// Runs rounds forever, one peer per interval, cycling through the peers.
pub async fn run(node: Arc<Node>, interval: Duration) {
    let peers: Vec<String> = node
        .ring
        .nodes()
        .iter()
        .filter(|n| **n != node.name)
        .cloned()
        .collect();
    if peers.is_empty() {
        return;
    }
    let mut i = 0;
    loop {
        tokio::time::sleep(interval).await;
        let peer = &peers[i % peers.len()];
        i += 1;
        if let Err(e) = round(&node, peer).await {
            tracing::debug!(%peer, error = %e, "anti-entropy round failed");
        }
    }
}

//! Quorum reads and writes coordinated by any node: preference lists, sloppy-quorum
//! fallbacks, read repair, and hints for replicas a write did not reach.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::{timeout_at, Instant};

use crate::config::Conflict;
use crate::node::{wall_clock_ms, Node, PeerError};
use crate::version::{join, merge, Version, VersionVector};

/// Why a coordinated operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QuorumError {
    /// Fewer than R replicas answered a read in time (nothing changed).
    #[error("read quorum not reached: {got} of {need} replicas answered")]
    Read {
        /// Answers received.
        got: usize,
        /// R.
        need: usize,
    },
    /// Fewer than W replicas acknowledged a write in time; some may have applied it.
    #[error("quorum not reached: {got} of {need} replicas acknowledged")]
    Write {
        /// Acks received.
        got: usize,
        /// W.
        need: usize,
    },
}

/// A quorum read's outcome.
#[derive(Debug, Clone)]
pub struct ReadResult {
    /// The merged versions (several = siblings).
    pub versions: Vec<Version>,
    /// The join of their vectors: the context a later write should carry.
    pub context: VersionVector,
}

/// Nodes to ask for `key`, in order: the preference list, then (sloppy quorum) fallbacks.
fn candidates(node: &Node, key: &str) -> (Vec<String>, Vec<String>) {
    let mut walk = node.ring.walk(key);
    let fallbacks = if node.args.sloppy_quorum.on() {
        walk.split_off(node.args.n)
    } else {
        walk.truncate(node.args.n);
        Vec::new()
    };
    (walk, fallbacks)
}

/// Reads `key` from R replicas, merges what they hold, and (read repair) pushes the
/// merge to every asked replica that answered with less.
pub async fn read(node: &Arc<Node>, key: &str) -> Result<ReadResult, QuorumError> {
    let (primary, mut fallbacks) = candidates(node, key);
    let need = node.args.r;
    let deadline = Instant::now() + node.timeout();
    let mut tasks: JoinSet<(String, Result<Vec<Version>, PeerError>)> = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<_>, target: String| {
        let node = node.clone();
        let key = key.to_string();
        tasks.spawn(async move {
            let r = node.replica_get(&target, &key).await;
            (target, r)
        });
    };
    for t in primary {
        spawn(&mut tasks, t);
    }
    let mut answers: Vec<(String, Vec<Version>)> = Vec::new();
    while answers.len() < need {
        match timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(Ok((target, Ok(vs))))) => answers.push((target, vs)),
            Ok(Some(Ok((target, Err(e))))) => {
                tracing::debug!(%target, error = %e, "replica read failed");
                if !fallbacks.is_empty() {
                    spawn(&mut tasks, fallbacks.remove(0));
                }
            }
            Ok(Some(Err(e))) => tracing::warn!(error = %e, "read task failed"),
            Ok(None) | Err(_) => break,
        }
    }
    if answers.len() < need {
        return Err(QuorumError::Read {
            got: answers.len(),
            need,
        });
    }
    let mode = node.args.conflict;
    let merged = answers
        .iter()
        .fold(Vec::new(), |acc, (_, vs)| merge(&acc, vs, mode));
    if node.args.read_repair.on() {
        let node = node.clone();
        let key = key.to_string();
        let merged = merged.clone();
        tokio::spawn(async move {
            // Late answers (until the deadline) are repaired too.
            while let Ok(Some(Ok((t, Ok(vs))))) = timeout_at(deadline, tasks.join_next()).await {
                answers.push((t, vs));
            }
            for (target, vs) in answers {
                if merge(&vs, &merged, mode) != vs {
                    tracing::debug!(%target, %key, "read repair");
                    if let Err(e) = node.replica_put(&target, &key, &merged, None).await {
                        tracing::debug!(%target, error = %e, "read repair failed");
                    }
                }
            }
        });
    }
    let context = join(&merged);
    Ok(ReadResult {
        versions: merged,
        context,
    })
}

/// Writes `value` to `key`: a new version with a fresh dot of this coordinator and
/// `context` (what the client saw), sent to the preference list with this node's
/// earlier uncovered versions of the key; returns once W
/// replicas acknowledged. Replicas that fail get a hint (hinted handoff), held by a
/// fallback node (sloppy quorum, counts toward W) or by this coordinator (does not).
pub async fn write(
    node: &Arc<Node>,
    key: &str,
    value: serde_json::Value,
    context: Option<VersionVector>,
) -> Result<(), QuorumError> {
    let ctx = context.unwrap_or_default();
    let versions = node
        .actor
        .issue(key, ctx, value, wall_clock_ms(), node.args.conflict);
    put_versions(node, key, versions).await
}

/// Replicates already-built versions of `key` to its replicas with quorum W.
pub async fn put_versions(
    node: &Arc<Node>,
    key: &str,
    versions: Vec<Version>,
) -> Result<(), QuorumError> {
    let need = node.args.w;
    let (tx, rx) = oneshot::channel::<usize>();
    let acked = Arc::new(AtomicUsize::new(0));
    let acked2 = acked.clone();
    let deadline = Instant::now()
        + node.timeout()
        + std::time::Duration::from_millis(node.args.replication_delay_ms);
    let node2 = node.clone();
    let key = key.to_string();
    // The replication runs to completion in its own task (storing hints for replicas
    // that fail even after the client got its answer).
    tokio::spawn(async move {
        let node = node2;
        let (primary, mut fallbacks) = candidates(&node, &key);
        let mut tasks: JoinSet<(String, Option<String>, Result<(), PeerError>)> = JoinSet::new();
        let spawn = |tasks: &mut JoinSet<_>, target: String, hint_for: Option<String>| {
            let node = node.clone();
            let key = key.clone();
            let versions = versions.clone();
            tasks.spawn(async move {
                let r = node
                    .replica_put(&target, &key, &versions, hint_for.as_deref())
                    .await;
                (target, hint_for, r)
            });
        };
        for t in primary {
            spawn(&mut tasks, t, None);
        }
        let mut acks = 0;
        let mut tx = Some(tx);
        let mut failed: BTreeSet<String> = BTreeSet::new();
        while let Some(joined) = tasks.join_next().await {
            let Ok((target, hint_for, result)) = joined else {
                continue;
            };
            match result {
                Ok(()) => {
                    acks += 1;
                    acked2.store(acks, Ordering::SeqCst);
                    if acks >= need {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(acks);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(%target, error = %e, "replica write failed");
                    let intended = hint_for.unwrap_or(target);
                    if node.args.sloppy_quorum.on() && !fallbacks.is_empty() {
                        spawn(&mut tasks, fallbacks.remove(0), Some(intended));
                    } else {
                        failed.insert(intended);
                    }
                }
            }
        }
        if let Some(tx) = tx.take() {
            let _ = tx.send(acks);
        }
        if node.args.hinted_handoff.on() {
            for target in failed.iter().filter(|t| **t != node.name) {
                if let Err(e) = node.storage.add_hint(target, &key, &versions).await {
                    tracing::warn!(error = %e, "could not store hint");
                }
            }
        }
    });
    match timeout_at(deadline, rx).await {
        Ok(Ok(acks)) if acks >= need => Ok(()),
        Ok(Ok(acks)) => Err(QuorumError::Write { got: acks, need }),
        _ => Err(QuorumError::Write {
            got: acked.load(Ordering::SeqCst),
            need,
        }),
    }
}

/// Values of versions, with LWW mode guaranteeing at most one.
pub fn values(versions: &[Version]) -> Vec<serde_json::Value> {
    versions.iter().map(|v| v.value.clone()).collect()
}

/// The conflict mode's name, for `/health`.
pub fn mode_name(c: Conflict) -> &'static str {
    match c {
        Conflict::Siblings => "siblings",
        Conflict::Lww => "lww",
    }
}

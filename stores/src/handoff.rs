//! Hinted handoff: delivers the hints this node holds to their intended replicas once
//! they answer again.

use std::sync::Arc;
use std::time::Duration;

use crate::node::Node;

/// Tries every pending hint once (skipping a target's remaining hints after one fails); returns how many were delivered.
pub async fn deliver(node: &Arc<Node>) -> usize {
    let mut delivered = 0;
    let mut unreachable: Vec<String> = Vec::new();
    for (id, hint) in node.storage.hints() {
        if unreachable.contains(&hint.target) {
            continue;
        }
        match node
            .replica_put(&hint.target, &hint.key, &hint.versions, None)
            .await
        {
            Ok(()) => {
                if let Err(e) = node.storage.remove_hint(id) {
                    tracing::warn!(error = %e, "could not log a delivered hint");
                }
                delivered += 1;
            }
            Err(e) => {
                tracing::debug!(target_node = %hint.target, error = %e, "hint not delivered yet");
                unreachable.push(hint.target.clone());
            }
        }
    }
    if delivered > 0 {
        tracing::info!(delivered, "hinted handoff delivered hints");
    }
    delivered
}

/// Delivers hints forever, every `interval`.
pub async fn run(node: Arc<Node>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        deliver(&node).await;
    }
}

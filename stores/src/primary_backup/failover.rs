//! Failover: a backup that has not heard from its primary for `--failover-timeout-ms`
//! asks every peer for its status (`GET /pb/status`). If a peer is a primary of an
//! epoch at least its own, it follows that one. Otherwise the most up-to-date node
//! among itself and the backups that answered (highest epoch of last entry, then
//! highest last index, then lowest name) is promoted — by itself, in an epoch above
//! every epoch it heard of. With fencing on, a promotion needs a majority (itself
//! included) that has not heard from the primary for half the timeout either, so a
//! backup cut off alone never promotes itself; with fencing off it needs nobody.

use std::sync::Arc;
use std::time::Duration;

use super::replicate::Status;
use super::{Node, Role};

/// How often a backup looks at its timer.
const TICK: Duration = Duration::from_millis(100);

/// Whom to promote among `candidates` (status of each node that may be promoted):
/// the highest (last entry's epoch, last index), ties to the lowest name.
pub fn most_up_to_date(candidates: &[Status]) -> Option<&Status> {
    candidates.iter().max_by(|a, b| {
        (a.last_epoch, a.last_index)
            .cmp(&(b.last_epoch, b.last_index))
            .then_with(|| b.node.cmp(&a.node))
    })
}

/// What a backup whose primary went quiet decides, from its own status and what its
/// peers answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Follow this node: it is a primary already.
    Follow(String),
    /// Promote itself into this epoch.
    Promote(u64),
    /// Wait: someone else should be promoted, or too few agree the primary is gone.
    Wait,
}

/// The decision (pure, for tests).
pub fn decide(
    me: &Status,
    answers: &[Status],
    majority: usize,
    fencing: bool,
    timeout: Duration,
) -> Decision {
    if let Some(p) = answers
        .iter()
        .find(|s| s.role == "primary" && (!fencing || s.epoch >= me.epoch))
    {
        return Decision::Follow(p.node.clone());
    }
    let half = (timeout / 2).as_millis() as u64;
    let mut candidates: Vec<Status> = answers
        .iter()
        .filter(|s| s.role == "backup" && (!fencing || s.heard_ms >= half || s.primary.is_none()))
        .cloned()
        .collect();
    if fencing && candidates.len() + 1 < majority {
        return Decision::Wait;
    }
    candidates.push(me.clone());
    let best = most_up_to_date(&candidates).expect("it holds me");
    if best.node != me.node {
        return Decision::Wait;
    }
    let top = answers
        .iter()
        .map(|s| s.epoch)
        .chain([me.epoch])
        .max()
        .unwrap_or(0);
    Decision::Promote(top + 1)
}

async fn ask(node: &Node, addr: &str) -> Option<Status> {
    let r = node
        .http
        .get(format!("http://{addr}/pb/status"))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .ok()?;
    r.json().await.ok()
}

/// The failover loop; runs for the node's life.
pub async fn watch(node: Arc<Node>) {
    let Some(timeout) = node.failover_timeout() else {
        return;
    };
    loop {
        tokio::time::sleep(TICK).await;
        let quiet = {
            let st = node.lock();
            st.role == Role::Backup && st.last_heard.elapsed() > timeout
        };
        if !quiet {
            continue;
        }
        let me = super::replicate::status(&node);
        let mut answers = Vec::new();
        for addr in node.peers.values() {
            if let Some(s) = ask(&node, addr).await {
                answers.push(s);
            }
        }
        let decision = decide(&me, &answers, node.majority(), node.fencing(), timeout);
        let mut st = node.lock();
        if st.role != Role::Backup || st.last_heard.elapsed() <= timeout || st.epoch != me.epoch {
            continue; // something arrived meanwhile
        }
        match decision {
            Decision::Follow(p) => {
                tracing::info!(primary = %p, "following the primary a peer reports");
                let epoch = st.epoch;
                if let Err(e) = node.become_backup(&mut st, epoch, Some(p)) {
                    tracing::error!(error = %e, "recording the primary failed");
                }
            }
            Decision::Promote(epoch) => {
                tracing::warn!(epoch, "primary silent: promoting myself");
                if let Err(e) = node.become_primary(&mut st, epoch) {
                    tracing::error!(error = %e, "recording the promotion failed");
                }
            }
            Decision::Wait => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(node: &str, role: &str, epoch: u64, last: (u64, u64), heard_ms: u64) -> Status {
        Status {
            node: node.into(),
            role: role.into(),
            epoch,
            primary: Some("n1".into()),
            last_index: last.1,
            last_epoch: last.0,
            heard_ms,
        }
    }

    const T: Duration = Duration::from_millis(1000);

    #[test]
    fn the_most_up_to_date_backup_is_promoted_above_every_epoch_seen() {
        let me = s("n2", "backup", 1, (1, 9), 2000);
        let other = s("n3", "backup", 1, (1, 7), 2000);
        assert_eq!(
            decide(&me, std::slice::from_ref(&other), 2, true, T),
            Decision::Promote(2)
        );
        let ahead = s("n3", "backup", 1, (1, 10), 2000);
        assert_eq!(decide(&me, &[ahead], 2, true, T), Decision::Wait);
        // Equal logs: the lower name.
        let equal = s("n3", "backup", 1, (1, 9), 2000);
        assert_eq!(decide(&me, &[equal], 2, true, T), Decision::Promote(2));
    }

    #[test]
    fn a_later_epoch_beats_a_longer_log() {
        let me = s("n3", "backup", 2, (2, 5), 2000);
        let other = s("n2", "backup", 2, (1, 9), 2000);
        assert_eq!(decide(&me, &[other], 2, true, T), Decision::Promote(3));
    }

    #[test]
    fn with_fencing_a_lone_backup_waits_and_without_it_promotes_itself() {
        let me = s("n2", "backup", 1, (1, 9), 2000);
        assert_eq!(decide(&me, &[], 2, true, T), Decision::Wait);
        assert_eq!(decide(&me, &[], 2, false, T), Decision::Promote(2));
        // A peer that still hears the primary does not count toward the majority.
        let hears = s("n3", "backup", 1, (1, 1), 50);
        assert_eq!(decide(&me, &[hears], 2, true, T), Decision::Wait);
    }

    #[test]
    fn a_live_primary_of_the_current_epoch_is_followed() {
        let me = s("n2", "backup", 1, (1, 9), 2000);
        let p = s("n3", "primary", 2, (2, 3), 0);
        assert_eq!(decide(&me, &[p], 2, true, T), Decision::Follow("n3".into()));
        let stale = s("n1", "primary", 0, (0, 3), 0);
        // An older epoch's primary is not followed, nor does it count as agreeing.
        assert_eq!(decide(&me, &[stale], 2, true, T), Decision::Wait);
    }
}

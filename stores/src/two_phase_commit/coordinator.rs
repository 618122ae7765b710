//! Running a transaction as its coordinator (the node the client asked), finishing the
//! commits it decided, and the test crash point.
//!
//! 1. The micro-ops are grouped by owner ([`super::shard`]); the txn is *in flight*.
//! 2. Prepare: every participant at once. Any no vote, error or timeout decides abort:
//!    the participants are told (once; one that misses it asks and hears abort) and
//!    the client gets a definite failure — no commit was ever decided.
//! 3. Every vote yes: the decision. With `--prepare-log on` the `decided` record is
//!    written (and fsynced) first; the txn moves from in flight to decided.
//! 4. Commit: every participant is told, retried every 100 ms until it acknowledges
//!    (a background task that outlives the client's answer; after all acknowledged,
//!    an `ended` record). The client gets its reads once every participant
//!    acknowledged or after `--request-timeout-ms`, whichever is first — the decision
//!    is taken either way.
//!
//! `--crash-mid-commit P` (tests): in step 4 of a txn that writes and has two or more
//! participants, the first participant (by name) is told alone and, once it
//! acknowledged, the node crashes with probability P: it `exec`s its own command line
//! (the same binary and arguments, the same PID — so a driver supervising the process
//! still has it), which drops every bit of memory, exactly as `kill -9` and an
//! immediate restart would. With the decision log it finishes the commit on restart;
//! without it the other participants ask, hear abort, and the txn is half committed.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use serde_json::Value;

use super::log::Record;
use super::participant::{CommitAnswer, Mop};
use super::peer::{self, Prepare, Vote};
use super::Node;

/// Why a txn did not commit (or may not have).
#[derive(Debug, thiserror::Error)]
pub enum TxnError {
    /// The micro-ops are wrong: nothing ran.
    #[error("{0}")]
    BadRequest(String),
    /// Aborted: no participant applied anything, none will.
    #[error("aborted: {0}")]
    Aborted(String),
    /// The decision record could not be written: the outcome is unknown.
    #[error("{0}")]
    Indefinite(String),
}

/// Runs `mops` as one txn: each micro-op's result, in order.
pub async fn transact(node: &Arc<Node>, mops: Vec<Mop>) -> Result<Vec<Value>, TxnError> {
    let txn = node.new_txn();
    let groups = node.shards.group(mops.iter().map(|m| m.key.as_str()));
    let participants: Vec<String> = groups.keys().cloned().collect();
    node.lock().decisions.in_flight.insert(txn.clone());

    // Phase 1: prepare everywhere at once.
    let mut prepares = tokio::task::JoinSet::new();
    for (peer, idx) in &groups {
        let req = Prepare {
            txn: txn.clone(),
            coordinator: node.name.clone(),
            mops: idx.iter().map(|&i| mops[i].clone()).collect(),
        };
        let (node, peer, idx) = (node.clone(), peer.clone(), idx.clone());
        prepares.spawn(async move {
            let vote = peer::prepare_at(&node, &peer, &req).await;
            (peer, idx, vote)
        });
    }
    let mut results = vec![Value::Null; mops.len()];
    let mut refusal: Option<(String, bool)> = None;
    let mut writers = 0;
    while let Some(done) = prepares.join_next().await {
        let (peer, idx, vote) = match done {
            Ok(x) => x,
            Err(e) => {
                refusal.get_or_insert((format!("prepare task: {e}"), false));
                continue;
            }
        };
        match vote {
            Vote::Yes { reads, wrote } if reads.len() == idx.len() => {
                writers += usize::from(wrote);
                for (i, r) in idx.into_iter().zip(reads) {
                    results[i] = r;
                }
            }
            Vote::Yes { .. } => {
                refusal.get_or_insert((format!("{peer}: a vote with the wrong reads"), false));
            }
            Vote::No {
                reason,
                bad_request,
            } => {
                if refusal.as_ref().is_none_or(|(_, bad)| !bad) {
                    refusal = Some((format!("{peer}: {reason}"), bad_request));
                }
            }
        }
    }
    if let Some((reason, bad_request)) = refusal {
        node.lock().decisions.in_flight.remove(&txn);
        for peer in &participants {
            let (node, peer, txn) = (node.clone(), peer.clone(), txn.clone());
            tokio::spawn(async move { peer::abort_at(&node, &peer, &txn).await });
        }
        return Err(if bad_request {
            TxnError::BadRequest(reason)
        } else {
            TxnError::Aborted(reason)
        });
    }

    // The decision: durable first, with the prepare log.
    {
        let mut st = node.lock();
        if node.prepare_log() {
            let r = Record::Decided {
                txn: txn.clone(),
                participants: participants.clone(),
            };
            if let Err(e) = st.log.append(&r) {
                // Left in flight: participants asking hear "pending" (blocked) until a
                // restart, which finds the record or presumes abort.
                tracing::error!(error = %e, "decision record not written");
                return Err(TxnError::Indefinite(format!("decision record: {e}")));
            }
        }
        st.decisions.in_flight.remove(&txn);
        st.decisions.decided.insert(txn.clone());
        st.decisions
            .unended
            .insert(txn.clone(), participants.clone());
    }

    // Phase 2: commit.
    let crash = node.args.crash_mid_commit;
    let mut rest = participants.clone();
    if crash > 0.0 && writers > 0 && participants.len() >= 2 {
        let first = rest.remove(0);
        deliver(node, &first, &txn).await;
        if rand::thread_rng().gen_bool(crash) {
            crash_and_restart(&txn, &first);
        }
    }
    let mut finishing = tokio::spawn(finish(node.clone(), txn, rest));
    let _ = tokio::time::timeout(node.request_timeout(), &mut finishing).await;
    Ok(results)
}

/// Tells `peer` to commit `txn` until it acknowledges.
async fn deliver(node: &Node, peer: &str, txn: &str) {
    loop {
        match peer::commit_at(node, peer, txn).await {
            Ok(CommitAnswer::Committed) => return,
            Ok(CommitAnswer::Unknown) => {
                // Its prepare was lost (a crash without a prepare record): the commit
                // cannot be applied there.
                tracing::warn!(txn, peer, "a participant does not know the txn it prepared");
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, txn, peer, "commit not delivered; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Delivers the commit of `txn` to `participants`, then ends it (with the prepare
/// log, an `ended` record).
pub async fn finish(node: Arc<Node>, txn: String, participants: Vec<String>) {
    let mut all = tokio::task::JoinSet::new();
    for peer in participants {
        let (node, txn) = (node.clone(), txn.clone());
        all.spawn(async move { deliver(&node, &peer, &txn).await });
    }
    while all.join_next().await.is_some() {}
    let mut st = node.lock();
    if node.prepare_log() {
        if let Err(e) = st.log.append(&Record::Ended { txn: txn.clone() }) {
            tracing::warn!(error = %e, "ended record not written");
        }
    }
    st.decisions.unended.remove(&txn);
}

/// The crash point: replaces this process by a fresh start of the same command line.
fn crash_and_restart(txn: &str, told: &str) -> ! {
    use std::os::unix::process::CommandExt;
    tracing::warn!(
        txn,
        told,
        "crash point: crashing mid-commit (--crash-mid-commit) and restarting"
    );
    let err = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe)
            .args(std::env::args_os().skip(1))
            .exec(),
        Err(e) => e,
    };
    tracing::error!(error = %err, "crash point: exec failed; exiting");
    std::process::exit(70)
}

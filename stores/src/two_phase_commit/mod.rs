//! `--mode two-phase-commit`: keys hash-sharded over the nodes ([`shard`]), one owner
//! per key; multi-key transactions (`POST /txn`) run by two-phase commit with the node
//! the client asked as coordinator ([`coordinator`]): prepare (each participant locks
//! its keys, runs its micro-ops, stages the writes and votes), then commit or abort.
//!
//! With `--prepare-log on` (correct 2PC) a participant writes a durable prepare record
//! before its yes vote and the coordinator a durable decision record before it tells
//! anyone to commit; a crashed participant comes back holding its prepared txns'
//! locks, a crashed coordinator comes back finishing the commits it decided, and a
//! participant that waits too long asks the coordinator (presumed abort: a txn the
//! coordinator has no commit decision for and is not running is aborted) and, while it
//! cannot reach it, stays blocked. With `off` neither record is written: a crash
//! between the phases forgets the prepared txn or the decision, so a txn can commit on
//! some shards and not on others. Promises: stores/README.md.
//!
//! Modules: [`shard`] (key → owner), [`log`] (the durable log and its replay),
//! [`participant`] (locks and staged writes), [`coordinator`] (running a txn, finishing
//! decided commits, the crash point), [`peer`] (the peer protocol), [`client`]
//! (HTTP endpoints for clients).

pub mod client;
pub mod coordinator;
pub mod log;
pub mod participant;
pub mod peer;
pub mod shard;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use self::log::{Log, LogError, Record};
use self::participant::{locks_for, CommitAnswer, Mop, Participant};
use self::peer::{Decision, Vote};
use self::shard::Shards;
use crate::config::{Args, Fsync};

/// How long a prepare waits for locks held by other txns before voting no.
pub const LOCK_WAIT: Duration = Duration::from_millis(200);
/// How long a participant holds a prepared txn before it asks the coordinator.
pub const RESOLVE_AFTER: Duration = Duration::from_millis(500);

/// What a coordinator knows of the txns it runs.
#[derive(Debug, Default)]
pub struct Decisions {
    /// Started here, not decided yet.
    pub in_flight: BTreeSet<String>,
    /// Decided commit (from the log after a restart with `--prepare-log on`).
    pub decided: BTreeSet<String>,
    /// Decided, not every participant acknowledged yet: their participants.
    pub unended: Unended,
}

/// A node's state, behind one lock.
#[derive(Debug)]
pub struct State {
    /// As a participant.
    pub participant: Participant,
    /// As a coordinator.
    pub decisions: Decisions,
    /// The durable log.
    pub log: Log,
}

/// One two-phase-commit node.
#[derive(Debug)]
pub struct Node {
    /// `--node`.
    pub name: String,
    /// The command line.
    pub args: Args,
    /// Peer name → address.
    pub peers: BTreeMap<String, String>,
    /// Who owns which key.
    pub shards: Shards,
    /// This start's number (in every txn id it makes).
    pub incarnation: u64,
    state: Mutex<State>,
    /// Woken whenever locks are released.
    pub released: Notify,
    /// For peer requests.
    pub http: reqwest::Client,
    next_txn: AtomicU64,
}

impl Node {
    /// The state, locked.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether prepare records and the decision log are written.
    pub fn prepare_log(&self) -> bool {
        self.args.prepare_log.on()
    }

    /// The bound on one peer request.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.args.request_timeout_ms.max(1))
    }

    /// A new txn id: `NODE.INCARNATION.SEQ`.
    pub fn new_txn(&self) -> String {
        let seq = self.next_txn.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}.{}.{seq}", self.name, self.incarnation)
    }

    /// Participant: prepares `txn` — waits up to [`LOCK_WAIT`] for its locks, runs its
    /// micro-ops, writes the prepare record (with `--prepare-log on`) and votes.
    pub async fn prepare(&self, txn: &str, coordinator: &str, mops: &[Mop]) -> Vote {
        let locks = locks_for(mops);
        let deadline = tokio::time::Instant::now() + LOCK_WAIT;
        loop {
            let released = self.released.notified();
            {
                let mut st = self.lock();
                let p = &mut st.participant;
                if p.prepared.contains_key(txn) || p.committed.contains(txn) {
                    return Vote::No {
                        reason: "prepared twice".into(),
                        bad_request: false,
                    };
                }
                if p.can_lock(txn, &locks) {
                    let (reads, writes) = match p.execute(mops) {
                        Ok(x) => x,
                        Err(e) => {
                            return Vote::No {
                                reason: e.to_string(),
                                bad_request: true,
                            }
                        }
                    };
                    if self.prepare_log() {
                        let r = Record::Prepared {
                            txn: txn.to_string(),
                            coordinator: coordinator.to_string(),
                            locks: locks.clone(),
                            writes: writes.clone(),
                        };
                        if let Err(e) = st.log.append(&r) {
                            tracing::error!(error = %e, "prepare record not written");
                            return Vote::No {
                                reason: format!("prepare record not written: {e}"),
                                bad_request: false,
                            };
                        }
                    }
                    let wrote = !writes.is_empty();
                    st.participant.grant(txn, &locks);
                    st.participant.prepare(txn, coordinator, locks, writes);
                    return Vote::Yes { reads, wrote };
                }
            }
            if tokio::time::timeout_at(deadline, released).await.is_err() {
                return Vote::No {
                    reason: "locks held by another txn".into(),
                    bad_request: false,
                };
            }
        }
    }

    /// Participant: commits `txn` (its record first, then the writes are applied and
    /// the locks released).
    pub fn commit(&self, txn: &str) -> Result<CommitAnswer, LogError> {
        let mut st = self.lock();
        let writes = match st.participant.prepared.get(txn) {
            Some(p) => p.writes.clone(),
            None => return Ok(st.participant.commit(txn)),
        };
        if self.prepare_log() || !writes.is_empty() {
            st.log.append(&Record::Committed {
                txn: txn.to_string(),
                writes,
            })?;
        }
        let answer = st.participant.commit(txn);
        drop(st);
        self.released.notify_waiters();
        Ok(answer)
    }

    /// Participant: aborts `txn` if it is prepared here.
    pub fn abort(&self, txn: &str) {
        let mut st = self.lock();
        if st.participant.abort(txn) {
            if self.prepare_log() {
                if let Err(e) = st.log.append(&Record::Aborted {
                    txn: txn.to_string(),
                }) {
                    // A lost abort record only makes the txn in doubt after a restart;
                    // the coordinator then answers abort again.
                    tracing::warn!(error = %e, "abort record not written");
                }
            }
            drop(st);
            self.released.notify_waiters();
        }
    }

    /// Coordinator: the decision on `txn` (presumed abort).
    pub fn decision(&self, txn: &str) -> Decision {
        let st = self.lock();
        if st.decisions.decided.contains(txn) {
            Decision::Commit
        } else if st.decisions.in_flight.contains(txn) {
            Decision::Pending
        } else {
            Decision::Abort
        }
    }
}

/// Participant: every [`RESOLVE_AFTER`] / 2, asks the coordinators of txns prepared
/// longer than [`RESOLVE_AFTER`] for their decisions, and applies them (a coordinator
/// it cannot reach leaves the txn prepared, its locks held).
async fn resolve(node: Arc<Node>) {
    loop {
        tokio::time::sleep(RESOLVE_AFTER / 2).await;
        let old: Vec<(String, String)> = node
            .lock()
            .participant
            .prepared
            .iter()
            .filter(|(_, p)| p.since.elapsed() >= RESOLVE_AFTER)
            .map(|(t, p)| (t.clone(), p.coordinator.clone()))
            .collect();
        for (txn, coordinator) in old {
            match peer::decision_of(&node, &coordinator, &txn).await {
                Ok(Decision::Commit) => {
                    if let Err(e) = node.commit(&txn) {
                        tracing::error!(error = %e, txn, "commit record not written");
                    }
                }
                Ok(Decision::Abort) => node.abort(&txn),
                Ok(Decision::Pending) | Err(_) => {}
            }
        }
    }
}

/// Decided txns not every participant acknowledged yet, with their participants.
pub type Unended = BTreeMap<String, Vec<String>>;

/// Opens a node from its data dir (replaying the log, writing a boot record): the node
/// and the decided txns it still has to finish.
pub fn open(args: Args) -> anyhow::Result<(Arc<Node>, Unended)> {
    let (mut log, rec) = Log::open(&args.data_dir, args.fsync == Fsync::Always)
        .with_context(|| format!("opening data dir {}", args.data_dir.display()))?;
    let incarnation = rec.incarnation + 1;
    log.append(&Record::Boot { incarnation })
        .context("writing the boot record")?;
    let peers = args.peer_map();
    let shards = Shards::new(peers.keys().cloned().chain([args.node.clone()]));
    let unended = rec.unended.clone();
    let node = Arc::new(Node {
        name: args.node.clone(),
        peers,
        shards,
        incarnation,
        state: Mutex::new(State {
            participant: Participant::recovered(rec.values, rec.committed, rec.in_doubt),
            decisions: Decisions {
                in_flight: BTreeSet::new(),
                decided: rec.decided,
                unended: rec.unended,
            },
            log,
        }),
        released: Notify::new(),
        http: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(5))
            .no_proxy()
            .build()?,
        next_txn: AtomicU64::new(0),
        args,
    });
    Ok((node, unended))
}

/// Runs a two-phase-commit node until SIGTERM/SIGINT.
pub async fn run(
    args: Args,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let (node, unended) = open(args)?;
    tracing::info!(node = %node.name, listen = %node.args.listen, incarnation = node.incarnation,
        prepare_log = ?node.args.prepare_log, members = ?node.shards.members(),
        in_doubt = node.lock().participant.prepared.len(), unended = unended.len(),
        "faultline-store (two-phase-commit) up");
    for (txn, participants) in unended {
        tokio::spawn(coordinator::finish(node.clone(), txn, participants));
    }
    tokio::spawn(resolve(node.clone()));
    let app = client::routes()
        .merge(peer::routes())
        .with_state(node.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

#[cfg(test)]
mod tests;

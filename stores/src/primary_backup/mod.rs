//! `--mode primary-backup`: one primary takes every write, appends it to its durable
//! log and ships the log to the backups; `--replication` says when it answers
//! (`sync`: every backup has the entry, `semi-sync`: one has, `async`: only its own log
//! has), `--read-from` who serves reads, and a backup that stops hearing from the
//! primary for `--failover-timeout-ms` promotes the most up-to-date backup. With
//! `--fencing on` an old primary is fenced: epochs (a backup refuses a lower epoch's
//! entries, a primary that sees a higher epoch steps down), a lease (a primary serves
//! nothing unless a majority acknowledged it within half the failover timeout) and a
//! restart as a backup. `--fencing off` drops all three (the deliberately weak mode).
//!
//! Modules: [`log`] (the durable log), [`replicate`] (shipping the log; the backup's
//! side), [`failover`] (detection and promotion), [`client`] (the HTTP-KV endpoints
//! and forwarding to the node that serves an operation). Promises: stores/README.md.

pub mod client;
pub mod failover;
pub mod log;
pub mod replicate;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::Notify;

use self::log::Log;
use crate::config::{Args, Fsync, Switch};

/// What a node is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Takes writes and ships its log.
    Primary,
    /// Follows a primary (or waits to learn one).
    Backup,
}

impl Role {
    /// Its name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Backup => "backup",
        }
    }
}

/// What a primary knows of one backup.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// The next entry to send it.
    pub next: u64,
    /// The last entry it is known to hold.
    pub matched: u64,
    /// When it last accepted an append (the lease counts these).
    pub acked_at: Option<Instant>,
}

/// A node's mutable state, behind one lock.
#[derive(Debug)]
pub struct State {
    /// Primary or backup.
    pub role: Role,
    /// The highest epoch this node knows.
    pub epoch: u64,
    /// The primary of that epoch, when known.
    pub primary: Option<String>,
    /// The durable log and the state it builds.
    pub log: Log,
    /// When this node last heard from its primary (backups).
    pub last_heard: Instant,
    /// Per backup (primaries).
    pub peers: BTreeMap<String, Progress>,
}

/// One primary-backup node.
#[derive(Debug)]
pub struct Node {
    /// `--node`.
    pub name: String,
    /// The command line.
    pub args: Args,
    /// Peer name → address.
    pub peers: BTreeMap<String, String>,
    /// Every member's name, sorted.
    pub members: Vec<String>,
    state: Mutex<State>,
    /// Woken when a primary has new entries to ship.
    pub wake: Notify,
    /// Woken when a backup's progress or the node's role changes.
    pub progress: Notify,
    /// For peer requests and forwarding.
    pub http: reqwest::Client,
}

impl Node {
    /// The state, locked (a poisoned lock is taken over: the state stays consistent
    /// because every change to it is one assignment after its log record is written).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A majority of the members.
    pub fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// Whether the old-primary fence is on.
    pub fn fencing(&self) -> bool {
        self.args.fencing == Switch::On
    }

    /// The failover timeout, `None` when failover is off.
    pub fn failover_timeout(&self) -> Option<Duration> {
        (self.args.failover_timeout_ms > 0)
            .then(|| Duration::from_millis(self.args.failover_timeout_ms))
    }

    /// Whether this primary may serve now: without fencing or failover always; with
    /// both, only if a majority (itself included) acknowledged it within half the
    /// failover timeout — by then no backup can have promoted itself.
    pub fn lease_holds(&self, st: &State) -> bool {
        let Some(timeout) = self.failover_timeout() else {
            return true;
        };
        if !self.fencing() {
            return true;
        }
        let lease = timeout / 2;
        let fresh = st
            .peers
            .values()
            .filter(|p| p.acked_at.is_some_and(|t| t.elapsed() < lease))
            .count();
        fresh + 1 >= self.majority()
    }

    /// Makes this node the primary of `epoch` (its log record first).
    pub fn become_primary(&self, st: &mut State, epoch: u64) -> Result<(), log::LogError> {
        st.log.set_epoch(epoch, Some(self.name.clone()))?;
        st.epoch = epoch;
        st.primary = Some(self.name.clone());
        st.role = Role::Primary;
        let next = st.log.last_index() + 1;
        for p in st.peers.values_mut() {
            *p = Progress {
                next,
                ..Progress::default()
            };
        }
        self.wake.notify_waiters();
        self.progress.notify_waiters();
        Ok(())
    }

    /// Makes this node a backup in `epoch`, of `primary` if known.
    pub fn become_backup(
        &self,
        st: &mut State,
        epoch: u64,
        primary: Option<String>,
    ) -> Result<(), log::LogError> {
        if st.epoch != epoch || st.primary != primary {
            st.log.set_epoch(epoch, primary.clone())?;
        }
        st.epoch = epoch;
        st.primary = primary;
        st.role = Role::Backup;
        st.last_heard = Instant::now();
        self.progress.notify_waiters();
        Ok(())
    }
}

/// The role a node takes at start, from what its log recorded: a fresh cluster's
/// primary is its first member by name (epoch 1); a restarted node that was primary
/// comes back as a backup with no primary known when fencing is on, and as the
/// primary when it is off.
pub fn initial_role(
    me: &str,
    first_member: &str,
    recorded: Option<(u64, Option<String>)>,
    fencing: bool,
) -> (Role, u64, Option<String>, bool) {
    match recorded {
        None => {
            let role = if me == first_member {
                Role::Primary
            } else {
                Role::Backup
            };
            (role, 1, Some(first_member.to_string()), true)
        }
        Some((epoch, primary)) => {
            let was_primary = primary.as_deref() == Some(me);
            match (was_primary, fencing) {
                (true, true) => (Role::Backup, epoch, None, false),
                (true, false) => (Role::Primary, epoch, primary, false),
                (false, _) => (Role::Backup, epoch, primary, false),
            }
        }
    }
}

/// Runs a primary-backup node until SIGTERM/SIGINT.
pub async fn run(
    args: Args,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let log = Log::open(&args.data_dir, args.fsync == Fsync::Always)
        .with_context(|| format!("opening data dir {}", args.data_dir.display()))?;
    let peers = args.peer_map();
    let mut members: Vec<String> = peers.keys().cloned().collect();
    members.push(args.node.clone());
    members.sort();
    let (role, epoch, primary, fresh) = initial_role(
        &args.node,
        &members[0],
        log.epoch.clone(),
        args.fencing == Switch::On,
    );
    let mut st = State {
        role,
        epoch,
        primary: primary.clone(),
        log,
        last_heard: Instant::now(),
        peers: peers
            .keys()
            .map(|p| (p.clone(), Progress::default()))
            .collect(),
    };
    if fresh {
        st.log.set_epoch(epoch, primary)?;
    }
    let next = st.log.last_index() + 1;
    for p in st.peers.values_mut() {
        p.next = next;
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(node = %args.node, listen = %args.listen, role = role.as_str(), epoch,
        replication = ?args.replication, read_from = ?args.read_from,
        fencing = ?args.fencing, "faultline-store (primary-backup) up");
    let node = Arc::new(Node {
        name: args.node.clone(),
        peers,
        members,
        state: Mutex::new(st),
        wake: Notify::new(),
        progress: Notify::new(),
        http: reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(5))
            .build()?,
        args,
    });
    for peer in node.peers.keys() {
        tokio::spawn(replicate::ship_to(node.clone(), peer.clone()));
    }
    tokio::spawn(failover::watch(node.clone()));
    let app = client::routes()
        .merge(replicate::routes())
        .with_state(node.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_cluster_makes_its_first_member_primary_in_epoch_one() {
        assert_eq!(
            initial_role("n1", "n1", None, true),
            (Role::Primary, 1, Some("n1".into()), true)
        );
        assert_eq!(
            initial_role("n2", "n1", None, true),
            (Role::Backup, 1, Some("n1".into()), true)
        );
    }

    #[test]
    fn a_restarted_primary_is_fenced_only_when_fencing_is_on() {
        let rec = Some((3, Some("n2".to_string())));
        assert_eq!(
            initial_role("n2", "n1", rec.clone(), true),
            (Role::Backup, 3, None, false)
        );
        assert_eq!(
            initial_role("n2", "n1", rec.clone(), false),
            (Role::Primary, 3, Some("n2".into()), false)
        );
        assert_eq!(
            initial_role("n1", "n1", rec, true),
            (Role::Backup, 3, Some("n2".into()), false)
        );
    }
}

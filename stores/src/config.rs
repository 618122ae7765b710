//! Command-line configuration of one `faultline-store` node.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// How concurrent versions of a key are resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Conflict {
    /// Keep concurrent versions (siblings) and return them all.
    Siblings,
    /// Last write wins by (wall-clock timestamp, coordinator, dot).
    Lww,
}

/// When the append-only log is fsynced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Fsync {
    /// Before every acknowledgement.
    Always,
    /// Every 100 ms in the background.
    Interval,
    /// Never (the OS flushes when it likes; still survives kill -9, not power loss).
    Never,
}

/// An on/off switch as written on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

impl Switch {
    /// Whether the switch is on.
    pub fn on(self) -> bool {
        self == Switch::On
    }
}

/// Which replication design this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Dynamo-style quorums over a ring (the default).
    Leaderless,
    /// One primary takes every write and ships its log to the backups.
    PrimaryBackup,
    /// Every node takes writes and replicates them asynchronously.
    MultiLeader,
    /// Keys sharded over the nodes; multi-key transactions by two-phase commit.
    TwoPhaseCommit,
}

/// How a multi-leader node resolves concurrent updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Resolve {
    /// Last write wins.
    Lww,
    /// Keep concurrent values as siblings.
    Siblings,
    /// Counters and sets merge as CRDTs; plain values LWW.
    Crdt,
}

/// Whether a multi-leader node delivers updates in causal order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Causality {
    /// On arrival.
    None,
    /// After every update they depend on (version vectors).
    VersionVectors,
}

/// When a primary answers a write (primary-backup mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Replication {
    /// After every backup has the entry in its log.
    Sync,
    /// After at least one backup has it.
    SemiSync,
    /// After the primary's own log has it; backups follow later.
    Async,
}

/// Who serves reads (primary-backup mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReadFrom {
    /// The primary only (others forward reads to it).
    Primary,
    /// Backups only, from their own copy (the primary forwards reads to one).
    Backups,
    /// Whichever node the client asked, from its own copy.
    Any,
}

/// The command line of one node.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "faultline-store",
    about = "faultline's leaderless (Dynamo-style) reference store"
)]
pub struct Args {
    /// This node's name (its identity on the ring and in version vectors).
    #[arg(long)]
    pub node: String,
    /// Address to listen on for clients and peers (e.g. 127.0.0.1:7001).
    #[arg(long)]
    pub listen: String,
    /// Directory holding this node's append-only log.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// A peer as NAME=HOST:PORT: how this node reaches that peer (repeatable).
    #[arg(long = "peer", value_parser = parse_peer)]
    pub peers: Vec<(String, String)>,
    /// Replication factor N (size of a key's preference list).
    #[arg(long, default_value_t = 3)]
    pub n: usize,
    /// Write quorum W.
    #[arg(long, default_value_t = 2)]
    pub w: usize,
    /// Read quorum R.
    #[arg(long, default_value_t = 2)]
    pub r: usize,
    /// Conflict resolution: keep siblings or last-write-wins.
    #[arg(long, value_enum, default_value_t = Conflict::Siblings)]
    pub conflict: Conflict,
    /// Push the merged version to stale replicas after a read.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub read_repair: Switch,
    /// Let fallback nodes beyond the preference list count toward W and R.
    #[arg(long, value_enum, default_value_t = Switch::Off)]
    pub sloppy_quorum: Switch,
    /// Keep hints for replicas a write did not reach and deliver them later.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub hinted_handoff: Switch,
    /// Period of Merkle-tree anti-entropy rounds in ms (0 = off).
    #[arg(long, default_value_t = 1000)]
    pub anti_entropy_interval_ms: u64,
    /// fsync policy of the append-only log.
    #[arg(long, value_enum, default_value_t = Fsync::Always)]
    pub fsync: Fsync,
    /// With `--fsync always`, under load (the last fsync covered several writes), the
    /// least time between the starts of two fsyncs, in µs, so that more writes share
    /// one; 0 = fsync back to back. A lone writer never waits for it.
    #[arg(long, default_value_t = 1500)]
    pub fsync_window_us: u64,
    /// Delay applied to every replica write sent to a peer, in ms.
    #[arg(long, default_value_t = 0)]
    pub replication_delay_ms: u64,
    /// Bound on every peer request and on a client operation's quorum wait, in ms.
    #[arg(long, default_value_t = 1000)]
    pub request_timeout_ms: u64,
    /// The design: leaderless (default), primary-backup, multi-leader or two-phase-commit.
    #[arg(long, value_enum, default_value_t = Mode::Leaderless)]
    pub mode: Mode,
    /// primary-backup: when the primary answers a write.
    #[arg(long, value_enum, default_value_t = Replication::Sync)]
    pub replication: Replication,
    /// primary-backup: who serves reads.
    #[arg(long, value_enum, default_value_t = ReadFrom::Primary)]
    pub read_from: ReadFrom,
    /// primary-backup: a backup that has not heard from the primary this long (ms)
    /// promotes a backup (0 = never fail over).
    #[arg(long, default_value_t = 1500)]
    pub failover_timeout_ms: u64,
    /// primary-backup: fence an old primary (epochs, a lease) or let it go on serving.
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub fencing: Switch,
    /// primary-backup: delay before the primary ships new log entries to a backup (ms).
    #[arg(long, default_value_t = 0)]
    pub backup_lag_ms: u64,
    /// multi-leader: who passes updates to whom.
    #[arg(long, value_enum, default_value_t = crate::multi_leader::topology::Topology::AllToAll)]
    pub topology: crate::multi_leader::topology::Topology,
    /// multi-leader: how concurrent updates resolve.
    #[arg(long, value_enum, default_value_t = Resolve::Lww)]
    pub resolution: Resolve,
    /// multi-leader: causal delivery (version-vectors) or none.
    #[arg(long, value_enum, default_value_t = Causality::None)]
    pub causality: Causality,
    /// multi-leader: delay on every link but the one to the next member by name (ms).
    #[arg(long, default_value_t = 0)]
    pub link_delay_ms: u64,
    /// two-phase-commit: durable prepare records (participants) and decision log
    /// (coordinators) — `on`, correct 2PC — or neither (`off`, the weak mode).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    pub prepare_log: Switch,
    /// two-phase-commit, for tests: the probability (0..=1) that a coordinator, once
    /// the first participant of a writing txn over two or more shards acknowledged its
    /// commit, crashes and restarts at once (exec of its own command line) before
    /// telling the others.
    #[arg(long, default_value_t = 0.0)]
    pub crash_mid_commit: f64,
}

fn parse_peer(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, addr)) if !name.is_empty() && !addr.is_empty() => {
            Ok((name.to_string(), addr.to_string()))
        }
        _ => Err(format!("expected NAME=HOST:PORT, got {s:?}")),
    }
}

impl Args {
    /// Checks the quorum settings against the ring size.
    pub fn validate(&self) -> Result<(), String> {
        if self.peers.iter().any(|(p, _)| p == &self.node) {
            return Err(format!("--peer names this node itself ({})", self.node));
        }
        if !(0.0..=1.0).contains(&self.crash_mid_commit) {
            return Err(format!(
                "--crash-mid-commit {}: expected a probability in 0..=1",
                self.crash_mid_commit
            ));
        }
        if self.mode != Mode::Leaderless {
            return Ok(());
        }
        let members = self.peers.len() + 1;
        if self.n == 0 || self.n > members {
            return Err(format!(
                "--n {} must be in 1..={members} (ring members)",
                self.n
            ));
        }
        if self.w == 0 || self.w > self.n || self.r == 0 || self.r > self.n {
            return Err(format!(
                "--w {} and --r {} must be in 1..={}",
                self.w, self.r, self.n
            ));
        }
        if self.peers.iter().any(|(p, _)| p == &self.node) {
            return Err(format!("--peer names this node itself ({})", self.node));
        }
        Ok(())
    }

    /// Peer name → address this node uses to reach it.
    pub fn peer_map(&self) -> BTreeMap<String, String> {
        self.peers.iter().cloned().collect()
    }
}

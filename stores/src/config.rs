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

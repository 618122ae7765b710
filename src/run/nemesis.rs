//! The nemesis hook of the run flow: a task that runs beside the clients during the
//! main phase with the cluster's node processes and the recorder (to append its
//! `nemesis` events), and a heal that must leave no fault behind.
//!
//! [`hook_for`] turns `--nemesis LIST` into a [`NemesisHook`]; the nemesis crate
//! provides the faults.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cluster::NodeProcess;
use crate::recorder::Recorder;

/// What a nemesis gets to work with.
#[derive(Clone, Debug)]
pub struct NemesisContext {
    /// The faults asked for (`partition`, `kill`, ...).
    pub faults: Vec<String>,
    /// Seconds between faults (`--nemesis-interval`).
    pub interval: Duration,
    /// The run's seed (for a reproducible fault schedule).
    pub seed: u64,
    /// The node names, in order.
    pub node_names: Vec<String>,
    /// The node processes faultline started (empty for an external cluster).
    pub nodes: Vec<Arc<NodeProcess>>,
    /// Where to record `{"process":"nemesis", ...}` events.
    pub recorder: Recorder,
    /// Turns `true` when the main phase ends (time limit, Ctrl-C, abort).
    pub stop: watch::Receiver<bool>,
}

/// A fault schedule for the main phase, and its heal.
#[async_trait::async_trait]
pub trait NemesisHook: Send {
    /// Injects faults until `ctx.stop` turns true.
    async fn run(&mut self, ctx: NemesisContext) -> anyhow::Result<()>;
    /// Heals every fault it started. Called after the main phase, also after errors
    /// and Ctrl-C; must be idempotent.
    async fn heal(&mut self) -> anyhow::Result<()>;
}

/// The faults `--nemesis` accepts.
pub const FAULTS: &[&str] = &[];

/// The hook for `faults`; `None` when no faults are asked for.
pub fn hook_for(faults: &[String]) -> anyhow::Result<Option<Box<dyn NemesisHook>>> {
    match faults.first() {
        None => Ok(None),
        Some(f) => anyhow::bail!(
            "--nemesis {f}: no such fault is available in this build (available: {})",
            if FAULTS.is_empty() {
                "none yet".to_string()
            } else {
                FAULTS.join(", ")
            }
        ),
    }
}

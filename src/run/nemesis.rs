//! The nemesis hook of the run flow: a task that runs beside the clients during the
//! main phase with the cluster's node processes and the recorder (to append its
//! `nemesis` events), and a heal that must leave no fault behind.
//!
//! [`hook_for`] turns `--nemesis LIST` into a [`NemesisHook`]; the nemesis crate
//! provides the faults.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use nemesis::{Fault, Schedule, Target};
use nix::sys::signal::Signal;

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
pub const FAULTS: &[&str] = &["kill", "pause"];

/// The hook for `faults`; `None` when no faults are asked for.
pub fn hook_for(faults: &[String]) -> anyhow::Result<Option<Box<dyn NemesisHook>>> {
    if faults.is_empty() {
        return Ok(None);
    }
    let parsed = faults
        .iter()
        .map(|f| {
            f.parse::<Fault>()
                .map_err(|e| anyhow::anyhow!("--nemesis {f}: {e}"))
        })
        .collect::<anyhow::Result<Vec<Fault>>>()?;
    Ok(Some(Box::new(ProcessFaults {
        faults: parsed,
        active: Vec::new(),
    })))
}

/// Process faults: kill -9 (healed by a restart on the same data dir) and pause
/// (SIGSTOP, healed by SIGCONT), each sent to the node's whole process group.
/// Faults alternate with quiet gaps: start, wait an interval, stop, wait an interval.
pub struct ProcessFaults {
    faults: Vec<Fault>,
    /// Faults started and not yet healed.
    active: Vec<(Fault, Arc<NodeProcess>)>,
}

impl ProcessFaults {
    fn start(&mut self, fault: Fault, node: &Arc<NodeProcess>) -> anyhow::Result<()> {
        match fault {
            Fault::Kill => {
                node.kill_now();
            }
            Fault::Pause => node.signal(Signal::SIGSTOP)?,
        }
        self.active.push((fault, node.clone()));
        Ok(())
    }

    fn stop(fault: Fault, node: &NodeProcess) -> anyhow::Result<()> {
        match fault {
            Fault::Kill => {
                if node.try_status().is_some() {
                    node.restart()?;
                }
            }
            Fault::Pause => node.signal(Signal::SIGCONT)?,
        }
        Ok(())
    }

    /// Stops every active fault, recording a `stop-*` event for each batch.
    fn stop_all(&mut self, recorder: Option<&crate::recorder::Recorder>) -> anyhow::Result<()> {
        let mut first_error = None;
        let active = std::mem::take(&mut self.active);
        let mut by_fault: Vec<(Fault, Vec<String>)> = Vec::new();
        for (fault, node) in &active {
            if let Err(e) = Self::stop(*fault, node) {
                first_error.get_or_insert(e.context(format!("healing {fault} on {}", node.name())));
            }
            match by_fault.iter_mut().find(|(f, _)| f == fault) {
                Some((_, names)) => names.push(node.name().to_string()),
                None => by_fault.push((*fault, vec![node.name().to_string()])),
            }
        }
        if let Some(r) = recorder {
            for (fault, names) in by_fault {
                r.nemesis(&format!("stop-{fault}"), &nodes_value(&names));
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn nodes_value(names: &[String]) -> checkers::Value {
    checkers::Value::Map(vec![(
        "nodes".into(),
        checkers::Value::List(names.iter().map(|n| checkers::Value::str(n)).collect()),
    )])
}

/// Waits `d`, or less if `stop` turns true; returns whether the phase is over.
async fn wait(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

#[async_trait::async_trait]
impl NemesisHook for ProcessFaults {
    async fn run(&mut self, mut ctx: NemesisContext) -> anyhow::Result<()> {
        if ctx.nodes.is_empty() {
            anyhow::bail!(
                "--nemesis kill/pause needs nodes that faultline started; this cluster has none"
            );
        }
        let schedule = Schedule::new(
            self.faults.clone(),
            Target::DEFAULT.to_vec(),
            ctx.node_names.clone(),
            ctx.seed,
        );
        for step in schedule {
            if wait(&mut ctx.stop, ctx.interval).await {
                break;
            }
            for name in &step.nodes {
                if let Some(node) = ctx.nodes.iter().find(|n| n.name() == name) {
                    self.start(step.fault, node)?;
                }
            }
            ctx.recorder
                .nemesis(&format!("start-{}", step.fault), &nodes_value(&step.nodes));
            tracing::info!(fault = %step.fault, nodes = ?step.nodes, "fault started");
            let over = wait(&mut ctx.stop, ctx.interval).await;
            self.stop_all(Some(&ctx.recorder))?;
            if over {
                break;
            }
        }
        Ok(())
    }

    async fn heal(&mut self) -> anyhow::Result<()> {
        self.stop_all(None)
    }
}

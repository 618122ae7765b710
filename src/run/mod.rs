//! The run flow of `faultline run` (docs/architecture.md, "The data flow of one run"):
//! [`run`] is the list of phases, each a function of [`phases`]:
//!
//! setup -> cluster up and ready -> main phase (clients + the nemesis, when asked) ->
//! heal -> quiesce -> final reads from every node -> cluster down -> check -> write.
//!
//! The history is streamed to `history.jsonl` throughout and fsync'd at every phase
//! change. Just before the final reads a nemesis note `final-reads` marks the final
//! phase (the eventual checker relies on it). An error or an interrupt (Ctrl-C) in any
//! phase stops the clients, heals, stops the nodes, checks what was recorded and says
//! where the run stopped (`results.interrupted`): guards undo what each phase started.
//! The cluster is stopped before the checkers run, so a long check holds no processes.
//!
//! Modules: [`plan`] (the checked [`RunPlan`]), [`config`] (its serializable view,
//! `test.json`), [`phases`], [`scheduler`] (the clients' pool), [`nemesis`] (the fault
//! hook), [`check`] (the checkers over the history), [`rate`], [`recheck`] (`faultline
//! report` on a run directory without results) and `status` (the status line).

pub mod check;
pub mod config;
pub mod nemesis;
pub mod phases;
pub mod plan;
pub mod rate;
pub mod recheck;
pub mod scheduler;
mod status;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::results::RunResults;

pub use config::RunConfig;
pub use plan::{PlanError, RunConfigBuilder, RunPlan};

use phases::cluster_up::{self, RunningCluster};
use phases::tracker::PhaseTracker;
use phases::{
    cluster_down, final_reads, heal, main_phase, names, quiesce, setup, write, FirstStop,
    RunContext,
};

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// What `results.json` says.
    pub results: RunResults,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Whether the run was interrupted (Ctrl-C) or stopped by an error before it
    /// finished (`results.interrupted` says where).
    pub interrupted: bool,
    /// The error that stopped the run early, if one did (the history recorded until
    /// then was still checked).
    pub failure: Option<anyhow::Error>,
}

/// Callbacks for what a person sees while a run goes.
pub trait Progress: Send + Sync {
    /// A phase begins.
    fn phase(&self, name: &str);
    /// A one-line status while the main phase runs (counts so far).
    fn status(&self, line: &str);
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _name: &str) {}
    fn status(&self, _line: &str) {}
}

/// Runs the test `plan` describes (checked before: see [`RunPlan::new`]), phase by
/// phase ([`phases`]). `interrupt` turns true on Ctrl-C.
///
/// Errors mean the test could not run (exit 3): nothing is left running either way.
/// From the cluster's start on, an error or a Ctrl-C in a phase still heals, stops the
/// nodes, checks what was recorded and writes the results, which say where it stopped.
pub async fn run(
    plan: &RunPlan,
    progress: Arc<dyn Progress>,
    interrupt: watch::Receiver<bool>,
) -> anyhow::Result<RunOutcome> {
    let wall_start = Instant::now();
    let setup::Prepared {
        run_dir,
        started,
        mut hook,
        subject,
        recorder,
    } = setup::prepare(plan).await?;
    let ctx = RunContext {
        plan,
        run_dir,
        recorder,
        tracker: PhaseTracker::new(progress.clone(), interrupt.clone()),
        interrupt,
        progress,
    };
    let mut stop = FirstStop::default();
    let mut cluster = RunningCluster::new(subject);
    let up = cluster_up::run(&ctx, &mut cluster, hook.as_deref()).await;
    if let (Some(true), Some(up)) = (stop.note(names::CLUSTER_UP, up), cluster.started()) {
        let pool = main_phase::pool(&ctx, up);
        let main = main_phase::run(&ctx, up, hook.as_deref_mut(), &pool).await;
        stop.note(names::MAIN, main);
        stop.note(names::HEAL, heal::run(&ctx, hook.as_deref_mut()).await);
        if stop.goes_on(&ctx) {
            stop.note(names::QUIESCE, quiesce::run(&ctx).await);
        }
        if stop.goes_on(&ctx) {
            stop.note(names::FINAL_READS, final_reads::run(&ctx, &pool).await);
        }
    }
    cluster_down::run(&ctx, &mut cluster, hook.as_deref(), &mut stop).await?;
    drop(hook);
    let checked = stop.note(names::CHECK, phases::check::run(&ctx).await);
    let store = cluster.subject().name().to_string();
    write::run(&ctx, started, wall_start, store, checked, stop).await
}

/// Resolves when `rx` turns true; never, if its sender is gone without doing so.
pub async fn until_interrupted(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

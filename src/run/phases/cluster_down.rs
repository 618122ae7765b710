//! Cluster down: if every node had exited on its own, a note says so in the history
//! (the checks then say why they cannot judge); the [`RunningCluster`] guard stops the
//! nodes, `test.json` is written once more (the subject can describe the whole run
//! now), and the history file is finished. The cluster is down before the checkers
//! run, so a long check holds no processes.

use crate::run::check::nodes_exited_note;
use crate::run::nemesis::NemesisHook;

use super::cluster_up::RunningCluster;
use super::names::CLUSTER_DOWN;
use super::{test_json, FirstStop, RunContext};

/// Stops the cluster (always: also when the phase's entry failed) and finishes the
/// history. An error means the history file could not be written, so there is nothing
/// sound to check; a failure of the phase itself goes to `stop`.
pub async fn run(
    ctx: &RunContext<'_>,
    cluster: &mut RunningCluster,
    hook: Option<&dyn NemesisHook>,
    stop: &mut FirstStop,
) -> anyhow::Result<()> {
    if let Some(started) = cluster.started() {
        let faults = &started.faults;
        if let Some(note) = nodes_exited_note(&faults.processes, &faults.other_nodes) {
            ctx.recorder.nemesis(checkers::factory::NODES_EXITED, &note);
        }
    }
    let entered = ctx.tracker.enter(CLUSTER_DOWN).await;
    cluster.stop().await;
    stop.note(CLUSTER_DOWN, entered);
    let _ = test_json::write(&ctx.run_dir, &ctx.plan.config, cluster.subject(), hook);
    if let Err(e) = ctx.recorder.finish() {
        return Err(match stop.failed.take() {
            Some((_, f)) => f.context(format!("and history.jsonl could not be written: {e}")),
            None => anyhow::Error::from(e).context("cannot write history.jsonl"),
        });
    }
    Ok(())
}

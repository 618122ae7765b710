//! Write: `results.json` (the verdict over what was checked, and for a run that did
//! not finish, `interrupted`: the phase it stopped in and why), then the `latest` link.

use std::time::Instant;

use anyhow::Context;
use checkers::Verdict;

use crate::results::{self, files, Interruption, RunResults};
use crate::run::check::Checked;
use crate::run::RunOutcome;

use super::names::WRITE;
use super::{FirstStop, RunContext};

/// Writes the results of the run that began at `wall_start` (RFC 3339: `started`) for
/// store `store`, its checks `checked` (none if the check phase failed) and how it
/// stopped, `stop`.
pub async fn run(
    ctx: &RunContext<'_>,
    started: String,
    wall_start: Instant,
    store: String,
    checked: Option<Checked>,
    stop: FirstStop,
) -> anyhow::Result<RunOutcome> {
    let config = &ctx.plan.config;
    let (checks, unjudgeable) = match checked {
        Some(c) => (c.results, c.unjudgeable),
        None => (Vec::new(), None),
    };
    let verdict = if checks.is_empty() {
        Verdict::Unknown
    } else {
        checkers::factory::overall(&checks)
    };
    let interruption = match (&stop.failed, ctx.tracker.interrupted_in()) {
        (Some((phase, e)), _) => Some(Interruption {
            phase: phase.to_string(),
            reason: format!("{e:#}"),
        }),
        (None, Some(phase)) => Some(Interruption {
            phase: phase.to_string(),
            reason: "interrupted (Ctrl-C or SIGTERM)".to_string(),
        }),
        (None, None) => None,
    };
    let results = RunResults {
        name: config.name.clone(),
        run_dir: ctx.run_dir.display().to_string(),
        started,
        duration_ms: wall_start.elapsed().as_millis() as u64,
        verdict,
        store,
        workload: config.workload.clone(),
        nemesis: config.nemesis.clone(),
        seed: config.seed,
        checkers: checks,
        ops: ctx.recorder.counts(),
        command: config.command(),
        interrupted: interruption,
        verdict_reason: unjudgeable.filter(|_| verdict == Verdict::Unknown),
    };
    ctx.tracker.enter(WRITE).await?;
    results::write_json(&ctx.run_dir.join(files::RESULTS), &results)
        .context("cannot write results.json")?;
    results::update_latest(&ctx.run_dir).context("cannot update the latest link")?;
    let interrupted = results.interrupted.is_some();
    Ok(RunOutcome {
        results,
        run_dir: ctx.run_dir.clone(),
        interrupted,
        failure: stop.failed.map(|(_, e)| e),
    })
}

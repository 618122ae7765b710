//! Re-checking a run directory that has a history but no `results.json` (a driver
//! killed before it wrote one, or a results file removed): the checks are rebuilt
//! from `test.json` (the workload's own, or its `--consistency` models), decided over
//! `history.jsonl`, and `results.json` is written as the run would have written it,
//! marked as interrupted before its results.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use checkers::history::Outcome;

use super::config::RunConfig;
use super::plan::RunPlan;
use crate::recorder::OpCounts;
use crate::results::{self, files, Interruption, RunResults};

/// Checks the history of `run_dir` again and writes its `results.json`.
pub fn recheck(run_dir: &Path) -> anyhow::Result<RunResults> {
    let test_path = run_dir.join(files::TEST);
    let text = std::fs::read_to_string(&test_path)
        .with_context(|| format!("cannot read {}", test_path.display()))?;
    let config: RunConfig = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a faultline test.json", test_path.display()))?;
    let checks =
        RunPlan::checks_of(&config).map_err(|e| anyhow::anyhow!("{}: {e}", test_path.display()))?;
    let history_path = run_dir.join(files::HISTORY);
    let history = checkers::read::read_path(&history_path, checkers::read::Format::Jsonl)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let budget = if config.check_timeout.is_zero() {
        Duration::from_secs(10)
    } else {
        config.check_timeout
    };
    let checkers = super::check::run_checks(&checks, &history, budget);
    let unjudgeable = checkers::factory::unjudgeable(&history);
    let mut ops = OpCounts::default();
    for op in &history.ops {
        ops.total += 1;
        match op.outcome {
            Outcome::Ok => ops.ok += 1,
            Outcome::Fail => ops.fail += 1,
            Outcome::Info => ops.info += 1,
        }
    }
    let started = std::fs::metadata(&history_path)
        .and_then(|m| m.created().or_else(|_| m.modified()))
        .map(|t| results::stamps(t).0)
        .unwrap_or_default();
    let verdict = if checkers.is_empty() {
        checkers::Verdict::Unknown
    } else {
        checkers::factory::overall(&checkers)
    };
    let r = RunResults {
        name: config.name.clone(),
        run_dir: run_dir.display().to_string(),
        started,
        duration_ms: 0,
        verdict,
        store: config.store.clone(),
        workload: config.workload.clone(),
        nemesis: config.nemesis.clone(),
        seed: config.seed,
        checkers,
        ops,
        command: config.command(),
        interrupted: Some(Interruption {
            phase: "before its results were written".to_string(),
            reason: "the run left a history but no results.json; checked again by faultline report"
                .to_string(),
        }),
        verdict_reason: unjudgeable.filter(|_| verdict == checkers::Verdict::Unknown),
    };
    results::write_json(&run_dir.join(files::RESULTS), &r).context("cannot write results.json")?;
    Ok(r)
}

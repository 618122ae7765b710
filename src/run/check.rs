//! The checkers phase: each of the workload's [`CheckSpec`]s is decided by the
//! checker the factory names for it (`checkers::factory`), over the history read back
//! from `history.jsonl`, within a shared time budget.

use std::io::BufReader;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use checkers::{Budget, CheckResult, History};
use workloads::CheckSpec;

/// Reads the history at `path` back and decides `specs` over it, off the async
/// threads, within `budget`.
pub async fn check_history(
    path: &Path,
    specs: Vec<CheckSpec>,
    budget: Duration,
) -> anyhow::Result<Vec<CheckResult>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read back {}", path.display()))?;
    let history = checkers::read::jsonl::read(BufReader::new(file), &path.display().to_string())
        .context("the recorded history does not validate")?;
    let task = tokio::task::spawn_blocking(move || run_checks(&specs, &history, budget));
    task.await.context("a checker panicked")
}

/// Runs every check over `history`; a check this build cannot run is `unknown`, saying
/// so. The whole phase gets `budget` of wall-clock time.
pub fn run_checks(specs: &[CheckSpec], history: &History, budget: Duration) -> Vec<CheckResult> {
    let budget = Budget {
        deadline: Some(Instant::now() + budget),
        memory_bytes: Some(2 << 30),
    };
    specs
        .iter()
        .map(|spec| checkers::factory::check(spec.consistency, &spec.model, history, &budget))
        .collect()
}

//! The checkers phase: each of the workload's [`CheckSpec`]s is decided by the
//! checker the factory names for it (`checkers::factory`), over the history read back
//! from `history.jsonl`, within a shared time budget.

use std::time::{Duration, Instant};

use checkers::{Budget, CheckResult, History};
use workloads::CheckSpec;

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

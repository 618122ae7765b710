//! The checkers phase: each of the workload's [`CheckSpec`]s becomes a checker from
//! the checkers crate, run over the history read back from `history.jsonl`, within a
//! shared time budget.

use std::time::{Duration, Instant};

use checkers::{Budget, CheckResult, Checker, History, Verdict};
use workloads::{CheckSpec, Consistency};

/// The checker for `spec`, or `None` when this build has none for it.
pub fn checker_for(spec: &CheckSpec) -> Option<Box<dyn Checker>> {
    let spec_model = spec.model.clone();
    match spec.consistency {
        Consistency::Linearizable => Some(Box::new(checkers::linearizable::Linearizable {
            spec: spec_model,
        })),
        Consistency::Sequential => Some(Box::new(checkers::sequential::Sequential {
            spec: spec_model,
        })),
        Consistency::Eventual => Some(Box::new(checkers::eventual::Eventual { spec: spec_model })),
        Consistency::ListAppend => None,
    }
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
        .map(|spec| match checker_for(spec) {
            Some(c) => c.check(history, &budget),
            None => CheckResult {
                checker: spec.consistency.as_str().to_string(),
                model: spec.model.kind.as_str().to_string(),
                verdict: Verdict::Unknown,
                summary: format!(
                    "not checked: this build has no {} checker yet",
                    spec.consistency.as_str()
                ),
                evidence: serde_json::Value::Null,
            },
        })
        .collect()
}

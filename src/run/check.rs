//! The checkers phase: each of the workload's [`CheckSpec`]s is decided by the
//! checker the factory names for it (`checkers::factory`), over the history read back
//! from `history.jsonl`, within a shared time budget. Before the cluster is stopped,
//! [`nodes_exited_note`] says whether every node had exited on its own; recorded in the
//! history, that note makes the factory's answer `unknown` with the reason
//! (`checkers::factory::unjudgeable`).

use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use checkers::{Budget, CheckResult, History, Value};
use workloads::CheckSpec;

/// What the checkers phase found: every check's result, and why the history allows
/// no decision when it does not (`checkers::factory::unjudgeable`).
#[derive(Debug)]
pub struct Checked {
    /// Every check's result, in the order of the specs.
    pub results: Vec<CheckResult>,
    /// Why no answer of these can be `valid` ("no operation succeeded: all 3 nodes
    /// had exited — see nodes/*/ (...)"), if that is so.
    pub unjudgeable: Option<String>,
}

/// Reads the history at `path` back and decides `specs` over it, off the async
/// threads, within `budget`.
pub async fn check_history(
    path: &Path,
    specs: Vec<CheckSpec>,
    budget: Duration,
) -> anyhow::Result<Checked> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot read back {}", path.display()))?;
    let history = checkers::read::jsonl::read(BufReader::new(file), &path.display().to_string())
        .context("the recorded history does not validate")?;
    let task = tokio::task::spawn_blocking(move || Checked {
        results: run_checks(&specs, &history, budget),
        unjudgeable: checkers::factory::unjudgeable(&history),
    });
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

/// The [`checkers::factory::NODES_EXITED`] note to record when every node process of
/// the subject (its cluster's `nodes` and its other `fault_nodes`) has exited and is
/// down now, at the end of the run, before faultline stops the cluster: each node and
/// how it ended (`exited 1`, `killed by SIGKILL`). `None` when any node runs (paused
/// counts as running) or the subject has no node processes (an external store).
pub fn nodes_exited_note(
    nodes: &[Arc<nemesis::NodeProcess>],
    fault_nodes: &[Arc<dyn nemesis::Node>],
) -> Option<Value> {
    if nodes.is_empty() && fault_nodes.is_empty() {
        return None;
    }
    let mut ended = Vec::new();
    for n in nodes {
        let status = n.try_status()?;
        ended.push((
            Arc::from(n.name()),
            Value::str(&nemesis::process::describe(status)),
        ));
    }
    for n in fault_nodes {
        if n.is_running() {
            return None;
        }
        ended.push((Arc::from(n.name()), Value::str("exited")));
    }
    Some(Value::Map(vec![("nodes".into(), Value::Map(ended))]))
}

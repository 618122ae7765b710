//! A run directory built by hand for the report tests: a register history with a
//! stale read during a partition, judged by the real linearizability and
//! sequential-consistency checkers, with hostile values (a `<script>`, an
//! `"><img onerror=…>`) planted where a store's answers land.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

// Scratch directories and running the binary: the same helpers as the run tests.
#[path = "../run_common/mod.rs"]
mod run_common;
#[allow(unused_imports)] // each report test crate uses some of them
pub use run_common::{faultline, scratch, text};

use checkers::model::{ModelKind, ModelSpec};
use checkers::{Budget, CheckResult, Checker, Value, Verdict};
use faultline::recorder::OpCounts;
use faultline::results::RunResults;
use serde_json::json;

/// A script that marks the page if it ever runs.
pub const SCRIPT: &str = "<script>window.__pwned=1;document.title='pwned'</script>";
/// An attribute breakout whose image would be fetched (and its handler run).
pub const IMG: &str = "\"><img src=\"http://127.0.0.1:9/x.png\" onerror=\"window.__pwned=2\">";

const MS: u64 = 1_000_000;

/// The history's lines: `n` rounds of write-then-read on key `k` by three
/// processes, one round writing the script payload, a failed write whose error is
/// the image payload, one write left indeterminate, a partition from round 40 to
/// 60, and in round 50 a read of an overwritten value by the process that just
/// wrote the new one (neither linearizable nor sequentially consistent) on the key
/// named by the script payload.
pub fn history_lines(rounds: u64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut index = 0u64;
    let mut push = |v: serde_json::Value, lines: &mut Vec<String>| {
        let mut v = v;
        v["index"] = json!(index);
        index += 1;
        lines.push(v.to_string());
    };
    let hot = SCRIPT;
    for r in 0..rounds {
        let t = r * 20 * MS;
        let p = r % 3;
        if r == 40 {
            push(
                json!({"time": t, "process": "nemesis", "type": "info", "f": "start-partition", "value": {"kind": "halves", "groups": [["n1", "n2"], ["n3"]], "nodes": ["n1", "n2", "n3"]}}),
                &mut lines,
            );
        }
        if r == 60 {
            push(
                json!({"time": t, "process": "nemesis", "type": "info", "f": "stop-partition", "value": null}),
                &mut lines,
            );
        }
        let key = if (45..=55).contains(&r) { hot } else { "k" };
        let value = if r == 10 { json!(SCRIPT) } else { json!(r) };
        push(
            json!({"time": t, "process": p, "type": "invoke", "f": "write", "key": key, "value": value}),
            &mut lines,
        );
        push(
            json!({"time": t + 3 * MS, "process": p, "type": "ok", "f": "write", "key": key, "value": value, "node": "n1"}),
            &mut lines,
        );
        let read = if r == 50 { json!(49) } else { value.clone() };
        push(
            json!({"time": t + 5 * MS, "process": p, "type": "invoke", "f": "read", "key": key, "value": null}),
            &mut lines,
        );
        push(
            json!({"time": t + 8 * MS, "process": p, "type": "ok", "f": "read", "key": key, "value": read, "node": "n2"}),
            &mut lines,
        );
        if r == 20 {
            push(
                json!({"time": t + 10 * MS, "process": p, "type": "invoke", "f": "write", "key": "k", "value": 1_000_000}),
                &mut lines,
            );
            push(
                json!({"time": t + 12 * MS, "process": p, "type": "fail", "f": "write", "key": "k", "value": 1_000_000, "error": IMG}),
                &mut lines,
            );
        }
        if r == 30 {
            push(
                json!({"time": t + 10 * MS, "process": 100, "type": "invoke", "f": "write", "key": "other", "value": 7}),
                &mut lines,
            );
            push(
                json!({"time": t + 19 * MS, "process": 100, "type": "info", "f": "write", "key": "other", "value": 7, "error": "timeout"}),
                &mut lines,
            );
        }
    }
    lines
}

/// The checkers' results for the history at `path`.
pub fn check(path: &Path) -> Vec<CheckResult> {
    let history =
        checkers::read::read_path(path, checkers::read::Format::Jsonl).expect("the history reads");
    let spec = ModelSpec {
        kind: ModelKind::Register,
        initial: Value::Null,
    };
    let budget = Budget::unlimited();
    vec![
        checkers::linearizable::Linearizable { spec: spec.clone() }.check(&history, &budget),
        checkers::sequential::Sequential { spec }.check(&history, &budget),
    ]
}

/// Writes run `stamp` of test `test` under `root` (history, results.json,
/// test.json) with `rounds` rounds; returns the run directory. The run's name
/// carries the image payload.
pub fn write_run(root: &Path, test: &str, stamp: &str, started: &str, rounds: u64) -> PathBuf {
    let dir = root.join(test).join(stamp);
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history.jsonl");
    std::fs::write(&history, history_lines(rounds).join("\n") + "\n").unwrap();
    let checkers = check(&history);
    let verdict = checkers
        .iter()
        .fold(Verdict::Valid, |v, c| v.worst(c.verdict));
    let ops = rounds * 2 + 2;
    let results = RunResults {
        name: format!("{test}{IMG}"),
        run_dir: dir.display().to_string(),
        started: started.to_string(),
        duration_ms: rounds * 20,
        verdict,
        store: "leaderless".into(),
        workload: "register".into(),
        nemesis: vec!["partition".into()],
        seed: 7,
        checkers,
        ops: OpCounts {
            total: ops,
            ok: ops - 2,
            fail: 1,
            info: 1,
        },
        command: format!("faultline run --workload register --seed 7 --name '{test}'"),
        interrupted: None,
        verdict_reason: None,
    };
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
    let test_json = json!({
        "name": test, "store": "leaderless", "workload": "register", "nodes": 3,
        "concurrency": 3, "rate": 50.0, "time_limit": "2s", "seed": 7, "keys": 1,
        "nemesis": ["partition"], "nemesis_interval": "1s",
        "subject": {"nodes": [{"name": "n1"}, {"name": "n2"}, {"name": "n3"}], "options": {"w": "1", "r": "1"}},
    });
    std::fs::write(dir.join("test.json"), test_json.to_string()).unwrap();
    dir
}

//! `--store multi-leader` end to end: real `faultline run`s of the built binary (real
//! store processes), judged by faultline's own checkers, asserting the known truths
//! stores/README.md writes down for its options (seed 001).

mod run_common;

use std::path::Path;

use checkers::F;
use run_common::{faultline, history, results, run_store, text};

/// `faultline run --store multi-leader ARGS` into a fresh results dir: (exit code, run
/// dir).
fn run(name: &str, args: &[&str]) -> (i32, std::path::PathBuf) {
    let (code, dir, _) = run_store(name, "multi-leader", args);
    (code, dir)
}

/// `faultline check` of the run's history: (exit code, output).
fn check(run: &Path, model: &str, consistency: &str) -> (i32, String) {
    let o = faultline(&[
        "check",
        run.join("history.jsonl").to_str().unwrap(),
        "--model",
        model,
        "--consistency",
        consistency,
    ]);
    (o.status.code().unwrap_or(-1), text(&o))
}

fn eventual(dir: &Path) -> serde_json::Value {
    results(dir)["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "eventual")
        .expect("eventual checked")
        .clone()
}

/// A dependent-update run (seed 001's pattern: a writer on n1 writes x, a follower on
/// n2 reads x and then writes y, an observer on n3 reads y then x) on all-to-all with
/// `--causality CAUSALITY`. n1 -> n3 is the slow link (1 s), n1 -> n2 -> n3 fast: a y
/// reaches n3 about a second before the x it depends on. Quiesce above the delay, so
/// the final reads see every node converged.
fn dependent_update(name: &str, causality: &str) -> std::path::PathBuf {
    let (_, dir) = run(
        name,
        &[
            "--workload",
            "dependent-update",
            "--nodes",
            "3",
            "--topology",
            "all-to-all",
            "--causality",
            causality,
            "--link-delay-ms",
            "1000",
            "--quiesce",
            "3s",
            "--nemesis",
            "none",
            "--time-limit",
            "6s",
            "--seed",
            "5",
        ],
    );
    dir
}

/// `faultline check --consistency causal --json` of the run: (exit code, the causal
/// checker's evidence).
fn causal_evidence(run: &Path) -> (i32, serde_json::Value) {
    let o = faultline(&[
        "check",
        run.join("history.jsonl").to_str().unwrap(),
        "--model",
        "kv",
        "--consistency",
        "causal",
        "--json",
    ]);
    let out: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("check --json: {e}\n{}", text(&o)));
    (
        o.status.code().unwrap_or(-1),
        out["checkers"][0]["evidence"].clone(),
    )
}

#[test]
fn all_to_all_without_version_vectors_shows_a_dependent_update_before_its_cause() {
    let dir = dependent_update("ml-dependent-none", "none");
    let (code, evidence) = causal_evidence(&dir);
    assert_eq!(code, 1, "causal consistency broken: {evidence}");
    let pattern = evidence["pattern"].as_str().unwrap_or_default();
    assert!(
        ["WriteCOInitRead", "WriteCORead"].contains(&pattern),
        "{evidence}"
    );
    // The pattern's ops, from the history: x written on n1, read on n2 and y written
    // after it there, y read on n3 and then x read there without that write.
    let h = history(&dir);
    let ops: Vec<&checkers::Op> = evidence["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| &h.ops[id.as_u64().unwrap() as usize])
        .collect();
    let key = |o: &checkers::Op| {
        o.key
            .as_ref()
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string()
    };
    let node = |o: &checkers::Op| o.node.as_deref().unwrap_or("").to_string();
    let read = *ops.last().unwrap();
    assert_eq!(
        (read.f.clone(), node(read)),
        (F::Read, "n3".into()),
        "{evidence}"
    );
    let x = key(read);
    assert!(x.starts_with('x'), "the read is of an x: {evidence}");
    let y = format!("y{}", &x[1..]);
    let x_write = ops
        .iter()
        .find(|o| o.f == F::Write && key(o) == x && node(o) == "n1")
        .unwrap_or_else(|| panic!("a write of {x} on n1: {evidence}"));
    assert_ne!(read.value, x_write.value, "the read missed that write");
    let y_write = ops
        .iter()
        .position(|o| o.f == F::Write && key(o) == y && node(o) == "n2")
        .unwrap_or_else(|| panic!("a write of {y} on n2: {evidence}"));
    assert!(
        ops[y_write + 1..].iter().any(|o| o.f == F::Read
            && key(o) == y
            && node(o) == "n3"
            && o.value == ops[y_write].value),
        "n3 read that y before the x: {evidence}"
    );
}

#[test]
fn all_to_all_with_version_vectors_keeps_the_dependent_update_behind_its_cause() {
    let dir = dependent_update("ml-dependent-vv", "version-vectors");
    let (code, evidence) = causal_evidence(&dir);
    assert_eq!(
        code, 0,
        "causal delivery keeps causal consistency: {evidence}"
    );
    // Every role ran: the histories are not causal for want of reads.
    let h = history(&dir);
    let on = |n: &str, f: F| {
        h.ops
            .iter()
            .filter(|o| o.node.as_deref() == Some(n) && o.f == f)
            .count()
    };
    assert!(on("n1", F::Write) > 50 && on("n2", F::Write) > 20 && on("n3", F::Read) > 50);
}

#[test]
fn all_to_all_with_version_vectors_keeps_causal_consistency() {
    let (_, dir) = run(
        "ml-causal-vv",
        &[
            "--workload",
            "kv",
            "--topology",
            "all-to-all",
            "--causality",
            "version-vectors",
            "--link-delay-ms",
            "1000",
            "--nemesis",
            "none",
            "--time-limit",
            "6s",
            "--seed",
            "5",
        ],
    );
    let (code, out) = check(&dir, "kv", "causal");
    assert_eq!(code, 0, "causal delivery keeps causal consistency: {out}");
}

#[test]
fn lww_counters_under_clock_skew_lose_acknowledged_adds_and_crdt_counters_do_not() {
    for (resolution, lost) in [("lww", true), ("crdt", false)] {
        let (_, dir) = run(
            &format!("ml-counter-{resolution}"),
            &[
                "--workload",
                "counter",
                "--resolution",
                resolution,
                "--nemesis",
                "clock",
                "--time-limit",
                "6s",
                "--seed",
                "8",
            ],
        );
        let e = eventual(&dir);
        if lost {
            assert_eq!(e["verdict"], "invalid", "{e}");
        } else {
            assert_eq!(e["verdict"], "valid", "{e}");
        }
    }
}

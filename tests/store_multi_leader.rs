//! `--store multi-leader` end to end: real `faultline run`s of the built binary (real
//! store processes), judged by faultline's own checkers, asserting the known truths
//! stores/README.md writes down for its options (seed 001).

mod run_common;

use std::path::Path;

use run_common::{faultline, results, run_store, text};

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

#[test]
fn all_to_all_with_version_vectors_keeps_causal_consistency() {
    // Without version vectors an update overtakes the one it depends on on this link
    // layout (stores/tests/multi_leader.rs shows it on one replica); faultline's causal
    // checker did not catch it in the kv runs measured (see stores/README.md), so only
    // the positive half is asserted here.
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

//! `--store primary-backup` end to end: real `faultline run`s of the built binary
//! (real store processes, real kills), judged by faultline's own checkers, asserting
//! the known truths stores/README.md writes down for its options.

mod run_common;

use std::path::Path;

use run_common::{faultline, results, run_store, scratch, text};

/// `faultline run --store primary-backup ARGS` into a fresh results dir: (exit code, run
/// dir).
fn run(name: &str, args: &[&str]) -> (i32, std::path::PathBuf) {
    let (code, dir, _) = run_store(name, "primary-backup", args);
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

#[test]
fn sync_replication_with_reads_from_the_primary_and_no_failover_is_linearizable() {
    let (code, dir) = run(
        "pb-sync",
        &[
            "--workload",
            "cas-register",
            "--replication",
            "sync",
            "--read-from",
            "primary",
            "--failover-timeout-ms",
            "0",
            "--nemesis",
            "none",
            "--time-limit",
            "4s",
            "--seed",
            "2",
        ],
    );
    let res = results(&dir);
    assert_eq!(res["store"], "primary-backup");
    let lin = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "linearizable")
        .expect("linearizable checked");
    assert_eq!(lin["verdict"], "valid", "{lin}");
    assert_eq!(code, 0, "{res}");
    assert!(
        res["ops"]["ok"].as_u64().unwrap_or(0) > 50,
        "{}",
        res["ops"]
    );
}

#[test]
fn reads_from_backups_are_not_linearizable_nor_read_your_writes() {
    let (_, dir) = run(
        "pb-backups",
        &[
            "--workload",
            "kv",
            "--replication",
            "async",
            "--backup-lag-ms",
            "200",
            "--read-from",
            "backups",
            "--nemesis",
            "none",
            "--time-limit",
            "5s",
            "--seed",
            "3",
        ],
    );
    let (code, out) = check(&dir, "kv", "linearizable");
    assert_eq!(code, 1, "reads from lagging backups are stale: {out}");
    // An acknowledged write is not on the backup the writer reads from yet.
    let (code, out) = check(&dir, "kv", "read-your-writes");
    assert_eq!(code, 1, "{out}");
    let (code, out) = check(&dir, "kv", "sequential");
    assert_eq!(code, 1, "{out}");
}

#[test]
fn async_replication_with_failover_loses_acknowledged_writes_and_the_eventual_checker_names_them() {
    let (code, dir) = run(
        "pb-async",
        &[
            "--workload",
            "set",
            "--replication",
            "async",
            "--backup-lag-ms",
            "1000",
            "--failover-timeout-ms",
            "500",
            "--nemesis",
            "kill",
            "--nemesis-interval",
            "2s",
            "--time-limit",
            "10s",
            "--seed",
            "1",
        ],
    );
    let res = results(&dir);
    let eventual = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "eventual")
        .expect("eventual checked");
    assert_eq!(eventual["verdict"], "invalid", "{eventual}");
    // Per key: evidence.keys.K.evidence.elements.lost.
    let lost: Vec<&serde_json::Value> = eventual["evidence"]["keys"]
        .as_object()
        .expect("per-key evidence")
        .values()
        .filter_map(|k| k["evidence"]["elements"]["lost"].as_array())
        .flatten()
        .collect();
    assert!(
        !lost.is_empty(),
        "acknowledged adds are named lost: {eventual}"
    );
    assert_eq!(code, 1);
}

#[test]
fn bad_option_values_of_the_new_stores_exit_3_before_anything_starts() {
    let dir = scratch("pb-bad");
    let r = dir.join("results");
    for (store, flag, value) in [
        ("primary-backup", "--replication", "bogus"),
        ("primary-backup", "--fencing", "maybe"),
        ("multi-leader", "--topology", "mesh"),
        ("multi-leader", "--link-delay-ms", "soon"),
        ("multi-leader", "--replication", "sync"),
    ] {
        let o = faultline(&[
            "run",
            "--store",
            store,
            flag,
            value,
            "--results",
            r.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{store} {flag} {value}: {}",
            text(&o)
        );
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(flag),
            "{}",
            text(&o)
        );
    }
    assert!(
        !r.exists() || std::fs::read_dir(&r).unwrap().next().is_none(),
        "nothing ran"
    );
}

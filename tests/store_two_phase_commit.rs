//! `--store two-phase-commit` end to end: real `faultline run`s of the built binary
//! (real store processes, real kills, coordinators crashing mid-commit through the
//! store's `--crash-mid-commit` crash point), judged by faultline's transactional
//! checker, asserting what stores/README.md promises for each `--prepare-log` value.

mod run_common;

use std::path::{Path, PathBuf};

use run_common::{faultline, history, results, run_store, scratch, text};

/// `faultline run --store two-phase-commit --workload list-append ARGS` under kills
/// every 2 s for 8 s: (exit code, run dir, scratch dir).
fn run(name: &str, args: &[&str]) -> (i32, PathBuf, PathBuf) {
    let mut all = vec![
        "--workload",
        "list-append",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "2s",
        "--time-limit",
        "8s",
        "--seed",
        "1",
    ];
    all.extend_from_slice(args);
    run_store(name, "two-phase-commit", &all)
}

/// `faultline check` of the run's history as list-append: (exit code, output).
fn check(run: &Path, consistency: &str) -> (i32, String) {
    let o = faultline(&[
        "check",
        run.join("history.jsonl").to_str().unwrap(),
        "--model",
        "list-append",
        "--consistency",
        consistency,
    ]);
    (o.status.code().unwrap_or(-1), text(&o))
}

/// How many times a coordinator crashed at the crash point, from the nodes' logs.
fn crashes(run: &Path) -> usize {
    std::fs::read_dir(run.join("nodes"))
        .unwrap()
        .map(|n| {
            std::fs::read_to_string(n.unwrap().path().join("stderr.log"))
                .unwrap_or_default()
                .matches("crash point: crashing mid-commit")
                .count()
        })
        .sum()
}

/// The run did what the verdict needs: committed txns, kills and mid-commit crashes.
fn assert_faults_and_work(run: &Path) {
    let h = history(run);
    let ok = h
        .ops
        .iter()
        .filter(|o| o.outcome == checkers::Outcome::Ok)
        .count();
    assert!(ok > 50, "only {ok} ok txns");
    assert!(
        h.nemesis.iter().any(|e| e.f.as_str().contains("kill")),
        "no kill was injected"
    );
    assert!(crashes(run) > 0, "no coordinator crashed mid-commit");
}

#[test]
fn with_the_prepare_log_coordinators_crashing_mid_commit_leave_the_history_serializable() {
    let (code, dir, scratch) = run("2pc-on", &["--crash-mid-commit", "0.1"]);
    assert_faults_and_work(&dir);
    let res = results(&dir);
    assert_eq!(res["store"], "two-phase-commit");
    let txn = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "strict-serializable")
        .expect("strict-serializable checked");
    assert_eq!(txn["verdict"], "valid", "{txn}");
    assert_eq!(code, 0, "{res}");
    let (code, out) = check(&dir, "serializable");
    assert_eq!(code, 0, "{out}");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn without_the_prepare_log_coordinators_crashing_mid_commit_break_atomicity() {
    let (code, dir, scratch) = run(
        "2pc-off",
        &["--prepare-log", "off", "--crash-mid-commit", "0.2"],
    );
    assert_faults_and_work(&dir);
    assert_eq!(code, 1, "the run's own checker finds it too");
    let (code, out) = check(&dir, "serializable");
    assert_eq!(code, 1, "{out}");
    // A txn applied on some shards only: other txns read part of it.
    assert!(
        ["G0", "G1a", "G1b", "G1c", "G-single", "G2-item"]
            .iter()
            .any(|a| out.contains(a)),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn bad_two_phase_commit_option_values_exit_3_before_anything_starts() {
    let dir = scratch("2pc-bad");
    let r = dir.join("results");
    for (flag, value) in [("--prepare-log", "maybe"), ("--crash-mid-commit", "2")] {
        let o = faultline(&[
            "run",
            "--store",
            "two-phase-commit",
            "--workload",
            "list-append",
            flag,
            value,
            "--results",
            r.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(3), "{flag} {value}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(flag),
            "{}",
            text(&o)
        );
    }
    let o = faultline(&[
        "run",
        "--store",
        "two-phase-commit",
        "--workload",
        "register",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let _ = std::fs::remove_dir_all(dir);
}

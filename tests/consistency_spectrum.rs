//! The consistency spectrum of the leaderless reference store, end to end: real runs
//! of the built `faultline` binary (real store processes on this machine), then
//! `faultline check HISTORY --model kv --consistency M` on the history each wrote,
//! asserting what stores/README.md says each option promises (and breaks).

use std::path::{Path, PathBuf};
use std::process::Command;

fn faultline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
}

/// Runs `faultline run` with `args` into a fresh results dir; returns the history.
fn run(name: &str, args: &[&str]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-spectrum-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = faultline()
        .arg("run")
        .args(args)
        .arg("--results")
        .arg(&dir)
        .arg("--quiet")
        .output()
        .expect("faultline runs");
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "the run could not run: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    find_history(&dir).expect("the run wrote a history")
}

fn find_history(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()? {
        let p = entry.ok()?.path();
        if p.is_dir() && !p.is_symlink() {
            if let Some(h) = find_history(&p) {
                return Some(h);
            }
        } else if p.file_name().is_some_and(|n| n == "history.jsonl") {
            return Some(p);
        }
    }
    None
}

/// `faultline check` of `history` for `model`: the exit code and the output.
fn check(history: &Path, model: &str) -> (i32, String) {
    let out = faultline()
        .arg("check")
        .arg(history)
        .args(["--model", "kv", "--consistency", model])
        .output()
        .expect("faultline check runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn one_replica_quorums_with_slow_replication_are_not_sequential_and_every_weaker_model_is_decided()
{
    let h = run(
        "w1r1",
        &[
            "--w",
            "1",
            "--r",
            "1",
            "--replication-delay-ms",
            "500",
            "--nemesis",
            "none",
            "--time-limit",
            "10s",
            "--seed",
            "3",
        ],
    );
    let (code, out) = check(&h, "sequential");
    assert_eq!(code, 1, "W=1 R=1 is not sequentially consistent: {out}");
    // Which weaker model a run catches breaking depends on which replica answers each
    // read (stores/README.md). Each client slot talks to one node, whose own replica
    // usually answers first, so in the runs measured only about one in three broke one
    // (PRAM): no assertion here can say which. What must hold on every run: each of
    // them is decided on this real history, valid or invalid, never unknown or an error.
    for m in [
        "monotonic-reads",
        "monotonic-writes",
        "read-your-writes",
        "writes-follow-reads",
        "causal",
        "pram",
    ] {
        let (code, out) = check(&h, m);
        assert!(matches!(code, 0 | 1), "{m} undecided (exit {code}): {out}");
    }
}

#[test]
fn majority_quorums_without_faults_keep_read_your_writes() {
    // W + R > N: a read that begins after an acknowledged write returns it or a newer
    // one (stores/README.md), which is read-your-writes for a client's own writes.
    let h = run(
        "w2r2",
        &["--nemesis", "none", "--time-limit", "8s", "--seed", "4"],
    );
    let (code, out) = check(&h, "read-your-writes");
    assert_eq!(code, 0, "read-your-writes should hold with W=2 R=2: {out}");
}

#[test]
fn all_names_the_strongest_models_that_held() {
    let h = run(
        "all",
        &[
            "--w",
            "1",
            "--r",
            "1",
            "--replication-delay-ms",
            "200",
            "--nemesis",
            "none",
            "--time-limit",
            "5s",
            "--seed",
            "5",
        ],
    );
    let (code, out) = check(&h, "all");
    assert_eq!(code, 1, "{out}");
    for model in [
        "read-your-writes",
        "monotonic-reads",
        "causal",
        "pram",
        "causal-memory",
    ] {
        assert!(out.contains(model), "{model} is judged by all: {out}");
    }
}

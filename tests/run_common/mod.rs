//! Helpers shared by the end-to-end `faultline run` tests: scratch directories,
//! running the real binary, reading back what a run wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh scratch directory for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `faultline ARGS` to completion.
pub fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("faultline runs")
}

/// stdout and stderr of `o`, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The run directory printed on the `run: DIR` line.
pub fn run_dir(o: &Output) -> PathBuf {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("run: "))
        .unwrap_or_else(|| panic!("no run: line\n{}", text(o)));
    PathBuf::from(line.trim())
}

/// `faultline run --store STORE ARGS` into a fresh scratch directory's `results/`,
/// asserting that the run ran (exit 0, 1 or 2): (exit code, run dir, scratch dir).
pub fn run_store(name: &str, store: &str, args: &[&str]) -> (i32, PathBuf, PathBuf) {
    let dir = scratch(name);
    let r = dir.join("results");
    let mut all = vec!["run", "--store", store, "--results", r.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = faultline(&all);
    let code = o.status.code().unwrap_or(-1);
    assert!(
        (0..=2).contains(&code),
        "the run could not run: {}",
        text(&o)
    );
    (code, run_dir(&o), dir)
}

/// `results.json` of a run.
pub fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap()
}

/// The history of a run, read back and validated by the checkers crate's reader.
pub fn history(dir: &Path) -> checkers::History {
    let path = dir.join("history.jsonl");
    let f = std::fs::File::open(&path).unwrap();
    checkers::read::jsonl::read(std::io::BufReader::new(f), &path.display().to_string())
        .expect("the history validates")
}

/// Every PID in the `pid` files under `dir` (one line per start of a node).
pub fn recorded_pids(dir: &Path) -> Vec<i32> {
    let mut pids = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            // The `latest` link leads back into a run directory already walked.
            if e.file_type().is_ok_and(|t| t.is_symlink()) {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "pid") {
                let text = std::fs::read_to_string(&p).unwrap();
                pids.extend(text.lines().map(|l| l.trim().parse::<i32>().unwrap()));
            }
        }
    }
    pids
}

/// Whether process `pid` is running (a zombie is not).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.contains(") Z "),
        Err(_) => false,
    }
}

/// Asserts that no node process recorded under `dir` still runs.
pub fn assert_no_node_left(dir: &Path) {
    for pid in recorded_pids(dir) {
        assert!(!alive(pid), "node process {pid} is still running");
    }
}

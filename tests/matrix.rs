//! `faultline matrix` end to end: the built binary runs real cells (real store
//! processes on this machine, real kills), writes `matrix.json` and `matrix.html`, and
//! compares promise files — a promise the store keeps stays kept, a false one is
//! reported broken with exit 1, and a bad grid is refused before anything starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn faultline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(args)
        .output()
        .expect("faultline runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("faultline-matrix-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The repository's own stores/promises/ file `name`.
fn shipped(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("stores/promises")
        .join(name)
        .display()
        .to_string()
}

/// `matrix.json` of the newest matrix under `results`.
fn matrix_json(results: &Path) -> serde_json::Value {
    let p = results.join("matrix/latest/matrix.json");
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// The cell of `matrix` whose id starts with `prefix`.
fn cell<'a>(matrix: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    matrix["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no cell {id} in {matrix:#}"))
}

#[test]
fn a_bad_grid_or_promise_file_is_refused_before_anything_starts() {
    let dir = scratch("refused");
    let results = dir.join("results");
    let bad_promise = dir.join("bad.toml");
    std::fs::write(
        &bad_promise,
        "store = \"leaderless\"\n[faults]\nnone = [\"linearish\"]\n",
    )
    .unwrap();
    let bad_promise = bad_promise.display().to_string();
    let cases: [(&[&str], &str); 5] = [
        (&["--stores", "nosuch"], "unknown store kind \"nosuch\""),
        (&["--stores", "leaderless:w=9"], "--w 9"),
        (
            &["--stores", "etcd:conflict=lww"],
            "etcd has no store option \"conflict\"",
        ),
        (&["--faults", "none,frobnicate"], "fault set \"frobnicate\""),
        (
            &["--promises", &bad_promise],
            "bad.toml:3: none: \"linearish\" is not a consistency model",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["matrix", "--results", results.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = faultline(&all);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(message),
            "{args:?}: expected {message:?} in {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(!results.exists(), "{args:?} wrote {}", results.display());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_matrix_shows_the_strongest_model_that_held_and_a_false_promise_is_broken() {
    let dir = scratch("promises");
    let results = dir.join("results");
    // The truth about primary-backup without faults (linearizable: stores/README.md),
    // and a false claim about one-replica quorums with slow replication.
    let promise = dir.join("claims.toml");
    std::fs::write(
        &promise,
        "store = \"leaderless:r=1:replication-delay-ms=500:w=1\"\n[faults]\nnone = [\"linearizable\"]\n",
    )
    .unwrap();
    let promises = format!(
        "{},{}",
        shipped("primary-backup-sync.toml"),
        promise.display()
    );
    let o = faultline(&[
        "matrix",
        "--stores",
        "primary-backup,leaderless:w=1:r=1:replication-delay-ms=500",
        "--faults",
        "none,kill",
        "--time-limit",
        "6s",
        "--seed",
        "3",
        "--promises",
        &promises,
        "--results",
        results.to_str().unwrap(),
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "a broken promise exits 1: {out}");
    assert!(out.contains("promise broken: leaderless:r=1:replication-delay-ms=500:w=1 · kv × none: linearizable broke"), "{out}");
    let m = matrix_json(&results);
    assert_eq!(m["cells"].as_array().unwrap().len(), 4);
    let again = m["command"].as_str().unwrap();
    assert!(
        again.contains("--seed 3")
            && again.contains("--faults 'none,kill'")
            && !again.contains("--workloads"),
        "the command that runs it again gives the grid flags as given: {again}"
    );
    assert_eq!(m["summary"]["broken"], 1, "{m:#}");

    let pb = cell(&m, "primary-backup--kv--none");
    assert_eq!(pb["state"], "decided", "{pb:#}");
    assert_eq!(pb["outcome"]["held"][0], "linearizable", "{pb:#}");
    assert_eq!(pb["promise"]["standing"], "kept", "{pb:#}");

    let slow = cell(&m, "leaderless-r-1-replication-delay-ms-500-w-1--kv--none");
    assert_eq!(slow["promise"]["standing"], "broken", "{slow:#}");
    assert_eq!(slow["promise"]["broken"][0], "linearizable");
    let held: Vec<&str> = slow["outcome"]["held"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(
        !held.contains(&"linearizable") && !held.contains(&"sequential"),
        "{slow:#}"
    );
    assert!(
        !slow["outcome"]["broke_next"].as_array().unwrap().is_empty(),
        "the anomaly that broke the next model up is named: {slow:#}"
    );

    // Every cell ran to a verdict and links a report that exists.
    let base = results.join("matrix/latest");
    for c in m["cells"].as_array().unwrap() {
        assert!(
            c["state"] == "decided" || c["state"] == "undecided",
            "{c:#}"
        );
        let run = base.join(c["run_dir"].as_str().unwrap());
        assert!(run.join("report.html").is_file(), "{}", run.display());
    }
    let page = std::fs::read_to_string(base.join("matrix.html")).unwrap();
    assert!(page.contains("1 promise broken"), "the answer at the top");
    assert!(page.contains("promise broken: linearizable"));
    assert!(!page.contains("<script"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_leaderless_store_keeps_what_its_promise_file_says_under_partitions_and_kills() {
    let dir = scratch("leaderless");
    let results = dir.join("results");
    let o = faultline(&[
        "matrix",
        "--promises",
        &shipped("leaderless.toml"),
        "--faults",
        "none,partition,kill",
        "--time-limit",
        "5s",
        "--results",
        results.to_str().unwrap(),
        "--quiet",
    ]);
    let out = text(&o);
    let m = matrix_json(&results);
    assert_eq!(m["summary"]["broken"], 0, "{out}\n{m:#}");
    assert_ne!(o.status.code(), Some(1), "{out}");
    for c in m["cells"].as_array().unwrap() {
        assert!(c["promise"]["standing"] != "broken", "{c:#}");
        assert!(
            c["outcome"]["held"]
                .as_array()
                .is_some_and(|h| !h.is_empty()),
            "{c:#}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The default matrix (every reference store and etcd under none, partition, kill,
/// pause and clock): minutes on a 2-core machine, so in the long suite
/// (`cargo test --release --test matrix -- --ignored`).
#[test]
#[ignore]
fn the_default_matrix_decides_every_cell_and_keeps_the_shipped_promises() {
    let dir = scratch("default");
    let results = dir.join("results");
    let promises = [
        "leaderless.toml",
        "primary-backup-sync.toml",
        "primary-backup-async.toml",
        "multi-leader.toml",
        "multi-leader-version-vectors.toml",
        "two-phase-commit.toml",
    ]
    .map(shipped)
    .join(",");
    let o = faultline(&[
        "matrix",
        "--stores",
        &grid_default_stores(),
        "--promises",
        &promises,
        "--results",
        results.to_str().unwrap(),
    ]);
    let out = text(&o);
    let m = matrix_json(&results);
    assert_eq!(m["summary"]["broken"], 0, "{out}");
    for c in m["cells"].as_array().unwrap() {
        assert!(
            c["state"] == "decided" || c["state"] == "not-applicable",
            "{c:#}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The default rows, as `--stores` takes them.
fn grid_default_stores() -> String {
    faultline::matrix::grid::DEFAULT_STORES.join(",")
}

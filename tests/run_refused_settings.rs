//! Every setting `faultline run` cannot work with is refused before anything starts:
//! exit 3, one line on stderr that says what to change (and nothing else), nothing on
//! stdout, no run directory, no nemesis state file.

mod run_common;

use std::process::Command;

/// (extra arguments, a part of the one line that must be printed)
const REFUSED: &[(&[&str], &str)] = &[
    (
        &["--time-limit", "0s"],
        "--time-limit 0s: expected a duration above zero",
    ),
    (
        &["--op-timeout", "0s"],
        "--op-timeout 0s: expected a duration above zero",
    ),
    (
        &["--ready-timeout", "0"],
        "--ready-timeout 0s: expected a duration above zero",
    ),
    (
        &["--check-timeout", "0ms"],
        "--check-timeout 0s: expected a duration above zero",
    ),
    (
        &["--nemesis", "kill", "--nemesis-interval", "0"],
        "--nemesis-interval 0s: expected at least 100ms",
    ),
    (
        &["--nemesis", "pause", "--nemesis-interval", "50ms"],
        "--nemesis-interval 50ms: expected at least 100ms",
    ),
    (
        &["--nodes", "1", "--nemesis", "partition"],
        "--nemesis partition: needs at least 2 nodes",
    ),
    (
        &["--nodes", "1", "--nemesis", "partition:one"],
        "--nemesis partition: needs at least 2 nodes",
    ),
    (&["--w", "5"], "--w 5: the write quorum must be in 1..=3"),
    (&["--r", "4"], "--r 4: the read quorum must be in 1..=3"),
    (
        &["--n", "5"],
        "--n 5: replicas per key must be in 1..=3 (--nodes 3)",
    ),
    (
        &["--conflict", "maybe"],
        "--conflict maybe: expected siblings or lww",
    ),
    (
        &["--fsync", "sometimes"],
        "--fsync sometimes: expected always or interval or never",
    ),
    (
        &["--read-repair", "yes"],
        "--read-repair yes: expected on or off",
    ),
    (
        &["--store", "nosuch"],
        "unknown store \"nosuch\"; expected one of leaderless",
    ),
    (&["--nodes", "0"], "--nodes 0: expected at least 1"),
    (
        &["--store", "etcd", "--conflict", "lww"],
        "--conflict is an option of --store leaderless, not of --store etcd; remove it",
    ),
    (
        &["--store", "leaderless", "--redis-wait", "2"],
        "--redis-wait is an option of --store redis, not of --store leaderless",
    ),
    (
        &[
            "--store",
            "http",
            "--addrs",
            "http://127.0.0.1:9",
            "--nemesis",
            "partition",
        ],
        "--nemesis partition: --store http takes no faults",
    ),
    (
        &[
            "--store",
            "http",
            "--addrs",
            "http://127.0.0.1:9",
            "--nemesis",
            "kill",
        ],
        "--nemesis kill: --store http takes no faults",
    ),
    (&["--store", "http"], "--store http needs --addrs"),
    (
        &[
            "--store",
            "redis",
            "--workload",
            "set",
            "--nemesis",
            "partition",
        ],
        "--nemesis partition: --store redis takes only kill, stop, pause",
    ),
    (
        &["--nemesis", "failover"],
        "--nemesis failover: --store leaderless takes only kill, stop, pause, partition, clock, packet",
    ),
    (
        &["--store", "etcd", "--workload", "set"],
        "--workload set: --store etcd serves register, cas-register, kv, list-append, rw-register",
    ),
    (
        &["--store", "redis", "--workload", "counter"],
        "--workload counter: --store redis serves set, register",
    ),
    (
        &["--store", "redis", "--workload", "set", "--nodes", "1"],
        "--nodes 1: --store redis needs at least 2",
    ),
    (
        &["--store", "maelstrom"],
        "--store maelstrom needs --bin PATH",
    ),
    (
        &["--store", "maelstrom", "--bin", "/bin/cat", "--latency-dist", "gaussian"],
        "--maelstrom-latency-dist gaussian: expected constant or uniform or exponential",
    ),
    (
        &["--store", "maelstrom", "--bin", "/bin/cat", "--maelstrom-services", "weak"],
        "--maelstrom-services weak: expected maelstrom or strong",
    ),
    (&["--workload", "bank"], "unknown workload \"bank\""),
    (
        &["--workload", "list-append", "--txn-length", "0"],
        "--txn-length 0: expected at least 1 micro-op per transaction",
    ),
    (
        &["--workload", "rw-register", "--active-keys", "0"],
        "--active-keys 0: expected at least 1 key in use at a time",
    ),
    (
        &["--workload", "list-append", "--appends-per-key", "0"],
        "--appends-per-key 0: expected at least 1 append per key before it rotates",
    ),
    (&["--keys", "0"], "--keys must be at least 1"),
    (
        &["--key-dist", "zipf:0"],
        "--key-dist zipf:0: unknown key distribution",
    ),
    (&["--key-dist", "gaussian"], "--key-dist gaussian"),
    (&["--nemesis", "meteor"], "--nemesis: "),
    (&["--nemesis", "partition:triangle"], "partition:triangle"),
    (
        &["--concurrency", "0"],
        "--concurrency 0: expected at least 1",
    ),
    (&["--rate=-5"], "--rate -5: expected operations per second"),
    (
        &["--consistency", "nope"],
        "--consistency nope: unknown consistency model",
    ),
    (
        &["--cluster", "/nonexistent/cluster.toml"],
        "--cluster /nonexistent/cluster.toml: no such file",
    ),
    (
        &["--from", "/nonexistent/test.json"],
        "--from /nonexistent/test.json: ",
    ),
];

#[test]
fn every_setting_that_cannot_work_is_refused_before_anything_starts() {
    let dir = run_common::scratch("refused");
    let mut failures = Vec::new();
    for (i, (args, expected)) in REFUSED.iter().enumerate() {
        let results = dir.join(format!("r{i}"));
        let state = dir.join(format!("state{i}"));
        let child = Command::new(env!("CARGO_BIN_EXE_faultline"))
            .arg("run")
            .args(*args)
            .arg("--results")
            .arg(&results)
            .env("FAULTLINE_STATE_DIR", &state)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("faultline runs");
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let problems: Vec<String> = [
            (o.status.code() != Some(3)).then(|| format!("exit {:?}", o.status.code())),
            (lines.len() != 1).then(|| format!("{} lines on stderr", lines.len())),
            (!stderr.starts_with("faultline run: ")).then(|| "no `faultline run:` prefix".into()),
            (!stderr.contains(expected)).then(|| format!("no {expected:?}")),
            (stderr.contains("ERROR")).then(|| "an ERROR log line".into()),
            (!o.stdout.is_empty()).then(|| "output on stdout".into()),
            results.exists().then(|| "a results directory".into()),
            state.exists().then(|| "a nemesis state directory".into()),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            failures.push(format!(
                "{args:?}: {} — stderr: {stderr}",
                problems.join(", ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_started_from_its_own_test_json_runs_the_same_test_again() {
    let dir = run_common::scratch("from");
    let results = dir.join("r");
    let r = results.to_str().unwrap();
    let o = run_common::faultline(&[
        "run",
        "--nemesis",
        "none",
        "--time-limit",
        "1s",
        "--seed",
        "42",
        "--consistency",
        "all",
        "--results",
        r,
    ]);
    // The verdict is the store's business here; only a run that could not run fails.
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "{}",
        run_common::text(&o)
    );
    let first = run_common::run_dir(&o);
    let test_json = first.join("test.json");
    let o = run_common::faultline(&["run", "--from", test_json.to_str().unwrap()]);
    // The verdict is the store's business here; only a run that could not run fails.
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "{}",
        run_common::text(&o)
    );
    let second = run_common::run_dir(&o);
    assert_ne!(first, second);
    let a = run_common::results(&first);
    let b = run_common::results(&second);
    assert_eq!(a["command"], b["command"]);
    assert_eq!(a["seed"], 42);
    let checkers = |v: &serde_json::Value| -> Vec<String> {
        v["checkers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["checker"].as_str().unwrap().to_string())
            .collect()
    };
    // `--consistency all` on set: every model the build decides for sets.
    assert!(checkers(&a).len() >= 2, "{:?}", checkers(&a));
    assert_eq!(checkers(&a), checkers(&b));
    // The defaults the run chose are written down, and a re-run keeps them.
    let command = a["command"].as_str().unwrap();
    for part in [
        "--n 3",
        "--w 2",
        "--r 2",
        "--conflict lww",
        "--nemesis none",
    ] {
        assert!(command.contains(part), "{command}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quiet_prints_only_the_verdict_line() {
    let dir = run_common::scratch("quiet");
    let results = dir.join("r");
    let o = run_common::faultline(&[
        "--quiet",
        "run",
        "--nemesis",
        "none",
        "--time-limit",
        "1s",
        "--results",
        results.to_str().unwrap(),
    ]);
    // The verdict is the store's business here; only a run that could not run fails.
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "{}",
        run_common::text(&o)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run_common::text(&o));
    assert!(
        lines[0].starts_with("verdict: "),
        "{}",
        run_common::text(&o)
    );
    assert!(o.stderr.is_empty(), "{}", run_common::text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

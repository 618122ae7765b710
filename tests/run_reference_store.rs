//! End-to-end `faultline run` against the reference store `faultline-store`: real
//! processes on real loopback sockets, histories read back and judged.

mod run_common;

use std::time::Duration;

use run_common::{assert_no_node_left, faultline, history, results, run_dir, scratch, text};

#[test]
fn a_run_on_the_default_cluster_records_a_valid_history_and_runs_every_checker() {
    let dir = scratch("default");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--nemesis",
        "none",
        "--time-limit",
        "3s",
        "--seed",
        "11",
        "--quiesce",
        "500ms",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", text(&o));
    let run = run_dir(&o);
    assert!(run.starts_with(&r), "{}", run.display());
    for f in [
        "test.json",
        "history.jsonl",
        "results.json",
        "nodes/n1/stdout.log",
        "nodes/n3/exit-status",
    ] {
        assert!(run.join(f).exists(), "{f} is missing in {}", run.display());
    }
    assert_eq!(
        std::fs::read_link(r.join("leaderless-kv/latest")).unwrap(),
        run.file_name().map(std::path::PathBuf::from).unwrap()
    );
    let h = history(&run);
    let res = results(&run);
    assert_eq!(res["seed"], 11);
    assert_eq!(res["store"], "leaderless");
    assert_eq!(res["workload"], "kv");
    assert_eq!(res["ops"]["total"].as_u64().unwrap() as usize, h.ops.len());
    assert!(h.ops.len() > 100, "only {} ops in 3 s", h.ops.len());
    let checkers: Vec<&str> = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["checker"].as_str().unwrap())
        .collect();
    assert_eq!(checkers, ["linearizable", "sequential", "eventual"]);
    for c in res["checkers"].as_array().unwrap() {
        assert!(
            !c["summary"].as_str().unwrap().starts_with("not checked"),
            "{c}"
        );
    }
    // The final phase: a marker, then one read per key per node on fresh processes.
    let marker = h
        .nemesis
        .iter()
        .find(|e| e.f.as_str() == "final-reads")
        .expect("final-reads marker");
    let finals: Vec<_> = h
        .ops
        .iter()
        .filter(|o| o.invoke_index > marker.index)
        .collect();
    assert!(finals.len() >= 15, "5 keys x 3 nodes, got {}", finals.len());
    let main_processes: std::collections::HashSet<u64> = h
        .ops
        .iter()
        .filter(|o| o.invoke_index < marker.index)
        .map(|o| o.process)
        .collect();
    assert!(finals.iter().all(|o| !main_processes.contains(&o.process)));
    // The command in test.json re-runs the same test.
    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("test.json")).unwrap()).unwrap();
    assert!(test["command"].as_str().unwrap().contains("--seed 11"));
    assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With W=1 a write is acknowledged as soon as its coordinator stored it, and
/// replication to the other replicas is delayed by 200 ms; with R=1 a read is answered
/// by a single replica. Clients are spread over the three nodes and all use one key,
/// at 300 ops/s: within 200 ms of almost every acknowledged write, another node's
/// client reads the key from a replica that has not yet received it, and gets an older
/// value after the write completed — a stale read, which no linearizable register
/// allows.
#[test]
fn a_weak_quorum_with_slow_replication_is_found_not_linearizable_with_evidence() {
    let dir = scratch("weak");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--nemesis",
        "none",
        "--workload",
        "register",
        "--keys",
        "1",
        "--w",
        "1",
        "--r",
        "1",
        "--replication-delay-ms",
        "200",
        "--conflict",
        "lww",
        "--concurrency",
        "6",
        "--rate",
        "300",
        "--time-limit",
        "3s",
        "--quiesce",
        "500ms",
        "--seed",
        "5",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let run = run_dir(&o);
    let res = results(&run);
    assert_eq!(res["verdict"], "invalid");
    let lin = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "linearizable")
        .unwrap();
    assert_eq!(lin["verdict"], "invalid", "{lin}");
    assert!(!lin["evidence"].is_null(), "{lin}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("linearizable (register): invalid"),
        "{stdout}"
    );
    // The terminal line carries the report's "during" clause (no faults in this run).
    assert!(
        stdout.contains("; the first anomaly came with no fault active"),
        "{stdout}"
    );
    assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_set_run_with_final_reads_is_eventually_consistent() {
    let dir = scratch("set");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--nemesis",
        "none",
        "--workload",
        "set",
        "--time-limit",
        "3s",
        "--quiesce",
        "1s",
        "--seed",
        "3",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let run = run_dir(&o);
    let res = results(&run);
    assert_eq!(res["checkers"][0]["checker"], "eventual");
    assert_eq!(res["checkers"][0]["verdict"], "valid");
    let h = history(&run);
    assert!(h.ops.iter().any(|o| o.f == checkers::F::Add));
    assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_workload_runs_against_the_reference_store_and_records_a_valid_history() {
    let dir = scratch("workloads");
    for w in ["cas-register", "counter", "list-append"] {
        let r = dir.join(w);
        let o = faultline(&[
            "run",
            "--nemesis",
            "none",
            "--workload",
            w,
            "--time-limit",
            "1500ms",
            "--quiesce",
            "300ms",
            "--results",
            r.to_str().unwrap(),
        ]);
        assert!(matches!(o.status.code(), Some(0..=2)), "{w}: {}", text(&o));
        let run = run_dir(&o);
        let h = history(&run);
        assert!(
            h.ops
                .iter()
                .filter(|o| o.outcome == checkers::Outcome::Ok)
                .count()
                > 20,
            "{w}"
        );
        assert_no_node_left(&run);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_interrupted_run_stops_its_nodes_and_keeps_what_was_recorded() {
    let dir = scratch("interrupt");
    let r = dir.join("results");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "--nemesis",
            "none",
            "--time-limit",
            "60s",
            "--results",
            r.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the main phase has recorded something.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let history_path = loop {
        let found = std::fs::read_dir(r.join("leaderless-kv"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|d| d.path().join("history.jsonl"))
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 1000));
        if let Some(p) = found {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no history after 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let run = history_path.parent().unwrap();
    let h = history(run);
    assert!(!h.ops.is_empty());
    assert_no_node_left(run);
    // What was recorded is checked all the same, and the results say where it stopped.
    let res = results(run);
    assert_eq!(res["interrupted"]["phase"], "main phase", "{res}");
    assert!(
        !res["checkers"].as_array().unwrap().is_empty(),
        "no checker ran: {res}"
    );
    assert!(
        text(&o).contains("the run stopped in the main phase"),
        "{}",
        text(&o)
    );
    let latest = std::fs::canonicalize(r.join("leaderless-kv").join("latest")).unwrap();
    assert_eq!(latest, std::fs::canonicalize(run).unwrap());
    // The report says so at the top, before the verdict.
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    let banner = page
        .find("Interrupted in the main phase: ")
        .expect("the report says the run was interrupted");
    assert!(
        banner < page.find("id=\"verdict\"").unwrap(),
        "the banner comes first"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cluster_file_starts_the_reference_store_and_stops_it() {
    let dir = scratch("cluster-file");
    let r = dir.join("results");
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/cluster-leaderless.toml"
    );
    let o = faultline(&[
        "run",
        "--nemesis",
        "none",
        "--cluster",
        file,
        // The file starts the store as the default run does for kv (`--conflict lww`).
        "--workload",
        "kv",
        "--time-limit",
        "2s",
        "--quiesce",
        "500ms",
        "--results",
        r.to_str().unwrap(),
    ]);
    // A verdict, not an error: last-write-wins under concurrent writers is not always
    // linearizable even without faults, so valid and invalid are both honest answers.
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));
    let run = run_dir(&o);
    assert!(run.starts_with(r.join("cluster-file-kv")));
    let res = results(&run);
    assert!(res["ops"]["ok"].as_u64().unwrap_or(0) > 50, "{res}");
    for n in ["n1", "n2", "n3"] {
        let status =
            std::fs::read_to_string(run.join("nodes").join(n).join("exit-status")).unwrap();
        assert!(!status.trim().is_empty(), "{n}: {status}");
    }
    assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_directory_with_a_history_but_no_results_is_checked_again_by_report() {
    let dir = scratch("recheck");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--workload",
        "set",
        "--nemesis",
        "none",
        "--time-limit",
        "1s",
        "--quiesce",
        "300ms",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", text(&o));
    let run = run_dir(&o);
    let before = results(&run);
    std::fs::remove_file(run.join("results.json")).unwrap();
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let after = results(&run);
    assert_eq!(after["verdict"], before["verdict"], "{after}");
    assert_eq!(after["ops"], before["ops"], "{after}");
    assert_eq!(
        after["checkers"].as_array().unwrap().len(),
        before["checkers"].as_array().unwrap().len()
    );
    assert!(after["interrupted"]["phase"].is_string(), "{after}");
    assert!(run.join("report.html").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

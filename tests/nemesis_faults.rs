//! Network, clock and cleanup faults end to end on the reference store: the faults
//! are real (the checkers find what they must cause), recorded with their exact
//! targets, and nothing is left behind — also after the driver is killed with SIGKILL
//! and `faultline cleanup` runs.

mod run_common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use run_common::{alive, faultline, history, recorded_pids, results, run_dir, scratch, text};

fn test_json(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("test.json")).unwrap()).unwrap()
}

#[test]
fn a_quorum_of_one_under_partitions_serves_stale_reads() {
    let dir = scratch("nemesis-stale");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--workload",
        "register",
        "--w",
        "1",
        "--r",
        "1",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "700ms",
        "--time-limit",
        "5s",
        "--check-timeout",
        "5s",
        "--seed",
        "5",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "not linearizable: {}", text(&o));
    let run = run_dir(&o);
    let res = results(&run);
    let lin = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "linearizable")
        .expect("a linearizability check");
    assert_eq!(lin["verdict"], "invalid", "{lin}");
    let h = history(&run);
    let starts: Vec<_> = h
        .nemesis
        .iter()
        .filter(|e| e.f.as_str() == "start-partition")
        .collect();
    assert!(!starts.is_empty(), "{:?}", h.nemesis);
    for s in &starts {
        assert!(
            s.value.get("grudge").is_some() && s.value.get("groups").is_some(),
            "{:?}",
            s.value
        );
    }
    let faults = &test_json(&run)["faults"];
    assert!(
        matches!(faults["mechanism"].as_str(), Some("namespaces" | "proxies")),
        "{faults}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// How many acknowledged adds the eventual checker found lost, over all keys.
fn lost_adds(run: &Path) -> usize {
    let res = results(run);
    let ev = res["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "eventual")
        .expect("an eventual check")["evidence"]["keys"]
        .clone();
    ev.as_object()
        .unwrap()
        .values()
        .map(|k| {
            k["evidence"]["elements"]["lost"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum()
}

#[test]
fn clock_skew_under_last_write_wins_loses_many_more_acknowledged_writes() {
    let dir = scratch("nemesis-clock");
    let r = dir.join("results");
    let run = |nemesis: &str| -> PathBuf {
        let o = faultline(&[
            "run",
            "--workload",
            "set",
            "--conflict",
            "lww",
            "--nemesis",
            nemesis,
            "--nemesis-interval",
            "1s",
            "--time-limit",
            "5s",
            "--check-timeout",
            "5s",
            "--seed",
            "5",
            "--results",
            r.to_str().unwrap(),
        ]);
        assert!(matches!(o.status.code(), Some(0..=2)), "{}", text(&o));
        run_dir(&o)
    };
    let skewed = run("clock");
    let h = history(&skewed);
    let clock_events: Vec<_> = h
        .nemesis
        .iter()
        .filter(|e| e.f.as_str() == "start-clock")
        .collect();
    assert!(!clock_events.is_empty(), "{:?}", h.nemesis);
    // Observed, not trusted: each node's own /health reports the offset it was given.
    for e in &clock_events {
        let v = e.value.to_json();
        for (node, change) in v["changes"].as_object().unwrap() {
            let want = change["ms"].as_i64().unwrap();
            let seen = v["observed_offset_ms"][node]
                .as_i64()
                .unwrap_or_else(|| panic!("no observed offset: {v}"));
            assert!(
                (seen - want).abs() < 300,
                "{node}: set {want} ms, saw {seen} ms"
            );
        }
    }
    let baseline = run("none");
    let (with, without) = (lost_adds(&skewed), lost_adds(&baseline));
    assert!(
        with > 0 && with > 3 * without,
        "lost acknowledged adds: {with} with clock skew, {without} without"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn after_the_driver_is_killed_mid_fault_cleanup_leaves_nothing_behind() {
    let dir = scratch("nemesis-cleanup");
    let r = dir.join("results");
    let mut driver = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "--workload",
            "set",
            "--nemesis",
            "partition,pause,clock",
            "--nemesis-interval",
            "300ms",
            "--time-limit",
            "60s",
            "--seed",
            "9",
            "--results",
            r.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a fault is active (the last nemesis event is a start).
    let until = Instant::now() + Duration::from_secs(40);
    let run = loop {
        assert!(Instant::now() < until, "no fault started in time");
        std::thread::sleep(Duration::from_millis(20));
        let Some(run) = std::fs::read_dir(&r)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .and_then(|e| std::fs::read_dir(e.path()).ok())
            .and_then(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .find(|p| p.join("history.jsonl").exists())
            })
        else {
            continue;
        };
        let h = std::fs::read_to_string(run.join("history.jsonl")).unwrap_or_default();
        let last = h.lines().rfind(|l| l.contains("\"nemesis\"")).unwrap_or("");
        if last.contains("\"start-") {
            break run;
        }
    };
    driver.kill().unwrap();
    driver.wait().unwrap();
    let state_path = run.join("nemesis-state.json");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    assert_eq!(state["healed"], false, "{state}");
    let pids = recorded_pids(&run);
    assert!(
        pids.iter().any(|p| alive(*p)),
        "the nodes outlive their driver"
    );

    let o = faultline(&["cleanup", "--results", r.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for pid in &pids {
        let until = Instant::now() + Duration::from_secs(5);
        while alive(*pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !alive(*pid),
            "node pid {pid} survived the cleanup: {}",
            text(&o)
        );
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).unwrap()).unwrap();
    assert_eq!(state["healed"], true, "{state}");
    let netns = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output();
    if let Ok(out) = netns {
        let list = String::from_utf8_lossy(&out.stdout);
        let id = state["id"].as_str().unwrap();
        assert!(
            !list.contains(&format!("fl-{id}-")),
            "namespaces left: {list}"
        );
    }
    if let Ok(rd) = std::fs::read_dir(run.join("clock")) {
        for f in rd.flatten() {
            if f.path().extension().is_some_and(|e| e == "faketime") {
                assert_eq!(std::fs::read_to_string(f.path()).unwrap().trim(), "+0.000");
            }
        }
    }
    // Idempotent.
    let again = faultline(&["cleanup", "--results", r.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    std::fs::remove_dir_all(&dir).unwrap();
}

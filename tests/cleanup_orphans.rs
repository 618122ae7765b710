//! `faultline cleanup` after a driver killed with SIGKILL during a default run (the
//! default faults, kill and pause): every node the run started carries the owner tag,
//! so cleanup finds and stops them all, including one paused at that moment; it
//! reports each action once, and a second cleanup has nothing left to do.

mod run_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use run_common::{alive, faultline, recorded_pids, scratch, text};

/// The processes whose environment names `owner_pid` as their faultline owner.
fn owned_by(owner_pid: u32) -> Vec<i32> {
    let prefix = format!("FAULTLINE_OWNER={owner_pid}:");
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env
            .split(|b| *b == 0)
            .any(|v| v.starts_with(prefix.as_bytes()))
            && alive(pid)
        {
            pids.push(pid);
        }
    }
    pids
}

fn state_of(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

#[test]
fn cleanup_after_a_killed_default_run_stops_every_node_once_and_then_has_nothing_to_do() {
    let dir = scratch("cleanup-orphans");
    let r = dir.join("results");
    let mut driver = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "--workload",
            "set",
            "--nemesis-interval",
            "200ms",
            "--time-limit",
            "60s",
            "--seed",
            "3",
            "--results",
            r.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let driver_pid = driver.id();
    // Wait until a node is paused right now (the default faults are kill and pause).
    let until = Instant::now() + Duration::from_secs(40);
    let paused = loop {
        assert!(Instant::now() < until, "no node was paused in time");
        std::thread::sleep(Duration::from_millis(10));
        if let Some(p) = owned_by(driver_pid)
            .into_iter()
            .find(|p| matches!(state_of(*p), Some('T')))
        {
            break p;
        }
    };
    driver.kill().unwrap();
    driver.wait().unwrap();
    let orphans = owned_by(driver_pid);
    assert!(
        orphans.contains(&paused) && orphans.len() >= 3,
        "the nodes outlive their driver and carry its tag: {orphans:?}"
    );

    let o = faultline(&["cleanup", "--json", "--results", r.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let healed: Vec<String> = report["healed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<&String> = healed.iter().collect();
    assert_eq!(
        unique.len(),
        healed.len(),
        "an action reported twice: {healed:?}"
    );
    for pid in &orphans {
        let said = healed
            .iter()
            .filter(|h| h.contains(&format!("(pid {pid},")) && h.contains("killed"))
            .count();
        assert_eq!(said, 1, "orphan {pid} reported once: {healed:?}");
    }
    assert!(
        healed
            .iter()
            .any(|h| h.contains(&format!("(pid {paused}) resumed"))
                || h.contains(&format!("(pid {paused}, paused"))),
        "the paused node is said to be resumed: {healed:?}"
    );
    assert!(owned_by(driver_pid).is_empty(), "{}", text(&o));
    for pid in recorded_pids(&r) {
        assert!(!alive(pid), "node pid {pid} survived the cleanup");
    }

    // Idempotent: the second cleanup has nothing of this run left to do.
    let again = faultline(&["cleanup", "--json", "--results", r.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let run_dir = std::fs::read_dir(&r)
        .unwrap()
        .flatten()
        .next()
        .and_then(|e| std::fs::read_dir(e.path()).ok()?.flatten().next())
        .map(|e| e.path())
        .unwrap();
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("nemesis-state.json")).unwrap())
            .unwrap();
    assert_eq!(state["healed"], true, "{state}");
    let id = state["id"].as_str().unwrap();
    let mentions: Vec<&serde_json::Value> = report["healed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            let h = h.as_str().unwrap();
            h.contains(id)
                || h.contains(&r.display().to_string())
                || orphans.iter().any(|p| h.contains(&format!("(pid {p},")))
        })
        .collect();
    assert!(mentions.is_empty(), "second cleanup: {report}");
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
}

//! End-to-end: Maelstrom's protocol as faultline's network speaks it, with real node
//! processes (small Python programs in `tests/maelstrom_nodes/`): a node may send on
//! behalf of a client (`src` preserved, only `dest` routed); a fresh or restarted
//! node hears nothing before its `init` and `topology`; a node that exits or fails
//! to restart is recorded, and the run is still judged; the network counts what it
//! carried.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use checkers::Verdict;
use faultline::run::{self, RunConfig, RunConfigBuilder, RunOutcome, RunPlan, Silent};
use tokio::sync::watch;

fn node(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/maelstrom_nodes")
        .join(name)
}

fn python_missing() -> bool {
    let have = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipped: python3 is not installed");
    }
    !have
}

fn config(test: &str, bin: &str, workload: &str, options: &[(&str, &str)]) -> RunConfig {
    let results =
        std::env::temp_dir().join(format!("faultline-mproto-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "maelstrom", workload, &results).with(|c| {
        c.bin = Some(node(bin));
        c.concurrency = 6;
        c.rate = 300.0;
        c.time_limit = Duration::from_secs(3);
        c.keys = 3;
        c.seed = 11;
        c.nemesis_interval = Duration::from_secs(5);
        c.ready_timeout = Duration::from_secs(10);
        c.quiesce = Duration::from_millis(500);
        c.check_timeout = Duration::from_secs(20);
    });
    for (k, v) in options {
        b = b.option(k, v);
    }
    b.config()
}

/// `config` with the nemesis killing (and restarting) nodes every 700 ms for 5 s.
fn with_kills(mut config: RunConfig) -> RunConfig {
    config.nemesis = vec!["kill".to_string()];
    config.nemesis_interval = Duration::from_millis(700);
    config.time_limit = Duration::from_secs(5);
    config
}

async fn run(config: RunConfig) -> RunOutcome {
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(config).expect("a valid plan");
    run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes")
}

fn verdict_of(out: &RunOutcome, checker: &str) -> Verdict {
    out.results
        .checkers
        .iter()
        .find(|c| c.checker == checker)
        .unwrap_or_else(|| panic!("no {checker} checker in {:?}", out.results.checkers))
        .verdict
}

fn history(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(history: &[serde_json::Value], kind: &str) -> usize {
    history
        .iter()
        .filter(|e| e["type"] == kind && e["process"].is_u64())
        .count()
}

fn stderr_of_every_node(dir: &Path) -> String {
    let mut all = String::new();
    for e in std::fs::read_dir(dir.join("nodes")).unwrap().flatten() {
        all += &std::fs::read_to_string(e.path().join("stderr.log")).unwrap_or_default();
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_a_follower_forwards_with_the_clients_src_is_answered_to_the_client() {
    if python_missing() {
        return;
    }
    let out = run(config("forward", "forward.py", "cas-register", &[])).await;
    let h = history(&out.run_dir);
    // Two thirds of the clients talk to followers: every one of their requests is
    // answered by n0, straight to the client.
    assert!(
        count(&h, "ok") > 100,
        "too few ok in {}",
        out.run_dir.display()
    );
    assert_eq!(
        count(&h, "info"),
        0,
        "a request timed out: {}",
        out.run_dir.display()
    );
    let followers_ok = h
        .iter()
        .filter(|e| e["type"] == "ok" && e["node"] != "n0" && e["process"].is_u64())
        .count();
    assert!(followers_ok > 50, "{followers_ok} ok through followers");
    assert_eq!(verdict_of(&out, "linearizable"), Verdict::Valid);
    assert!(out.failure.is_none(), "{:?}", out.failure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_and_restarted_node_hears_nothing_before_its_init_and_topology() {
    if python_missing() {
        return;
    }
    let mut c = with_kills(config(
        "strict-init",
        "init_strict.py",
        "set",
        &[("maelstrom-workload", "broadcast")],
    ));
    c.keys = 1;
    let out = run(c).await;
    let dir = &out.run_dir;
    let restarted = (0..3).any(|i| {
        std::fs::read_to_string(dir.join(format!("nodes/n{i}/pid")))
            .is_ok_and(|p| p.lines().count() >= 2)
    });
    assert!(restarted, "no node was restarted under {}", dir.display());
    let stderr = stderr_of_every_node(dir);
    assert!(!stderr.contains("FATAL"), "{stderr}");
    assert!(out.failure.is_none(), "{:?}", out.failure);
    // Judged (a node that acknowledges before gossiping may rightly lose an add to a
    // kill: this test is about what a fresh node hears first).
    assert_ne!(verdict_of(&out, "eventual"), Verdict::Unknown);
    // Every kill is seen as the node's process exiting.
    let h = history(dir);
    assert!(
        h.iter().any(|e| e["f"] == "node-exited"),
        "no node exit recorded"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_whose_restart_fails_is_recorded_and_the_run_is_still_judged() {
    if python_missing() {
        return;
    }
    let mut c = with_kills(config("no-restart", "g_set_no_restart.py", "set", &[]));
    // A restart waits this long for the fresh node's init_ok.
    c.ready_timeout = Duration::from_secs(6);
    let results = c.results.clone();
    let out = run(c).await;
    assert!(out.failure.is_none(), "{:?}", out.failure);
    assert!(
        out.results.interrupted.is_none(),
        "{:?}",
        out.results.interrupted
    );
    let h = history(&out.run_dir);
    assert!(
        h.iter().any(|e| e["f"] == "restart-failed"),
        "no failed restart recorded in {}",
        out.run_dir.display()
    );
    assert!(h.iter().any(|e| e["f"] == "final-reads"), "no final reads");
    assert!(!out.results.checkers.is_empty(), "nothing was checked");
    // Adds sent to the node that never came back were never delivered: fail, not info.
    let undelivered = h
        .iter()
        .filter(|e| {
            e["type"] == "fail"
                && e["error"]
                    .as_str()
                    .is_some_and(|s| s.contains("not delivered"))
        })
        .count();
    assert!(undelivered > 0, "no undelivered request was failed");
    // Every node process ever started (first starts and the failed restarts) is gone.
    for e in std::fs::read_dir(out.run_dir.join("nodes"))
        .unwrap()
        .flatten()
    {
        for pid in std::fs::read_to_string(e.path().join("pid"))
            .unwrap_or_default()
            .lines()
        {
            let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
            assert!(
                stat.map_or(true, |s| s.contains(") Z ")),
                "node process {pid} is still running"
            );
        }
    }
    for m in std::fs::read_dir("/tmp").unwrap().flatten() {
        let name = m.file_name().to_string_lossy().to_string();
        if name.starts_with(&format!("fl-no-restart-{}-", std::process::id())) {
            let _ = std::fs::remove_file(m.path());
        }
    }
    let _ = std::fs::remove_dir_all(results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_network_counts_what_it_delivered_and_dropped_client_and_server_apart() {
    if python_missing() {
        return;
    }
    let out = run(config(
        "stats",
        "g_set.py",
        "set",
        &[("maelstrom-loss", "0.3")],
    ))
    .await;
    let test: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.run_dir.join("test.json")).unwrap())
            .unwrap();
    let net = &test["subject"]["network"];
    let servers = &net["servers"];
    let clients = &net["clients"];
    assert!(servers["delivered"].as_u64().unwrap() > 0, "{net}");
    let (sent, dropped) = (
        servers["sent"].as_u64().unwrap(),
        servers["dropped"].as_u64().unwrap(),
    );
    // 30 % loss, give or take.
    let share = dropped as f64 / sent as f64;
    assert!((0.2..0.4).contains(&share), "{dropped} of {sent} dropped");
    // Every operation is one request and (without faults) one reply.
    let ops = net["ops"].as_u64().unwrap();
    assert!(
        ops as usize >= count(&history(&out.run_dir), "invoke"),
        "{net}"
    );
    assert!(clients["sent"].as_u64().unwrap() >= 2 * ops, "{net}");
    assert!(servers["msgs_per_op"].as_f64().unwrap() > 0.0, "{net}");
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.run_dir.join("nodes/network.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(&file, net);
}

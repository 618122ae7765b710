//! End-to-end: real Maelstrom nodes (small Python programs in `tests/maelstrom_nodes/`)
//! run under `--store maelstrom`, faultline being their network; a correct node and a
//! deliberately broken one per workload, each judged as it should be.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use checkers::Verdict;
use faultline::run::{self, RunConfig, RunConfigBuilder, RunPlan, Silent};
use tokio::sync::watch;

fn node(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/maelstrom_nodes")
        .join(name)
}

/// Whether python3 is missing (the test nodes are Python programs); says so.
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
        std::env::temp_dir().join(format!("faultline-maelstrom-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "maelstrom", workload, &results).with(|c| {
        c.bin = Some(node(bin));
        c.concurrency = 6;
        c.rate = 300.0;
        c.time_limit = Duration::from_secs(3);
        c.keys = 3;
        c.seed = 7;
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

/// Runs `config`; returns each checker's (name, verdict, summary) and the run dir.
async fn run(config: RunConfig) -> (Vec<(String, Verdict, String)>, PathBuf) {
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(config).expect("a valid plan");
    let out = run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes");
    let checks = out
        .results
        .checkers
        .iter()
        .map(|c| (c.checker.clone(), c.verdict, c.summary.clone()))
        .collect();
    (checks, out.run_dir)
}

fn verdict_of(checks: &[(String, Verdict, String)], checker: &str) -> Verdict {
    checks
        .iter()
        .find(|c| c.0 == checker)
        .unwrap_or_else(|| panic!("no {checker} checker in {checks:?}"))
        .1
}

fn ok_ops(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    text.lines()
        .filter(|l| l.contains("\"type\":\"ok\""))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lin_kv_node_backed_by_the_lin_kv_service_is_linearizable() {
    if python_missing() {
        return;
    }
    let (checks, dir) = run(config("linkv-good", "lin_kv_proxy.py", "cas-register", &[])).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "linearizable"),
        Verdict::Valid,
        "{checks:?}"
    );
    assert_eq!(
        verdict_of(&checks, "sequential"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lin_kv_node_that_reads_its_local_copy_is_not_linearizable() {
    if python_missing() {
        return;
    }
    let (checks, dir) = run(config("linkv-local", "lin_kv_local.py", "kv", &[])).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "linearizable"),
        Verdict::Invalid,
        "{checks:?}"
    );
    // The nodes never exchange a write: their final reads disagree.
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Invalid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossiping_g_set_converges_on_a_lossy_network() {
    if python_missing() {
        return;
    }
    let (checks, dir) = run(config(
        "gset-good",
        "g_set.py",
        "set",
        &[("maelstrom-loss", "0.3"), ("maelstrom-latency-ms", "5")],
    ))
    .await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_set_that_gossips_once_loses_acknowledged_adds_on_a_lossy_network() {
    if python_missing() {
        return;
    }
    let (checks, dir) = run(config(
        "gset-lossy",
        "g_set_lossy.py",
        "set",
        &[("maelstrom-loss", "0.3")],
    ))
    .await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    let (_, v, summary) = checks.iter().find(|c| c.0 == "eventual").unwrap();
    assert_eq!(*v, Verdict::Invalid, "{checks:?}");
    assert!(summary.contains("lost"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pn_counter_that_gossips_its_state_converges_on_a_lossy_network() {
    if python_missing() {
        return;
    }
    let mut c = config(
        "pn-good",
        "pn_counter.py",
        "counter",
        &[("maelstrom-loss", "0.3")],
    );
    c.keys = 1;
    let (checks, dir) = run(c).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_that_sends_each_delta_once_diverges_on_a_lossy_network() {
    if python_missing() {
        return;
    }
    let mut c = config(
        "pn-lossy",
        "pn_counter_lossy.py",
        "counter",
        &[("maelstrom-loss", "0.3")],
    );
    c.keys = 1;
    let (checks, dir) = run(c).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Invalid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_resends_until_acknowledged_delivers_everything() {
    if python_missing() {
        return;
    }
    let opts = [
        ("maelstrom-workload", "broadcast"),
        ("maelstrom-loss", "0.3"),
    ];
    let mut c = config("bcast-good", "broadcast.py", "set", &opts);
    c.keys = 1;
    let (checks, dir) = run(c).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_that_forwards_once_loses_messages_on_a_lossy_network() {
    if python_missing() {
        return;
    }
    let opts = [
        ("maelstrom-workload", "broadcast"),
        ("maelstrom-loss", "0.3"),
    ];
    let mut c = config("bcast-once", "broadcast_once.py", "set", &opts);
    c.keys = 1;
    let (checks, dir) = run(c).await;
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Invalid,
        "{checks:?}"
    );
}

/// `config` with the nemesis injecting `faults` every 700 ms for 5 s.
fn with_faults(mut config: RunConfig, faults: &[&str]) -> RunConfig {
    config.nemesis = faults.iter().map(|f| f.to_string()).collect();
    config.nemesis_interval = Duration::from_millis(700);
    config.time_limit = Duration::from_secs(5);
    config
}

/// The `nemesis` events of the run in `dir`, as JSON lines.
fn nemesis_events(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    text.lines()
        .filter(|l| l.contains("\"process\":\"nemesis\""))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_maelstrom_nodes_restart_empty_and_lin_kv_through_the_service_stays_linearizable() {
    if python_missing() {
        return;
    }
    let config = with_faults(
        config("linkv-kill", "lin_kv_proxy.py", "cas-register", &[]),
        &["kill"],
    );
    let (checks, dir) = run(config).await;
    let events = nemesis_events(&dir);
    assert!(
        events.iter().any(|e| e.contains("\"start-kill\"")),
        "no kill recorded: {events:?}"
    );
    // Every kill is followed by a fresh process: a second PID in the node's pid file.
    let restarted = (0..3).any(|i| {
        std::fs::read_to_string(dir.join(format!("nodes/n{i}/pid")))
            .is_ok_and(|p| p.lines().count() >= 2)
    });
    assert!(restarted, "no node was restarted under {}", dir.display());
    assert!(
        ok_ops(&dir) > 100,
        "too few operations in {}",
        dir.display()
    );
    assert_eq!(
        verdict_of(&checks, "linearizable"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gossiping_g_set_converges_after_partitions_of_the_routed_network() {
    if python_missing() {
        return;
    }
    let config = with_faults(
        config("gset-partition", "g_set.py", "set", &[]),
        &["partition:one"],
    );
    let (checks, dir) = run(config).await;
    let events = nemesis_events(&dir);
    assert!(
        events
            .iter()
            .any(|e| e.contains("\"start-partition\"") && e.contains("\"router\"")),
        "no partition of the router recorded: {events:?}"
    );
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_set_that_gossips_once_loses_acknowledged_adds_across_a_partition() {
    if python_missing() {
        return;
    }
    let config = with_faults(
        config("gset-once-partition", "g_set_lossy.py", "set", &[]),
        &["partition:one"],
    );
    let (checks, _dir) = run(config).await;
    assert_eq!(
        verdict_of(&checks, "eventual"),
        Verdict::Invalid,
        "{checks:?}"
    );
}

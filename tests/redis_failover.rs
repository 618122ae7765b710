//! End-to-end against real Redis (Debian's `redis-server`): one primary, two
//! asynchronous replicas, and a failover in the middle of a `set` run. Acknowledged
//! adds taken by the old primary after the promotion are lost, and the eventual
//! checker names them; with `WAIT 2` after every add, those adds are not acknowledged
//! (they end `info`), and nothing acknowledged is lost.

use std::sync::Arc;
use std::time::Duration;

use checkers::Verdict;
use faultline::run::{self, RunConfig, RunConfigBuilder, RunPlan, Silent};
use tokio::sync::watch;

fn have_redis() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn config(test: &str, options: &[(&str, &str)]) -> RunConfig {
    let results =
        std::env::temp_dir().join(format!("faultline-redis-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "redis", "set", &results).with(|c| {
        c.concurrency = 4;
        c.time_limit = Duration::from_secs(4);
        c.keys = 2;
        c.seed = 5;
        c.nemesis_interval = Duration::from_secs(5);
        c.ready_timeout = Duration::from_secs(20);
        c.quiesce = Duration::from_secs(1);
        c.check_timeout = Duration::from_secs(20);
    });
    for (k, v) in options {
        b = b.option(k, v);
    }
    b.config()
}

async fn eventual(config: RunConfig) -> (Verdict, String, serde_json::Value) {
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(config.clone()).expect("a valid plan");
    let out = run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes");
    // A failover is recorded as a fault window, like the nemesis's own faults.
    if config
        .store_options
        .iter()
        .any(|(k, _)| k == "redis-failover-after-ms")
    {
        let history = std::fs::read_to_string(out.run_dir.join("history.jsonl")).unwrap();
        for f in ["\"start-failover\"", "\"stop-failover\""] {
            assert!(history.contains(f), "no {f} event in the history");
        }
    }
    assert!(
        out.results.ops.ok > 100,
        "too few ok ops: {:?}",
        out.results.ops
    );
    let c = out
        .results
        .checkers
        .iter()
        .find(|c| c.checker == "eventual")
        .expect("an eventual checker")
        .clone();
    (c.verdict, c.summary, c.evidence)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_adds_are_lost_across_a_redis_failover() {
    if !have_redis() {
        eprintln!("skipped: redis-server is not installed");
        return;
    }
    let (v, summary, _) = eventual(config(
        "failover",
        &[
            ("redis-failover-after-ms", "1500"),
            ("redis-detection-ms", "500"),
        ],
    ))
    .await;
    eprintln!("without WAIT: {summary}");
    assert_eq!(v, Verdict::Invalid, "{summary}");
    assert!(summary.contains("lost"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_for_both_replicas_no_acknowledged_add_is_lost_across_a_failover() {
    if !have_redis() {
        eprintln!("skipped: redis-server is not installed");
        return;
    }
    let (v, summary, _) = eventual(config(
        "failover-wait",
        &[
            ("redis-failover-after-ms", "1500"),
            ("redis-detection-ms", "500"),
            ("redis-wait", "2"),
        ],
    ))
    .await;
    eprintln!("with WAIT 2: {summary}");
    assert_eq!(v, Verdict::Valid, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_without_faults_keeps_every_acknowledged_add() {
    if !have_redis() {
        eprintln!("skipped: redis-server is not installed");
        return;
    }
    let (v, summary, _) = eventual(config("nofault", &[])).await;
    assert_eq!(v, Verdict::Valid, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sentinels_promote_a_replica_when_the_primary_is_killed() {
    if !have_redis() || which("redis-sentinel").is_none() {
        eprintln!("skipped: redis-server or redis-sentinel is not installed");
        return;
    }
    let mut c = config(
        "sentinel",
        &[
            ("redis-failover", "sentinel"),
            ("redis-failover-after-ms", "1000"),
        ],
    );
    // Room for one split vote among the sentinels (abandoned after the 2 s failover
    // timeout, retried 4 s later) before the promoted replica takes adds.
    c.time_limit = Duration::from_secs(12);
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(c).expect("a valid plan");
    let out = run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes");
    let text = std::fs::read_to_string(out.run_dir.join("history.jsonl")).unwrap();
    // Adds acknowledged by a promoted replica: the sentinels failed over.
    let promoted = text
        .lines()
        .filter(|l| l.contains("\"type\":\"ok\"") && l.contains("\"f\":\"add\""))
        .filter(|l| !l.contains("\"node\":\"n1\""))
        .count();
    assert!(
        promoted > 20,
        "only {promoted} adds acknowledged after the failover"
    );
    let e = out
        .results
        .checkers
        .iter()
        .find(|c| c.checker == "eventual")
        .unwrap();
    eprintln!("sentinel failover: {}", e.summary);
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

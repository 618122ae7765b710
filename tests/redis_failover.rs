//! End-to-end against real Redis (Debian's `redis-server`): one primary, two
//! asynchronous replicas, and `--nemesis failover` in the middle of a `set` run.
//! Acknowledged adds taken by the old primary after the promotion are lost, and the
//! eventual checker names them; with `WAIT 2` after every add, those adds are not
//! acknowledged (they end `info`), and nothing acknowledged is lost. The failover is
//! the nemesis's: each is a `start-failover` / `stop-failover` window in the history,
//! and its heal brings the old primary back as a replica of the new one.

use std::sync::Arc;
use std::time::Duration;

use checkers::Verdict;
use faultline::run::{self, RunConfig, RunConfigBuilder, RunOutcome, RunPlan, Silent};
use serde_json::Value;
use tokio::sync::watch;

fn have_redis() -> bool {
    std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A 4 s `set` run on Redis with `faults` every `interval` (none when empty).
fn config(test: &str, faults: &[&str], interval: Duration, options: &[(&str, &str)]) -> RunConfig {
    let results =
        std::env::temp_dir().join(format!("faultline-redis-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "redis", "set", &results)
        .with(|c| {
            c.concurrency = 4;
            c.time_limit = Duration::from_secs(4);
            c.keys = 2;
            c.seed = 5;
            c.ready_timeout = Duration::from_secs(20);
            c.quiesce = Duration::from_secs(1);
            c.check_timeout = Duration::from_secs(20);
        })
        .faults(faults, interval);
    for (k, v) in options {
        b = b.option(k, v);
    }
    b.config()
}

/// The `--nemesis failover` run of the first two tests: the first failover 0.75 to
/// 2.25 s in.
fn failover_config(test: &str, options: &[(&str, &str)]) -> RunConfig {
    config(test, &["failover"], Duration::from_millis(1500), options)
}

async fn run(config: RunConfig) -> RunOutcome {
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(config).expect("a valid plan");
    run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes")
}

/// The history's nemesis events, as (f, value).
fn nemesis_events(out: &RunOutcome) -> Vec<(String, Value)> {
    let history = std::fs::read_to_string(out.run_dir.join("history.jsonl")).unwrap();
    history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis")
        .map(|e| {
            (
                e["f"].as_str().unwrap_or_default().to_string(),
                e["value"].clone(),
            )
        })
        .collect()
}

/// Checks that the run's faults were failovers only, each recorded as a window that
/// names the old primary, the promoted node and the heal; the stop events.
fn failovers(out: &RunOutcome, how: &str) -> Vec<Value> {
    let events = nemesis_events(out);
    let faults: Vec<_> = events
        .iter()
        .filter(|(f, _)| f.starts_with("start-") || f.starts_with("stop-"))
        .collect();
    assert!(!faults.is_empty(), "no failover in {events:?}");
    let mut stops = Vec::new();
    for pair in faults.chunks(2) {
        assert_eq!(pair.len(), 2, "a failover without its stop: {events:?}");
        let ((start, sv), (stop, v)) = (pair[0], pair[1]);
        assert_eq!(
            (start.as_str(), stop.as_str()),
            ("start-failover", "stop-failover")
        );
        assert_eq!(sv["how"], how, "{sv}");
        assert_eq!(v["nodes"], sv["nodes"], "{v}");
        let (old, new) = (v["nodes"][0].as_str().unwrap(), v["promoted"].as_str());
        let new = new.unwrap_or_else(|| panic!("nothing promoted: {v}"));
        assert_ne!(old, new, "{v}");
        // The heal re-points the old primary at the primary of its time: the one this
        // failover promoted, or — with sentinels, which may fail over again on their
        // own when a loaded machine stalls the new primary past their 1 s — a later one.
        let healed = v["healed"].as_str().unwrap_or_default();
        let of = healed
            .strip_prefix(&format!("{old} restarted as a replica of "))
            .unwrap_or_else(|| panic!("the heal does not restart {old} as a replica: {v}"));
        if how == "manual" {
            assert_eq!(of, new, "{v}");
        }
        assert_ne!(of, old, "{v}");
        stops.push(v.clone());
    }
    stops
}

fn eventual(out: &RunOutcome) -> (Verdict, String) {
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
        .expect("an eventual checker");
    (c.verdict, c.summary.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_adds_are_lost_across_a_redis_failover() {
    if !have_redis() {
        eprintln!("skipped: redis-server is not installed");
        return;
    }
    let out = run(failover_config(
        "failover",
        &[("redis-detection-ms", "500")],
    ))
    .await;
    let stops = failovers(&out, "manual");
    assert_eq!(
        stops[0]["nodes"][0], "n1",
        "the first failover takes n1 down"
    );
    assert_eq!(stops[0]["promoted"], "n2", "{}", stops[0]);
    let (v, summary) = eventual(&out);
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
    let out = run(failover_config(
        "failover-wait",
        &[("redis-detection-ms", "500"), ("redis-wait", "2")],
    ))
    .await;
    failovers(&out, "manual");
    let (v, summary) = eventual(&out);
    eprintln!("with WAIT 2: {summary}");
    assert_eq!(v, Verdict::Valid, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_without_faults_keeps_every_acknowledged_add() {
    if !have_redis() {
        eprintln!("skipped: redis-server is not installed");
        return;
    }
    let out = run(config("nofault", &[], Duration::from_secs(5), &[])).await;
    let events = nemesis_events(&out);
    assert!(
        !events.iter().any(|(f, _)| f.starts_with("start-")),
        "a fault in a run without faults: {events:?}"
    );
    let (v, summary) = eventual(&out);
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
        &["failover"],
        Duration::from_secs(3),
        &[("redis-failover", "sentinel")],
    );
    // Room for one split vote among the sentinels (abandoned after the 2 s failover
    // timeout, retried 4 s later) before the promoted replica takes adds.
    c.time_limit = Duration::from_secs(12);
    let out = run(c).await;
    let stops = failovers(&out, "sentinel");
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
    eprintln!("sentinel failover: {stops:?}; {}", e.summary);
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

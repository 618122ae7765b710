//! End-to-end against a real etcd cluster (Debian's `etcd-server`) that faultline
//! starts: with linearizable reads the history is linearizable, also while a member is
//! paused again and again, and under kernel partitions (one member per network
//! namespace) and kills; with serializable reads, a member that was paused or cut off
//! serves what it had before, and the stale reads are found.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use checkers::Verdict;
use faultline::run::{self, RunConfig, RunConfigBuilder, RunPlan, Silent};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::sync::watch;

fn have_etcd() -> bool {
    std::process::Command::new("etcd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn config(test: &str, options: &[(&str, &str)], time_limit: u64) -> RunConfig {
    let results =
        std::env::temp_dir().join(format!("faultline-etcd-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "etcd", "register", &results).with(|c| {
        c.concurrency = 6;
        c.time_limit = Duration::from_secs(time_limit);
        c.op_timeout = Duration::from_secs(2);
        c.keys = 2;
        c.seed = 11;
        c.nemesis_interval = Duration::from_secs(5);
        c.ready_timeout = Duration::from_secs(20);
        c.quiesce = Duration::from_millis(500);
        c.check_timeout = Duration::from_secs(30);
    });
    for (k, v) in options {
        b = b.option(k, v);
    }
    b.config()
}

/// The PID of node `node` of the (only) run under `results`, once it is written.
fn node_pid(results: &Path, test: &str, node: &str) -> Option<i32> {
    let dir = results.join(test);
    for run in std::fs::read_dir(dir).ok()?.flatten() {
        let p: PathBuf = run.path().join("nodes").join(node).join("pid");
        if let Ok(text) = std::fs::read_to_string(p) {
            return text.lines().last()?.trim().parse().ok();
        }
    }
    None
}

/// How node n2 is paused during a run: stopped for `stopped`, then left running for
/// `running`, again and again.
#[derive(Clone, Copy)]
struct Pauses {
    stopped: Duration,
    running: Duration,
}

/// Runs `config` while node n2 is paused as `pause` says (never when `None`).
async fn run(config: RunConfig, pause: Option<Pauses>) -> Vec<(String, Verdict, String)> {
    let (_tx, rx) = watch::channel(false);
    let (done_tx, mut done_rx) = watch::channel(false);
    let pauser = {
        let results = config.results.clone();
        let test = config.name.clone();
        tokio::spawn(async move {
            let Some(pause) = pause else {
                return 0;
            };
            let mut pauses = 0;
            let pid = loop {
                if let Some(pid) = node_pid(&results, &test, "n2") {
                    break pid;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            // Let the cluster come up and the clients start.
            tokio::time::sleep(Duration::from_secs(2)).await;
            while !*done_rx.borrow() {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGSTOP);
                pauses += 1;
                let _ = tokio::time::timeout(pause.stopped, done_rx.changed()).await;
                let _ = killpg(Pid::from_raw(pid), Signal::SIGCONT);
                let _ = tokio::time::timeout(pause.running, done_rx.changed()).await;
            }
            pauses
        })
    };
    let plan = RunPlan::new(config.clone()).expect("a valid plan");
    let out = run::run(&plan, Arc::new(Silent), rx).await;
    let _ = done_tx.send(true);
    let pauses = pauser.await.unwrap();
    let out = out.expect("the run completes");
    assert!(pause.is_none() || pauses >= 2, "only {pauses} pauses");
    assert!(
        out.results.ops.ok > 100,
        "too few ok ops: {:?}",
        out.results.ops
    );
    out.results
        .checkers
        .iter()
        .map(|c| (c.checker.clone(), c.verdict, c.summary.clone()))
        .collect()
}

fn verdict(checks: &[(String, Verdict, String)], name: &str) -> Verdict {
    checks.iter().find(|c| c.0 == name).unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_with_linearizable_reads_is_linearizable_while_a_member_is_paused() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (apt-get install etcd-server)");
        return;
    }
    let pauses = Pauses {
        stopped: Duration::from_millis(800),
        running: Duration::from_millis(400),
    };
    let checks = run(config("lin", &[], 6), Some(pauses)).await;
    assert_eq!(
        verdict(&checks, "linearizable"),
        Verdict::Valid,
        "{checks:?}"
    );
    assert_eq!(verdict(&checks, "sequential"), Verdict::Valid, "{checks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_serializable_reads_from_a_paused_member_are_stale_and_not_linearizable() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (apt-get install etcd-server)");
        return;
    }
    // A client on n2 whose op times out is replaced by a fresh process, whose next op
    // is invoked while n2 is still stopped: by then the other members have acknowledged
    // many writes, and when n2 resumes it answers that read from what it had before.
    // Short op timeouts and long pauses make several such reads per pause; 4 clients on
    // n2 and 3-4 pauses make a run without one (all writes, or all answered after
    // n2 caught up) very unlikely.
    let mut config = config("ser", &[("etcd-serializable-reads", "true")], 10);
    config.concurrency = 12;
    config.op_timeout = Duration::from_millis(500);
    let pauses = Pauses {
        stopped: Duration::from_millis(2200),
        running: Duration::from_millis(600),
    };
    let checks = run(config, Some(pauses)).await;
    assert_eq!(
        verdict(&checks, "linearizable"),
        Verdict::Invalid,
        "{checks:?}"
    );
    // Sequential consistency is reported too, whatever it finds.
    assert!(checks.iter().any(|c| c.0 == "sequential"), "{checks:?}");
    eprintln!("serializable reads: {checks:?}");
}

/// Whether partitions can be made here: network namespaces need root.
fn can_partition() -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: partitioning etcd needs network namespaces, which need root");
        return false;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_with_linearizable_reads_is_linearizable_under_partitions_and_kills() {
    if !have_etcd() || !can_partition() {
        return;
    }
    let mut config = config("lin-partition", &[], 8);
    config.nemesis = vec!["partition".into(), "kill".into()];
    config.nemesis_interval = Duration::from_millis(1500);
    let checks = run(config, None).await;
    assert_eq!(
        verdict(&checks, "linearizable"),
        Verdict::Valid,
        "{checks:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_serializable_reads_on_the_minority_side_of_a_partition_are_stale() {
    if !have_etcd() || !can_partition() {
        return;
    }
    // Each partition isolates one member (and `random-halves` on 3 nodes does too):
    // cut off from the majority that goes on committing writes, its clients go on
    // reading what it had. (`bridge` and `majorities-ring` may leave every member in
    // touch with the leader, so they are not drawn here.)
    // A write on the cut-off member blocks until its timeout: a short one lets its
    // clients go on (a fresh process after each `info`) and read again while it lasts.
    let mut config = config("ser-partition", &[("etcd-serializable-reads", "true")], 10);
    config.nemesis = vec!["partition:one".into(), "partition:random-halves".into()];
    config.nemesis_interval = Duration::from_secs(2);
    config.op_timeout = Duration::from_millis(400);
    let results = config.results.clone();
    let checks = run(config, None).await;
    assert_eq!(
        verdict(&checks, "linearizable"),
        Verdict::Invalid,
        "{checks:?}"
    );
    assert!(checks.iter().any(|c| c.0 == "sequential"), "{checks:?}");
    // The partitions were real kernel ones, in namespaces.
    let history = std::fs::read_dir(results.join("ser-partition"))
        .unwrap()
        .flatten()
        .find_map(|d| std::fs::read_to_string(d.path().join("history.jsonl")).ok())
        .expect("the run wrote history.jsonl");
    assert!(
        history.contains("\"start-partition\"") && history.contains("\"namespaces\""),
        "no namespace partition recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_someone_else_runs_is_tested_by_its_addresses() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (apt-get install etcd-server)");
        return;
    }
    let ports = faultline::cluster::ports::free_ports(2).unwrap();
    let data = std::env::temp_dir().join(format!("faultline-etcd-ext-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let client = format!("http://127.0.0.1:{}", ports[0]);
    let peer = format!("http://127.0.0.1:{}", ports[1]);
    let mut etcd = std::process::Command::new("etcd")
        .args(["--name", "solo", "--data-dir"])
        .arg(&data)
        .args([
            "--listen-client-urls",
            &client,
            "--advertise-client-urls",
            &client,
        ])
        .args([
            "--listen-peer-urls",
            &peer,
            "--initial-advertise-peer-urls",
            &peer,
        ])
        .args(["--initial-cluster", &format!("solo={peer}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut c = config("external", &[], 2);
    c.addrs = vec![client.clone()];
    c.nodes = 1;
    c.workload = "cas-register".into();
    // It may take a moment to elect itself.
    let mut checks = None;
    for _ in 0..50 {
        let ok = reqwest::get(format!("{client}/health"))
            .await
            .is_ok_and(|r| r.status().is_success());
        if ok {
            checks = Some(run(c.clone(), None).await);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = etcd.kill();
    let _ = etcd.wait();
    let _ = std::fs::remove_dir_all(&data);
    let checks = checks.expect("the external etcd became healthy");
    assert_eq!(
        verdict(&checks, "linearizable"),
        Verdict::Valid,
        "{checks:?}"
    );
}

/// Clock faults reach etcd (a Go program, which reads time through the vDSO) by
/// patching its running members' vDSO: every clock step says so, none warns that the
/// clock did not move, each is undone, and linearizable reads stay linearizable.
#[test]
fn clock_faults_reach_etcd_through_its_vdso_and_are_undone() {
    if !have_etcd() || !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: needs etcd and root (ptrace)");
        return;
    }
    let results = std::env::temp_dir().join(format!("faultline-etcd-clock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "run",
            "--store",
            "etcd",
            "--workload",
            "register",
            "--nemesis",
            "clock",
        ])
        .args([
            "--nemesis-interval",
            "1s",
            "--time-limit",
            "6s",
            "--seed",
            "3",
        ])
        .args(["--quiesce", "500ms", "--quiet", "--results"])
        .arg(&results)
        .output()
        .expect("faultline runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("did not move"), "{stderr}");
    let history =
        std::fs::read_to_string(results.join("etcd-register/latest/history.jsonl")).unwrap();
    let steps: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| {
            e["process"] == "nemesis" && e["f"].as_str().is_some_and(|f| f.ends_with("-clock"))
        })
        .collect();
    let starts = steps.iter().filter(|e| e["f"] == "start-clock").count();
    let stops = steps.iter().filter(|e| e["f"] == "stop-clock").count();
    assert!(starts >= 2, "{steps:?}");
    assert_eq!(starts, stops, "every clock step is undone: {steps:?}");
    for step in &steps {
        let mechanisms = step["value"]["clock_mechanism"].as_object().unwrap();
        assert!(
            !mechanisms.is_empty() && mechanisms.values().all(|m| m == "vdso"),
            "{step}"
        );
    }
    let _ = std::fs::remove_dir_all(&results);
}

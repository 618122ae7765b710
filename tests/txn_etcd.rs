//! etcd's transactions are strict serializable under faults: list-append over etcd's
//! txn API (read every key at one revision, then commit comparing their mod
//! revisions) on a 3-member cluster faultline starts, while members are killed and
//! restarted and (as root, in network namespaces) partitioned. The transactional
//! checker judges the history; the test asserts on its findings.

use std::sync::Arc;
use std::time::Duration;

use checkers::txn::{Analysis, DataModel, RegisterOrders};
use checkers::{Consistency, Verdict};
use faultline::run::{self, RunConfigBuilder, RunPlan, Silent};
use tokio::sync::watch;

fn have_etcd() -> bool {
    std::process::Command::new("etcd")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn run_with(test: &str, workload: &str, faults: &[&str]) -> Analysis {
    let results =
        std::env::temp_dir().join(format!("faultline-txn-etcd-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let config = RunConfigBuilder::new(test, "etcd", workload, &results)
        .with(|c| {
            c.concurrency = 6;
            c.rate = 0.0;
            c.time_limit = Duration::from_secs(10);
            c.op_timeout = Duration::from_secs(2);
            c.active_keys = 3;
            c.seed = std::env::var("TXN_ETCD_SEED")
                .ok()
                .and_then(|s| s.parse().ok())
                // Seed 3: the schedule's first two steps are two different faults, whichever
                // order the plan lists them in, so a two-fault run injects both.
                .unwrap_or(3);
            c.ready_timeout = Duration::from_secs(20);
            c.quiesce = Duration::from_millis(500);
            c.check_timeout = Duration::from_secs(60);
        })
        .faults(faults, Duration::from_millis(1500))
        .config();
    let plan = RunPlan::new(config).expect("a valid plan");
    let (_tx, rx) = watch::channel(false);
    let out = run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes");
    assert!(out.failure.is_none(), "{:?}", out.failure);
    assert!(
        out.results.ops.ok > 100,
        "too few ok txns: {:?}",
        out.results.ops
    );
    let path = out.run_dir.join("history.jsonl");
    let file = std::fs::File::open(&path).unwrap();
    let history =
        checkers::read::jsonl::read(std::io::BufReader::new(file), &path.display().to_string())
            .expect("the history reads back");
    assert_txns_did_work(&history, faults);
    let model = if workload == "rw-register" {
        DataModel::RwRegister
    } else {
        DataModel::ListAppend
    };
    let analysis =
        Analysis::new(&history, model, RegisterOrders::default()).expect("the history analyses");
    let _ = std::fs::remove_dir_all(&results);
    analysis
}

/// A valid verdict means something only if txns wrote, reads saw the writes, and the
/// faults were injected: ok txns that write, ok reads that return a non-empty value,
/// and a nemesis event for every fault asked for.
fn assert_txns_did_work(history: &checkers::History, faults: &[&str]) {
    let mut writing = 0;
    let mut seeing = 0;
    for op in history
        .ops
        .iter()
        .filter(|o| o.outcome == checkers::Outcome::Ok)
    {
        for m in op.value.as_list().unwrap_or(&[]) {
            let m = m.as_list().unwrap_or(&[]);
            match m.first().and_then(checkers::Value::as_str) {
                Some("append" | "w") => writing += 1,
                Some("r")
                    if !matches!(m.get(2), None | Some(checkers::Value::Null))
                        && m[2].as_list().is_none_or(|l| !l.is_empty()) =>
                {
                    seeing += 1
                }
                _ => {}
            }
        }
    }
    assert!(writing > 50, "only {writing} committed writes");
    assert!(seeing > 50, "only {seeing} reads saw a write");
    let notes: Vec<String> = history
        .nemesis
        .iter()
        .map(|e| e.f.as_str().to_string())
        .collect();
    for f in faults {
        assert!(
            notes.iter().any(|n| n.contains(f)),
            "no {f} was injected: {notes:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_list_append_txns_are_strict_serializable_while_members_are_killed() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (scripts/setup.sh)");
        return;
    }
    let a = run_with("la-kill", "list-append", &["kill"]).await;
    assert!(a.found().is_empty(), "found {:?}", a.counts());
    assert_eq!(a.verdict(Consistency::StrictSerializable), Verdict::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_rw_register_txns_show_no_anomaly_while_members_are_killed() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (scripts/setup.sh)");
        return;
    }
    let a = run_with("rw-kill", "rw-register", &["kill"]).await;
    assert!(a.found().is_empty(), "found {:?}", a.counts());
    assert!(!a.ruled_out(Consistency::StrictSerializable));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_list_append_txns_are_strict_serializable_under_partitions_and_kills() {
    if !have_etcd() {
        eprintln!("skipped: etcd is not installed (scripts/setup.sh)");
        return;
    }
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: partitioning etcd needs network namespaces, which need root");
        return;
    }
    let a = run_with("la-partition", "list-append", &["partition", "kill"]).await;
    assert!(a.found().is_empty(), "found {:?}", a.counts());
    assert_eq!(a.verdict(Consistency::StrictSerializable), Verdict::Valid);
}

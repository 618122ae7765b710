//! Known truths about PostgreSQL's isolation levels, found end to end: faultline runs
//! its own server (`--store postgres`), runs the list-append workload at high
//! contention (3 active keys, 10 clients, no rate limit) and the transactional
//! checker judges the history. `serializable` is serializable; `repeatable-read`
//! (snapshot isolation) shows write skew (G2-item) and nothing snapshot isolation
//! forbids (no G0, G1, G-single); `read-committed` shows read skew (G-single) and
//! nothing read committed forbids. Every assertion is on the checker's findings.
//!
//! An anomaly is a race: a run that happens not to show one is tried again, at most
//! [`ATTEMPTS`] times (each run is 6 s), before the test fails.

use std::sync::Arc;
use std::time::Duration;

use checkers::txn::{Analysis, Anomaly, DataModel, RegisterOrders};
use checkers::{Consistency, Verdict};
use faultline::run::{self, RunConfigBuilder, RunPlan, Silent};
use tokio::sync::watch;

/// How many runs a test may take to see its anomaly.
const ATTEMPTS: usize = 3;

fn have_postgres() -> bool {
    faultline::subject::postgres::server::Server::find().is_ok()
}

/// Runs list-append against PostgreSQL at `isolation` and analyses the history.
async fn run_at(isolation: &str, attempt: usize) -> Analysis {
    let test = format!("pg-{isolation}-{attempt}");
    let results =
        std::env::temp_dir().join(format!("faultline-txn-pg-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let config = RunConfigBuilder::new(&test, "postgres", "list-append", &results)
        .with(|c| {
            c.nodes = 1;
            c.concurrency = 10;
            c.rate = 0.0;
            c.time_limit = Duration::from_secs(6);
            c.op_timeout = Duration::from_secs(2);
            c.active_keys = 3;
            c.txn_length = 4;
            c.appends_per_key = 64;
            c.seed = 7 + attempt as u64;
            c.ready_timeout = Duration::from_secs(30);
            c.quiesce = Duration::from_millis(200);
            c.check_timeout = Duration::from_secs(60);
        })
        .option("isolation", isolation)
        .config();
    let plan = RunPlan::new(config).expect("a valid plan");
    let (_tx, rx) = watch::channel(false);
    let out = run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes");
    assert!(out.failure.is_none(), "{:?}", out.failure);
    assert!(
        out.results.ops.ok > 500,
        "too few ok txns: {:?}",
        out.results.ops
    );
    let path = out.run_dir.join("history.jsonl");
    let file = std::fs::File::open(&path).unwrap();
    let history =
        checkers::read::jsonl::read(std::io::BufReader::new(file), &path.display().to_string())
            .expect("the history reads back");
    let analysis = Analysis::new(&history, DataModel::ListAppend, RegisterOrders::default())
        .expect("the history analyses");
    let _ = std::fs::remove_dir_all(&results);
    analysis
}

fn any_of(found: &[Anomaly], names: &[&str]) -> Vec<String> {
    found
        .iter()
        .map(|a| a.as_str().to_string())
        .filter(|a| names.iter().any(|n| a.starts_with(n)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_serializable_is_serializable() {
    if !have_postgres() {
        eprintln!("skipped: PostgreSQL is not installed (scripts/setup.sh)");
        return;
    }
    let a = run_at("serializable", 0).await;
    assert_eq!(
        a.verdict(Consistency::Serializable),
        Verdict::Valid,
        "found {:?}",
        a.counts()
    );
    assert!(a.found().is_empty(), "found {:?}", a.counts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_repeatable_read_shows_write_skew_and_stays_snapshot_isolated() {
    if !have_postgres() {
        eprintln!("skipped: PostgreSQL is not installed (scripts/setup.sh)");
        return;
    }
    for attempt in 0..ATTEMPTS {
        let a = run_at("repeatable-read", attempt).await;
        let found = a.found();
        let forbidden = any_of(&found, &["G0", "G1", "G-single"]);
        assert!(
            forbidden.is_empty(),
            "snapshot isolation broken: {:?}",
            a.counts()
        );
        assert!(
            !a.ruled_out(Consistency::SnapshotIsolation),
            "{:?}",
            a.counts()
        );
        if found.contains(&Anomaly::G2Item) {
            assert!(a.ruled_out(Consistency::Serializable));
            return;
        }
        eprintln!("attempt {attempt}: no G2-item yet ({:?})", a.counts());
    }
    panic!("no G2-item in {ATTEMPTS} runs at repeatable read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_read_committed_shows_read_skew_and_stays_read_committed() {
    if !have_postgres() {
        eprintln!("skipped: PostgreSQL is not installed (scripts/setup.sh)");
        return;
    }
    for attempt in 0..ATTEMPTS {
        let a = run_at("read-committed", attempt).await;
        let found = a.found();
        let forbidden = any_of(&found, &["G0", "G1"]);
        assert!(
            forbidden.is_empty(),
            "read committed broken: {:?}",
            a.counts()
        );
        assert!(!a.ruled_out(Consistency::ReadCommitted), "{:?}", a.counts());
        if found.contains(&Anomaly::GSingle) {
            assert!(a.ruled_out(Consistency::SnapshotIsolation));
            return;
        }
        eprintln!("attempt {attempt}: no G-single yet ({:?})", a.counts());
    }
    panic!("no G-single in {ATTEMPTS} runs at read committed");
}

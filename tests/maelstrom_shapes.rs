//! End-to-end: Maelstrom's own workloads, by Maelstrom's names and in its message
//! shapes (`--workload lin-kv`, `g-counter`, `unique-ids`, `kafka`, ...), each run
//! against a correct and a deliberately broken small Python node
//! (`tests/maelstrom_nodes/`) and judged as it should be.

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
        std::env::temp_dir().join(format!("faultline-mshapes-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&results);
    let mut b = RunConfigBuilder::new(test, "maelstrom", workload, &results).with(|c| {
        c.bin = Some(node(bin));
        c.concurrency = 6;
        c.rate = 200.0;
        c.time_limit = Duration::from_secs(2);
        c.keys = 3;
        c.seed = 3;
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

async fn run(config: RunConfig) -> RunOutcome {
    let (_tx, rx) = watch::channel(false);
    let plan = RunPlan::new(config).expect("a valid plan");
    run::run(&plan, Arc::new(Silent), rx)
        .await
        .expect("the run completes")
}

/// The verdict of `checker`, after checking the run made progress.
fn verdict(out: &RunOutcome, checker: &str) -> Verdict {
    assert!(
        out.results.ops.ok > 50,
        "too few ok ops in {}",
        out.run_dir.display()
    );
    let c = out
        .results
        .checkers
        .iter()
        .find(|c| c.checker == checker)
        .unwrap_or_else(|| panic!("no {checker} checker in {:?}", out.results.checkers));
    eprintln!("{checker}: {:?} {}", c.verdict, c.summary);
    c.verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lin_kv_with_integer_keys_through_the_service_is_linearizable_and_a_local_copy_is_not() {
    if python_missing() {
        return;
    }
    let out = run(config("linkv", "lin_kv_proxy.py", "lin-kv", &[])).await;
    assert_eq!(verdict(&out, "linearizable"), Verdict::Valid);
    // The keys were integers on the wire.
    let h = std::fs::read_to_string(out.run_dir.join("history.jsonl")).unwrap();
    assert!(h.contains("\"key\":1"), "no integer key in the history");
    let out = run(config("linkv-local", "lin_kv_local.py", "lin-kv", &[])).await;
    assert_eq!(verdict(&out, "linearizable"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_counter_that_gossips_state_converges_and_one_that_sends_deltas_once_does_not() {
    if python_missing() {
        return;
    }
    let lossy = [("maelstrom-loss", "0.3")];
    let out = run(config("gcounter", "pn_counter.py", "g-counter", &lossy)).await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Valid);
    let out = run(config(
        "gcounter-once",
        "pn_counter_lossy.py",
        "g-counter",
        &lossy,
    ))
    .await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_set_of_integers_that_gossips_converges_and_one_that_gossips_once_does_not() {
    if python_missing() {
        return;
    }
    let lossy = [("maelstrom-loss", "0.3")];
    let out = run(config("gset", "g_set.py", "g-set", &lossy)).await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Valid);
    let out = run(config("gset-once", "g_set_lossy.py", "g-set", &lossy)).await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unique_ids_of_node_and_counter_are_unique_and_a_bare_counter_collides() {
    if python_missing() {
        return;
    }
    let out = run(config("ids", "unique_ids.py", "unique-ids", &[])).await;
    assert_eq!(verdict(&out, "unique-ids"), Verdict::Valid);
    let out = run(config(
        "ids-bare",
        "unique_ids_counter.py",
        "unique-ids",
        &[],
    ))
    .await;
    assert_eq!(verdict(&out, "unique-ids"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kafka_log_on_one_node_is_consistent_and_logs_kept_per_node_conflict() {
    if python_missing() {
        return;
    }
    let out = run(config("kafka", "kafka.py", "kafka", &[])).await;
    assert_eq!(verdict(&out, "kafka"), Verdict::Valid);
    let out = run(config("kafka-local", "kafka_local.py", "kafka", &[])).await;
    assert_eq!(verdict(&out, "kafka"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txn_list_append_on_one_copy_is_strict_serializable_and_lists_kept_per_node_are_not() {
    if python_missing() {
        return;
    }
    let out = run(config("txn", "txn_list_append.py", "txn-list-append", &[])).await;
    assert_eq!(verdict(&out, "strict-serializable"), Verdict::Valid);
    let out = run(config(
        "txn-local",
        "txn_list_append_local.py",
        "txn-list-append",
        &[],
    ))
    .await;
    assert_eq!(verdict(&out, "strict-serializable"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn txn_rw_register_on_one_copy_is_never_invalid_and_registers_kept_per_node_are_caught() {
    if python_missing() {
        return;
    }
    // rw-register infers little: with nothing but the values read to order the
    // writes of a key, a correct history may stay undecided — but never invalid.
    let out = run(config("rw", "txn_rw_register.py", "txn-rw-register", &[])).await;
    assert_ne!(verdict(&out, "strict-serializable"), Verdict::Invalid);
    let out = run(config(
        "rw-local",
        "txn_rw_register_local.py",
        "txn-rw-register",
        &[],
    ))
    .await;
    assert_eq!(verdict(&out, "strict-serializable"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_counter_that_trusts_seq_kv_reads_is_caught_and_one_that_syncs_first_is_not() {
    if python_missing() {
        return;
    }
    // seq-kv as Maelstrom's: a read may come from a past state, so a final read that
    // does not write first misses other nodes' adds.
    let out = run(config("seqkv", "g_counter_seq_kv.py", "g-counter", &[])).await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Invalid);
    let out = run(config(
        "seqkv-sync",
        "g_counter_seq_kv_sync.py",
        "g-counter",
        &[],
    ))
    .await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Valid);
    // With every service linearizable, the same trusting node passes.
    let strong = [("maelstrom-services", "strong")];
    let out = run(config(
        "seqkv-strong",
        "g_counter_seq_kv.py",
        "g-counter",
        &strong,
    ))
    .await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Valid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_g_counter_on_lww_kv_loses_concurrent_adds() {
    if python_missing() {
        return;
    }
    let out = run(config("lwwkv", "g_counter_lww_kv.py", "g-counter", &[])).await;
    assert_eq!(verdict(&out, "eventual"), Verdict::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echo_node_that_changes_a_payload_is_caught_and_a_faithful_one_is_valid() {
    if python_missing() {
        return;
    }
    let out = run(config("echo", "echo.py", "echo", &[])).await;
    assert_eq!(verdict(&out, "echo"), Verdict::Valid);
    let out = run(config("echo-changed", "echo_changed.py", "echo", &[])).await;
    assert_eq!(verdict(&out, "echo"), Verdict::Invalid);
}

#[test]
fn a_maelstrom_workload_option_that_contradicts_the_workload_is_refused() {
    let mut c = config(
        "contradict",
        "echo.py",
        "lin-kv",
        &[("maelstrom-workload", "g-set")],
    );
    let e = RunPlan::new(c.clone()).unwrap_err();
    assert!(e.0.contains("remove --maelstrom-workload"), "{e}");
    c.workload = "kv".into();
    let e = RunPlan::new(c).unwrap_err();
    assert!(e.0.contains("use --workload g-set"), "{e}");
    // Today's spelling still works.
    let mut c = config(
        "bcast",
        "echo.py",
        "set",
        &[("maelstrom-workload", "broadcast")],
    );
    c.keys = 1;
    assert!(RunPlan::new(c).is_ok());
}

//! `--mode primary-backup` end to end: real `faultline-store` processes on loopback,
//! killed, paused and restarted.

mod common;

use std::time::Duration;

use common::Cluster;
use nix::sys::signal::Signal;
use serde_json::{json, Value};

fn pb(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["--mode", "primary-backup", "--failover-timeout-ms", "800"];
    v.extend_from_slice(extra);
    v
}

/// Writes `value` to `key` through node `i`, retrying while the node refuses
/// definitely (a primary's lease not yet established, no primary known yet).
async fn write(c: &Cluster, i: usize, key: &str, value: i64) -> (u16, Value) {
    let mut last = (0, Value::Null);
    for _ in 0..100 {
        last = c
            .post(i, "/kv/write", json!({"key": key, "value": value}))
            .await;
        if last.0 != 503 || last.1["definite"] != true {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    last
}

async fn read(c: &Cluster, i: usize, key: &str) -> (u16, Value) {
    let (s, b) = c.post(i, "/kv/read", json!({"key": key})).await;
    (s, b["value"].clone())
}

async fn role(c: &Cluster, i: usize) -> String {
    c.health(i).await["role"].as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn a_write_through_a_backup_reaches_the_primary_and_every_node_reads_it() {
    let c = Cluster::start(3, &pb(&[])).await;
    assert_eq!(role(&c, 0).await, "primary");
    assert_eq!(role(&c, 1).await, "backup");
    assert_eq!(write(&c, 2, "k", 7).await.0, 200);
    for i in 0..3 {
        assert_eq!(read(&c, i, "k").await, (200, json!(7)), "via n{}", i + 1);
    }
    let (s, b) = c
        .post(1, "/kv/cas", json!({"key": "k", "expected": 6, "new": 8}))
        .await;
    assert_eq!((s, b["error"].clone()), (409, json!("cas-mismatch")));
    let (s, _) = c
        .post(1, "/kv/cas", json!({"key": "k", "expected": 7, "new": 8}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(read(&c, 0, "k").await, (200, json!(8)));
}

#[tokio::test]
async fn sync_replication_fails_writes_while_a_backup_is_down_and_semi_sync_does_not() {
    let mut c = Cluster::start(
        3,
        &pb(&["--replication", "sync", "--request-timeout-ms", "300"]),
    )
    .await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    c.kill(2);
    let (s, b) = write(&c, 0, "k", 2).await;
    assert_eq!((s, b["definite"].clone()), (503, json!(false)), "{b}");
    drop(c);
    let mut c = Cluster::start(3, &pb(&["--replication", "semi-sync"])).await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    c.kill(2);
    assert_eq!(write(&c, 0, "k", 2).await.0, 200);
}

#[tokio::test]
async fn a_killed_primary_is_replaced_and_returns_fenced_as_a_backup_with_every_write() {
    // semi-sync: with sync every backup, the dead old primary included, must ack.
    let mut c = Cluster::start(3, &pb(&["--replication", "semi-sync"])).await;
    assert_eq!(write(&c, 1, "k", 1).await.0, 200);
    c.kill(0);
    c.eventually(10, "a backup promoted", || async {
        role(&c, 1).await == "primary" || role(&c, 2).await == "primary"
    })
    .await;
    assert_eq!(write(&c, 1, "k", 2).await.0, 200);
    c.restart(0).await;
    assert_eq!(role(&c, 0).await, "backup");
    c.eventually(10, "the old primary catches up", || async {
        c.health(0).await["primary"].is_string() && read(&c, 0, "k").await == (200, json!(2))
    })
    .await;
    assert!(c.health(0).await["epoch"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn async_replication_loses_an_acknowledged_write_when_the_primary_dies_before_shipping_it() {
    let mut c = Cluster::start(
        3,
        &pb(&["--replication", "async", "--backup-lag-ms", "2000"]),
    )
    .await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await; // shipped
    assert_eq!(write(&c, 0, "k", 2).await.0, 200); // acknowledged, not yet shipped
    c.kill(0);
    c.eventually(10, "a backup promoted", || async {
        role(&c, 1).await == "primary" || role(&c, 2).await == "primary"
    })
    .await;
    assert_eq!(
        read(&c, 1, "k").await,
        (200, json!(1)),
        "the acknowledged 2 is lost"
    );
    // The old primary comes back fenced and drops its divergent tail for the new
    // primary's log (the loss is for good).
    assert_eq!(write(&c, 1, "other", 5).await.0, 200);
    c.restart(0).await;
    c.eventually(15, "the old primary follows the new log", || async {
        read(&c, 0, "other").await == (200, json!(5))
    })
    .await;
    assert_eq!(read(&c, 0, "k").await, (200, json!(1)));
}

#[tokio::test]
async fn without_fencing_a_restarted_primary_serves_again_beside_the_new_one() {
    let mut c = Cluster::start(3, &pb(&["--fencing", "off", "--replication", "semi-sync"])).await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    c.kill(0);
    c.eventually(10, "a backup promoted", || async {
        role(&c, 1).await == "primary" || role(&c, 2).await == "primary"
    })
    .await;
    c.restart(0).await;
    assert_eq!(
        role(&c, 0).await,
        "primary",
        "no fence: it still believes it leads"
    );
    let (s, _) = c
        .post(0, "/kv/write", json!({"key": "k", "value": 9}))
        .await;
    assert_eq!(s, 200, "and it takes writes");
}

#[tokio::test]
async fn a_paused_primary_with_fencing_stops_serving_when_it_resumes_and_steps_down() {
    let c = Cluster::start(3, &pb(&["--replication", "semi-sync"])).await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    c.signal(0, Signal::SIGSTOP);
    c.eventually(10, "a backup promoted", || async {
        role(&c, 1).await == "primary" || role(&c, 2).await == "primary"
    })
    .await;
    assert_eq!(write(&c, 1, "k", 2).await.0, 200);
    c.signal(0, Signal::SIGCONT);
    // Its lease ran out while it slept: it answers no read from its stale copy.
    let (s, v) = read(&c, 0, "k").await;
    assert!(
        s != 200 || v == json!(2),
        "a stale read {v} from the old primary"
    );
    c.eventually(5, "the old primary steps down", || async {
        role(&c, 0).await == "backup"
    })
    .await;
}

#[tokio::test]
async fn reads_from_backups_miss_an_acknowledged_write_until_it_is_shipped() {
    let c = Cluster::start(
        3,
        &pb(&[
            "--read-from",
            "backups",
            "--replication",
            "async",
            "--backup-lag-ms",
            "1000",
        ]),
    )
    .await;
    assert_eq!(write(&c, 0, "k", 1).await.0, 200);
    // Acknowledged by the primary; every read, even one sent to the primary, is
    // served by a backup that does not have it yet.
    for i in 0..3 {
        assert_eq!(read(&c, i, "k").await, (200, Value::Null), "via n{}", i + 1);
    }
    c.eventually(5, "the backups have it", || async {
        read(&c, 0, "k").await == (200, json!(1))
    })
    .await;
}

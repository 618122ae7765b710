//! `--mode two-phase-commit` end to end: real `faultline-store` processes on loopback,
//! txns over several shards, a paused participant, and a coordinator that crashes
//! between the phases (the `--crash-mid-commit` crash point) with the prepare log on
//! and off.

mod common;

use std::time::Duration;

use common::Cluster;
use nix::sys::signal::Signal;
use serde_json::{json, Value};

fn tpc(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["--mode", "two-phase-commit", "--request-timeout-ms", "400"];
    v.extend_from_slice(extra);
    v
}

/// A key owned by node `i` (asked of node 0).
async fn key_on(c: &Cluster, i: usize, tag: &str) -> String {
    for n in 0..1000 {
        let k = format!("{tag}{n}");
        let (s, b) = c.post(0, "/2pc/shard", json!({ "key": k })).await;
        assert_eq!(s, 200, "{b}");
        if b["owner"] == c.nodes[i].name.as_str() {
            return k;
        }
    }
    panic!("no key on node {i}");
}

/// `POST /txn` through node `i`: (status, body), or `None` when the connection failed.
async fn txn(c: &Cluster, i: usize, ops: Value) -> Option<(u16, Value)> {
    let url = format!("http://127.0.0.1:{}/txn", c.nodes[i].port);
    let r = c
        .http
        .post(url)
        .json(&json!({ "ops": ops }))
        .send()
        .await
        .ok()?;
    let s = r.status().as_u16();
    Some((s, r.json().await.unwrap_or(Value::Null)))
}

/// What a read-only txn through node `i` returns for `keys` once it gets its locks.
async fn read(c: &Cluster, i: usize, keys: &[&str]) -> Vec<Value> {
    let ops: Vec<Value> = keys.iter().map(|k| json!(["r", k, null])).collect();
    for _ in 0..100 {
        if let Some((200, b)) = txn(c, i, json!(ops)).await {
            return b["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m[2].clone())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no read of {keys:?} through node {i} succeeded");
}

#[tokio::test]
async fn a_txn_over_three_shards_commits_on_each_and_every_node_reads_it() {
    let c = Cluster::start(3, &tpc(&[])).await;
    let (a, b, d) = (
        key_on(&c, 0, "a").await,
        key_on(&c, 1, "b").await,
        key_on(&c, 2, "c").await,
    );
    let (s, body) = txn(
        &c,
        0,
        json!([
            ["append", a, 1],
            ["r", a, null],
            ["w", b, 5],
            ["append", d, 2],
            ["r", "never", null]
        ]),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["value"],
        json!([
            ["append", a, 1],
            ["r", a, [1]],
            ["w", b, 5],
            ["append", d, 2],
            ["r", "never", null]
        ])
    );
    for i in 0..3 {
        assert_eq!(
            read(&c, i, &[&a, &b, &d]).await,
            vec![json!([1]), json!(5), json!([2])],
            "through n{}",
            i + 1
        );
    }
    let (s, body) = txn(&c, 1, json!([["cas", a, 1]])).await.unwrap();
    assert_eq!((s, body["definite"].clone()), (400, json!(true)));
}

#[tokio::test]
async fn a_txn_with_a_paused_participant_aborts_definitely_and_applies_nowhere() {
    let c = Cluster::start(3, &tpc(&[])).await;
    let (a, d) = (key_on(&c, 0, "a").await, key_on(&c, 2, "c").await);
    c.signal(2, Signal::SIGSTOP);
    let (s, body) = txn(&c, 1, json!([["append", a, 1], ["append", d, 1]]))
        .await
        .unwrap();
    assert_eq!((s, body["definite"].clone()), (409, json!(true)), "{body}");
    c.signal(2, Signal::SIGCONT);
    // n3 may now take the late prepare and hold d until it asks n2: abort (presumed).
    assert_eq!(read(&c, 0, &[&a, &d]).await, vec![Value::Null, Value::Null]);
    c.eventually(5, "n3 released the late prepare", || async {
        c.health(2).await["prepared"] == 0
    })
    .await;
}

/// A txn through n3 appending to a key on n1 and one on n2, with n3 crashing once n1
/// committed: what reads through n1 see afterwards.
async fn crash_mid_commit(prepare_log: &'static str) -> Vec<Value> {
    let c = Cluster::start(
        3,
        &tpc(&["--prepare-log", prepare_log, "--crash-mid-commit", "1"]),
    )
    .await;
    let (a, b) = (key_on(&c, 0, "a").await, key_on(&c, 1, "b").await);
    let answer = txn(&c, 2, json!([["append", a, 1], ["append", b, 1]])).await;
    assert!(
        answer.is_none(),
        "the coordinator crashed before answering: {answer:?}"
    );
    c.eventually(10, "n3 back, a new incarnation", || async {
        let url = format!("http://127.0.0.1:{}/health", c.nodes[2].port);
        match c.http.get(url).send().await {
            Ok(r) => r.json::<Value>().await.is_ok_and(|h| h["incarnation"] == 2),
            Err(_) => false,
        }
    })
    .await;
    // Until n2 resolves the txn (it asks n3 after 500 ms), b stays locked.
    c.eventually(10, "n2 resolved the txn", || async {
        c.health(1).await["prepared"] == 0
    })
    .await;
    read(&c, 0, &[&a, &b]).await
}

#[tokio::test]
async fn with_the_prepare_log_a_coordinator_crashing_mid_commit_finishes_the_commit_on_restart() {
    assert_eq!(crash_mid_commit("on").await, vec![json!([1]), json!([1])]);
}

#[tokio::test]
async fn without_the_prepare_log_a_coordinator_crashing_mid_commit_commits_on_one_shard_only() {
    assert_eq!(
        crash_mid_commit("off").await,
        vec![json!([1]), Value::Null],
        "n1 committed, n2 heard abort from the restarted coordinator"
    );
}

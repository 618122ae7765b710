//! The peer stream end to end: a node reaches a peer again after the peer was paused,
//! killed and restarted, or refused a plain request on the stream path.

mod common;

use common::Cluster;
use nix::sys::signal::Signal;
use serde_json::json;

/// W = N = 3: a write succeeds only if the coordinator reaches both peers.
const ALL: &[&str] = &["--w", "3", "--request-timeout-ms", "300"];

#[tokio::test]
async fn writes_that_need_a_paused_replica_fail_while_it_is_paused_and_succeed_after() {
    let c = Cluster::start(3, ALL).await;
    assert_eq!(
        c.post(0, "/kv/write", json!({"key": "a", "value": 1}))
            .await
            .0,
        200
    );
    c.signal(2, Signal::SIGSTOP);
    let (s, b) = c
        .post(0, "/kv/write", json!({"key": "a", "value": 2}))
        .await;
    assert_eq!((s, b["definite"].clone()), (503, json!(false)), "{b}");
    c.signal(2, Signal::SIGCONT);
    for v in 3..6 {
        let (s, b) = c
            .post(0, "/kv/write", json!({"key": "a", "value": v}))
            .await;
        assert_eq!(s, 200, "write {v} after the resume: {b}");
    }
}

#[tokio::test]
async fn a_coordinator_reaches_a_killed_and_restarted_replica_over_a_new_stream() {
    let mut c = Cluster::start(3, ALL).await;
    assert_eq!(
        c.post(0, "/kv/write", json!({"key": "b", "value": 1}))
            .await
            .0,
        200
    );
    c.kill(2);
    let (s, _) = c
        .post(0, "/kv/write", json!({"key": "b", "value": 2}))
        .await;
    assert_eq!(s, 503);
    c.restart(2).await;
    let (s, b) = c
        .post(0, "/kv/write", json!({"key": "b", "value": 3}))
        .await;
    assert_eq!(s, 200, "{b}");
    // Blind writes are siblings by default: the replica holds 3 beside what it had.
    assert!(c.local(2, "b").await.contains(&json!(3)));
}

#[tokio::test]
async fn the_stream_path_without_the_upgrade_header_is_a_400() {
    let c = Cluster::start(1, &["--n", "1", "--w", "1", "--r", "1"]).await;
    let url = format!("http://127.0.0.1:{}/internal/stream", c.nodes[0].port);
    let r = c.http.get(url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Upgrade: faultline-peer/1"));
}

//! End-to-end replication tests: real `faultline-store` processes on loopback sockets.

mod common;

use common::Cluster;
use serde_json::json;

#[tokio::test]
async fn a_quorum_write_is_read_back_through_every_coordinator() {
    let c = Cluster::start(3, &[]).await;
    assert_eq!(
        c.post(0, "/kv/write", json!({"key": "k", "value": 7}))
            .await
            .0,
        200
    );
    for i in 0..3 {
        let (s, b) = c.post(i, "/kv/read", json!({"key": "k"})).await;
        assert_eq!((s, b["value"].clone()), (200, json!(7)), "via n{}", i + 1);
    }
    let h = c.health(1).await;
    assert_eq!(h["node"], "n2");
    assert_eq!(h["ok"], true);
    assert!(h["wall_clock_ms"].as_u64().unwrap() > 1_600_000_000_000);
}

#[tokio::test]
async fn concurrent_writes_become_siblings_and_a_write_with_context_resolves_them() {
    let c = Cluster::start(3, &["--conflict", "siblings"]).await;
    c.post(0, "/kv/write", json!({"key": "k", "value": 1}))
        .await;
    c.post(1, "/kv/write", json!({"key": "k", "value": 2}))
        .await;
    let (_, b) = c.post(2, "/kv/read", json!({"key": "k"})).await;
    let mut sibs: Vec<i64> = b["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    sibs.sort();
    assert_eq!(sibs, vec![1, 2], "{b}");
    let ctx = b["context"].clone();
    assert_eq!(
        c.post(
            2,
            "/kv/write",
            json!({"key": "k", "value": 3, "context": ctx})
        )
        .await
        .0,
        200
    );
    let (_, b) = c.post(0, "/kv/read", json!({"key": "k"})).await;
    assert_eq!(b["value"], json!(3), "{b}");
    assert!(b.get("siblings").is_none());
}

#[tokio::test]
async fn lww_keeps_a_single_value() {
    let c = Cluster::start(3, &["--conflict", "lww"]).await;
    c.post(0, "/kv/write", json!({"key": "k", "value": 1}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    c.post(1, "/kv/write", json!({"key": "k", "value": 2}))
        .await;
    let (_, b) = c.post(2, "/kv/read", json!({"key": "k"})).await;
    assert_eq!(b["value"], json!(2), "{b}");
}

#[tokio::test]
async fn cas_applies_only_on_a_match_and_sets_and_counters_merge() {
    let c = Cluster::start(3, &[]).await;
    assert_eq!(
        c.post(
            0,
            "/kv/cas",
            json!({"key": "r", "expected": null, "new": 1})
        )
        .await
        .0,
        200
    );
    let (s, b) = c
        .post(1, "/kv/cas", json!({"key": "r", "expected": 5, "new": 2}))
        .await;
    assert_eq!((s, b["error"].clone()), (409, json!("cas-mismatch")));
    assert_eq!(
        c.post(2, "/kv/cas", json!({"key": "r", "expected": 1, "new": 2}))
            .await
            .0,
        200
    );
    assert_eq!(
        c.post(0, "/kv/read", json!({"key": "r"})).await.1["value"],
        json!(2)
    );

    for (i, e) in [(0, 1), (1, 2), (2, 3), (0, 4)] {
        assert_eq!(
            c.post(i, "/set/add", json!({"key": "s", "element": e}))
                .await
                .0,
            200
        );
        assert_eq!(
            c.post(i, "/counter/add", json!({"key": "n", "delta": e}))
                .await
                .0,
            200
        );
    }
    let (_, b) = c.post(1, "/set/read", json!({"key": "s"})).await;
    let mut set: Vec<i64> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    set.sort();
    assert_eq!(set, vec![1, 2, 3, 4]);
    assert_eq!(
        c.post(2, "/counter/read", json!({"key": "n"})).await.1["value"],
        json!(10)
    );
    let (_, b) = c
        .post(
            0,
            "/txn",
            json!({"ops": [["append", "x", 1], ["append", "x", 2], ["r", "x", null]]}),
        )
        .await;
    assert_eq!(b["value"][2], json!(["r", "x", [1, 2]]));
}

#[tokio::test]
async fn a_write_without_a_quorum_is_indefinite_not_rolled_back_and_spreads_later() {
    let mut c = Cluster::start(3, &["--request-timeout-ms", "300"]).await;
    c.kill(1);
    c.kill(2);
    let (s, b) = c
        .post(0, "/kv/write", json!({"key": "k", "value": 1}))
        .await;
    assert_eq!(s, 503);
    assert_eq!(b["error"], "quorum not reached");
    assert_eq!(b["definite"], false);
    let (s, b) = c.post(0, "/kv/read", json!({"key": "k"})).await;
    assert_eq!((s, b["definite"].clone()), (503, json!(true)));
    // The coordinator applied it locally: the failed write is not rolled back, and once
    // the replicas return, hinted handoff spreads it and reads see it.
    assert_eq!(c.local(0, "k").await, vec![json!(1)]);
    c.restart(1).await;
    c.restart(2).await;
    c.eventually(10, "the failed write to become visible", || async {
        c.post(1, "/kv/read", json!({"key": "k"})).await.1["value"] == json!(1)
    })
    .await;
}

#[tokio::test]
async fn read_repair_brings_a_stale_replica_up_to_date() {
    let flags = [
        "--hinted-handoff",
        "off",
        "--anti-entropy-interval-ms",
        "0",
        "--read-repair",
        "on",
    ];
    let mut c = Cluster::start(3, &flags).await;
    c.kill(2);
    assert_eq!(
        c.post(0, "/kv/write", json!({"key": "k", "value": 9}))
            .await
            .0,
        200
    );
    // Let the write's replication to the dead n3 fail before n3 comes back.
    c.settle().await;
    c.restart(2).await;
    assert!(c.local(2, "k").await.is_empty(), "n3 missed the write");
    assert_eq!(
        c.post(0, "/kv/read", json!({"key": "k"})).await.1["value"],
        json!(9)
    );
    c.eventually(5, "read repair of n3", || async {
        c.local(2, "k").await == vec![json!(9)]
    })
    .await;
}

#[tokio::test]
async fn without_read_repair_or_handoff_or_anti_entropy_a_missed_write_stays_missing() {
    let flags = [
        "--hinted-handoff",
        "off",
        "--anti-entropy-interval-ms",
        "0",
        "--read-repair",
        "off",
    ];
    let mut c = Cluster::start(3, &flags).await;
    c.kill(2);
    assert_eq!(
        c.post(0, "/kv/write", json!({"key": "k", "value": 9}))
            .await
            .0,
        200
    );
    // Let the write's replication to the dead n3 fail before n3 comes back.
    c.settle().await;
    c.restart(2).await;
    c.post(0, "/kv/read", json!({"key": "k"})).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert!(c.local(2, "k").await.is_empty());
}

#[tokio::test]
async fn hinted_handoff_delivers_the_writes_a_down_replica_missed() {
    let flags = [
        "--hinted-handoff",
        "on",
        "--anti-entropy-interval-ms",
        "0",
        "--read-repair",
        "off",
        "--request-timeout-ms",
        "300",
    ];
    let mut c = Cluster::start(3, &flags).await;
    c.kill(2);
    for k in 0..10 {
        assert_eq!(
            c.post(0, "/kv/write", json!({"key": format!("k{k}"), "value": k}))
                .await
                .0,
            200
        );
    }
    c.eventually(5, "hints recorded", || async {
        c.health(0).await["hints_pending"].as_u64() == Some(10)
    })
    .await;
    c.restart(2).await;
    c.eventually(10, "hints delivered", || async {
        for k in 0..10 {
            if c.local(2, &format!("k{k}")).await != vec![json!(k)] {
                return false;
            }
        }
        c.health(0).await["hints_pending"] == json!(0)
    })
    .await;
}

#[tokio::test]
async fn merkle_anti_entropy_converges_a_replica_that_missed_writes() {
    let flags = [
        "--hinted-handoff",
        "off",
        "--anti-entropy-interval-ms",
        "100",
        "--read-repair",
        "off",
    ];
    let mut c = Cluster::start(3, &flags).await;
    c.kill(2);
    for k in 0..30 {
        assert_eq!(
            c.post(
                k % 2,
                "/kv/write",
                json!({"key": format!("k{k}"), "value": k})
            )
            .await
            .0,
            200
        );
    }
    c.restart(2).await;
    c.eventually(15, "anti-entropy convergence", || async {
        for k in 0..30 {
            if c.local(2, &format!("k{k}")).await != vec![json!(k)] {
                return false;
            }
        }
        true
    })
    .await;
}

#[tokio::test]
async fn a_sloppy_quorum_counts_a_fallback_and_a_strict_one_does_not() {
    // 4 nodes, N=3, W=3: with one preference-list node down only a fallback can make W.
    for sloppy in ["on", "off"] {
        let flags = [
            "--n",
            "3",
            "--w",
            "3",
            "--r",
            "1",
            "--sloppy-quorum",
            sloppy,
            "--request-timeout-ms",
            "300",
            "--anti-entropy-interval-ms",
            "0",
        ];
        let mut c = Cluster::start(4, &flags).await;
        c.kill(3);
        let mut statuses = Vec::new();
        for k in 0..20 {
            let (s, _) = c
                .post(0, "/kv/write", json!({"key": format!("k{k}"), "value": k}))
                .await;
            statuses.push(s);
        }
        if sloppy == "on" {
            assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
            for k in 0..20 {
                let (s, b) = c.post(1, "/kv/read", json!({"key": format!("k{k}")})).await;
                assert_eq!((s, b["value"].clone()), (200, json!(k)));
            }
        } else {
            // About 3 keys in 4 have n4 in their preference list; those cannot make W=3.
            assert!(statuses.contains(&503), "{statuses:?}");
            assert!(
                statuses.iter().all(|s| *s == 200 || *s == 503),
                "{statuses:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_malformed_txn_is_refused_before_any_micro_op_runs() {
    let c = Cluster::start(3, &[]).await;
    let (s, b) = c
        .post(
            0,
            "/txn",
            json!({"ops": [["append", "x", 1], ["bogus", "y", 2]]}),
        )
        .await;
    assert_eq!((s, b["definite"].clone()), (400, json!(true)), "{b}");
    let (_, b) = c.post(1, "/txn", json!({"ops": [["r", "x", null]]})).await;
    assert_eq!(b["value"], json!([["r", "x", []]]));
}

#[tokio::test]
async fn a_replication_delay_makes_w1_r1_reads_stale() {
    let flags = [
        "--n",
        "3",
        "--w",
        "1",
        "--r",
        "1",
        "--replication-delay-ms",
        "800",
        "--read-repair",
        "off",
    ];
    let c = Cluster::start(3, &flags).await;
    let mut stale = 0;
    for k in 0..3 {
        let key = format!("k{k}");
        assert_eq!(
            c.post(0, "/kv/write", json!({"key": key, "value": k}))
                .await
                .0,
            200
        );
        if c.post(1, "/kv/read", json!({"key": key})).await.1["value"].is_null() {
            stale += 1;
        }
    }
    assert!(stale > 0, "no read within the replication delay was stale");
    // The coordinator applied its own copy at once and the peers get theirs later.
    c.eventually(5, "delayed replication", || async {
        c.local(1, "k0").await == vec![json!(0)]
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_set_and_counter_adds_through_every_coordinator_lose_nothing_in_siblings_mode() {
    let c = std::sync::Arc::new(Cluster::start(3, &["--conflict", "siblings"]).await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..60 {
        let c = c.clone();
        tasks.spawn(async move {
            let a = c
                .post(i % 3, "/set/add", json!({"key": "s", "element": i}))
                .await
                .0;
            let b = c
                .post((i + 1) % 3, "/counter/add", json!({"key": "n", "delta": 1}))
                .await
                .0;
            (a, b)
        });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap(), (200, 200));
    }
    let (_, b) = c.post(0, "/set/read", json!({"key": "s"})).await;
    let mut set: Vec<i64> = b["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    set.sort();
    assert_eq!(set, (0..60).collect::<Vec<i64>>());
    assert_eq!(
        c.post(1, "/counter/read", json!({"key": "n"})).await.1["value"],
        json!(60)
    );
}

#[tokio::test]
async fn a_fallback_hands_off_what_it_held_for_a_down_replica_once_it_returns() {
    let flags = [
        "--n",
        "3",
        "--w",
        "3",
        "--r",
        "2",
        "--sloppy-quorum",
        "on",
        "--hinted-handoff",
        "on",
        "--anti-entropy-interval-ms",
        "0",
        "--read-repair",
        "off",
        "--request-timeout-ms",
        "300",
    ];
    let mut c = Cluster::start(4, &flags).await;
    c.kill(3);
    for k in 0..20 {
        let (s, _) = c
            .post(
                k % 3,
                "/kv/write",
                json!({"key": format!("k{k}"), "value": k}),
            )
            .await;
        assert_eq!(s, 200, "W=3 is reached through a fallback");
    }
    let mut pending = 0;
    for i in 0..3 {
        pending += c.health(i).await["hints_pending"].as_u64().unwrap();
    }
    assert!(pending > 0, "fallbacks hold hints for n4");
    c.restart(3).await;
    c.eventually(10, "every hint handed off", || async {
        let mut left = 0;
        for i in 0..3 {
            left += c.health(i).await["hints_pending"].as_u64().unwrap();
        }
        left == 0
    })
    .await;
    let mut held = 0;
    for k in 0..20 {
        let vals = c.local(3, &format!("k{k}")).await;
        if !vals.is_empty() {
            assert_eq!(vals, vec![json!(k)]);
            held += 1;
        }
    }
    assert!(held > 0, "n4 received the writes meant for it");
}

//! Latency benchmark of the store over loopback (ignored by default; run with
//! `cargo test --release -p stores --test bench -- --ignored --nocapture`).
//! Reports percentiles of quorum writes and reads on a 3-node cluster and their ratio
//! to a `/health` round trip measured in the same run (the HTTP floor).

mod common;

use std::time::{Duration, Instant};

use common::Cluster;
use serde_json::json;

fn percentiles(mut v: Vec<Duration>) -> [f64; 4] {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    [at(0.5), at(0.9), at(0.99), at(1.0)]
}

async fn measure(c: &Cluster) -> Vec<(&'static str, [f64; 4])> {
    let url = format!("http://127.0.0.1:{}/health", c.nodes[0].port);
    let mut health = Vec::with_capacity(OPS);
    let mut writes = Vec::with_capacity(OPS);
    let mut reads = Vec::with_capacity(OPS);
    for i in 0..OPS {
        let t = Instant::now();
        c.http
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        health.push(t.elapsed());
        let key = format!("k{i}");
        let t = Instant::now();
        assert_eq!(
            c.post(i % 3, "/kv/write", json!({"key": key, "value": i}))
                .await
                .0,
            200
        );
        writes.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(c.post(i % 3, "/kv/read", json!({"key": key})).await.0, 200);
        reads.push(t.elapsed());
    }
    vec![
        ("health", percentiles(health)),
        ("write", percentiles(writes)),
        ("read", percentiles(reads)),
    ]
}

const OPS: usize = 2000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn store_latency_over_loopback() {
    println!("{OPS} sequential ops per kind, 3 nodes, N=3 W=2 R=2, one fresh key per write+read, anti-entropy off");
    println!(
        "{:<7} {:<8} {:>9} {:>9} {:>9} {:>9}   p50 vs /health",
        "fsync", "op", "p50 us", "p90 us", "p99 us", "max us"
    );
    for fsync in ["never", "always"] {
        let c = Cluster::start(3, &["--fsync", fsync, "--anti-entropy-interval-ms", "0"]).await;
        let rows = measure(&c).await;
        let h = rows[0].1[0];
        for (name, d) in rows {
            println!(
                "{fsync:<7} {name:<8} {:>9.0} {:>9.0} {:>9.0} {:>9.0}   {:.2}x",
                d[0],
                d[1],
                d[2],
                d[3],
                d[0] / h
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn primary_backup_and_multi_leader_latency_over_loopback() {
    println!(
        "{OPS} sequential ops per kind, 3 nodes, --fsync always, requests rotated over the nodes"
    );
    println!(
        "{:<34} {:<8} {:>9} {:>9} {:>9} {:>9}   p50 vs /health",
        "mode", "op", "p50 us", "p90 us", "p99 us", "max us"
    );
    let modes: [&[&str]; 4] = [
        &["--mode", "primary-backup", "--replication", "sync"],
        &["--mode", "primary-backup", "--replication", "async"],
        &["--mode", "multi-leader", "--causality", "none"],
        &["--mode", "multi-leader", "--causality", "version-vectors"],
    ];
    for args in modes {
        let c = Cluster::start(3, args).await;
        // A fresh primary serves once its lease is up (its first heartbeats answered).
        c.eventually(5, "the store takes writes", || async {
            c.post(0, "/kv/write", json!({"key": "warm", "value": 0}))
                .await
                .0
                == 200
        })
        .await;
        let rows = measure(&c).await;
        let h = rows[0].1[0];
        let label = args[1..].join(" ");
        for (name, d) in rows {
            println!(
                "{label:<34} {name:<8} {:>9.0} {:>9.0} {:>9.0} {:>9.0}   {:.2}x",
                d[0],
                d[1],
                d[2],
                d[3],
                d[0] / h
            );
        }
    }
}

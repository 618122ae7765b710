//! `--mode multi-leader` end to end: real `faultline-store` processes on loopback.

mod common;

use std::time::Duration;

use common::Cluster;
use serde_json::{json, Value};

fn ml(extra: &[&'static str]) -> Vec<&'static str> {
    let mut v = vec!["--mode", "multi-leader"];
    v.extend_from_slice(extra);
    v
}

async fn read(c: &Cluster, i: usize, key: &str) -> Value {
    c.post(i, "/kv/read", json!({"key": key})).await.1["value"].clone()
}

#[tokio::test]
async fn every_topology_brings_a_write_on_any_node_to_every_node() {
    for topology in ["all-to-all", "circular", "star"] {
        let c = Cluster::start(3, &ml(&["--topology", topology])).await;
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            let (s, _) = c.post(i, "/kv/write", json!({"key": k, "value": i})).await;
            assert_eq!(s, 200);
        }
        c.eventually(5, topology, || async {
            for i in 0..3 {
                for (j, k) in ["a", "b", "c"].iter().enumerate() {
                    if read(&c, i, k).await != json!(j) {
                        return false;
                    }
                }
            }
            true
        })
        .await;
    }
}

#[tokio::test]
async fn all_to_all_without_version_vectors_shows_an_update_before_the_one_it_depends_on() {
    // n1 -> n3 is a slow link, n1 -> n2 and n2 -> n3 fast (seed 001's overtaking).
    for (causality, overtakes) in [("none", true), ("version-vectors", false)] {
        let c = Cluster::start(
            3,
            &ml(&["--causality", causality, "--link-delay-ms", "1500"]),
        )
        .await;
        c.post(0, "/kv/write", json!({"key": "x", "value": 1}))
            .await;
        c.eventually(3, "n2 sees x", || async {
            read(&c, 1, "x").await == json!(1)
        })
        .await;
        c.post(1, "/kv/write", json!({"key": "y", "value": 2}))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (y, x) = (read(&c, 2, "y").await, read(&c, 2, "x").await);
        if overtakes {
            assert_eq!(
                (y, x),
                (json!(2), Value::Null),
                "y shows on n3 before the x it follows"
            );
        } else {
            assert_eq!(y, Value::Null, "y waits on n3 for x");
            c.eventually(5, "both arrive", || async {
                read(&c, 2, "y").await == json!(2) && read(&c, 2, "x").await == json!(1)
            })
            .await;
        }
    }
}

#[tokio::test]
async fn a_slow_link_delays_each_update_by_the_link_delay_even_under_a_steady_stream() {
    // n1 -> n3 is slow. A write every 20 ms for 3 s: each update leaves 500 ms after it
    // was made, so n3 lags n1 by about the delay, not until the stream stops (a sender
    // that waited for every queued update to come due before sending any would hold
    // them all back while writes keep coming).
    let c = Cluster::start(3, &ml(&["--link-delay-ms", "500"])).await;
    let start = std::time::Instant::now();
    let mut written: Vec<(Duration, i64)> = Vec::new();
    let mut i = 0;
    while start.elapsed() < Duration::from_secs(3) {
        i += 1;
        let (s, _) = c
            .post(0, "/kv/write", json!({"key": "s", "value": i}))
            .await;
        assert_eq!(s, 200);
        written.push((start.elapsed(), i));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = start.elapsed();
    let on_n3 = read(&c, 2, "s").await.as_i64().unwrap_or(0);
    // The last write made 1.5 s before now (the delay plus a margin for a loaded
    // machine) has reached n3.
    let due = written
        .iter()
        .rev()
        .find(|(at, _)| *at + Duration::from_millis(1500) <= now)
        .map(|(_, v)| *v)
        .expect("writes older than 1.5 s");
    assert!(
        on_n3 >= due,
        "n3 shows write {on_n3} of {i}; write {due} was made 1.5 s ago"
    );
    assert!(
        on_n3 < i,
        "the link is slow: n3 does not have the last write yet"
    );
}

#[tokio::test]
async fn concurrent_counter_adds_are_lost_with_lww_and_kept_as_a_crdt() {
    // n1 -> n3 is slow: n3 adds before it has seen n1's add (concurrent adds).
    for (resolution, total) in [("lww", 2), ("crdt", 4)] {
        let c = Cluster::start(
            3,
            &ml(&["--resolution", resolution, "--link-delay-ms", "800"]),
        )
        .await;
        for i in [0, 2] {
            let (s, _) = c
                .post(i, "/counter/add", json!({"key": "c", "delta": 2}))
                .await;
            assert_eq!(s, 200);
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let values: Vec<Value> = {
            let mut v = Vec::new();
            for i in 0..3 {
                v.push(c.post(i, "/counter/read", json!({"key": "c"})).await.1["value"].clone());
            }
            v
        };
        assert!(
            values.iter().all(|v| v == &values[0]),
            "converged: {values:?}"
        );
        assert_eq!(values[0], json!(total), "--resolution {resolution}");
    }
}

#[tokio::test]
async fn a_killed_node_replays_its_log_and_passes_on_what_it_had_not_sent() {
    let mut c = Cluster::start(3, &ml(&["--topology", "circular"])).await;
    c.kill(1); // n2 carries n1's updates to n3
    c.post(0, "/kv/write", json!({"key": "k", "value": 5}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(read(&c, 2, "k").await, Value::Null, "the ring is cut at n2");
    c.restart(1).await;
    c.eventually(5, "n3 gets it through the restarted n2", || async {
        read(&c, 2, "k").await == json!(5) && read(&c, 1, "k").await == json!(5)
    })
    .await;
}

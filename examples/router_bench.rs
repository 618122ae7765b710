//! Measures faultline's Maelstrom router: echo requests from a client to one node
//! and back (two hops: client → node, node → client), through faultline's routed
//! network (`subject::maelstrom::net::Network`) and, as the baseline in the same run,
//! over a direct pipe to the same node program. Node-to-node messages go through
//! the same routing function as the node's replies here. Numbers go to
//! BENCHMARKS.md (`## Maelstrom router`).
//!
//! ```text
//! cargo build --release --example maelstrom_echo_node --example router_bench
//! target/release/examples/router_bench
//! ```

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faultline::subject::maelstrom::net::{NetConfig, Network};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// Sequential requests for the latency figure.
const SEQUENTIAL: u64 = 20_000;
/// Requests in flight for the throughput figure.
const WINDOW: usize = 64;
/// How long the throughput figure runs.
const FOR: Duration = Duration::from_secs(5);

fn node() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench's path");
    let node = exe.with_file_name("maelstrom_echo_node");
    assert!(
        node.is_file(),
        "build it first: cargo build --release --example maelstrom_echo_node"
    );
    node
}

fn request(id: u64) -> String {
    json!({"src": "c1", "dest": "n0", "body": {"type": "echo", "msg_id": id, "echo": id}})
        .to_string()
}

/// Direct pipe: (mean round trip, round trips per second with [`WINDOW`] in flight).
async fn direct() -> (Duration, f64) {
    let mut child = tokio::process::Command::new(node())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut id = 0;
    let send = |id: u64| format!("{}\n", request(id));
    let start = Instant::now();
    for _ in 0..SEQUENTIAL {
        id += 1;
        stdin.write_all(send(id).as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        lines.next_line().await.unwrap().expect("a reply");
    }
    let latency = start.elapsed() / SEQUENTIAL as u32;
    for _ in 0..WINDOW {
        id += 1;
        stdin.write_all(send(id).as_bytes()).await.unwrap();
    }
    stdin.flush().await.unwrap();
    let (start, mut done) = (Instant::now(), 0u64);
    while start.elapsed() < FOR {
        lines.next_line().await.unwrap().expect("a reply");
        done += 1;
        id += 1;
        stdin.write_all(send(id).as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();
    drop(stdin);
    let _ = child.wait().await;
    (latency, rate)
}

/// Through faultline's router: the same two figures.
async fn routed() -> (Duration, f64) {
    let dir = std::env::temp_dir().join(format!("faultline-router-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let net = Network::spawn(&node(), 1, &dir, NetConfig::default()).expect("the node starts");
    net.init(Duration::from_secs(10)).await.expect("init");
    let timeout = Duration::from_secs(5);
    let body = |i: u64| json!({"type": "echo", "echo": i});
    let start = Instant::now();
    for i in 0..SEQUENTIAL {
        net.request("c1", "n0", body(i), timeout)
            .await
            .expect("a reply");
    }
    let latency = start.elapsed() / SEQUENTIAL as u32;
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..WINDOW)
        .map(|w| {
            let (net, done) = (net.clone(), done.clone());
            tokio::spawn(async move {
                let client = format!("c{}", w + 1);
                while start.elapsed() < FOR {
                    net.request(&client, "n0", body(0), timeout)
                        .await
                        .expect("a reply");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    net.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    (latency, rate)
}

#[tokio::main]
async fn main() {
    let (d_lat, d_rate) = direct().await;
    let (r_lat, r_rate) = routed().await;
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!("echo round trips (2 hops), one node, {SEQUENTIAL} sequential, then {WINDOW} in flight for {} s", FOR.as_secs());
    println!("| path | round trip µs | round trips/s | messages/s |");
    println!("|---|---|---|---|");
    println!(
        "| direct pipe (baseline) | {:.1} | {:.0} | {:.0} |",
        us(d_lat),
        d_rate,
        2.0 * d_rate
    );
    println!(
        "| faultline router | {:.1} | {:.0} | {:.0} |",
        us(r_lat),
        r_rate,
        2.0 * r_rate
    );
    println!(
        "router / direct: round trip {:.2}×, throughput {:.2}×; added per hop {:.1} µs",
        us(r_lat) / us(d_lat),
        r_rate / d_rate,
        (us(r_lat) - us(d_lat)) / 2.0
    );
}

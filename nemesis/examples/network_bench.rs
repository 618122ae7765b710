//! Measures the network faults: time to apply and to heal a partition with each
//! mechanism, and the throughput cost of a proxy link against a direct one (same run).
//!
//! `cargo run --release -p nemesis --example network_bench` (namespaces need root).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nemesis::netns::NetnsNet;
use nemesis::{Partition, ProxyNet, Topology};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("n{i}")).collect()
}

fn partitions(n: usize) -> Vec<Partition> {
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    [Topology::One, Topology::Halves, Topology::MajoritiesRing]
        .iter()
        .map(|t| t.draw(&names(n), &mut rng))
        .collect()
}

async fn sink() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
                let _ = s.write_all(b"done\n").await;
            });
        }
    });
    a
}

async fn transfer(to: SocketAddr, bytes: usize) -> f64 {
    let chunk = vec![1u8; 64 * 1024];
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(to).await.unwrap();
    let mut sent = 0;
    while sent < bytes {
        s.write_all(&chunk).await.unwrap();
        sent += chunk.len();
    }
    s.shutdown().await.unwrap();
    let mut ack = Vec::new();
    s.read_to_end(&mut ack).await.unwrap();
    sent as f64 / t.elapsed().as_secs_f64() / 1e6
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for n in [3, 5] {
        // Proxies.
        let mut targets: Vec<Vec<SocketAddr>> = Vec::new();
        for _ in 0..n {
            targets.push(vec![sink().await]);
        }
        let net = ProxyNet::start(&names(n), &targets).await.unwrap();
        let (mut apply, mut heal) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            for p in partitions(n) {
                let t = Instant::now();
                for (a, b) in p.cut_pairs() {
                    net.cut(&a, &b);
                }
                apply.push(t.elapsed());
                let t = Instant::now();
                net.heal();
                heal.push(t.elapsed());
            }
        }
        println!(
            "proxies    {n} nodes: apply {:?}, heal {:?} (median of {})",
            median(apply.clone()),
            median(heal),
            apply.len()
        );
        // Namespaces.
        if nemesis::netns::available().is_ok() {
            let id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
            let t = Instant::now();
            let mut ns = NetnsNet::create(&id, &names(n), &nemesis::state::state_dir()).unwrap();
            let setup = t.elapsed();
            let (mut apply, mut heal) = (Vec::new(), Vec::new());
            for _ in 0..5 {
                for p in partitions(n) {
                    let t = Instant::now();
                    ns.partition(&p).unwrap();
                    apply.push(t.elapsed());
                    let t = Instant::now();
                    ns.heal_partition().unwrap();
                    heal.push(t.elapsed());
                }
            }
            let t = Instant::now();
            ns.teardown();
            println!(
                "namespaces {n} nodes: apply {:?}, heal {:?} (median of {}); setup {setup:?}, teardown {:?}",
                median(apply.clone()),
                median(heal),
                apply.len(),
                t.elapsed()
            );
        }
    }
    // Throughput: direct vs through one proxy link, interleaved, same run.
    let target = sink().await;
    let net = ProxyNet::start(&names(2), &[vec![target], vec![target]])
        .await
        .unwrap();
    let via = net.addrs("n1", "n2").unwrap()[0];
    let bytes = 256 * 1024 * 1024;
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        direct.push(transfer(target, bytes).await);
        proxied.push(transfer(via, bytes).await);
    }
    direct.sort_by(f64::total_cmp);
    proxied.sort_by(f64::total_cmp);
    let (d, p) = (direct[1], proxied[1]);
    println!(
        "throughput: direct {d:.0} MB/s, proxy link {p:.0} MB/s (ratio {:.2}), 256 MiB, median of 3",
        p / d
    );
}

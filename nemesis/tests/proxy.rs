//! Partitions and packet faults through proxy links, observed with real probe nodes:
//! a node's own TCP connects to its peers (through the addresses it was given) fail
//! while it is cut off, and work again after the heal.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use nemesis::{NodeProcess, PacketFault, Partition, ProxyNet, Topology};

struct Cluster {
    names: Vec<String>,
    addrs: Vec<String>,
    _nodes: Vec<NodeProcess>,
    net: ProxyNet,
}

async fn cluster(n: usize, dir: &std::path::Path) -> Cluster {
    let names: Vec<String> = (1..=n).map(|i| format!("n{i}")).collect();
    let addrs: Vec<String> = (0..n)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let targets: Vec<Vec<SocketAddr>> = addrs.iter().map(|a| vec![a.parse().unwrap()]).collect();
    let net = ProxyNet::start(&names, &targets).await.unwrap();
    let nodes = names
        .iter()
        .zip(&addrs)
        .map(|(name, addr)| NodeProcess::spawn(probe_spec(name, addr, dir)).unwrap())
        .collect();
    for a in &addrs {
        let a = a.clone();
        assert!(
            tokio::task::spawn_blocking(move || wait_answers(&a, Duration::from_secs(10)))
                .await
                .unwrap()
        );
    }
    Cluster {
        names,
        addrs,
        _nodes: nodes,
        net,
    }
}

impl Cluster {
    /// Whether node `from` can reach node `to` (asked of `from` itself).
    async fn reaches(&self, from: usize, to: usize) -> bool {
        let via = self.net.addrs(&self.names[from], &self.names[to]).unwrap()[0];
        let at = self.addrs[from].clone();
        let answer = tokio::task::spawn_blocking(move || {
            ask(&at, &format!("CONNECT {via} 500"), Duration::from_secs(3))
        })
        .await
        .unwrap();
        answer.as_deref() == Ok("OK")
    }

    async fn matrix(&self) -> Vec<(usize, usize, bool)> {
        let mut m = Vec::new();
        for a in 0..self.names.len() {
            for b in 0..self.names.len() {
                if a != b {
                    m.push((a, b, self.reaches(a, b).await));
                }
            }
        }
        m
    }
}

fn apply(net: &ProxyNet, p: &Partition) {
    for (a, b) in p.cut_pairs() {
        net.cut(&a, &b);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_isolated_node_reaches_no_peer_and_the_others_still_reach_each_other() {
    let dir = scratch("proxy-one");
    let c = cluster(3, &dir).await;
    assert!(c.matrix().await.iter().all(|x| x.2), "all reach before");
    let p = Partition {
        kind: "one".into(),
        groups: vec![vec!["n1".into()], vec!["n2".into(), "n3".into()]],
        grudge: nemesis::partition::complete(&[vec!["n1".into()], vec!["n2".into(), "n3".into()]]),
    };
    apply(&c.net, &p);
    for (a, b, ok) in c.matrix().await {
        assert_eq!(ok, a != 0 && b != 0, "n{} -> n{}: {ok}", a + 1, b + 1);
    }
    c.net.heal();
    assert!(
        c.matrix().await.iter().all(|x| x.2),
        "all reach after the heal"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_severs_a_connection_that_was_already_open() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = scratch("proxy-sever");
    let c = cluster(2, &dir).await;
    let via = c.net.addrs("n1", "n2").unwrap()[0];
    let stream = tokio::net::TcpStream::connect(via).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"PING\n").await.unwrap();
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert_eq!(line.trim(), "PONG");
    c.net.cut("n1", "n2");
    let _ = w.write_all(b"PING\n").await;
    line.clear();
    let got = tokio::time::timeout(Duration::from_secs(2), r.read_line(&mut line)).await;
    assert!(
        matches!(got, Ok(Ok(0)) | Ok(Err(_))),
        "the open connection still carried {line:?} ({got:?})"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_topology_cuts_exactly_its_pairs() {
    let dir = scratch("proxy-topologies");
    let c = cluster(5, &dir).await;
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(11);
    for t in [
        Topology::Bridge,
        Topology::MajoritiesRing,
        Topology::RandomHalves,
    ] {
        let p = t.draw(&c.names, &mut rng);
        apply(&c.net, &p);
        let cut = p.cut_pairs();
        for (a, b, ok) in c.matrix().await {
            let (x, y) = (c.names[a].clone(), c.names[b].clone());
            let pair = if x < y { (x, y) } else { (y, x) };
            assert_eq!(ok, !cut.contains(&pair), "{}: {pair:?}", t.name());
        }
        c.net.heal();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Median round trip of `PING` through `via`, over `n` fresh connections.
async fn round_trip(via: SocketAddr, n: usize) -> (Duration, usize) {
    let mut times = Vec::new();
    let mut failed = 0;
    for _ in 0..n {
        let via = via.to_string();
        let t = Instant::now();
        let r = tokio::task::spawn_blocking(move || ask(&via, "PING", Duration::from_secs(2)))
            .await
            .unwrap();
        match r {
            Ok(_) => times.push(t.elapsed()),
            Err(_) => failed += 1,
        }
    }
    times.sort();
    (
        times.get(times.len() / 2).copied().unwrap_or_default(),
        failed,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_shows_in_the_round_trip_and_loss_in_dropped_requests() {
    let dir = scratch("proxy-packet");
    let c = cluster(2, &dir).await;
    let via = c.net.addrs("n1", "n2").unwrap()[0];
    let (base, failed) = round_trip(via, 10).await;
    assert_eq!(failed, 0);
    let delay = Duration::from_millis(60);
    let fault = PacketFault {
        delay,
        jitter: Duration::from_millis(5),
        ..PacketFault::default()
    };
    c.net.set_packet("n1", "n2", fault);
    c.net.set_packet("n2", "n1", fault);
    let (slow, failed) = round_trip(via, 10).await;
    assert_eq!(failed, 0);
    // Both directions are delayed: the round trip grows by about twice the delay.
    assert!(
        slow >= base + 2 * delay - Duration::from_millis(15)
            && slow < base + 2 * delay + Duration::from_millis(150),
        "base {base:?}, delayed {slow:?}"
    );
    c.net.clear_packets();
    c.net.set_packet(
        "n1",
        "n2",
        PacketFault {
            loss: 0.5,
            ..PacketFault::default()
        },
    );
    let (_, failed) = round_trip(via, 40).await;
    assert!(
        (8..=32).contains(&failed),
        "{failed} of 40 dropped at 50% loss"
    );
    c.net.clear_packets();
    let (_, failed) = round_trip(via, 10).await;
    assert_eq!(failed, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bandwidth_cap_slows_a_transfer_down_to_the_rate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A sink server: reads everything, then answers with the byte count.
    let sink = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_addr = sink.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = sink.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf).await;
                let _ = s.write_all(format!("{}\n", buf.len()).as_bytes()).await;
            });
        }
    });
    let names = vec!["a".to_string(), "b".to_string()];
    let targets = vec![vec![sink_addr], vec![sink_addr]];
    let net = ProxyNet::start(&names, &targets).await.unwrap();
    let rate = 200 * 1024;
    net.set_packet(
        "a",
        "b",
        PacketFault {
            rate: Some(rate),
            ..PacketFault::default()
        },
    );
    let via = net.addrs("a", "b").unwrap()[0];
    let payload = vec![7u8; 100 * 1024];
    let t = Instant::now();
    let mut s = tokio::net::TcpStream::connect(via).await.unwrap();
    s.write_all(&payload).await.unwrap();
    s.shutdown().await.unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    let took = t.elapsed();
    assert_eq!(answer.trim(), payload.len().to_string());
    // 100 KiB at 200 KiB/s: about half a second.
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "took {took:?}"
    );
}

//! Partitions and packet faults in real network namespaces, observed with probe nodes
//! running inside them. Needs root (CI runs as root); skipped with a reason otherwise.

mod common;

use std::time::{Duration, Instant};

use common::*;
use nemesis::netns::{Firewall, NetnsNet};
use nemesis::{NodeProcess, PacketFault, Partition, ProcessSpec};

const PORT: u16 = 7100;

fn skip() -> bool {
    if let Err(why) = nemesis::netns::available() {
        eprintln!("skipped: {why}");
        return true;
    }
    false
}

struct Cluster {
    net: NetnsNet,
    addrs: Vec<String>,
    _nodes: Vec<NodeProcess>,
    dir: std::path::PathBuf,
}

fn cluster(n: usize, name: &str) -> Cluster {
    cluster_with(n, name, Firewall::detect().unwrap())
}

fn cluster_with(n: usize, name: &str, firewall: Firewall) -> Cluster {
    let dir = scratch(name);
    let names: Vec<String> = (1..=n).map(|i| format!("n{i}")).collect();
    let id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let net = NetnsNet::create_with(&id, &names, &nemesis::state::state_dir(), firewall).unwrap();
    let mut nodes = Vec::new();
    let mut addrs = Vec::new();
    for node in net.nodes() {
        let addr = format!("{}:{PORT}", node.ip);
        nodes.push(
            NodeProcess::spawn(ProcessSpec {
                netns: Some(node.netns.clone()),
                ..probe_spec(&node.name, &addr, &dir)
            })
            .unwrap(),
        );
        assert!(
            wait_answers(&addr, Duration::from_secs(10)),
            "{addr} never answered from the root namespace"
        );
        addrs.push(addr);
    }
    Cluster {
        net,
        addrs,
        _nodes: nodes,
        dir,
    }
}

impl Cluster {
    fn reaches(&self, from: usize, to: usize) -> bool {
        ask(
            &self.addrs[from],
            &format!("CONNECT {} 300", self.addrs[to]),
            Duration::from_secs(3),
        )
        .as_deref()
            == Ok("OK")
    }

    fn matrix(&self) -> Vec<(usize, usize, bool)> {
        let n = self.addrs.len();
        let mut m = Vec::new();
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    m.push((a, b, self.reaches(a, b)));
                }
            }
        }
        m
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.net.teardown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn isolate_first(names: &[&str]) -> Partition {
    let lone = vec![names[0].to_string()];
    let rest: Vec<String> = names[1..].iter().map(|s| s.to_string()).collect();
    Partition {
        kind: "one".into(),
        groups: vec![lone.clone(), rest.clone()],
        grudge: nemesis::partition::complete(&[lone, rest]),
    }
}

#[test]
fn with_iptables_too_an_isolated_node_reaches_no_peer() {
    if skip() {
        return;
    }
    if !std::path::Path::new("/usr/sbin/iptables").exists() {
        eprintln!("skipped: iptables is not installed");
        return;
    }
    let c = cluster_with(3, "netns-iptables", Firewall::Iptables);
    c.net
        .partition(&isolate_first(&["n1", "n2", "n3"]))
        .unwrap();
    for (a, b, ok) in c.matrix() {
        assert_eq!(ok, a != 0 && b != 0, "n{} -> n{}: {ok}", a + 1, b + 1);
    }
    c.net.heal_partition().unwrap();
    assert!(c.matrix().iter().all(|x| x.2), "all reach after the heal");
}

#[test]
fn in_namespaces_an_isolated_node_reaches_no_peer_while_clients_reach_all() {
    if skip() {
        return;
    }
    let c = cluster(3, "netns-one");
    assert!(c.matrix().iter().all(|x| x.2), "all reach before");
    let t = Instant::now();
    c.net
        .partition(&isolate_first(&["n1", "n2", "n3"]))
        .unwrap();
    let applied = t.elapsed();
    for (a, b, ok) in c.matrix() {
        assert_eq!(ok, a != 0 && b != 0, "n{} -> n{}: {ok}", a + 1, b + 1);
    }
    // Clients in the root namespace still reach every node, the isolated one too.
    for a in &c.addrs {
        assert_eq!(
            ask(a, "PING", Duration::from_secs(2)).as_deref(),
            Ok("PONG")
        );
    }
    let t = Instant::now();
    c.net.heal_partition().unwrap();
    let healed = t.elapsed();
    assert!(c.matrix().iter().all(|x| x.2), "all reach after the heal");
    eprintln!("namespaces: partition applied in {applied:?}, healed in {healed:?}");
}

#[test]
fn in_namespaces_loss_drops_requests_and_teardown_leaves_nothing() {
    if skip() {
        return;
    }
    let mut c = cluster(2, "netns-loss");
    let fault = PacketFault {
        loss: 0.6,
        ..PacketFault::default()
    };
    c.net.set_packet("n1", "n2", &fault).unwrap();
    let mut failed = 0;
    for _ in 0..30 {
        if !c.reaches(0, 1) {
            failed += 1;
        }
    }
    assert!(
        (5..=29).contains(&failed),
        "{failed} of 30 failed at 60% loss"
    );
    c.net.clear_packets().unwrap();
    assert!((0..10).all(|_| c.reaches(0, 1)));
    let (namespaces, interfaces, _) = c.net.resources();
    c.net.teardown();
    let left_ns = nemesis::netns::faultline_namespaces();
    let left_if = nemesis::netns::faultline_interfaces();
    assert!(
        namespaces.iter().all(|n| !left_ns.contains(n)),
        "{left_ns:?}"
    );
    assert!(
        interfaces.iter().all(|i| !left_if.contains(i)),
        "{left_if:?}"
    );
}

#[test]
fn in_namespaces_a_bandwidth_cap_slows_a_transfer() {
    if skip() {
        return;
    }
    let c = cluster(2, "netns-rate");
    // Ask n1 to echo a large line back to the root namespace: its egress is capped.
    let big = "x".repeat(200 * 1024);
    let time = || {
        let t = Instant::now();
        let r = ask(&c.addrs[0], &format!("ECHO {big}"), Duration::from_secs(10)).unwrap();
        assert_eq!(r.len(), big.len());
        t.elapsed()
    };
    let base = time();
    c.net
        .set_packet(
            "n1",
            "n2",
            &PacketFault {
                rate: Some(400 * 1024),
                ..PacketFault::default()
            },
        )
        .unwrap();
    let capped = time();
    // 200 KiB at 400 KiB/s: about half a second.
    assert!(
        capped >= Duration::from_millis(300) && capped > base * 3,
        "base {base:?}, capped {capped:?}"
    );
    c.net.clear_packets().unwrap();
}

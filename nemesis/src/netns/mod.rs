//! Network namespaces: the real kernel partitions. Each node runs in its own network
//! namespace, joined to a faultline bridge by a veth pair, on a private /24
//! (`10.213.<k>.0/24`, the bridge is `.1`, node i is `.i+2`); nothing is routed
//! anywhere else. Clients in the root namespace reach every node over the bridge.
//!
//! A partition is a set of drop rules inside the namespaces (nftables, or iptables when
//! nft is missing); a heal flushes them. Packet loss is an nftables `numgen` rule,
//! bandwidth a `tc tbf` qdisc on the node's interface, delay a `netem` qdisc where the
//! kernel has netem ([`has_netem`]).
//!
//! Names are faultline's and unique per run: bridge `fl-<id>`, host-side veths
//! `fl-<id>-<i>`, namespaces `fl-<id>-n<i>`, where `<id>` is 6 hex digits. Needs root.

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

mod command;

pub use command::{faultline_interfaces, faultline_namespaces, has_netem, remove};
use command::{ip, run, which};

use crate::host::{firewall, Namespace};

use crate::owner::Owner;
use crate::packet::PacketFault;
use crate::partition::Partition;

/// The first two octets of every faultline subnet.
pub const SUBNET_PREFIX: [u8; 2] = [10, 213];

/// Why a namespace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    /// A command could not run or failed.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// Its stderr or the spawn error.
        message: String,
    },
    /// A command on a node's namespace failed.
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    /// No free subnet was left.
    #[error("no free 10.213.x.0/24 subnet is left for a faultline network")]
    NoSubnet,
    /// Too many nodes for one /24.
    #[error("{0} nodes do not fit in one /24")]
    TooManyNodes(usize),
}

/// Whether namespaces can be used here: root, and `ip` and (`nft` or `iptables`).
pub fn available() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("network namespaces need root".into());
    }
    if which("ip").is_none() {
        return Err("the `ip` command (iproute2) is missing".into());
    }
    if Firewall::detect().is_none() {
        return Err("neither `nft` nor `iptables` is installed".into());
    }
    Ok(())
}

pub use crate::host::firewall::Firewall;

/// One node's place in the namespace network.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NsNode {
    /// The node's name.
    pub name: String,
    /// Its namespace.
    pub netns: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// Its interface inside the namespace.
    pub dev: String,
}

/// A faultline network of namespaces. [`NetnsNet::teardown`] (also on drop) removes it.
#[derive(Debug)]
pub struct NetnsNet {
    id: String,
    bridge: String,
    gateway: Ipv4Addr,
    nodes: Vec<NsNode>,
    firewall: Firewall,
    lock: PathBuf,
    torn_down: bool,
}

/// Claims a free subnet number: a lock file per number in `dir` (`subnet-<k>`, holding
/// `<owner> <run id>`), taken over when its owner is gone; a subnet whose gateway
/// address some interface on this machine already has is skipped.
fn claim_subnet(dir: &Path, id: &str) -> Result<(u8, PathBuf), NetnsError> {
    let io = |e: std::io::Error| NetnsError::Command {
        command: format!("lock a subnet in {}", dir.display()),
        message: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let addrs = ip(&["-4", "-o", "addr", "show"]).unwrap_or_default();
    let start: u8 = rand::random();
    for k in 0..=255u8 {
        let k = start.wrapping_add(k);
        let gateway = format!("{}.{}.{k}.1/", SUBNET_PREFIX[0], SUBNET_PREFIX[1]);
        if addrs.contains(&gateway) {
            continue;
        }
        let path = dir.join(format!("subnet-{k}"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            match Owner::parse(text.split_whitespace().next().unwrap_or("")) {
                Some(o) if !o.is_alive() => {
                    let _ = std::fs::remove_file(&path);
                }
                _ => continue,
            }
        }
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(format!("{} {id}\n", Owner::current()).as_bytes())
                    .map_err(io)?;
                return Ok((k, path));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Err(NetnsError::NoSubnet)
}

impl NetnsNet {
    /// Creates the bridge, a namespace per node and their links. `state_dir` holds the
    /// subnet locks. On error, whatever was created is removed again.
    pub fn create(id: &str, names: &[String], state_dir: &Path) -> Result<NetnsNet, NetnsError> {
        let firewall = Firewall::detect().ok_or_else(|| NetnsError::Command {
            command: "nft/iptables".into(),
            message: "neither is installed".into(),
        })?;
        NetnsNet::create_with(id, names, state_dir, firewall)
    }

    /// [`NetnsNet::create`] with a given packet filter.
    pub fn create_with(
        id: &str,
        names: &[String],
        state_dir: &Path,
        firewall: Firewall,
    ) -> Result<NetnsNet, NetnsError> {
        if names.len() > 250 {
            return Err(NetnsError::TooManyNodes(names.len()));
        }
        let (k, lock) = claim_subnet(state_dir, id)?;
        let [a, b] = SUBNET_PREFIX;
        let mut net = NetnsNet {
            id: id.to_string(),
            bridge: format!("fl-{id}"),
            gateway: Ipv4Addr::new(a, b, k, 1),
            nodes: Vec::new(),
            firewall,
            lock,
            torn_down: false,
        };
        match net.build(names) {
            Ok(()) => Ok(net),
            Err(e) => {
                net.teardown();
                Err(e)
            }
        }
    }

    fn build(&mut self, names: &[String]) -> Result<(), NetnsError> {
        let br = self.bridge.clone();
        ip(&["link", "add", &br, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", self.gateway), "dev", &br])?;
        ip(&["link", "set", &br, "up"])?;
        let [a, b, k, _] = self.gateway.octets();
        for (i, name) in names.iter().enumerate() {
            let ns = format!("fl-{}-n{}", self.id, i + 1);
            let host = format!("fl-{}-{}", self.id, i + 1);
            let peer = format!("fl-{}-p{}", self.id, i + 1);
            let node_ip = Ipv4Addr::new(a, b, k, (i + 2) as u8);
            ip(&["netns", "add", &ns])?;
            self.nodes.push(NsNode {
                name: name.clone(),
                netns: ns.clone(),
                ip: node_ip,
                dev: "eth0".into(),
            });
            ip(&["link", "add", &host, "type", "veth", "peer", "name", &peer])?;
            ip(&["link", "set", &peer, "netns", &ns])?;
            ip(&["link", "set", &host, "master", &br, "up"])?;
            let inside = |args: &[&str]| run(Some(&ns), "ip", args, None);
            inside(&["link", "set", &peer, "name", "eth0"])?;
            inside(&["addr", "add", &format!("{node_ip}/24"), "dev", "eth0"])?;
            inside(&["link", "set", "eth0", "up"])?;
            inside(&["link", "set", "lo", "up"])?;
            self.install_tables(&ns)?;
        }
        Ok(())
    }

    fn install_tables(&self, ns: &str) -> Result<(), NetnsError> {
        firewall::install(&Namespace::new(ns), self.firewall).map_err(NetnsError::from)
    }

    /// The run id in the names.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The nodes, in order.
    pub fn nodes(&self) -> &[NsNode] {
        &self.nodes
    }

    /// The bridge's address (where clients in the root namespace come from).
    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    /// The packet filter in use.
    pub fn firewall(&self) -> Firewall {
        self.firewall
    }

    /// The namespaces and root-namespace interfaces it made, and its lock file.
    pub fn resources(&self) -> (Vec<String>, Vec<String>, PathBuf) {
        let mut ifaces = vec![self.bridge.clone()];
        ifaces.extend((1..=self.nodes.len()).map(|i| format!("fl-{}-{i}", self.id)));
        (
            self.nodes.iter().map(|n| n.netns.clone()).collect(),
            ifaces,
            self.lock.clone(),
        )
    }

    fn node(&self, name: &str) -> Option<&NsNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Applies `p`: for every cut pair, each side drops everything from and to the other.
    pub fn partition(&self, p: &Partition) -> Result<(), NetnsError> {
        let mut per_ns: Vec<(String, Vec<Ipv4Addr>)> = Vec::new();
        for (a, b) in p.cut_pairs() {
            for (x, y) in [(&a, &b), (&b, &a)] {
                let (Some(x), Some(y)) = (self.node(x), self.node(y)) else {
                    continue;
                };
                match per_ns.iter_mut().find(|(ns, _)| *ns == x.netns) {
                    Some((_, ips)) => ips.push(y.ip),
                    None => per_ns.push((x.netns.clone(), vec![y.ip])),
                }
            }
        }
        self.in_parallel(per_ns, |fw, ns, ips| {
            firewall::drop_peers(&Namespace::new(ns), fw, ips).map_err(NetnsError::from)
        })
    }

    /// Removes every partition rule.
    pub fn heal_partition(&self) -> Result<(), NetnsError> {
        let all = self
            .nodes
            .iter()
            .map(|n| (n.netns.clone(), Vec::new()))
            .collect();
        self.in_parallel(all, |fw, ns, _| {
            firewall::heal_partition(&Namespace::new(ns), fw).map_err(NetnsError::from)
        })
    }

    fn in_parallel(
        &self,
        work: Vec<(String, Vec<Ipv4Addr>)>,
        f: impl Fn(Firewall, &str, &[Ipv4Addr]) -> Result<(), NetnsError> + Sync,
    ) -> Result<(), NetnsError> {
        let fw = self.firewall;
        std::thread::scope(|s| {
            let handles: Vec<_> = work
                .iter()
                .map(|(ns, ips)| s.spawn(|| f(fw, ns, ips)))
                .collect();
            let mut result = Ok(());
            for h in handles {
                if let Ok(Err(e)) = h.join() {
                    result = Err(e);
                }
            }
            result
        })
    }

    /// Applies `fault` to packets node `to` receives from node `from` (loss) and to
    /// everything `from` sends (bandwidth, and delay where netem exists).
    pub fn set_packet(&self, from: &str, to: &str, fault: &PacketFault) -> Result<(), NetnsError> {
        let (Some(f), Some(t)) = (self.node(from), self.node(to)) else {
            return Ok(());
        };
        if fault.loss > 0.0 {
            let pct = ((fault.loss * 100.0).round() as u32).clamp(1, 100);
            firewall::drop_share(&Namespace::new(&t.netns), self.firewall, f.ip, pct)?;
        }
        firewall::shape(&Namespace::new(&f.netns), &f.dev, fault)?;
        Ok(())
    }

    /// Clears every packet fault.
    pub fn clear_packets(&self) -> Result<(), NetnsError> {
        let all = self
            .nodes
            .iter()
            .map(|n| (n.netns.clone(), Vec::new()))
            .collect();
        self.in_parallel(all, |fw, ns, _| {
            firewall::clear_packets(&Namespace::new(ns), fw, "eth0").map_err(NetnsError::from)
        })
    }

    /// Removes the namespaces (their rules go with them), the bridge and the veths, and
    /// releases the subnet. Idempotent; best effort (what it cannot remove, cleanup will).
    pub fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        let (namespaces, ifaces, lock) = self.resources();
        remove(&namespaces, &ifaces);
        let _ = std::fs::remove_file(lock);
    }
}

impl Drop for NetnsNet {
    fn drop(&mut self) {
        self.teardown();
    }
}

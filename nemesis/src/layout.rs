//! The network layout of a cluster, decided before any node starts: for every node,
//! where it listens, how the driver's clients reach it, how it reaches each peer, and
//! the network namespace it runs in. Plain data: the driver builds node command lines
//! from it (e.g. the reference store's `--listen` and `--peer NAME=ADDR`, where ADDR is
//! how *this* node reaches that peer).
//!
//! Two mechanisms make partitions real (see [`Mechanism`]); which one a run uses is
//! recorded in `test.json` (the layout serializes).
//!
//! A node may have several ports (etcd: client and peer); each is a *service*, by
//! index. Peers and clients reach every service.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// How partitions and packet faults are made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// Each node in its own network namespace on a faultline bridge; faults are kernel
    /// packet filter rules (nftables or iptables) and `tc` inside the namespaces.
    /// Needs root. Clients in the root namespace reach every node directly.
    Namespaces,
    /// A userspace TCP proxy for every directed peer link on loopback; a cut refuses and
    /// severs connections, packet faults are applied by the proxy. No root needed.
    Proxies,
    /// Each node on a host of its own reached over SSH (`--hosts`); faults are
    /// firewall rules on each host that drop the peers' addresses. Clients on the
    /// control node reach every node.
    Hosts,
}

impl Mechanism {
    /// Its name in `test.json` and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Namespaces => "namespaces",
            Mechanism::Proxies => "proxies",
            Mechanism::Hosts => "hosts",
        }
    }
}

impl std::str::FromStr for Mechanism {
    type Err = String;
    fn from_str(s: &str) -> Result<Mechanism, String> {
        match s {
            "namespaces" | "netns" => Ok(Mechanism::Namespaces),
            "proxies" | "proxy" => Ok(Mechanism::Proxies),
            "hosts" => Ok(Mechanism::Hosts),
            other => Err(format!(
                "unknown network mechanism \"{other}\"; expected namespaces or proxies (hosts: with --hosts only)"
            )),
        }
    }
}

/// Where one node is, as seen by itself, by the clients and by each peer.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeLayout {
    /// The node's name.
    pub name: String,
    /// The address it binds, per service.
    pub listen: Vec<SocketAddr>,
    /// How the driver's clients (in the root namespace) reach it, per service.
    pub client: Vec<SocketAddr>,
    /// How this node reaches each peer, per service: `peers[peer][service]`.
    pub peers: BTreeMap<String, Vec<SocketAddr>>,
    /// The network namespace to start it in (`ip netns` name), if any.
    pub netns: Option<String>,
    /// Environment variables to start it with (its clock, its owner tags).
    pub env: Vec<(String, String)>,
}

impl NodeLayout {
    /// Its first service's listen address (the usual `--listen`).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen[0]
    }

    /// How clients reach its first service.
    pub fn client_addr(&self) -> SocketAddr {
        self.client[0]
    }

    /// How this node reaches `peer`'s first service.
    pub fn peer_addr(&self, peer: &str) -> Option<SocketAddr> {
        self.peers.get(peer).and_then(|v| v.first().copied())
    }

    /// `NAME=ADDR` for every peer's first service (the reference store's `--peer`).
    pub fn peer_args(&self) -> Vec<String> {
        self.peers
            .iter()
            .filter_map(|(name, addrs)| addrs.first().map(|a| format!("{name}={a}")))
            .collect()
    }
}

/// The whole cluster's layout.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// How partitions are made in this run.
    pub mechanism: Mechanism,
    /// Every node, in order.
    pub nodes: Vec<NodeLayout>,
}

impl Layout {
    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeLayout> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The node names, in order.
    pub fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }
}

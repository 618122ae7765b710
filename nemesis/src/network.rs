//! The run's network: proxies or namespaces behind one interface, and the [`Layout`]
//! the nodes are started from. [`choose`] picks the mechanism: namespaces when they
//! can be used (root, `ip`, nft or iptables) and every asked-for fault works in them,
//! proxies otherwise.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

use crate::layout::{Layout, Mechanism, NodeLayout};
use crate::netns::{self, NetnsNet};
use crate::packet::PacketFault;
use crate::partition::Partition;
use crate::proxy::ProxyNet;

/// The first port nodes listen on inside their namespaces (one per service after it).
pub const NAMESPACE_BASE_PORT: u16 = 7001;

/// Why the network could not be set up or changed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A namespace operation failed.
    #[error(transparent)]
    Netns(#[from] netns::NetnsError),
    /// A proxy or port could not be bound.
    #[error("proxy network: {0}")]
    Io(#[from] std::io::Error),
    /// A host's firewall could not be changed.
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    /// The fault is not built for this mechanism yet.
    #[error("{0}")]
    Unsupported(String),
}

/// The mechanism to use, and why (for `test.json` and the run's output).
pub fn choose(preferred: Option<Mechanism>, wants_delay: bool) -> (Mechanism, String) {
    match preferred {
        Some(Mechanism::Proxies) => (Mechanism::Proxies, "asked for".into()),
        Some(Mechanism::Namespaces) => (Mechanism::Namespaces, "asked for".into()),
        Some(Mechanism::Hosts) => (
            Mechanism::Hosts,
            "--hosts: firewall rules on each host".into(),
        ),
        None => match netns::available() {
            Err(why) => (Mechanism::Proxies, format!("namespaces unavailable: {why}")),
            Ok(()) if wants_delay && !netns::has_netem() => (
                Mechanism::Proxies,
                "packet delay needs netem, which this kernel lacks; the proxies delay instead"
                    .into(),
            ),
            Ok(()) => (
                Mechanism::Namespaces,
                "root: kernel namespaces and packet filters".into(),
            ),
        },
    }
}

/// A cluster network with faults.
#[derive(Debug)]
pub enum Network {
    /// Userspace proxies on loopback.
    Proxies(ProxyNet),
    /// Namespaces and a bridge.
    Namespaces(NetnsNet),
    /// Firewall rules on SSH hosts.
    Hosts(crate::host::remote::HostNet),
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Network {
    /// Sets up the network for `names`, each node with `services` ports, and returns
    /// it with the layout to start the nodes from. `ports`, when given, are the
    /// loopback ports nodes listen on in proxy mode (`ports[i][s]`); otherwise free
    /// ones are chosen. `state_dir` holds subnet locks.
    pub async fn create(
        mechanism: Mechanism,
        id: &str,
        names: &[String],
        services: usize,
        ports: Option<&[Vec<u16>]>,
        state_dir: &Path,
    ) -> Result<(Network, Layout), NetworkError> {
        let services = services.max(1);
        match mechanism {
            Mechanism::Hosts => Err(NetworkError::Unsupported(
                "the hosts mechanism is set up from connected hosts (--hosts), not here".into(),
            )),
            Mechanism::Proxies => {
                let mut listen: Vec<Vec<SocketAddr>> = Vec::new();
                for i in 0..names.len() {
                    let mut v = Vec::new();
                    for s in 0..services {
                        let port = match ports.and_then(|p| p.get(i)).and_then(|p| p.get(s)) {
                            Some(p) => *p,
                            None => free_port()?,
                        };
                        v.push(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
                    }
                    listen.push(v);
                }
                let net = ProxyNet::start(names, &listen).await?;
                let nodes = names
                    .iter()
                    .enumerate()
                    .map(|(i, name)| NodeLayout {
                        name: name.clone(),
                        listen: listen[i].clone(),
                        client: listen[i].clone(),
                        peers: names
                            .iter()
                            .filter(|p| *p != name)
                            .map(|p| (p.clone(), net.addrs(name, p).unwrap_or(&[]).to_vec()))
                            .collect(),
                        netns: None,
                        env: Vec::new(),
                    })
                    .collect();
                Ok((Network::Proxies(net), Layout { mechanism, nodes }))
            }
            Mechanism::Namespaces => {
                let (id, names_owned, dir) =
                    (id.to_string(), names.to_vec(), state_dir.to_path_buf());
                let net =
                    tokio::task::spawn_blocking(move || NetnsNet::create(&id, &names_owned, &dir))
                        .await
                        .map_err(|e| std::io::Error::other(e.to_string()))??;
                let addrs = |ip: Ipv4Addr| -> Vec<SocketAddr> {
                    (0..services)
                        .map(|s| SocketAddr::from((ip, NAMESPACE_BASE_PORT + s as u16)))
                        .collect()
                };
                let nodes = net
                    .nodes()
                    .iter()
                    .map(|n| NodeLayout {
                        name: n.name.clone(),
                        listen: addrs(n.ip),
                        client: addrs(n.ip),
                        peers: net
                            .nodes()
                            .iter()
                            .filter(|p| p.name != n.name)
                            .map(|p| (p.name.clone(), addrs(p.ip)))
                            .collect(),
                        netns: Some(n.netns.clone()),
                        env: Vec::new(),
                    })
                    .collect();
                Ok((Network::Namespaces(net), Layout { mechanism, nodes }))
            }
        }
    }

    /// Applies a partition (on top of any already applied).
    pub fn partition(&self, p: &Partition) -> Result<(), NetworkError> {
        match self {
            Network::Proxies(net) => {
                for (a, b) in p.cut_pairs() {
                    net.cut(&a, &b);
                }
                Ok(())
            }
            Network::Namespaces(net) => Ok(net.partition(p)?),
            Network::Hosts(net) => Ok(net.partition(p)?),
        }
    }

    /// Removes every partition.
    pub fn heal_partition(&self) -> Result<(), NetworkError> {
        match self {
            Network::Proxies(net) => {
                net.heal();
                Ok(())
            }
            Network::Namespaces(net) => Ok(net.heal_partition()?),
            Network::Hosts(net) => Ok(net.heal_partition()?),
        }
    }

    /// Applies `fault` to every link from and to each of `nodes`.
    pub fn set_packet(
        &self,
        nodes: &[String],
        all: &[String],
        fault: &PacketFault,
    ) -> Result<(), NetworkError> {
        if let Network::Hosts(_) = self {
            return Err(NetworkError::Unsupported(
                "packet faults are not yet built over SSH (--hosts)".into(),
            ));
        }
        let mut links = Vec::new();
        for n in nodes {
            for p in all.iter().filter(|p| *p != n) {
                links.push((n.clone(), p.clone()));
                links.push((p.clone(), n.clone()));
            }
        }
        links.sort();
        links.dedup();
        for (from, to) in links {
            match self {
                Network::Proxies(net) => net.set_packet(&from, &to, *fault),
                Network::Hosts(_) => {}
                Network::Namespaces(net) => {
                    // Bandwidth and delay are egress qdiscs on the sender's interface:
                    // only the targeted nodes get them (for all they send).
                    let mut f = *fault;
                    if !nodes.contains(&from) {
                        f.rate = None;
                        f.delay = std::time::Duration::ZERO;
                        f.jitter = std::time::Duration::ZERO;
                    }
                    net.set_packet(&from, &to, &f)?
                }
            }
        }
        Ok(())
    }

    /// Clears every packet fault.
    pub fn clear_packets(&self) -> Result<(), NetworkError> {
        match self {
            Network::Proxies(net) => {
                net.clear_packets();
                Ok(())
            }
            Network::Namespaces(net) => Ok(net.clear_packets()?),
            Network::Hosts(_) => Ok(()),
        }
    }

    /// The mechanism.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Network::Proxies(_) => Mechanism::Proxies,
            Network::Namespaces(_) => Mechanism::Namespaces,
            Network::Hosts(_) => Mechanism::Hosts,
        }
    }

    /// Removes what it set up (namespaces, bridge; proxies stop when dropped).
    pub fn teardown(&mut self) {
        match self {
            Network::Namespaces(net) => net.teardown(),
            Network::Hosts(net) => net.teardown(),
            Network::Proxies(_) => {}
        }
    }
}

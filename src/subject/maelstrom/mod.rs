//! `--store maelstrom --bin PATH [--nodes N]`: any program speaking Maelstrom's
//! stdin/stdout JSON protocol runs as the nodes (`n0`, `n1`, ...), and faultline is the
//! network between them ([`net`]): it routes every message, can delay or drop them,
//! partitions by dropping, and serves `lin-kv`, `seq-kv` and `lww-kv` in-process
//! ([`services`]). Clients speak the Maelstrom workload's messages ([`client`]).
//!
//! Store options (as `(name, value)` pairs): `maelstrom-latency-ms` (delay of every
//! node-to-node message) with `maelstrom-latency-dist` (how it is drawn: [`latency`]), `maelstrom-loss` (probability that one is dropped),
//! `maelstrom-services maelstrom|strong` (how strong `seq-kv` and `lww-kv` are) and
//! `maelstrom-workload broadcast` (set data spoken as `broadcast`, after a
//! `topology` message in which every node neighbours all others).

pub mod client;
pub mod faults;
pub mod journal;
pub mod latency;
pub mod net;
pub mod process;
pub mod protocol;
pub mod services;
pub mod shapes;
pub mod stats;
pub mod topology;
pub mod unique_ids;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};
use net::{NetConfig, Network};

/// A Maelstrom cluster faultline runs and routes.
#[derive(Debug)]
pub struct Maelstrom {
    bin: PathBuf,
    count: usize,
    net_config: NetConfig,
    nodes_dir: PathBuf,
    ready_timeout: Duration,
    op_timeout: Duration,
    broadcast: bool,
    /// The broadcast topology's name (`grid` unless `--maelstrom-topology` says).
    topology: String,
    /// The Maelstrom workload whose message shapes clients speak (`None`: the
    /// faultline workloads' shapes of [`client`]).
    workload: Option<String>,
    net: Option<Network>,
}

impl Maelstrom {
    /// The cluster `config` describes (nothing started yet).
    pub fn new(config: &SubjectConfig) -> Result<Maelstrom, SubjectError> {
        let bin = config.bin.clone().ok_or_else(|| {
            SubjectError::Config(
                "--store maelstrom needs --bin PATH: the program to run as each node".into(),
            )
        })?;
        if !bin.is_file() {
            return Err(SubjectError::Config(format!(
                "--bin {}: no such file",
                bin.display()
            )));
        }
        if config.nodes == 0 {
            return Err(SubjectError::Config("--nodes must be at least 1".into()));
        }
        let mut net_config = NetConfig::default();
        let mut broadcast = false;
        let mut maelstrom_workload = None;
        let mut topology_name = "grid".to_string();
        for (k, v) in &config.store_options {
            let bad = |what: &str| SubjectError::Config(format!("--{k} {v}: expected {what}"));
            match k.as_str() {
                "maelstrom-latency-ms" => {
                    net_config.latency =
                        Duration::from_millis(v.parse().map_err(|_| bad("milliseconds"))?)
                }
                "maelstrom-workload" => {
                    if v == "broadcast" {
                        broadcast = true;
                    }
                    maelstrom_workload = Some(v.clone());
                }
                "maelstrom-topology" => {
                    if !topology::NAMES.contains(&v.as_str()) {
                        return Err(bad(&topology::NAMES.join(", ")));
                    }
                    topology_name = v.clone();
                }
                "maelstrom-latency-dist" => {
                    net_config.latency_dist = latency::LatencyDist::parse(v)
                        .ok_or_else(|| bad(&latency::LatencyDist::NAMES.join(", ")))?;
                }
                "maelstrom-services" => {
                    net_config.services = services::Strength::parse(v)
                        .ok_or_else(|| bad(&services::Strength::NAMES.join(" or ")))?;
                }
                "maelstrom-loss" => {
                    let p: f64 = v.parse().map_err(|_| bad("a probability"))?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(bad("a probability between 0 and 1"));
                    }
                    net_config.loss = p;
                }
                _ => {
                    return Err(SubjectError::Config(format!(
                        "--{k}: not an option of --store maelstrom"
                    )))
                }
            }
        }
        Ok(Maelstrom {
            bin,
            count: config.nodes,
            net_config,
            nodes_dir: config.nodes_dir.clone(),
            ready_timeout: config.ready_timeout,
            op_timeout: config.op_timeout,
            broadcast,
            workload: maelstrom_workload,
            topology: topology_name,
            net: None,
        })
    }

    /// The network (after [`Subject::start`]): the partition hook, signals, requests.
    pub fn network(&self) -> Option<&Network> {
        self.net.as_ref()
    }
}

#[async_trait::async_trait]
impl Subject for Maelstrom {
    fn name(&self) -> &str {
        "maelstrom"
    }

    async fn start(&mut self, recorder: Recorder) -> Result<Started, SubjectError> {
        let net = Network::spawn(
            &self.bin,
            self.count,
            &self.nodes_dir,
            self.net_config.clone(),
        )
        .map_err(|e| SubjectError::Unreachable(e.to_string()))?;
        net.record_to(recorder);
        self.net = Some(net.clone());
        if self.broadcast {
            // Every node's neighbours in the topology asked for. Sent right after
            // `init`, before any other message, to every node (and again to a
            // restarted one).
            let topology = topology::neighbours(&self.topology, net.names()).ok_or_else(|| {
                SubjectError::Config(format!("unknown topology {}", self.topology))
            })?;
            net.remember_after_init(serde_json::json!({"type": "topology", "topology": topology}));
        }
        net.init(self.ready_timeout)
            .await
            .map_err(SubjectError::Unreachable)?;
        let handle = tokio::runtime::Handle::current();
        let other_nodes = net
            .names()
            .iter()
            .map(|name| {
                Arc::new(faults::MaelstromNode::new(
                    net.clone(),
                    name,
                    handle.clone(),
                    self.ready_timeout,
                )) as Arc<dyn nemesis::Node>
            })
            .collect();
        let clients = {
            let (net, timeout) = (net.clone(), self.op_timeout);
            let (broadcast, workload) = (self.broadcast, self.workload.clone());
            move |node: usize, process: u64| match net.names().get(node % net.names().len().max(1))
            {
                Some(name) => Box::new(client::MaelstromClient {
                    net: net.clone(),
                    node: Arc::from(name.as_str()),
                    id: format!("c{}", process + 1),
                    timeout,
                    broadcast,
                    workload: workload.clone(),
                }) as Box<dyn Client>,
                None => Box::new(super::NoNodes),
            }
        };
        Ok(Started {
            nodes: net.names().to_vec(),
            clients: Arc::new(clients),
            faults: FaultSurface {
                other_nodes,
                router: Some(Arc::new(net) as Arc<dyn nemesis::Router>),
                ..FaultSurface::default()
            },
        })
    }

    async fn stop(&mut self) {
        if let Some(net) = &self.net {
            net.stop().await;
            let _ = std::fs::write(
                self.nodes_dir.join("network.json"),
                format!("{:#}\n", net.stats().json()),
            );
        }
    }

    fn describe(&self) -> serde_json::Value {
        let stats = self.net.as_ref().map(|n| n.stats().json());
        serde_json::json!({
            "store": "maelstrom",
            "bin": self.bin.display().to_string(),
            "nodes": self.count,
            "latency_ms": self.net_config.latency.as_millis() as u64,
            "loss": self.net_config.loss,
            "broadcast": self.broadcast,
            "topology": self.broadcast.then_some(&self.topology),
            "workload": self.workload,
            "network": stats,
        })
    }
}

/// The workloads a Maelstrom cluster serves: faultline's (in the shapes of
/// [`client`]) and Maelstrom's own, by Maelstrom's names.
pub const WORKLOADS: &[&str] = &[
    "register",
    "cas-register",
    "kv",
    "set",
    "counter",
    "list-append",
    "echo",
    "unique-ids",
    "broadcast",
    "g-set",
    "g-counter",
    "pn-counter",
    "lin-kv",
    "kafka",
    "txn-list-append",
    "txn-rw-register",
];

/// The kind of any Maelstrom node: `--store maelstrom --bin PATH`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "maelstrom"
    }

    fn about(&self) -> &'static str {
        "any program speaking Maelstrom's protocol (--bin PATH), routed by faultline"
    }

    fn options(&self) -> &'static [&'static str] {
        &[
            "maelstrom-latency-ms",
            "maelstrom-workload",
            "maelstrom-loss",
            "maelstrom-topology",
            "maelstrom-services",
            "maelstrom-latency-dist",
        ]
    }

    fn workloads(&self) -> &'static [&'static str] {
        WORKLOADS
    }

    /// A Maelstrom workload's name becomes `--maelstrom-workload`, so that the
    /// clients speak its message shapes.
    fn defaults(&self, s: &super::kind::StoreSettings) -> Vec<(String, String)> {
        if workloads::maelstrom::NAMES.contains(&s.workload)
            && s.option("maelstrom-workload").is_none()
        {
            vec![("maelstrom-workload".into(), s.workload.to_string())]
        } else {
            Vec::new()
        }
    }

    fn faults(&self, _s: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        &[
            nemesis::Fault::Kill,
            nemesis::Fault::Stop,
            nemesis::Fault::Pause,
            nemesis::Fault::Partition,
        ]
    }

    /// Maelstrom waits 10 s for recovery before its final reads; so does faultline.
    fn default_quiesce(&self) -> std::time::Duration {
        std::time::Duration::from_secs(10)
    }

    fn network_needs(&self) -> super::NetworkNeeds {
        super::NetworkNeeds {
            routed: true,
            ..super::NetworkNeeds::default()
        }
    }

    fn check(&self, s: &super::kind::StoreSettings) -> Result<(), String> {
        use super::kind::{number, one_of};
        let bin = s.bin.ok_or(
            "--store maelstrom needs --bin PATH: the program to run as each node".to_string(),
        )?;
        if !bin.is_file() {
            return Err(format!("--bin {}: no such file", bin.display()));
        }
        if s.nodes == 0 {
            return Err("--nodes 0: expected at least 1".into());
        }
        for (k, v) in s.options {
            match k.as_str() {
                "maelstrom-latency-ms" => {
                    number::<u64>(k, v)?;
                }
                "maelstrom-workload" => {
                    one_of(k, v, workloads::maelstrom::NAMES)?;
                    let maelstrom = workloads::maelstrom::NAMES.contains(&s.workload);
                    if maelstrom && v != s.workload {
                        return Err(format!(
                            "--{k} {v} with --workload {}: remove --{k} (the workload names the messages)",
                            s.workload
                        ));
                    }
                    let set_as_broadcast = v == "broadcast" && s.workload == "set";
                    if !maelstrom && !set_as_broadcast {
                        return Err(format!(
                            "--{k} {v}: use --workload {v} (only --workload set may be spoken as broadcast)"
                        ));
                    }
                }
                "maelstrom-topology" => {
                    one_of(k, v, topology::NAMES)?;
                }
                "maelstrom-services" => {
                    one_of(k, v, services::Strength::NAMES)?;
                }
                "maelstrom-latency-dist" => {
                    one_of(k, v, latency::LatencyDist::NAMES)?;
                }
                "maelstrom-loss" => {
                    let p: f64 = number(k, v)?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(format!("--{k} {v}: expected a probability between 0 and 1"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(Maelstrom::new(config)?))
    }
}

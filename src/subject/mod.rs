//! The subject of a test: a kind of store. A [`Subject`] has three verbs: `start` its
//! cluster (or connect to one that runs already) and wait until it is ready, `stop`
//! everything at the end (idempotently), and `describe` itself for `test.json`.
//! `start` returns what the rest of the run needs ([`Started`]): the node names, a
//! [`ClientFactory`] (one [`Client`](crate::client::Client) per (node, logical
//! process)) and one [`FaultSurface`] (its node processes and, where it has them, its
//! other nodes, router and failover) for the nemesis.
//!
//! What each kind of store is — its name, options, faults, workloads and how to open
//! it — is declared in one table, [`kind::KINDS`]; [`open`] opens the subject of a
//! kind. Modules: [`kind`] (the [`kind::StoreKind`] trait and the table),
//! [`leaderless`] (the default: the reference store `faultline-store`), [`http`]
//! (`--store http --addrs URL,...`, an existing HTTP-KV cluster), [`cluster_file`]
//! (`--cluster FILE`), [`etcd`] (with [`etcd_txn`]: transactions over its txn API), [`redis`], [`maelstrom`] (any Maelstrom node),
//! [`postgres`] (a PostgreSQL server faultline runs), [`primary_backup`],
//! [`multi_leader`] and [`two_phase_commit`] (the reference store's other modes, each a
//! [`store_mode::StoreMode`] cluster), [`binary`] (finding store programs) and [`noop`] (a client that does nothing, for
//! benchmarks). Adding a store kind is one module plus one line in the table.

pub mod binary;
pub mod cluster_file;
pub mod etcd;
pub mod etcd_txn;
pub mod http;
pub mod kind;
pub mod leaderless;
pub mod maelstrom;
pub mod multi_leader;
pub mod noop;
pub mod postgres;
pub mod primary_backup;
pub mod redis;
pub mod store_mode;
pub mod two_phase_commit;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::cluster::{Cluster, ClusterError, NodeProcess};
use crate::recorder::Recorder;

/// What a subject needs to know to start.
#[derive(Clone, Debug)]
pub struct SubjectConfig {
    /// `--store`: which kind of store.
    pub store: String,
    /// `--cluster FILE`, when given (takes the place of `--store`).
    pub cluster_file: Option<PathBuf>,
    /// `--nodes`: how many nodes to start (subjects that start nodes).
    pub nodes: usize,
    /// `--addrs`: the nodes of an existing cluster (`--store http`).
    pub addrs: Vec<String>,
    /// `--bin`: a store program (e.g. `--store maelstrom --bin PATH`).
    pub bin: Option<PathBuf>,
    /// The store's own options passed through (`--n 3`, `--conflict lww`, ...), as
    /// (flag name without dashes, value).
    pub store_options: Vec<(String, String)>,
    /// `--base-port`: the first node listens here, the next on +1, ...; `None` lets
    /// the OS choose free ports.
    pub base_port: Option<u16>,
    /// How long nodes may take to become ready.
    pub ready_timeout: Duration,
    /// Where node logs and data go (`results/.../nodes`).
    pub nodes_dir: PathBuf,
    /// The per-operation timeout (clients may use it for their requests).
    pub op_timeout: Duration,
    /// Where the nemesis wants each node (addresses, namespace, environment), when its
    /// faults need it (partitions, packet faults, clocks); only kinds whose
    /// [`NetworkNeeds::from_layout`] is true get one.
    pub network: Option<nemesis::Layout>,
    /// The SSH hosts to start the nodes on (`--hosts`: node `i` on host `i`), connected.
    pub hosts: Option<Arc<nemesis::host::remote::RemoteHosts>>,
}

/// Why a subject could not start.
#[derive(Debug, thiserror::Error)]
pub enum SubjectError {
    /// The configuration is wrong (unknown store, missing `--addrs`, bad file, ...).
    #[error("{0}")]
    Config(String),
    /// The cluster could not be started or never became ready.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The store is running but does not answer as expected.
    #[error("{0}")]
    Unreachable(String),
}

/// Makes the clients of a started subject: one per (node, logical process).
pub trait ClientFactory: Send + Sync {
    /// A client for logical process `process`, talking to node number `node` (an
    /// index into [`Started::nodes`], wrapping around).
    fn client(&self, node: usize, process: u64) -> Box<dyn Client>;
}

impl<F> ClientFactory for F
where
    F: Fn(usize, u64) -> Box<dyn Client> + Send + Sync,
{
    fn client(&self, node: usize, process: u64) -> Box<dyn Client> {
        self(node, process)
    }
}

/// Everything the nemesis may fault on a started subject, as plain data: its node
/// processes and, where it has them, its other nodes, message router and failover.
#[derive(Clone, Default)]
pub struct FaultSurface {
    /// The node processes faultline started (empty for a cluster it did not start).
    pub processes: Vec<Arc<NodeProcess>>,
    /// Nodes the nemesis may kill, stop and pause that are not [`NodeProcess`]es
    /// (Maelstrom nodes, which faultline wires to itself).
    pub other_nodes: Vec<Arc<dyn nemesis::Node>>,
    /// The subject's own message router, when it carries its nodes' messages itself:
    /// partitions are applied there.
    pub router: Option<Arc<dyn nemesis::Router>>,
    /// The store's own failover (`--nemesis failover`), when it has a primary to fail
    /// over: the nemesis schedules, records and heals it, the store carries it out.
    pub failover: Option<Arc<dyn nemesis::Failover>>,
}

impl FaultSurface {
    /// The node processes of `cluster`, nothing else.
    pub fn of_cluster(cluster: &Cluster) -> FaultSurface {
        FaultSurface {
            processes: cluster.nodes().to_vec(),
            ..FaultSurface::default()
        }
    }
}

/// What a started subject hands the rest of the run.
pub struct Started {
    /// The nodes' names, in order (`n1`, `n2`, ...).
    pub nodes: Vec<String>,
    /// Makes the clients.
    pub clients: Arc<dyn ClientFactory>,
    /// What the nemesis may fault.
    pub faults: FaultSurface,
}

/// A kind of store under test.
#[async_trait::async_trait]
pub trait Subject: Send + Sync {
    /// The store's name as written in results (`leaderless`, `http`, `etcd`, ...).
    fn name(&self) -> &str;

    /// Starts the cluster (or connects to it) and waits until every node is ready;
    /// what it notices itself (Maelstrom's node exits and failed restarts) goes to
    /// `recorder` as `nemesis` events beside the nemesis's own. On an error, what was
    /// started is stopped by [`Subject::stop`].
    async fn start(&mut self, recorder: Recorder) -> Result<Started, SubjectError>;

    /// Stops everything it started and records each node's exit status. Idempotent.
    async fn stop(&mut self);

    /// The resolved configuration, for `test.json` (ports, options, binary, ...).
    fn describe(&self) -> serde_json::Value;
}

/// What a store's nodes need from a nemesis network, known before anything starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkNeeds {
    /// Ports per node (etcd: client and peer).
    pub services: usize,
    /// The only mechanism its nodes can be partitioned with, if it cannot use both.
    pub mechanism: Option<nemesis::Mechanism>,
    /// Whether it routes its nodes' messages itself ([`FaultSurface::router`]): no
    /// network is set up for partitions.
    pub routed: bool,
    /// Whether it starts its nodes from [`SubjectConfig::network`] (listen and peer
    /// addresses, namespace, environment). Network and clock faults need it, unless
    /// the store routes its messages itself (then partitions only).
    pub from_layout: bool,
}

impl Default for NetworkNeeds {
    /// One port per node, either mechanism.
    fn default() -> NetworkNeeds {
        NetworkNeeds {
            services: 1,
            mechanism: None,
            routed: false,
            from_layout: false,
        }
    }
}

/// The subject that `config` names: the kind `--cluster FILE` or `--store` names.
pub fn open(config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
    let kind = if config.cluster_file.is_some() {
        kind::CLUSTER_FILE
    } else {
        kind::by_name(&config.store).ok_or_else(|| {
            SubjectError::Config(format!(
                "unknown store \"{}\"; expected one of {}",
                config.store,
                kind::names()
            ))
        })?
    };
    kind.open(config)
}

/// The client handed out by a subject that has no node to talk to: every operation is
/// refused as unsupported, which stops the test (exit 3) rather than recording anything.
#[derive(Debug, Clone, Copy)]
pub struct NoNodes;

#[async_trait::async_trait]
impl Client for NoNodes {
    async fn invoke(&mut self, op: &crate::client::Invocation) -> crate::client::Completion {
        crate::client::Completion::unsupported(op.value.clone(), "the subject has no nodes")
    }
}

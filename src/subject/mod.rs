//! The subject of a test: a kind of store. A [`Subject`] starts its cluster (or connects
//! to one that runs already) and waits until it is ready, hands out one
//! [`Client`](crate::client::Client) per (node, logical process), exposes its node
//! processes to the nemesis, and stops everything at the end, idempotently.
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
use crate::cluster::{Cluster, ClusterError};

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
    /// faults need it (partitions, packet faults, clocks); see [`Subject::supports_layout`].
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

/// A kind of store under test.
#[async_trait::async_trait]
pub trait Subject: Send + Sync {
    /// The store's name as written in results (`leaderless`, `http`, `etcd`, ...).
    fn name(&self) -> &str;

    /// Starts the cluster (or connects to it) and waits until every node is ready.
    async fn start(&mut self) -> Result<(), SubjectError>;

    /// The nodes' names, in order (`n1`, `n2`, ...). Valid after [`Subject::start`].
    fn nodes(&self) -> Vec<String>;

    /// A client for logical process `process`, talking to node number `node`
    /// (an index into [`Subject::nodes`]).
    fn client(&self, node: usize, process: u64) -> Box<dyn Client>;

    /// The node processes this subject started (for the nemesis: kill, pause, ...);
    /// `None` for a cluster faultline did not start.
    fn cluster(&self) -> Option<&Cluster>;

    /// Stops everything it started and records each node's exit status. Idempotent.
    async fn stop(&mut self);

    /// The resolved configuration, for `test.json` (ports, options, binary, ...).
    fn describe(&self) -> serde_json::Value;

    /// Whether it starts its nodes from [`SubjectConfig::network`] (listen and peer
    /// addresses, namespace, environment). Network and clock faults need it.
    fn supports_layout(&self) -> bool {
        false
    }

    /// Node processes the nemesis may kill, stop and pause that are not in its
    /// [`Subject::cluster`] (Maelstrom nodes, which faultline wires to itself).
    fn fault_nodes(&self) -> Vec<Arc<dyn nemesis::Node>> {
        Vec::new()
    }

    /// The subject's own message router, when it carries its nodes' messages itself:
    /// partitions are applied there.
    fn router(&self) -> Option<Arc<dyn nemesis::Router>> {
        None
    }

    /// The store's own failover (`--nemesis failover`), when it has a primary to fail
    /// over: the nemesis schedules, records and heals it, the store carries it out
    /// (Redis: promote a replica, re-point the others, bring the old primary back as a
    /// replica). Valid after [`Subject::start`]; only kinds that list
    /// [`nemesis::Fault::Failover`] in their faults offer one.
    fn failover(&self) -> Option<Arc<dyn nemesis::Failover>> {
        None
    }

    /// Where to record what the subject notices itself (Maelstrom's node exits and
    /// failed restarts), as `nemesis` events beside the nemesis's own. Called before
    /// [`Subject::start`].
    fn record_faults_to(&mut self, _recorder: crate::recorder::Recorder) {}
}

/// What a store's nodes need from a nemesis network, known before anything starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkNeeds {
    /// Ports per node (etcd: client and peer).
    pub services: usize,
    /// The only mechanism its nodes can be partitioned with, if it cannot use both.
    pub mechanism: Option<nemesis::Mechanism>,
    /// Whether it routes its nodes' messages itself ([`Subject::router`]): no network
    /// is set up for partitions.
    pub routed: bool,
}

impl Default for NetworkNeeds {
    /// One port per node, either mechanism.
    fn default() -> NetworkNeeds {
        NetworkNeeds {
            services: 1,
            mechanism: None,
            routed: false,
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

/// The client handed out before a subject started: every operation is refused as
/// unsupported, which stops the test (exit 3) rather than recording anything.
#[derive(Debug, Clone, Copy)]
pub struct NotStarted;

#[async_trait::async_trait]
impl Client for NotStarted {
    async fn invoke(&mut self, op: &crate::client::Invocation) -> crate::client::Completion {
        crate::client::Completion::unsupported(op.value.clone(), "the subject was not started")
    }
}

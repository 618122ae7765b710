//! Cluster lifecycle: start a set of node processes from [`NodeSpec`]s, wait until every
//! node passes its ready check, and stop them all (idempotently) at the end.
//!
//! Subjects (`src/subject/`) describe their nodes as specs; `--cluster FILE`
//! ([`file`]) describes any other cluster in TOML. Node logs land in
//! `results/.../nodes/<node>/`.

pub mod file;
pub mod ports;
pub mod process;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

pub use nemesis::NodeProcess;
pub use process::Launch;

/// How to tell that a node is ready to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadyCheck {
    /// An HTTP GET of this URL answers 2xx.
    Http(String),
    /// A TCP connection to this address succeeds.
    Tcp(String),
}

impl std::fmt::Display for ReadyCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadyCheck::Http(u) => write!(f, "GET {u}"),
            ReadyCheck::Tcp(a) => write!(f, "TCP connect to {a}"),
        }
    }
}

/// Everything needed to run one node.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// The node's name (`n1`).
    pub name: String,
    /// How to start it.
    pub launch: Launch,
    /// How to tell it is ready.
    pub ready: ReadyCheck,
    /// The signal that asks it to stop (then SIGKILL after a grace period).
    pub stop_signal: Signal,
    /// The port it listens on for clients, if known (checked to be free before start).
    pub port: Option<u16>,
}

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A node's port is already taken by another program.
    #[error("port {port} for node {node} is already in use by another program; choose other ports (e.g. --base-port) or stop what uses it")]
    PortInUse {
        /// The node.
        node: String,
        /// The port.
        port: u16,
    },
    /// A node's program could not be started.
    #[error("node {node}: {message}")]
    Spawn {
        /// The node.
        node: String,
        /// What went wrong.
        message: String,
    },
    /// A node exited before it became ready.
    #[error("node {node} exited ({status}) before it became ready; command: {command}; last stderr: {stderr}")]
    Exited {
        /// The node.
        node: String,
        /// Its exit status in words.
        status: String,
        /// Its command line.
        command: String,
        /// The tail of its stderr.
        stderr: String,
    },
    /// A node did not pass its ready check in time.
    #[error("node {node} did not become ready within {timeout:?} ({check} never succeeded); its logs are in {logs}")]
    NotReady {
        /// The node.
        node: String,
        /// The ready check.
        check: ReadyCheck,
        /// How long we waited.
        timeout: Duration,
        /// Its log directory.
        logs: String,
    },
}

/// A started cluster: its node processes, in spec order.
#[derive(Debug)]
pub struct Cluster {
    specs: Vec<NodeSpec>,
    nodes: Vec<Arc<NodeProcess>>,
    nodes_dir: PathBuf,
}

impl Cluster {
    /// Starts every node of `specs` (logs under `nodes_dir/<node>/`) and waits until all
    /// are ready, within `ready_timeout`. On any error every started node is stopped.
    pub async fn start(
        specs: Vec<NodeSpec>,
        nodes_dir: &Path,
        ready_timeout: Duration,
    ) -> Result<Cluster, ClusterError> {
        Cluster::start_on(specs, Vec::new(), nodes_dir, ready_timeout).await
    }

    /// [`Cluster::start`] with node `i` on `hosts[i]` (an SSH host, `--hosts`) where
    /// given; the others on this machine (in their spec's namespace, if any).
    pub async fn start_on(
        specs: Vec<NodeSpec>,
        hosts: Vec<Arc<dyn nemesis::Host>>,
        nodes_dir: &Path,
        ready_timeout: Duration,
    ) -> Result<Cluster, ClusterError> {
        for s in &specs {
            if let Some(port) = s.port {
                if !ports::is_free(port) {
                    return Err(ClusterError::PortInUse {
                        node: s.name.clone(),
                        port,
                    });
                }
            }
        }
        let mut cluster = Cluster {
            specs: Vec::new(),
            nodes: Vec::new(),
            nodes_dir: nodes_dir.to_path_buf(),
        };
        // On SSH hosts all nodes start at once (each start is a round trip); on this
        // machine one after the other, in spec order (some subjects rely on it).
        let started: Vec<(NodeSpec, Result<NodeProcess, nemesis::ProcessError>)> = blocking(|| {
            let start = |i: usize, s: &NodeSpec| {
                let spec = s.launch.spec(&s.name, &nodes_dir.join(&s.name));
                match hosts.get(i).cloned() {
                    Some(h) => NodeProcess::spawn_on(h, spec),
                    None => NodeProcess::spawn(spec),
                }
            };
            if hosts.is_empty() {
                let mut v = Vec::new();
                for (i, s) in specs.into_iter().enumerate() {
                    let r = start(i, &s);
                    let failed = r.is_err();
                    v.push((s, r));
                    if failed {
                        break;
                    }
                }
                v
            } else {
                std::thread::scope(|scope| {
                    let handles: Vec<_> = specs
                        .iter()
                        .enumerate()
                        .map(|(i, s)| scope.spawn(move || start(i, s)))
                        .collect();
                    let results: Vec<_> = handles
                        .into_iter()
                        .map(|h| h.join().expect("a node start panicked"))
                        .collect();
                    specs.iter().cloned().zip(results).collect()
                })
            }
        });
        let mut first_error = None;
        for (s, spawned) in started {
            match spawned {
                Ok(p) => {
                    tracing::info!(node = %s.name, pid = p.pid(), "started {}", s.launch.display());
                    cluster.nodes.push(Arc::new(p));
                    cluster.specs.push(s);
                }
                Err(e) if first_error.is_none() => {
                    first_error = Some(ClusterError::Spawn {
                        node: s.name.clone(),
                        message: e
                            .to_string()
                            .trim_start_matches(&format!("node {}: ", s.name))
                            .to_string(),
                    });
                }
                Err(_) => {}
            }
        }
        if let Some(e) = first_error {
            cluster.stop().await;
            return Err(e);
        }
        if let Err(e) = cluster.wait_ready(ready_timeout).await {
            cluster.stop().await;
            return Err(e);
        }
        Ok(cluster)
    }

    async fn wait_ready(&self, timeout: Duration) -> Result<(), ClusterError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .no_proxy()
            .build()
            .map_err(|e| ClusterError::Spawn {
                node: "-".into(),
                message: format!("HTTP client: {e}"),
            })?;
        for (spec, node) in self.specs.iter().zip(&self.nodes) {
            loop {
                if let Some(status) = blocking(|| node.try_status()) {
                    let _ = node.fetch_logs();
                    return Err(ClusterError::Exited {
                        node: spec.name.clone(),
                        status: process::describe(status),
                        command: spec.launch.display(),
                        stderr: process::stderr_tail(node.log_dir(), 600),
                    });
                }
                if probe(&http, &spec.ready).await {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(ClusterError::NotReady {
                        node: spec.name.clone(),
                        check: spec.ready.clone(),
                        timeout,
                        logs: node.log_dir().display().to_string(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// The node processes, in spec order (for the nemesis).
    pub fn nodes(&self) -> &[Arc<NodeProcess>] {
        &self.nodes
    }

    /// The specs the nodes were started from, in the same order.
    pub fn specs(&self) -> &[NodeSpec] {
        &self.specs
    }

    /// Where node logs are written.
    pub fn nodes_dir(&self) -> &Path {
        &self.nodes_dir
    }

    /// Copies every node's logs back from its host into `nodes/<node>/` (nothing to do
    /// for nodes on this machine); the nodes whose logs could not be copied, why.
    /// All nodes at once (over SSH each copy is a round trip).
    pub fn fetch_logs(&self) -> Vec<String> {
        blocking(|| {
            std::thread::scope(|s| {
                let handles: Vec<_> = self
                    .nodes
                    .iter()
                    .map(|n| s.spawn(move || n.fetch_logs().err().map(|e| e.to_string())))
                    .collect();
                handles
                    .into_iter()
                    .filter_map(|h| h.join().unwrap_or_else(|_| Some("panicked".into())))
                    .collect()
            })
        })
    }

    /// Stops every node (its stop signal, then SIGKILL after 5 s) and records exit
    /// statuses. Idempotent.
    pub async fn stop(&self) {
        // Every node at once, each on a thread of its own, so that their graces run
        // concurrently (and, on SSH hosts, their round trips).
        blocking(|| {
            std::thread::scope(|scope| {
                for (s, n) in self.specs.iter().zip(&self.nodes) {
                    scope.spawn(move || {
                        if let Err(e) = n.stop(s.stop_signal, Duration::from_secs(5)) {
                            tracing::warn!(node = %s.name, "stopping: {e}");
                        }
                    });
                }
            })
        });
    }
}

/// Runs `f` (a short blocking call: a spawn or state read over SSH) without stalling
/// a multi-threaded tokio runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Whether `check` succeeds right now.
pub async fn probe(http: &reqwest::Client, check: &ReadyCheck) -> bool {
    match check {
        ReadyCheck::Http(url) => {
            matches!(http.get(url).send().await, Ok(r) if r.status().is_success())
        }
        ReadyCheck::Tcp(addr) => matches!(
            tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect(addr.as_str())
            )
            .await,
            Ok(Ok(_))
        ),
    }
}

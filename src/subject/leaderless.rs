//! The default subject: the reference store `faultline-store` (leaderless, Dynamo
//! style), `--nodes` local processes (3 by default) replicating with N/W/R = 3/2/2
//! unless `--n/--w/--r` say otherwise. Every other store flag (`--conflict`,
//! `--replication-delay-ms`, ...) is passed through to each node.
//!
//! With `--hosts` the nodes run on those machines over SSH, one per host: the binary
//! is copied to `/tmp/faultline/bin/` on each (only where its SHA-256 differs), each
//! node listens on its host's address (port 7001) with its logs and data in
//! `/tmp/faultline/runs/<test>/<time>/<node>/` there; at the stop its logs are
//! copied back into `nodes/<node>/` and that directory is removed from the host.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::sys::signal::Signal;

use crate::cluster::{ports, Cluster, Launch, NodeSpec, ReadyCheck};
use crate::recorder::Recorder;

use super::http::HttpNodes;
use super::{binary, FaultSurface, Started, Subject, SubjectConfig, SubjectError};

/// A cluster of `faultline-store` nodes started by faultline.
#[derive(Debug)]
pub struct Leaderless {
    config: SubjectConfig,
    program: PathBuf,
    specs: Vec<NodeSpec>,
    options: Vec<(String, String)>,
    nodes: Option<HttpNodes>,
    cluster: Option<Cluster>,
}

impl Leaderless {
    /// A cluster as `config` describes it (nothing started yet).
    pub fn new(config: &SubjectConfig) -> Result<Leaderless, SubjectError> {
        if config.nodes == 0 {
            return Err(SubjectError::Config("--nodes must be at least 1".into()));
        }
        let program = binary::faultline_store()?;
        let n = config.nodes.min(3);
        let mut options = config.store_options.clone();
        for (flag, default) in [("n", n), ("w", n / 2 + 1), ("r", n / 2 + 1)] {
            if !options.iter().any(|(k, _)| k == flag) {
                options.push((flag.to_string(), default.to_string()));
            }
        }
        Ok(Leaderless {
            config: config.clone(),
            program,
            specs: Vec::new(),
            options,
            nodes: None,
            cluster: None,
        })
    }

    /// Where node logs and data go on the hosts: `/tmp/faultline/runs/<test>/<time>`
    /// (the run directory's last two parts).
    fn remote_root(&self) -> PathBuf {
        nemesis::host::remote::run_root(self.config.nodes_dir.parent().unwrap_or(Path::new("run")))
    }

    /// The nodes on the SSH hosts: the nemesis's layout (its mechanism is `hosts`)
    /// or, without faults that need one, the same layout made here.
    fn specs_on_hosts(
        &self,
        hosts: &nemesis::host::remote::RemoteHosts,
        program: &Path,
    ) -> Vec<NodeSpec> {
        let names: Vec<String> = (1..=self.config.nodes).map(|i| format!("n{i}")).collect();
        let layout = match &self.config.network {
            Some(l) if l.mechanism == nemesis::Mechanism::Hosts => l.clone(),
            _ => nemesis::host::remote::layout(hosts, &names, 1),
        };
        let root = self.remote_root();
        let mut specs = self.specs_on(&layout);
        for s in &mut specs {
            s.launch.program = program.to_path_buf();
            if let Some(i) = s.launch.args.iter().position(|a| a == "--data-dir") {
                s.launch.args[i + 1] = root.join(&s.name).join("data").display().to_string();
            }
            s.port = None;
        }
        specs
    }

    fn specs(&self) -> Result<Vec<NodeSpec>, SubjectError> {
        if let Some(layout) = &self.config.network {
            return Ok(self.specs_on(layout));
        }
        let count = self.config.nodes;
        let ports: Vec<u16> = match self.config.base_port {
            Some(base) => (0..count)
                .map(|i| {
                    u16::try_from(base as usize + i).map_err(|_| {
                        SubjectError::Config(format!("--base-port {base}: ports run past 65535"))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => ports::free_ports(count)
                .map_err(|e| SubjectError::Config(format!("cannot find free ports: {e}")))?,
        };
        let names: Vec<String> = (1..=count).map(|i| format!("n{i}")).collect();
        let mut specs = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let data_dir = self.config.nodes_dir.join(name).join("data");
            let mut args = vec![
                "--node".to_string(),
                name.clone(),
                "--listen".to_string(),
                format!("127.0.0.1:{}", ports[i]),
                "--data-dir".to_string(),
                data_dir.display().to_string(),
            ];
            for (j, peer) in names.iter().enumerate() {
                if j != i {
                    args.push("--peer".into());
                    args.push(format!("{peer}=127.0.0.1:{}", ports[j]));
                }
            }
            for (k, v) in &self.options {
                args.push(format!("--{k}"));
                args.push(v.clone());
            }
            specs.push(NodeSpec {
                name: name.clone(),
                launch: Launch {
                    program: self.program.clone(),
                    args,
                    env: Vec::new(),
                    netns: None,
                },
                ready: ReadyCheck::Http(format!("http://127.0.0.1:{}/health", ports[i])),
                stop_signal: Signal::SIGTERM,
                port: Some(ports[i]),
            });
        }
        Ok(specs)
    }
}

impl Leaderless {
    /// The nodes as the nemesis laid them out: its listen and peer addresses (proxies or
    /// namespace addresses), its namespace (entered by the node process before it
    /// execs the store) and its environment (fake clock, owner tags).
    fn specs_on(&self, layout: &nemesis::Layout) -> Vec<NodeSpec> {
        layout
            .nodes
            .iter()
            .map(|node| {
                let data_dir = self.config.nodes_dir.join(&node.name).join("data");
                let mut args = vec![
                    "--node".to_string(),
                    node.name.clone(),
                    "--listen".to_string(),
                    node.listen_addr().to_string(),
                    "--data-dir".to_string(),
                    data_dir.display().to_string(),
                ];
                for peer in node.peer_args() {
                    args.push("--peer".into());
                    args.push(peer);
                }
                for (k, v) in &self.options {
                    args.push(format!("--{k}"));
                    args.push(v.clone());
                }
                let client = node.client_addr();
                NodeSpec {
                    name: node.name.clone(),
                    launch: Launch {
                        program: self.program.clone(),
                        args,
                        env: node.env.clone(),
                        netns: node.netns.clone(),
                    },
                    ready: ReadyCheck::Http(format!("http://{client}/health")),
                    stop_signal: Signal::SIGTERM,
                    port: node.netns.is_none().then(|| client.port()),
                }
            })
            .collect()
    }
}

impl Leaderless {
    /// Starts the nodes on this machine.
    async fn start_here(&mut self) -> Result<Started, SubjectError> {
        let specs = self.specs()?;
        let names = specs.iter().map(|s| s.name.clone()).collect();
        let urls = match &self.config.network {
            Some(layout) => layout
                .nodes
                .iter()
                .map(|n| format!("http://{}", n.client_addr()))
                .collect(),
            None => specs
                .iter()
                .map(|s| format!("http://127.0.0.1:{}", s.port.unwrap_or(0)))
                .collect(),
        };
        let nodes = HttpNodes::new(names, urls, self.config.op_timeout)?;
        self.nodes = Some(nodes.clone());
        self.specs = specs.clone();
        let cluster =
            Cluster::start(specs, &self.config.nodes_dir, self.config.ready_timeout).await?;
        let faults = FaultSurface::of_cluster(&cluster);
        self.cluster = Some(cluster);
        Ok(nodes.started(faults))
    }

    /// Copies the store to the hosts (where it differs) and starts node `i` on host `i`.
    async fn start_on_hosts(
        &mut self,
        hosts: Arc<nemesis::host::remote::RemoteHosts>,
    ) -> Result<Started, SubjectError> {
        if hosts.hosts.len() != self.config.nodes {
            return Err(SubjectError::Config(format!(
                "--nodes {} on {} hosts: one node per host",
                self.config.nodes,
                hosts.hosts.len()
            )));
        }
        let (h, local) = (hosts.clone(), self.program.clone());
        let (program, copied) = tokio::task::spawn_blocking(move || h.install(&local))
            .await
            .map_err(|e| SubjectError::Config(e.to_string()))?
            .map_err(|e| SubjectError::Config(format!("cannot copy faultline-store: {e}")))?;
        for (name, c) in hosts.names().iter().zip(&copied) {
            tracing::info!(
                host = %name,
                "{} {}",
                program.display(),
                if *c { "copied" } else { "already there (same SHA-256)" }
            );
        }
        let specs = self.specs_on_hosts(&hosts, &program);
        let names = specs.iter().map(|s| s.name.clone()).collect();
        let urls = specs
            .iter()
            .map(|s| match &s.ready {
                ReadyCheck::Http(u) => u.trim_end_matches("/health").to_string(),
                ReadyCheck::Tcp(a) => format!("http://{a}"),
            })
            .collect();
        let nodes = HttpNodes::new(names, urls, self.config.op_timeout)?;
        self.nodes = Some(nodes.clone());
        self.specs = specs.clone();
        let root = self.remote_root();
        let on: Vec<Arc<dyn nemesis::Host>> = (0..specs.len())
            .filter_map(|i| hosts.node_host(i, &root))
            .collect();
        let cluster =
            Cluster::start_on(specs, on, &self.config.nodes_dir, self.config.ready_timeout).await?;
        let faults = FaultSurface::of_cluster(&cluster);
        self.cluster = Some(cluster);
        Ok(nodes.started(faults))
    }
}

#[async_trait::async_trait]
impl Subject for Leaderless {
    fn name(&self) -> &str {
        "leaderless"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        match self.config.hosts.clone() {
            Some(hosts) => self.start_on_hosts(hosts).await,
            None => self.start_here().await,
        }
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
            if let Some(hosts) = &self.config.hosts {
                for e in c.fetch_logs() {
                    tracing::warn!("node logs not copied back: {e}");
                }
                // The run's directory, and its test's if no other run of it is left.
                let root = self.remote_root();
                let script = nemesis::host::remote::remove_run_root_script(&root);
                let script = &script;
                std::thread::scope(|s| {
                    for h in &hosts.hosts {
                        s.spawn(move || {
                            nemesis::Host::run(
                                &h.ssh,
                                "sh",
                                &["-c", script],
                                None,
                                nemesis::host::COMMAND_TIMEOUT,
                            )
                        });
                    }
                });
            }
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "store": "leaderless",
            "program": self.program.display().to_string(),
            "options": self.options.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "nodes": self.specs.iter().enumerate().map(|(i, s)| serde_json::json!({
                "name": s.name,
                "port": s.port,
                "command": s.launch.display(),
                "host": self.config.hosts.as_ref().and_then(|h| h.hosts.get(i)).map(|h| h.addr.destination()),
            })).collect::<Vec<_>>(),
            "remote_dir": self.config.hosts.as_ref().map(|_| self.remote_root()),
        })
    }
}

/// The reference store's kind: `--store leaderless`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

/// Every fault the reference store takes.
const FAULTS: &[nemesis::Fault] = nemesis::Fault::ON_ANY_STORE;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "leaderless"
    }

    fn about(&self) -> &'static str {
        "the reference store (faultline-store, Dynamo style), started locally"
    }

    fn options(&self) -> &'static [&'static str] {
        &[
            "n",
            "w",
            "r",
            "conflict",
            "read-repair",
            "sloppy-quorum",
            "hinted-handoff",
            "anti-entropy-interval-ms",
            "fsync",
            "replication-delay-ms",
            "request-timeout-ms",
        ]
    }

    fn workloads(&self) -> &'static [&'static str] {
        workloads::HTTP_KV_NAMES
    }

    /// Its nodes start from the nemesis network's layout (listen and peer addresses).
    fn network_needs(&self) -> super::NetworkNeeds {
        super::NetworkNeeds {
            from_layout: true,
            ..super::NetworkNeeds::default()
        }
    }

    fn faults(&self, _settings: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        FAULTS
    }

    fn check(&self, s: &super::kind::StoreSettings) -> Result<(), String> {
        use super::kind::{number, one_of};
        if s.external() {
            return Err(
                "--store leaderless starts its own nodes; for a cluster that runs already use --store http --addrs".into(),
            );
        }
        if s.nodes == 0 {
            return Err("--nodes 0: expected at least 1".into());
        }
        let defaults = self.defaults(s);
        let quorum = |flag: &str| -> Result<usize, String> {
            match s.option(flag) {
                Some(v) => number(flag, v),
                None => Ok(defaults
                    .iter()
                    .find(|(k, _)| k == flag)
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(1)),
            }
        };
        let (n, w, r) = (quorum("n")?, quorum("w")?, quorum("r")?);
        if n == 0 || n > s.nodes {
            return Err(format!(
                "--n {n}: replicas per key must be in 1..={} (--nodes {})",
                s.nodes, s.nodes
            ));
        }
        if w == 0 || w > n {
            return Err(format!(
                "--w {w}: the write quorum must be in 1..={n} (--n {n})"
            ));
        }
        if r == 0 || r > n {
            return Err(format!(
                "--r {r}: the read quorum must be in 1..={n} (--n {n})"
            ));
        }
        for (k, v) in s.options {
            match k.as_str() {
                "conflict" => {
                    one_of(k, v, &["siblings", "lww"])?;
                }
                "read-repair" | "sloppy-quorum" | "hinted-handoff" => {
                    one_of(k, v, &["on", "off"])?;
                }
                "fsync" => {
                    one_of(k, v, &["always", "interval", "never"])?;
                }
                "anti-entropy-interval-ms" | "replication-delay-ms" | "request-timeout-ms" => {
                    number::<u64>(k, v)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// N = min(nodes, 3) and majority quorums; `lww` for the register-like workloads
    /// (faultline's clients write blindly, without a read context, so in `siblings`
    /// mode every concurrent write would stay a sibling for ever), the store's own
    /// `siblings` for sets, counters and lists (their siblings merge).
    fn defaults(&self, s: &super::kind::StoreSettings) -> Vec<(String, String)> {
        let n = s.nodes.clamp(1, 3);
        let n = s.option("n").and_then(|v| v.parse().ok()).unwrap_or(n);
        let mut v = vec![
            ("n".to_string(), n.to_string()),
            ("w".to_string(), (n / 2 + 1).to_string()),
            ("r".to_string(), (n / 2 + 1).to_string()),
        ];
        let register_like = matches!(s.workload, "register" | "cas-register" | "kv");
        v.push((
            "conflict".to_string(),
            if register_like { "lww" } else { "siblings" }.to_string(),
        ));
        v
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(Leaderless::new(config)?))
    }
}

//! The default subject: the reference store `faultline-store` (leaderless, Dynamo
//! style), `--nodes` local processes (3 by default) replicating with N/W/R = 3/2/2
//! unless `--n/--w/--r` say otherwise. Every other store flag (`--conflict`,
//! `--replication-delay-ms`, ...) is passed through to each node.

use std::path::PathBuf;

use nix::sys::signal::Signal;

use crate::client::Client;
use crate::cluster::{ports, Cluster, Launch, NodeSpec, ReadyCheck};

use super::http::HttpNodes;
use super::{binary, Subject, SubjectConfig, SubjectError};

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
    /// namespace addresses), its namespace (entered with `nsenter`, which execs the
    /// store in place) and its environment (fake clock, owner tags).
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
                let (program, args) = match &node.netns {
                    Some(ns) => {
                        let mut wrapped = vec![
                            format!("--net=/run/netns/{ns}"),
                            "--".to_string(),
                            self.program.display().to_string(),
                        ];
                        wrapped.extend(args);
                        (PathBuf::from("nsenter"), wrapped)
                    }
                    None => (self.program.clone(), args),
                };
                let client = node.client_addr();
                NodeSpec {
                    name: node.name.clone(),
                    launch: Launch {
                        program,
                        args,
                        env: node.env.clone(),
                    },
                    ready: ReadyCheck::Http(format!("http://{client}/health")),
                    stop_signal: Signal::SIGTERM,
                    port: node.netns.is_none().then(|| client.port()),
                }
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl Subject for Leaderless {
    fn supports_layout(&self) -> bool {
        true
    }

    fn name(&self) -> &str {
        "leaderless"
    }

    async fn start(&mut self) -> Result<(), SubjectError> {
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
        self.nodes = Some(HttpNodes::new(names, urls, self.config.op_timeout)?);
        self.specs = specs.clone();
        let cluster =
            Cluster::start(specs, &self.config.nodes_dir, self.config.ready_timeout).await?;
        self.cluster = Some(cluster);
        Ok(())
    }

    fn nodes(&self) -> Vec<String> {
        self.nodes
            .as_ref()
            .map(HttpNodes::names)
            .unwrap_or_default()
    }

    fn client(&self, node: usize, _process: u64) -> Box<dyn Client> {
        match &self.nodes {
            Some(n) => n.client(node),
            None => Box::new(super::NotStarted),
        }
    }

    fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "store": "leaderless",
            "program": self.program.display().to_string(),
            "options": self.options.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "nodes": self.specs.iter().map(|s| serde_json::json!({
                "name": s.name,
                "port": s.port,
                "command": s.launch.display(),
            })).collect::<Vec<_>>(),
        })
    }
}

//! `--store redis`: one Redis primary (`n1`) and two replicas (`n2`, `n3`) with
//! Redis's asynchronous replication, started by faultline from Debian's
//! `redis-server` on loopback ports (no persistence, diskless sync with no delay).
//!
//! Clients write to the current primary and read from their own node. A failover is
//! a nemesis fault (`--nemesis failover`, scheduled, recorded and healed like every
//! other): [`RedisControl`] offers it to the nemesis ([`failover`]), manual (faultline
//! promotes a replica while the old primary still serves for a detection delay) or by
//! three real `redis-sentinel`s ([`sentinel`]). Acknowledged writes the old primary
//! took after the promotion are lost, and the eventual checker names them.
//!
//! Store options: `redis-wait N` sends `WAIT N <op-timeout>` on the same connection
//! after every write; a write fewer than N replicas acknowledged is then `info`, not
//! `ok`. `redis-failover manual|sentinel` says who fails over (default manual);
//! `redis-detection-ms MS` is the manual failover's detection delay (default 500).

pub mod client;
pub mod failover;
pub mod sentinel;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::{json, Value as Json};

use crate::client::Client;
use crate::cluster::{ports, Cluster, Launch, NodeSpec, ReadyCheck};

use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};

/// What clients and the failover share: the ports and which node is the primary.
#[derive(Debug)]
pub struct RedisControl {
    ports: Vec<u16>,
    primary: AtomicUsize,
    detection: Duration,
    cluster: std::sync::OnceLock<Arc<Cluster>>,
    sentinels: std::sync::OnceLock<Vec<u16>>,
    /// The node a failover took down, until its heal brings it back.
    down: Mutex<Option<usize>>,
}

async fn connect(
    port: u16,
    timeout: Duration,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/"))?;
    match tokio::time::timeout(timeout, client.get_multiplexed_async_connection()).await {
        Ok(r) => r,
        Err(_) => Err(redis::RedisError::from((
            redis::ErrorKind::IoError,
            "connect timed out",
        ))),
    }
}

async fn command(port: u16, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut c = connect(port, Duration::from_secs(1)).await?;
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query_async(&mut c).await
}

async fn info_replication(port: u16) -> String {
    match command(port, &["INFO", "replication"]).await {
        Ok(v) => redis::from_redis_value::<String>(&v).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

impl RedisControl {
    /// The index of the current primary.
    pub fn primary(&self) -> usize {
        self.primary.load(Ordering::SeqCst)
    }
}

/// A Redis primary/replica cluster faultline starts.
#[derive(Debug)]
pub struct Redis {
    config: SubjectConfig,
    program: PathBuf,
    wait: Option<u32>,
    detection: Duration,
    specs: Vec<NodeSpec>,
    control: Option<Arc<RedisControl>>,
    cluster: Option<Arc<Cluster>>,
    use_sentinels: bool,
    sentinels: Option<sentinel::Sentinels>,
    watch_task: Option<tokio::task::JoinHandle<()>>,
}

impl Redis {
    /// The cluster `config` describes (nothing started yet).
    pub fn new(config: &SubjectConfig) -> Result<Redis, SubjectError> {
        let program = config
            .bin
            .clone()
            .or_else(|| super::binary::locate("redis-server"))
            .ok_or_else(|| {
                SubjectError::Config(
                    "redis-server is not installed (Debian: apt-get install redis-server)".into(),
                )
            })?;
        if !config.addrs.is_empty() {
            return Err(SubjectError::Config(
                "--store redis starts its own primary and replicas; testing a Redis someone \
                 else runs (--addrs) is not supported yet"
                    .into(),
            ));
        }
        if config.nodes < 2 {
            return Err(SubjectError::Config(
                "--store redis needs at least 2 nodes (a primary and a replica)".into(),
            ));
        }
        let mut use_sentinels = false;
        let (mut wait, mut detection) = (None, Duration::from_millis(500));
        for (k, v) in &config.store_options {
            let num = || {
                v.parse::<u64>()
                    .map_err(|_| SubjectError::Config(format!("--{k} {v}: expected a number")))
            };
            match k.as_str() {
                "redis-wait" => wait = Some(num()? as u32).filter(|&n| n > 0),
                "redis-detection-ms" => detection = Duration::from_millis(num()?),
                "redis-failover" => match v.as_str() {
                    "manual" => use_sentinels = false,
                    "sentinel" => use_sentinels = true,
                    _ => {
                        return Err(SubjectError::Config(format!(
                            "--redis-failover {v}: expected manual or sentinel"
                        )))
                    }
                },
                _ => {
                    return Err(SubjectError::Config(format!(
                        "--{k}: not an option of --store redis"
                    )))
                }
            }
        }
        Ok(Redis {
            config: config.clone(),
            program,
            wait,
            detection,
            specs: Vec::new(),
            control: None,
            cluster: None,
            use_sentinels,
            sentinels: None,
            watch_task: None,
        })
    }

    /// The control handle (after start): the primary, and failover.
    pub fn control(&self) -> Option<Arc<RedisControl>> {
        self.control.clone()
    }
}

#[async_trait::async_trait]
impl Subject for Redis {
    fn name(&self) -> &str {
        "redis"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        let n = self.config.nodes;
        let ports = ports::free_ports(n)
            .map_err(|e| SubjectError::Config(format!("cannot find free ports: {e}")))?;
        let mut specs = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let data = self.config.nodes_dir.join(&name).join("data");
            std::fs::create_dir_all(&data)
                .map_err(|e| SubjectError::Config(format!("{}: {e}", data.display())))?;
            let mut args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--dir",
                &data.display().to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "no",
                "--repl-diskless-sync",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
                "--daemonize",
                "no",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if i > 0 {
                args.extend([
                    "--replicaof".into(),
                    "127.0.0.1".into(),
                    ports[0].to_string(),
                ]);
            }
            specs.push(NodeSpec {
                name,
                launch: Launch {
                    program: self.program.clone(),
                    args,
                    env: Vec::new(),
                    netns: None,
                },
                ready: ReadyCheck::Tcp(format!("127.0.0.1:{port}")),
                stop_signal: Signal::SIGTERM,
                port: Some(*port),
            });
        }
        self.specs = specs.clone();
        let cluster = Arc::new(
            Cluster::start(specs, &self.config.nodes_dir, self.config.ready_timeout).await?,
        );
        self.cluster = Some(cluster.clone());
        let processes = cluster.nodes().to_vec();
        let control = Arc::new(RedisControl {
            ports: ports.clone(),
            primary: AtomicUsize::new(0),
            detection: self.detection,
            cluster: std::sync::OnceLock::new(),
            sentinels: std::sync::OnceLock::new(),
            down: Mutex::new(None),
        });
        let _ = control.cluster.set(cluster);
        self.control = Some(control.clone());
        // Wait until every replica's link to the primary is up.
        let deadline = tokio::time::Instant::now() + self.config.ready_timeout;
        for (i, port) in ports.iter().enumerate().skip(1) {
            while !info_replication(*port)
                .await
                .contains("master_link_status:up")
            {
                if tokio::time::Instant::now() > deadline {
                    return Err(SubjectError::Unreachable(format!(
                        "replica n{} never connected to the primary",
                        i + 1
                    )));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        if self.use_sentinels {
            let s = sentinel::start(&self.config.nodes_dir, ports[0], self.config.ready_timeout)
                .await?;
            let _ = control.sentinels.set(s.ports.clone());
            // Follow the sentinels: clients write wherever they say the primary is.
            let watcher = control.clone();
            let sports = s.ports.clone();
            self.watch_task = Some(tokio::spawn(async move {
                loop {
                    if let Some(p) = sentinel::primary_port(&sports).await {
                        if let Some(i) = watcher.ports.iter().position(|&q| q == p) {
                            let was = watcher.primary.swap(i, Ordering::SeqCst);
                            if was != i {
                                tracing::info!("redis sentinels: the primary is now n{}", i + 1);
                            }
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }));
            self.sentinels = Some(s);
            // Let the sentinels discover the replicas and each other.
            let deadline = tokio::time::Instant::now() + self.config.ready_timeout;
            while sentinel::primary_port(
                &self
                    .sentinels
                    .as_ref()
                    .map(|s| s.ports.clone())
                    .unwrap_or_default(),
            )
            .await
                != Some(ports[0])
            {
                if tokio::time::Instant::now() > deadline {
                    return Err(SubjectError::Unreachable(
                        "the sentinels never named the primary".into(),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let (wait, timeout) = (self.wait, self.config.op_timeout);
        let clients = control.clone();
        Ok(Started {
            nodes: self.specs.iter().map(|s| s.name.clone()).collect(),
            clients: Arc::new(move |node, _process| {
                Box::new(client::RedisClient {
                    control: clients.clone(),
                    node: node % clients.ports.len(),
                    wait,
                    timeout,
                    conns: vec![None; clients.ports.len()],
                }) as Box<dyn Client>
            }),
            faults: FaultSurface {
                processes,
                failover: Some(control as Arc<dyn nemesis::Failover>),
                ..FaultSurface::default()
            },
        })
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.control {
            // Stopped nodes are not the failover's to bring back.
            *c.down.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        if let Some(t) = self.watch_task.take() {
            t.abort();
        }
        if let Some(s) = &self.sentinels {
            s.cluster.stop().await;
        }
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    fn describe(&self) -> Json {
        json!({
            "store": "redis",
            "program": self.program.display().to_string(),
            "wait": self.wait,
            "detection_ms": self.detection.as_millis() as u64,
            "failover": if self.use_sentinels { "sentinel" } else { "manual" },
            "nodes": self.specs.iter().map(|s| json!({"name": s.name, "port": s.port, "command": s.launch.display()})).collect::<Vec<_>>(),
        })
    }
}

/// Redis's kind: `--store redis`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn about(&self) -> &'static str {
        "a Redis primary and replicas started from the installed redis-server"
    }

    fn options(&self) -> &'static [&'static str] {
        &["redis-wait", "redis-failover", "redis-detection-ms"]
    }

    fn workloads(&self) -> &'static [&'static str] {
        &["set", "register"]
    }

    fn faults(&self, _s: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        &[
            nemesis::Fault::Kill,
            nemesis::Fault::Stop,
            nemesis::Fault::Pause,
            nemesis::Fault::Failover,
        ]
    }

    fn check(&self, s: &super::kind::StoreSettings) -> Result<(), String> {
        if s.external() {
            return Err("--store redis starts its own primary and replicas; testing a Redis someone else runs (--addrs) is not supported yet".into());
        }
        if s.nodes < 2 {
            return Err(format!(
                "--nodes {}: --store redis needs at least 2 (a primary and a replica)",
                s.nodes
            ));
        }
        for (k, v) in s.options {
            match k.as_str() {
                "redis-failover" => {
                    super::kind::one_of(k, v, &["manual", "sentinel"])?;
                }
                _ => {
                    super::kind::number::<u64>(k, v)?;
                }
            }
        }
        if s.bin.is_none() && super::binary::locate("redis-server").is_none() {
            return Err(
                "redis-server is not installed (Debian: apt-get install redis-server)".into(),
            );
        }
        Ok(())
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(Redis::new(config)?))
    }
}

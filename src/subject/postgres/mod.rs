//! `--store postgres`: faultline runs its own PostgreSQL server — `initdb` into the
//! run directory (`nodes/n1/data`), `postgres -D` on a loopback port as an
//! unprivileged user ([`server`]) — and tests its isolation levels with the
//! transactional workloads (`list-append`, `rw-register`): `--isolation
//! read-committed|repeatable-read|serializable` (default serializable) is the level
//! every transaction runs at ([`client`]). The server is one node, `n1`: the nemesis
//! may kill (then PostgreSQL recovers from its WAL on restart), stop and pause it;
//! it is stopped at the end like every node.

pub mod client;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::client::Client;
use crate::cluster::{ports, Cluster, NodeSpec};

use super::kind::{one_of, StoreSettings};
use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};
use client::{Isolation, PgClient, SCHEMA};
use server::Server;

/// The server's one node.
const NODE: &str = "n1";

/// A PostgreSQL server faultline runs.
pub struct Postgres {
    config: SubjectConfig,
    server: Server,
    isolation: Isolation,
    port: Option<u16>,
    spec: Option<NodeSpec>,
    cluster: Option<Cluster>,
}

impl Postgres {
    /// The server `config` describes (nothing started yet).
    pub fn new(config: &SubjectConfig) -> Result<Postgres, SubjectError> {
        let server = Server::find().map_err(SubjectError::Config)?;
        let mut isolation = Isolation::Serializable;
        for (k, v) in &config.store_options {
            match k.as_str() {
                "isolation" => {
                    isolation = Isolation::parse(v).ok_or_else(|| {
                        SubjectError::Config(format!(
                            "--isolation {v}: expected {}",
                            Isolation::NAMES.join(" or ")
                        ))
                    })?
                }
                _ => {
                    return Err(SubjectError::Config(format!(
                        "--{k}: not an option of --store postgres"
                    )))
                }
            }
        }
        Ok(Postgres {
            config: config.clone(),
            server,
            isolation,
            port: None,
            spec: None,
            cluster: None,
        })
    }

    /// Makes the tables, retrying while the server is still starting up.
    async fn make_schema(&self, port: u16) -> Result<(), SubjectError> {
        let deadline = tokio::time::Instant::now() + self.config.ready_timeout;
        let conninfo = format!(
            "host=127.0.0.1 port={port} user={} dbname=postgres",
            server::USER
        );
        loop {
            let last = match tokio_postgres::connect(&conninfo, tokio_postgres::NoTls).await {
                Ok((client, connection)) => {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    match client.batch_execute(SCHEMA).await {
                        Ok(()) => return Ok(()),
                        Err(e) => e.to_string(),
                    }
                }
                Err(e) => e.to_string(),
            };
            if tokio::time::Instant::now() >= deadline {
                return Err(SubjectError::Unreachable(format!(
                    "PostgreSQL on port {port} did not take the schema within {:?}: {last}",
                    self.config.ready_timeout
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[async_trait::async_trait]
impl Subject for Postgres {
    fn name(&self) -> &str {
        "postgres"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        let port = match self.config.base_port {
            Some(p) => p,
            None => ports::free_ports(1)
                .map_err(|e| SubjectError::Config(format!("cannot find a free port: {e}")))?[0],
        };
        let dir = self.config.nodes_dir.join(NODE);
        std::fs::create_dir_all(&dir)
            .map_err(|e| SubjectError::Config(format!("cannot create {}: {e}", dir.display())))?;
        let data = dir.join("data");
        self.server
            .initdb(&data, &dir.join("initdb.log"))
            .await
            .map_err(SubjectError::Config)?;
        let spec = self.server.node(NODE, &data, port);
        self.spec = Some(spec.clone());
        self.port = Some(port);
        let cluster = Cluster::start(
            vec![spec],
            &self.config.nodes_dir,
            self.config.ready_timeout,
        )
        .await?;
        let faults = FaultSurface::of_cluster(&cluster);
        self.cluster = Some(cluster);
        if let Err(e) = self.make_schema(port).await {
            self.stop().await;
            return Err(e);
        }
        let (isolation, timeout) = (self.isolation, self.config.op_timeout);
        Ok(Started {
            nodes: vec![NODE.to_string()],
            clients: Arc::new(move |_node, _process| {
                Box::new(PgClient::new(port, isolation, Arc::from(NODE), timeout))
                    as Box<dyn Client>
            }),
            faults,
        })
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    fn describe(&self) -> Json {
        json!({
            "store": "postgres",
            "bin": self.server.bin.display().to_string(),
            "user": self.server.user.as_ref().map(|u| u.name.clone()),
            "isolation": self.isolation.name(),
            "port": self.port,
            "command": self.spec.as_ref().map(|s| s.launch.display()),
        })
    }
}

/// PostgreSQL's kind: `--store postgres`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn about(&self) -> &'static str {
        "a PostgreSQL server faultline runs (initdb in the run directory), at --isolation"
    }

    fn options(&self) -> &'static [&'static str] {
        &["isolation"]
    }

    fn workloads(&self) -> &'static [&'static str] {
        &["list-append", "rw-register"]
    }

    /// One server on loopback: process faults only.
    fn faults(&self, _s: &StoreSettings) -> &'static [nemesis::Fault] {
        &[
            nemesis::Fault::Kill,
            nemesis::Fault::Stop,
            nemesis::Fault::Pause,
        ]
    }

    fn check(&self, s: &StoreSettings) -> Result<(), String> {
        if s.nodes != 1 {
            return Err(format!(
                "--nodes {}: --store postgres runs one server; use --nodes 1",
                s.nodes
            ));
        }
        if let Some(v) = s.option("isolation") {
            one_of("isolation", v, Isolation::NAMES)?;
        }
        Server::find().map(|_| ())
    }

    fn defaults(&self, _s: &StoreSettings) -> Vec<(String, String)> {
        vec![(
            "isolation".to_string(),
            Isolation::Serializable.name().to_string(),
        )]
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(Postgres::new(config)?))
    }
}

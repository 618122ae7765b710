//! `--store etcd`: faultline starts an etcd cluster (Debian's `etcd-server`, Raft) of
//! `--nodes` members on loopback ports (or, when the faults include partitions or
//! packet faults, one member per network namespace: see [`Kind`]), waits until each answers `GET /health`, keeps
//! each member's log under `nodes/<node>/`, and stops it at the end. Elections are
//! fast (`--heartbeat-interval 25 --election-timeout 250`).
//!
//! With `--addrs URL,...` faultline starts nothing and tests the etcd cluster at
//! those client URLs (no process faults are possible then).
//!
//! Clients speak etcd's v3 JSON gateway: `POST /v3/kv/range` (linearizable, or
//! serializable with the store option `etcd-serializable-reads`), `/v3/kv/put`, and
//! `/v3/kv/txn` for cas (compare the VALUE, or that the key was never created when the
//! expected value is `null`). Keys and values travel base64-encoded.
//!
//! Outcomes: a refused connection means the request never reached etcd (`fail`); a
//! timeout or an error after the request was sent may have taken effect (`info`),
//! except for reads, which change nothing (`fail`). A txn whose compare failed did
//! not write (`fail`).

use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use checkers::{Value, F};
use nix::sys::signal::Signal;
use serde_json::{json, Value as Json};

use crate::client::{Client, Completion, DataKind, Invocation};
use crate::cluster::{ports, Cluster, Launch, NodeSpec, ReadyCheck};

use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};

/// An etcd cluster faultline starts.
#[derive(Debug)]
pub struct Etcd {
    config: SubjectConfig,
    program: PathBuf,
    serializable: bool,
    specs: Vec<NodeSpec>,
    names: Vec<String>,
    urls: Vec<String>,
    http: Option<reqwest::Client>,
    cluster: Option<Cluster>,
}

impl Etcd {
    /// The cluster `config` describes (nothing started yet).
    pub fn new(config: &SubjectConfig) -> Result<Etcd, SubjectError> {
        if config.nodes == 0 {
            return Err(SubjectError::Config("--nodes must be at least 1".into()));
        }
        let program = config
            .bin
            .clone()
            .or_else(|| super::binary::locate("etcd"))
            .ok_or_else(|| {
                SubjectError::Config(
                    "etcd is not installed (Debian: apt-get install etcd-server); or pass --bin PATH"
                        .into(),
                )
            })?;
        let mut serializable = false;
        for (k, v) in &config.store_options {
            match k.as_str() {
                "etcd-serializable-reads" => {
                    serializable = matches!(v.as_str(), "true" | "on" | "yes" | "1")
                }
                _ => {
                    return Err(SubjectError::Config(format!(
                        "--{k}: not an option of --store etcd"
                    )))
                }
            }
        }
        Ok(Etcd {
            config: config.clone(),
            program,
            serializable,
            specs: Vec::new(),
            names: Vec::new(),
            urls: Vec::new(),
            http: None,
            cluster: None,
        })
    }

    /// Where each member listens: on loopback ports, or on the nemesis layout's
    /// namespace addresses (service 0 for clients, 1 for peers).
    fn places(&self) -> Result<Vec<Place>, SubjectError> {
        let n = self.config.nodes;
        if let Some(layout) = &self.config.network {
            if layout.mechanism != nemesis::Mechanism::Namespaces {
                return Err(SubjectError::Config(format!(
                    "etcd cannot be partitioned with {}: its members must reach each other at the peer URLs they advertise; partitions of etcd need network namespaces (run as root)",
                    layout.mechanism.as_str()
                )));
            }
            return layout
                .nodes
                .iter()
                .map(|node| match (node.listen.first(), node.listen.get(1)) {
                    (Some(client), Some(peer)) => Ok(Place {
                        name: node.name.clone(),
                        client: format!("http://{client}"),
                        peer: format!("http://{peer}"),
                        netns: node.netns.clone(),
                        env: node.env.clone(),
                        port: None,
                    }),
                    _ => Err(SubjectError::Config(format!(
                        "the nemesis network gave {} fewer than 2 ports (client, peer)",
                        node.name
                    ))),
                })
                .collect();
        }
        let ports = ports::free_ports(2 * n)
            .map_err(|e| SubjectError::Config(format!("cannot find free ports: {e}")))?;
        Ok((0..n)
            .map(|i| Place {
                name: format!("n{}", i + 1),
                client: format!("http://127.0.0.1:{}", ports[i]),
                peer: format!("http://127.0.0.1:{}", ports[n + i]),
                netns: None,
                env: Vec::new(),
                port: Some(ports[i]),
            })
            .collect())
    }

    fn specs(&self) -> Result<(Vec<NodeSpec>, Vec<String>), SubjectError> {
        let places = self.places()?;
        let initial: Vec<String> = places
            .iter()
            .map(|p| format!("{}={}", p.name, p.peer))
            .collect();
        let token = format!("faultline-{}-{}", std::process::id(), places[0].client);
        let mut specs = Vec::new();
        for place in &places {
            let data = self.config.nodes_dir.join(&place.name).join("data");
            let args: Vec<String> = [
                ("--name", place.name.clone()),
                ("--data-dir", data.display().to_string()),
                ("--listen-client-urls", place.client.clone()),
                ("--advertise-client-urls", place.client.clone()),
                ("--listen-peer-urls", place.peer.clone()),
                ("--initial-advertise-peer-urls", place.peer.clone()),
                ("--initial-cluster", initial.join(",")),
                ("--initial-cluster-state", "new".into()),
                ("--initial-cluster-token", token.clone()),
                ("--heartbeat-interval", "25".into()),
                ("--election-timeout", "250".into()),
            ]
            .into_iter()
            .flat_map(|(k, v)| [k.to_string(), v])
            .collect();
            specs.push(NodeSpec {
                name: place.name.clone(),
                launch: Launch {
                    program: self.program.clone(),
                    args,
                    env: place.env.clone(),
                    netns: place.netns.clone(),
                },
                ready: ReadyCheck::Http(format!("{}/health", place.client)),
                stop_signal: Signal::SIGTERM,
                port: place.port,
            });
        }
        Ok((specs, places.into_iter().map(|p| p.client).collect()))
    }
}

impl Etcd {
    /// What the run gets once the members answer: their names, clients of them (over
    /// one HTTP connection pool), and `faults`.
    fn started(&self, faults: FaultSurface) -> Started {
        let http = self.http.clone().unwrap_or_default();
        let urls: Vec<String> = self.urls.clone();
        let names: Vec<Arc<str>> = self.names.iter().map(|n| Arc::from(n.as_str())).collect();
        let serializable = self.serializable;
        Started {
            nodes: self.names.clone(),
            clients: Arc::new(move |node: usize, _process: u64| {
                let i = node % urls.len().max(1);
                match (urls.get(i), names.get(i)) {
                    (Some(url), Some(name)) => Box::new(EtcdClient {
                        http: http.clone(),
                        url: url.clone(),
                        node: name.clone(),
                        serializable,
                    }) as Box<dyn Client>,
                    _ => Box::new(super::NoNodes),
                }
            }),
            faults,
        }
    }
}

/// Where one member listens and how it is started.
struct Place {
    name: String,
    client: String,
    peer: String,
    netns: Option<String>,
    env: Vec<(String, String)>,
    /// Its loopback client port (waited free before a restart); none in a namespace.
    port: Option<u16>,
}

#[async_trait::async_trait]
impl Subject for Etcd {
    fn name(&self) -> &str {
        "etcd"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(self.config.op_timeout)
            .build()
            .map_err(|e| SubjectError::Config(format!("HTTP client: {e}")))?;
        if !self.config.addrs.is_empty() {
            // A cluster someone else runs: its client URLs, checked for health.
            self.urls = self
                .config
                .addrs
                .iter()
                .map(|a| a.trim_end_matches('/').to_string())
                .collect();
            self.names = (1..=self.urls.len()).map(|i| format!("n{i}")).collect();
            for u in &self.urls {
                let ok = matches!(http.get(format!("{u}/health")).send().await, Ok(r) if r.status().is_success());
                if !ok {
                    return Err(SubjectError::Unreachable(format!(
                        "etcd at {u} does not answer GET /health"
                    )));
                }
            }
            self.http = Some(http);
            return Ok(self.started(FaultSurface::default()));
        }
        let (specs, urls) = self.specs()?;
        self.names = specs.iter().map(|s| s.name.clone()).collect();
        self.specs = specs.clone();
        self.urls = urls;
        self.http = Some(
            reqwest::Client::builder()
                .no_proxy()
                .timeout(self.config.op_timeout)
                .build()
                .map_err(|e| SubjectError::Config(format!("HTTP client: {e}")))?,
        );
        let cluster =
            Cluster::start(specs, &self.config.nodes_dir, self.config.ready_timeout).await?;
        let faults = FaultSurface::of_cluster(&cluster);
        self.cluster = Some(cluster);
        Ok(self.started(faults))
    }

    async fn stop(&mut self) {
        if let Some(c) = &self.cluster {
            c.stop().await;
        }
    }

    fn describe(&self) -> Json {
        json!({
            "store": "etcd",
            "program": self.program.display().to_string(),
            "serializable_reads": self.serializable,
            "external": !self.config.addrs.is_empty(),
            "nodes": self.names.iter().zip(&self.urls).enumerate().map(|(i, (n, u))| json!({
                "name": n, "client_url": u,
                "command": self.specs.get(i).map(|s| s.launch.display()),
            })).collect::<Vec<_>>(),
        })
    }
}

/// A v3 JSON-gateway client for one etcd member.
#[derive(Debug)]
pub struct EtcdClient {
    http: reqwest::Client,
    url: String,
    node: Arc<str>,
    serializable: bool,
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

/// A register value as etcd stores it: its JSON text.
fn encode(v: &Value) -> String {
    b64(&v.to_json().to_string())
}

fn decode(s: &str) -> Result<Value, String> {
    let bytes = B64
        .decode(s)
        .map_err(|e| format!("bad base64 from etcd: {e}"))?;
    let v: Json = serde_json::from_slice(&bytes)
        .map_err(|e| format!("etcd holds a value faultline did not write: {e}"))?;
    Ok(Value::from_json(&v))
}

impl EtcdClient {
    async fn post(&self, path: &str, body: Json) -> Result<Json, (bool, String)> {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .map_err(|e| (e.is_connect(), e.to_string()))?;
        let status = r.status();
        let j: Json = r
            .json()
            .await
            .map_err(|e| (false, format!("{status}: unreadable answer: {e}")))?;
        if !status.is_success() || j.get("error").is_some() {
            return Err((false, format!("{status}: {j}")));
        }
        Ok(j)
    }

    async fn perform(&self, op: &Invocation) -> Result<Completion, (bool, String)> {
        let key = op
            .key
            .as_ref()
            .map(|k| match k.as_str() {
                Some(s) => s.to_string(),
                None => k.to_json().to_string(),
            })
            .unwrap_or_else(|| "register".into());
        let k64 = b64(&key);
        match (&op.f, op.data) {
            (F::Read, DataKind::Register) => {
                let mut body = json!({"key": k64});
                if self.serializable {
                    body["serializable"] = Json::Bool(true);
                }
                let j = self.post("/v3/kv/range", body).await?;
                let v = match j["kvs"].as_array().and_then(|a| a.first()) {
                    Some(kv) => decode(kv["value"].as_str().unwrap_or("")).map_err(|e| (false, e))?,
                    None => Value::Null,
                };
                Ok(Completion::ok(v))
            }
            (F::Write, DataKind::Register) => {
                self.post("/v3/kv/put", json!({"key": k64, "value": encode(&op.value)}))
                    .await?;
                Ok(Completion::ok(op.value.clone()))
            }
            (F::Cas, DataKind::Register) => {
                let Some([from, to]) = op.value.as_list().and_then(|l| <&[Value; 2]>::try_from(l).ok())
                else {
                    return Ok(Completion::unsupported(op.value.clone(), "cas value is not [expected, new]"));
                };
                let compare = if from.is_null() {
                    json!({"key": k64, "target": "CREATE", "result": "EQUAL", "create_revision": "0"})
                } else {
                    json!({"key": k64, "target": "VALUE", "result": "EQUAL", "value": encode(from)})
                };
                let j = self
                    .post(
                        "/v3/kv/txn",
                        json!({"compare": [compare], "success": [{"request_put": {"key": k64, "value": encode(to)}}]}),
                    )
                    .await?;
                if j.get("succeeded").and_then(Json::as_bool) == Some(true) {
                    Ok(Completion::ok(op.value.clone()))
                } else {
                    Ok(Completion::fail(op.value.clone(), "compare failed"))
                }
            }
            (F::Txn, DataKind::List | DataKind::TxnRegister) => Ok(super::etcd_txn::perform(&self.http, &self.url, op).await),
            (f, data) => Ok(Completion::unsupported(
                op.value.clone(),
                format!("etcd client has no {f} for {data:?} data (workloads: register, cas-register, kv)"),
            )),
        }
    }
}

#[async_trait::async_trait]
impl Client for EtcdClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let node = self.node.clone();
        match self.perform(op).await {
            Ok(c) => c.on(node),
            Err((true, e)) => Completion::fail(op.value.clone(), format!("not sent: {e}")).on(node),
            Err((false, e)) if op.f == F::Read => Completion::fail(op.value.clone(), e).on(node),
            Err((false, e)) => Completion::info(op.value.clone(), e).on(node),
        }
    }
}

/// etcd's kind: `--store etcd`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn about(&self) -> &'static str {
        "an etcd (Raft) cluster started from the installed etcd, or reached by --addrs"
    }

    fn options(&self) -> &'static [&'static str] {
        &["etcd-serializable-reads"]
    }

    fn workloads(&self) -> &'static [&'static str] {
        &[
            "register",
            "cas-register",
            "kv",
            "list-append",
            "rw-register",
        ]
    }

    /// Kill, pause and clock: clock faults reach etcd (a Go program) through its vDSO.
    fn default_faults(&self, s: &super::kind::StoreSettings) -> Vec<nemesis::Fault> {
        use nemesis::Fault::*;
        let takes = self.faults(s);
        [Kill, Pause, Clock]
            .into_iter()
            .filter(|f| takes.contains(f))
            .collect()
    }

    fn faults(&self, s: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        if s.external() {
            &[]
        } else {
            nemesis::Fault::ON_ANY_STORE
        }
    }

    /// Members must reach each other at the very peer URLs they advertise (the
    /// cluster's member ids are derived from them), so per-link proxy addresses cannot
    /// work: etcd is partitioned in namespaces.
    fn network_needs(&self) -> super::NetworkNeeds {
        super::NetworkNeeds {
            services: 2,
            mechanism: Some(nemesis::Mechanism::Namespaces),
            routed: false,
            from_layout: true,
        }
    }

    fn check(&self, s: &super::kind::StoreSettings) -> Result<(), String> {
        if s.nodes == 0 {
            return Err("--nodes 0: expected at least 1".into());
        }
        if let Some(v) = s.option("etcd-serializable-reads") {
            super::kind::one_of(
                "etcd-serializable-reads",
                v,
                &["true", "false", "on", "off", "yes", "no", "1", "0"],
            )?;
        }
        if !s.external() && s.bin.is_none() && super::binary::locate("etcd").is_none() {
            return Err(
                "etcd is not installed (Debian: apt-get install etcd-server); or pass --bin PATH"
                    .into(),
            );
        }
        Ok(())
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(Etcd::new(config)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_base64_json_text() {
        for v in [Value::Int(42), Value::str("x"), Value::Null] {
            assert_eq!(decode(&encode(&v)).unwrap(), v);
        }
        assert!(decode("!!").is_err());
    }
}

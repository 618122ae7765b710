//! `--store http --addrs URL,...`: an existing cluster that speaks the HTTP-KV
//! protocol (docs/http-kv.md). faultline neither starts nor stops it; it checks that
//! every node answers `GET /health` before the test.
//!
//! [`HttpNodes`] (node names, base URLs, a shared connection pool) is also used by
//! every subject whose nodes speak HTTP-KV.

use std::sync::Arc;
use std::time::Duration;

use crate::client::http::HttpPool;
use crate::client::Client;
use crate::cluster::{probe, ReadyCheck};
use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectConfig, SubjectError};

/// Nodes that speak HTTP-KV: names, base URLs and a pool of connections.
#[derive(Clone, Debug)]
pub struct HttpNodes {
    names: Vec<Arc<str>>,
    urls: Vec<String>,
    pool: HttpPool,
}

impl HttpNodes {
    /// Nodes `names` at base URLs `urls` (same length), requests timing out after `timeout`.
    pub fn new(
        names: Vec<String>,
        urls: Vec<String>,
        timeout: Duration,
    ) -> Result<HttpNodes, SubjectError> {
        let pool = HttpPool::new(timeout)
            .map_err(|e| SubjectError::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(HttpNodes {
            names: names.into_iter().map(Arc::from).collect(),
            urls,
            pool,
        })
    }

    /// The nodes' names.
    pub fn names(&self) -> Vec<String> {
        self.names.iter().map(|n| n.to_string()).collect()
    }

    /// The base URLs.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// A client for node number `node` (wrapping around).
    pub fn client(&self, node: usize) -> Box<dyn Client> {
        let i = node % self.urls.len().max(1);
        Box::new(self.pool.client(self.names[i].clone(), &self.urls[i]))
    }

    /// What a subject whose nodes these are hands the run once they are ready: their
    /// names, clients of them, and `faults`.
    pub fn started(&self, faults: FaultSurface) -> Started {
        let nodes = self.clone();
        Started {
            nodes: self.names(),
            clients: Arc::new(move |node, _process| nodes.client(node)),
            faults,
        }
    }
}

/// An existing HTTP-KV cluster.
#[derive(Debug)]
pub struct HttpSubject {
    nodes: HttpNodes,
    ready_timeout: Duration,
}

impl HttpSubject {
    /// The cluster at `config.addrs`.
    pub fn new(config: &SubjectConfig) -> Result<HttpSubject, SubjectError> {
        if config.addrs.is_empty() {
            return Err(SubjectError::Config(
                "--store http needs --addrs URL,... (the nodes' base URLs, e.g. http://127.0.0.1:7001)"
                    .into(),
            ));
        }
        let mut urls = Vec::new();
        for a in &config.addrs {
            let url = if a.contains("://") {
                a.clone()
            } else {
                format!("http://{a}")
            };
            reqwest::Url::parse(&url).map_err(|e| {
                SubjectError::Config(format!("--addrs: \"{a}\" is not a URL ({e})"))
            })?;
            urls.push(url.trim_end_matches('/').to_string());
        }
        let names = (1..=urls.len()).map(|i| format!("n{i}")).collect();
        Ok(HttpSubject {
            nodes: HttpNodes::new(names, urls, config.op_timeout)?,
            ready_timeout: config.ready_timeout,
        })
    }
}

#[async_trait::async_trait]
impl Subject for HttpSubject {
    fn name(&self) -> &str {
        "http"
    }

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .no_proxy()
            .build()
            .map_err(|e| SubjectError::Config(format!("cannot build an HTTP client: {e}")))?;
        let deadline = tokio::time::Instant::now() + self.ready_timeout;
        for url in self.nodes.urls() {
            let check = ReadyCheck::Http(format!("{url}/health"));
            while !probe(&http, &check).await {
                if tokio::time::Instant::now() >= deadline {
                    return Err(SubjectError::Unreachable(format!(
                        "{url} did not answer GET /health with 2xx within {:?}",
                        self.ready_timeout
                    )));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(self.nodes.started(FaultSurface::default()))
    }

    async fn stop(&mut self) {}

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "store": "http", "addrs": self.nodes.urls() })
    }
}

/// An existing HTTP-KV cluster's kind: `--store http --addrs URL,...`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

impl super::kind::StoreKind for Kind {
    fn name(&self) -> &'static str {
        "http"
    }

    fn about(&self) -> &'static str {
        "an HTTP-KV cluster that runs already, reached by --addrs (no faults)"
    }

    fn workloads(&self) -> &'static [&'static str] {
        workloads::HTTP_KV_NAMES
    }

    fn faults(&self, _settings: &super::kind::StoreSettings) -> &'static [nemesis::Fault] {
        &[]
    }

    fn check(&self, s: &super::kind::StoreSettings) -> Result<(), String> {
        if s.addrs.is_empty() {
            return Err(
                "--store http needs --addrs URL,... (the nodes' base URLs, e.g. http://127.0.0.1:7001)"
                    .into(),
            );
        }
        for a in s.addrs {
            let url = if a.contains("://") {
                a.clone()
            } else {
                format!("http://{a}")
            };
            reqwest::Url::parse(&url)
                .map_err(|e| format!("--addrs: \"{a}\" is not a URL ({e})"))?;
        }
        Ok(())
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(HttpSubject::new(config)?))
    }
}

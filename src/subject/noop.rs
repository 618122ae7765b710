//! A subject with no store behind it: every client is a
//! [`NoopClient`](crate::client::noop::NoopClient). For measuring the driver itself
//! (benchmarks); `faultline run` does not offer it, as its histories mean nothing.

use crate::client::noop::NoopClient;
use crate::client::Client;
use crate::cluster::Cluster;

use super::{Subject, SubjectError};

/// `nodes` imaginary nodes that answer every operation at once.
#[derive(Debug, Clone)]
pub struct NoopSubject {
    /// How many nodes to pretend.
    pub nodes: usize,
}

#[async_trait::async_trait]
impl Subject for NoopSubject {
    fn name(&self) -> &str {
        "noop"
    }

    async fn start(&mut self) -> Result<(), SubjectError> {
        Ok(())
    }

    fn nodes(&self) -> Vec<String> {
        (1..=self.nodes).map(|i| format!("n{i}")).collect()
    }

    fn client(&self, _node: usize, _process: u64) -> Box<dyn Client> {
        Box::new(NoopClient)
    }

    fn cluster(&self) -> Option<&Cluster> {
        None
    }

    async fn stop(&mut self) {}

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "store": "noop", "nodes": self.nodes })
    }
}

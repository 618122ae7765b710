//! A subject with no store behind it: every client is a
//! [`NoopClient`](crate::client::noop::NoopClient). For measuring the driver itself
//! (benchmarks); `faultline run` does not offer it, as its histories mean nothing.

use std::sync::Arc;

use crate::client::noop::NoopClient;
use crate::client::Client;
use crate::recorder::Recorder;

use super::{FaultSurface, Started, Subject, SubjectError};

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

    async fn start(&mut self, _recorder: Recorder) -> Result<Started, SubjectError> {
        Ok(Started {
            nodes: (1..=self.nodes).map(|i| format!("n{i}")).collect(),
            clients: Arc::new(|_node, _process| Box::new(NoopClient) as Box<dyn Client>),
            faults: FaultSurface::default(),
        })
    }

    async fn stop(&mut self) {}

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "store": "noop", "nodes": self.nodes })
    }
}

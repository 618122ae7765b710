//! A client that talks to nothing: every operation is `ok` at once (a read returns
//! `null`, anything else its own value). For measuring the driver's own throughput.

use super::{Client, Completion, Invocation};
use checkers::{Value, F};

/// The no-op client.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoopClient;

#[async_trait::async_trait]
impl Client for NoopClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        match op.f {
            F::Read => Completion::ok(Value::Null),
            _ => Completion::ok(op.value.clone()),
        }
    }
}

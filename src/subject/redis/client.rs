//! The Redis client: writes (`SADD`, `SET`) go to the node the [`RedisControl`] names
//! primary, reads (`SMEMBERS`, `GET`) to the client's own node; with `WAIT N` after
//! each write when asked. A server error (e.g. READONLY) rejected the command: `fail`;
//! a lost connection after sending a write: `info`.

use std::sync::Arc;
use std::time::Duration;

use checkers::{Value, F};
use serde_json::Value as Json;

use crate::client::{Client, Completion, DataKind, Invocation};

use super::{connect, RedisControl};

/// A client: writes go to the current primary, reads to its own node.
pub struct RedisClient {
    pub(super) control: Arc<RedisControl>,
    pub(super) node: usize,
    pub(super) wait: Option<u32>,
    pub(super) timeout: Duration,
    pub(super) conns: Vec<Option<redis::aio::MultiplexedConnection>>,
}

impl RedisClient {
    async fn conn(
        &mut self,
        i: usize,
    ) -> redis::RedisResult<&mut redis::aio::MultiplexedConnection> {
        if self.conns[i].is_none() {
            self.conns[i] = Some(connect(self.control.ports[i], self.timeout).await?);
        }
        Ok(self.conns[i].as_mut().expect("just set"))
    }

    async fn perform(&mut self, op: &Invocation) -> Completion {
        let key = op
            .key
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or("register")
            .to_string();
        let write = op.f != F::Read;
        let target = if write {
            self.control.primary()
        } else {
            self.node
        };
        let name = format!("n{}", target + 1);
        let wait = self.wait;
        let conn = match self.conn(target).await {
            Ok(c) => c,
            Err(e) => {
                return Completion::fail(op.value.clone(), format!("cannot connect: {e}")).on(name)
            }
        };
        let cmd = match (op.data, &op.f) {
            (DataKind::Set, F::Add) => redis::cmd("SADD")
                .arg(&key)
                .arg(op.value.to_json().to_string())
                .clone(),
            (DataKind::Set, F::Read) => redis::cmd("SMEMBERS").arg(&key).clone(),
            (DataKind::Register, F::Write) => redis::cmd("SET")
                .arg(&key)
                .arg(op.value.to_json().to_string())
                .clone(),
            (DataKind::Register, F::Read) => redis::cmd("GET").arg(&key).clone(),
            (data, f) => {
                return Completion::unsupported(
                    op.value.clone(),
                    format!(
                        "the redis client has no {f} for {data:?} data (workloads: set, register)"
                    ),
                )
            }
        };
        let reply: redis::RedisResult<redis::Value> = cmd.query_async(conn).await;
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                self.conns[target] = None;
                // A server error (READONLY, ...) rejected the command before it ran.
                return if !write || e.kind() == redis::ErrorKind::ReadOnly || e.code().is_some() {
                    Completion::fail(op.value.clone(), e.to_string()).on(name)
                } else {
                    Completion::info(op.value.clone(), e.to_string()).on(name)
                };
            }
        };
        if write {
            if let Some(n) = wait {
                let ms = self.timeout.as_millis().saturating_sub(100).max(1) as u64;
                let conn = self.conns[target].as_mut().expect("connected");
                let acks: redis::RedisResult<i64> =
                    redis::cmd("WAIT").arg(n).arg(ms).query_async(conn).await;
                match acks {
                    Ok(a) if a >= i64::from(n) => {}
                    Ok(a) => {
                        return Completion::info(
                            op.value.clone(),
                            format!("WAIT: {a} of {n} replicas acknowledged"),
                        )
                        .on(name)
                    }
                    Err(e) => {
                        return Completion::info(op.value.clone(), format!("WAIT: {e}")).on(name)
                    }
                }
            }
            return Completion::ok(op.value.clone()).on(name);
        }
        let parse = |s: &str| serde_json::from_str::<Json>(s).map(|j| Value::from_json(&j));
        match op.data {
            DataKind::Set => match redis::from_redis_value::<Vec<String>>(&reply) {
                Ok(members) => {
                    let mut v: Vec<Value> = members.iter().filter_map(|m| parse(m).ok()).collect();
                    v.sort_by_key(Value::as_int);
                    Completion::ok(Value::List(v)).on(name)
                }
                Err(e) => Completion::fail(op.value.clone(), e.to_string()).on(name),
            },
            _ => match redis::from_redis_value::<Option<String>>(&reply) {
                Ok(None) => Completion::ok(Value::Null).on(name),
                Ok(Some(s)) => match parse(&s) {
                    Ok(v) => Completion::ok(v).on(name),
                    Err(e) => Completion::fail(op.value.clone(), e.to_string()).on(name),
                },
                Err(e) => Completion::fail(op.value.clone(), e.to_string()).on(name),
            },
        }
    }
}

#[async_trait::async_trait]
impl Client for RedisClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        self.perform(op).await
    }
}

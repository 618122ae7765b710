//! A client for the HTTP-KV protocol (docs/http-kv.md), spoken by `faultline-store`
//! and by any store behind a thin shim.
//!
//! How a response becomes `ok` / `fail` / `info` follows the protocol's table: `2xx`
//! ok; `4xx` fail (a `404`/`501` "unsupported" stops the test); `5xx` with
//! `"definite": true` fail; any other `5xx`, a timeout or a connection lost after the
//! request was sent: info; connection refused: fail. A read that fails in any way
//! changed nothing and is recorded as `fail`.

use std::sync::Arc;
use std::time::Duration;

use checkers::{Value, F};
use reqwest::StatusCode;

use super::{Client, Completion, DataKind, Invocation};

/// A pool of connections to the nodes of one cluster, shared by every process.
#[derive(Clone, Debug)]
pub struct HttpPool {
    http: reqwest::Client,
}

impl HttpPool {
    /// A pool whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> reqwest::Result<HttpPool> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(2)))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .no_proxy()
            .build()?;
        Ok(HttpPool { http })
    }

    /// A client for node `node` at `base` (e.g. `http://127.0.0.1:7001`).
    pub fn client(&self, node: Arc<str>, base: &str) -> HttpClient {
        HttpClient {
            http: self.http.clone(),
            base: base.trim_end_matches('/').to_string(),
            node,
        }
    }
}

/// One logical process's client for one node.
#[derive(Debug)]
pub struct HttpClient {
    http: reqwest::Client,
    base: String,
    node: Arc<str>,
}

/// The request for an invocation: path and JSON body.
fn request(op: &Invocation) -> Result<(&'static str, serde_json::Value), String> {
    use serde_json::json;
    let key = op.key.as_ref().map(Value::to_json).unwrap_or_default();
    let v = op.value.to_json();
    Ok(match (op.data, &op.f) {
        (DataKind::Register, F::Read) => ("/kv/read", json!({ "key": key })),
        (DataKind::Register, F::Write) => ("/kv/write", json!({ "key": key, "value": v })),
        (DataKind::Register, F::Append) => ("/kv/append", json!({ "key": key, "value": v })),
        (DataKind::Register, F::Cas) => match op.value.as_list() {
            Some([e, n]) => (
                "/kv/cas",
                json!({ "key": key, "expected": e.to_json(), "new": n.to_json() }),
            ),
            _ => return Err(format!("cas value {} is not [expected, new]", op.value)),
        },
        (DataKind::Set, F::Add) => ("/set/add", json!({ "key": key, "element": v })),
        (DataKind::Set, F::Read) => ("/set/read", json!({ "key": key })),
        (DataKind::Counter, F::Add) => ("/counter/add", json!({ "key": key, "delta": v })),
        (DataKind::Counter, F::Read) => ("/counter/read", json!({ "key": key })),
        (_, F::Txn) => ("/txn", json!({ "ops": v })),
        (data, f) => return Err(format!("no HTTP-KV request for {f} on {data:?} data")),
    })
}

#[async_trait::async_trait]
impl Client for HttpClient {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let node = self.node.clone();
        let (path, body) = match request(op) {
            Ok(r) => r,
            Err(e) => return Completion::unsupported(op.value.clone(), e).on(node),
        };
        let is_read = op.f == F::Read;
        let url = format!("{}{}", self.base, path);
        let uncertain = |value: Value, why: String| {
            if is_read {
                Completion::fail(value, why)
            } else {
                Completion::info(value, why)
            }
        };
        let resp = match self.http.post(&url).json(&body).send().await {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return Completion::fail(op.value.clone(), format!("connect: {}", root(&e)))
                    .on(node)
            }
            Err(e) if e.is_timeout() => {
                return uncertain(op.value.clone(), "timeout".into()).on(node)
            }
            Err(e) => return uncertain(op.value.clone(), root(&e)).on(node),
        };
        let status = resp.status();
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) if status.is_success() || status.is_server_error() => {
                return uncertain(
                    op.value.clone(),
                    format!("reading the response: {}", root(&e)),
                )
                .on(node)
            }
            Err(_) => Default::default(),
        };
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status.is_success() {
            let value = match op.f {
                F::Read | F::Txn => match json.get("value") {
                    Some(v) => Value::from_json(v),
                    None => {
                        return uncertain(
                            op.value.clone(),
                            format!("a 2xx answer without \"value\": {}", text(&bytes)),
                        )
                        .on(node)
                    }
                },
                _ => op.value.clone(),
            };
            return Completion::ok(value).on(node);
        }
        let error = json
            .get("error")
            .and_then(|e| e.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{status}: {}", text(&bytes)));
        let definite = json.get("definite").and_then(|d| d.as_bool()) == Some(true);
        if matches!(status, StatusCode::NOT_FOUND | StatusCode::NOT_IMPLEMENTED)
            && (error == "unsupported" || definite)
        {
            return Completion::unsupported(op.value.clone(), format!("{path} ({status})"))
                .on(node);
        }
        if status.is_client_error() || definite {
            Completion::fail(op.value.clone(), error).on(node)
        } else {
            uncertain(op.value.clone(), error).on(node)
        }
    }
}

/// The innermost cause of a reqwest error, which says what happened
/// ("Connection refused", "connection reset by peer").
fn root(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

fn text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    s.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn inv(data: DataKind, f: F, value: Value) -> Invocation {
        Invocation {
            process: 0,
            data,
            f,
            key: Some(Value::str("k1")),
            value,
        }
    }

    #[test]
    fn each_operation_maps_to_its_protocol_request() {
        let (p, b) = request(&inv(
            DataKind::Register,
            F::Cas,
            Value::List(vec![Value::Int(1), Value::Int(2)]),
        ))
        .unwrap();
        assert_eq!(p, "/kv/cas");
        assert_eq!(b, serde_json::json!({"key":"k1","expected":1,"new":2}));
        let (p, b) = request(&inv(DataKind::Set, F::Add, Value::Int(4))).unwrap();
        assert_eq!(
            (p, b),
            ("/set/add", serde_json::json!({"key":"k1","element":4}))
        );
        let (p, _) = request(&inv(DataKind::Counter, F::Read, Value::Null)).unwrap();
        assert_eq!(p, "/counter/read");
        assert!(request(&inv(DataKind::Set, F::Cas, Value::Null)).is_err());
    }

    /// What the one-shot server does with the request it reads.
    enum Reply {
        Answer(u16, &'static str),
        Hang,
        Close,
    }

    /// A server on a real loopback socket that answers one request as told.
    async fn server(reply: Reply) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            match reply {
                Reply::Answer(code, body) => {
                    let text = format!(
                        "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(text.as_bytes()).await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Reply::Hang => tokio::time::sleep(Duration::from_secs(5)).await,
                Reply::Close => drop(s),
            }
        });
        format!("http://{addr}")
    }

    async fn outcome(reply: Reply, f: F) -> Completion {
        let base = server(reply).await;
        let pool = HttpPool::new(Duration::from_millis(300)).unwrap();
        let mut c = pool.client(Arc::from("n1"), &base);
        let value = if f == F::Read {
            Value::Null
        } else {
            Value::Int(5)
        };
        c.invoke(&inv(DataKind::Register, f, value)).await
    }

    #[tokio::test]
    async fn responses_map_to_ok_fail_and_info_as_the_protocol_says() {
        use crate::client::Ending::*;
        let ok = outcome(Reply::Answer(200, r#"{"value":7}"#), F::Read).await;
        assert_eq!((ok.ending, ok.value), (Ok, Value::Int(7)));
        let mismatch = outcome(Reply::Answer(409, r#"{"error":"cas-mismatch"}"#), F::Write).await;
        assert_eq!(mismatch.ending, Fail);
        assert_eq!(mismatch.error.as_deref(), Some("cas-mismatch"));
        let definite = outcome(
            Reply::Answer(503, r#"{"error":"no","definite":true}"#),
            F::Write,
        )
        .await;
        assert_eq!(definite.ending, Fail);
        let quorum = outcome(
            Reply::Answer(503, r#"{"error":"quorum not reached"}"#),
            F::Write,
        )
        .await;
        assert_eq!(quorum.ending, Info);
        let quorum_read = outcome(
            Reply::Answer(503, r#"{"error":"quorum not reached"}"#),
            F::Read,
        )
        .await;
        assert_eq!(quorum_read.ending, Fail, "a failed read changed nothing");
        let timeout = outcome(Reply::Hang, F::Write).await;
        assert_eq!(timeout.ending, Info);
        let reset = outcome(Reply::Close, F::Write).await;
        assert_eq!(reset.ending, Info, "{reset:?}");
        let unsupported = outcome(
            Reply::Answer(501, r#"{"error":"unsupported","definite":true}"#),
            F::Write,
        )
        .await;
        assert!(unsupported.is_unsupported(), "{unsupported:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_definite_failure() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        drop(l);
        let pool = HttpPool::new(Duration::from_millis(300)).unwrap();
        let mut c = pool.client(Arc::from("n1"), &base);
        let done = c
            .invoke(&inv(DataKind::Register, F::Write, Value::Int(1)))
            .await;
        assert_eq!(done.ending, crate::client::Ending::Fail, "{done:?}");
        assert_eq!(done.node.as_deref(), Some("n1"));
    }
}

//! Transactions over etcd (`--store etcd --workload list-append|rw-register`): each
//! `txn` op is an optimistic transaction on etcd's v3 txn API, as etcd's own STM does
//! it, so a history is strict serializable exactly when etcd is.
//!
//! 1. Read: one `/v3/kv/txn` with a range of every key the op touches (one atomic,
//!    linearizable read at one revision), noting each key's `mod_revision` (0: absent).
//! 2. Run the micro-ops against those values locally (a read sees the txn's own
//!    earlier appends and writes).
//! 3. Commit, when the op writes: one `/v3/kv/txn` comparing every key's
//!    `mod_revision` with what was read, and putting each written key's new value.
//!    A read-only op is done after step 1.
//!
//! A list is stored as the JSON text of its elements (`[1,2,3]`), a register as the
//! JSON text of its value. Outcomes: a failed compare (someone wrote a key since the
//! read), a refused connection or any error before the commit was sent did not write
//! (`fail`); a timeout or error once the commit was sent may have written (`info`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use checkers::Value;
use serde_json::{json, Value as Json};

use crate::client::{Completion, DataKind, Invocation};

/// Performs the `txn` op `op` against the member at `url`.
pub async fn perform(http: &reqwest::Client, url: &str, op: &Invocation) -> Completion {
    let Some(mops) = parse(&op.value) else {
        return Completion::unsupported(
            op.value.clone(),
            "a txn's value is not a list of [f, key, value] micro-ops",
        );
    };
    let lists = op.data != DataKind::TxnRegister;
    // 1. Read every key at one revision.
    let mut keys: Vec<String> = Vec::new();
    for m in &mops {
        if !keys.contains(&m.key) {
            keys.push(m.key.clone());
        }
    }
    let ranges: Vec<Json> = keys
        .iter()
        .map(|k| json!({"request_range": {"key": b64(k)}}))
        .collect();
    let read = match post(http, url, json!({"success": ranges})).await {
        Ok(j) => j,
        Err(e) => return Completion::fail(op.value.clone(), format!("read: {e}")),
    };
    let mut state: Vec<(Value, String)> = Vec::with_capacity(keys.len()); // (value, mod_revision)
    for (i, _) in keys.iter().enumerate() {
        let kv = read["responses"][i]["response_range"]["kvs"]
            .as_array()
            .and_then(|a| a.first().cloned());
        let (value, revision) = match kv {
            Some(kv) => match decode(kv["value"].as_str().unwrap_or("")) {
                Ok(v) => (v, kv["mod_revision"].as_str().unwrap_or("0").to_string()),
                Err(e) => return Completion::fail(op.value.clone(), e),
            },
            None if lists => (Value::List(Vec::new()), "0".to_string()),
            None => (Value::Null, "0".to_string()),
        };
        state.push((value, revision));
    }
    // 2. The micro-ops, locally.
    let mut written = vec![false; keys.len()];
    let mut done = Vec::with_capacity(mops.len());
    for m in &mops {
        let i = keys
            .iter()
            .position(|k| *k == m.key)
            .expect("every key was read");
        let result = match (m.f.as_str(), lists) {
            ("r", _) => state[i].0.clone(),
            ("append", true) => {
                let mut l = state[i]
                    .0
                    .as_list()
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                l.push(m.value.clone());
                state[i].0 = Value::List(l);
                written[i] = true;
                m.value.clone()
            }
            ("w", false) => {
                state[i].0 = m.value.clone();
                written[i] = true;
                m.value.clone()
            }
            (f, _) => {
                return Completion::unsupported(
                    op.value.clone(),
                    format!(
                        "micro-op {f} on etcd {}",
                        if lists { "lists" } else { "registers" }
                    ),
                )
            }
        };
        done.push(Value::List(vec![
            Value::str(&m.f),
            m.raw_key.clone(),
            result,
        ]));
    }
    if !written.contains(&true) {
        return Completion::ok(Value::List(done));
    }
    // 3. Commit if nothing changed since the read.
    let compare: Vec<Json> = keys
        .iter()
        .zip(&state)
        .map(|(k, (_, rev))| {
            json!({"key": b64(k), "target": "MOD", "result": "EQUAL", "mod_revision": rev})
        })
        .collect();
    let puts: Vec<Json> = keys
        .iter()
        .zip(&state)
        .zip(&written)
        .filter(|(_, w)| **w)
        .map(|((k, (v, _)), _)| {
            json!({"request_put": {"key": b64(k), "value": b64(&v.to_json().to_string())}})
        })
        .collect();
    match post(http, url, json!({"compare": compare, "success": puts})).await {
        Ok(j) if j.get("succeeded").and_then(Json::as_bool) == Some(true) => {
            Completion::ok(Value::List(done))
        }
        Ok(_) => Completion::fail(
            op.value.clone(),
            "a key changed since the read (compare failed)",
        ),
        Err(PostError::NotSent(e)) => Completion::fail(op.value.clone(), format!("not sent: {e}")),
        Err(e) => Completion::info(op.value.clone(), format!("commit: {e}")),
    }
}

/// One micro-op of an invocation.
struct Mop {
    f: String,
    key: String,
    raw_key: Value,
    value: Value,
}

fn parse(value: &Value) -> Option<Vec<Mop>> {
    value
        .as_list()?
        .iter()
        .map(|m| {
            let m = m.as_list().filter(|m| m.len() == 3)?;
            Some(Mop {
                f: m[0].as_str()?.to_string(),
                key: match m[1].as_str() {
                    Some(s) => s.to_string(),
                    None => m[1].to_json().to_string(),
                },
                raw_key: m[1].clone(),
                value: m[2].clone(),
            })
        })
        .collect()
}

/// Why a request to etcd did not get an answer.
#[derive(Debug)]
enum PostError {
    /// The connection was refused: the request never reached etcd.
    NotSent(String),
    /// Sent, but the answer is missing or an error.
    Failed(String),
}

impl std::fmt::Display for PostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PostError::NotSent(e) | PostError::Failed(e) => f.write_str(e),
        }
    }
}

async fn post(http: &reqwest::Client, url: &str, body: Json) -> Result<Json, PostError> {
    let r = http
        .post(format!("{url}/v3/kv/txn"))
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                PostError::NotSent(e.to_string())
            } else {
                PostError::Failed(e.to_string())
            }
        })?;
    let status = r.status();
    let j: Json = r
        .json()
        .await
        .map_err(|e| PostError::Failed(format!("{status}: unreadable answer: {e}")))?;
    if !status.is_success() || j.get("error").is_some() {
        return Err(PostError::Failed(format!("{status}: {j}")));
    }
    Ok(j)
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

fn decode(s: &str) -> Result<Value, String> {
    let bytes = B64
        .decode(s)
        .map_err(|e| format!("bad base64 from etcd: {e}"))?;
    let v: Json = serde_json::from_slice(&bytes)
        .map_err(|e| format!("etcd holds a value faultline did not write: {e}"))?;
    Ok(Value::from_json(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_ops_are_parsed_with_their_keys_as_text() {
        let v = Value::from_json(&json!([["append", "k1", 3], ["r", 7, null]]));
        let m = parse(&v).unwrap();
        assert_eq!((m[0].f.as_str(), m[0].key.as_str()), ("append", "k1"));
        assert_eq!(m[1].key, "7");
        assert!(parse(&Value::from_json(&json!([["r", "k"]]))).is_none());
    }

    #[test]
    fn stored_values_round_trip() {
        let l = Value::from_json(&json!([1, 2]));
        assert_eq!(decode(&b64(&l.to_json().to_string())).unwrap(), l);
    }
}

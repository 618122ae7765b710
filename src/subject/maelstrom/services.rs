//! The key-value services Maelstrom offers its nodes, run in-process by faultline's
//! router: `lin-kv`, `seq-kv` and `lww-kv`. Each answers `read`, `write` and `cas`
//! (with `create_if_not_exists`), with Maelstrom's error codes 20
//! (key-does-not-exist) and 22 (precondition-failed).
//!
//! All three are served by one linearizable map per service. A linearizable store is
//! a correct (if strongest possible) implementation of the sequential and
//! last-write-wins contracts too, so a node that is correct against them here is not
//! proven correct against a weaker real `seq-kv`; a node that is wrong here is wrong.

use std::collections::HashMap;

use serde_json::{json, Value as Json};

use super::protocol::{error_body, ErrorCode, Message};

/// The names of the services.
pub const SERVICES: &[&str] = &["lin-kv", "seq-kv", "lww-kv"];

/// One service's state: a map from key (its JSON text) to value.
#[derive(Debug, Default)]
pub struct KvService {
    data: HashMap<String, Json>,
}

impl KvService {
    /// Handles one request and returns the reply body.
    pub fn handle(&mut self, m: &Message) -> Json {
        let body = &m.body;
        let Some(key) = body.get("key") else {
            return error_body(ErrorCode::MalformedRequest, "missing key");
        };
        let key = key.to_string();
        match m.kind() {
            Some("read") => match self.data.get(&key) {
                Some(v) => json!({"type": "read_ok", "value": v}),
                None => error_body(ErrorCode::KeyDoesNotExist, "key does not exist"),
            },
            Some("write") => {
                let v = body.get("value").cloned().unwrap_or(Json::Null);
                self.data.insert(key, v);
                json!({"type": "write_ok"})
            }
            Some("cas") => {
                let from = body.get("from").cloned().unwrap_or(Json::Null);
                let to = body.get("to").cloned().unwrap_or(Json::Null);
                let create = body
                    .get("create_if_not_exists")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                match self.data.get(&key) {
                    None if create => {
                        self.data.insert(key, to);
                        json!({"type": "cas_ok"})
                    }
                    None => error_body(ErrorCode::KeyDoesNotExist, "key does not exist"),
                    Some(cur) if *cur == from => {
                        self.data.insert(key, to);
                        json!({"type": "cas_ok"})
                    }
                    Some(cur) => error_body(
                        ErrorCode::PreconditionFailed,
                        &format!("expected {from}, but had {cur}"),
                    ),
                }
            }
            other => error_body(
                ErrorCode::NotSupported,
                &format!("{} does not support {:?}", m.dest, other),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: Json) -> Message {
        Message {
            src: "n0".into(),
            dest: "lin-kv".into(),
            body,
        }
    }

    #[test]
    fn reads_writes_and_cas_follow_maelstroms_error_codes() {
        let mut s = KvService::default();
        let r = s.handle(&req(json!({"type":"read","key":"x"})));
        assert_eq!(r["code"], 20);
        let r = s.handle(&req(json!({"type":"cas","key":"x","from":1,"to":2})));
        assert_eq!(r["code"], 20);
        let r = s.handle(&req(
            json!({"type":"cas","key":"x","from":1,"to":2,"create_if_not_exists":true}),
        ));
        assert_eq!(r["type"], "cas_ok");
        let r = s.handle(&req(json!({"type":"cas","key":"x","from":1,"to":3})));
        assert_eq!(r["code"], 22);
        s.handle(&req(json!({"type":"write","key":"x","value":5})));
        let r = s.handle(&req(json!({"type":"read","key":"x"})));
        assert_eq!(r["value"], 5);
    }
}

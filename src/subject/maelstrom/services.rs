//! The key-value services Maelstrom offers its nodes, run in-process by faultline's
//! router: `lin-kv`, `seq-kv` and `lww-kv`. Each answers `read`, `write` and `cas`
//! (with `create_if_not_exists`), with Maelstrom's error codes 20
//! (key-does-not-exist) and 22 (precondition-failed).
//!
//! With [`Strength::Maelstrom`] (the default) each is as strong as Maelstrom's and
//! no stronger: `lin-kv` is one linearizable map; `seq-kv` ([`seq_kv`]) is
//! sequentially consistent and serves reads from past states; `lww-kv` ([`lww_kv`])
//! is several replicas merging by last write wins. A node that wrongly relies on
//! `seq-kv` or `lww-kv` being linearizable is caught, as it would be under
//! Maelstrom. [`Strength::Strong`] (`--maelstrom-services strong`) serves all three
//! from one linearizable map each, for nodes known to need only that.
//!
//! Modules: [`request`] (a request parsed, and the linearizable semantics on a map),
//! [`seq_kv`], [`lww_kv`].

pub mod lww_kv;
pub mod request;
pub mod seq_kv;

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value as Json;

use super::protocol::Message;
use request::Request;

/// The names of the services.
pub const SERVICES: &[&str] = &["lin-kv", "seq-kv", "lww-kv"];

/// How strong the services are (`--maelstrom-services`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strength {
    /// As Maelstrom's: `seq-kv` sequential, `lww-kv` last-write-wins replicas.
    #[default]
    Maelstrom,
    /// Every service linearizable.
    Strong,
}

impl Strength {
    /// The `--maelstrom-services` values.
    pub const NAMES: &'static [&'static str] = &["maelstrom", "strong"];

    /// The strength called `name`.
    pub fn parse(name: &str) -> Option<Strength> {
        match name {
            "maelstrom" => Some(Strength::Maelstrom),
            "strong" => Some(Strength::Strong),
            _ => None,
        }
    }
}

/// One service's state.
#[derive(Debug)]
pub enum KvService {
    /// One linearizable map from key (its JSON text) to value.
    Linearizable(HashMap<String, Json>),
    /// Maelstrom's `seq-kv`.
    Sequential(seq_kv::SeqKv),
    /// Maelstrom's `lww-kv`.
    LastWriteWins(lww_kv::LwwKv),
}

impl Default for KvService {
    fn default() -> KvService {
        KvService::Linearizable(HashMap::new())
    }
}

impl KvService {
    /// The service called `name` (one of [`SERVICES`]) at `strength`, empty.
    pub fn new(name: &str, strength: Strength) -> KvService {
        match (name, strength) {
            ("seq-kv", Strength::Maelstrom) => {
                KvService::Sequential(seq_kv::SeqKv::new(seq_kv::DEFAULT_LAG))
            }
            ("lww-kv", Strength::Maelstrom) => {
                KvService::LastWriteWins(lww_kv::LwwKv::new(lww_kv::REPLICAS, Instant::now()))
            }
            _ => KvService::default(),
        }
    }

    /// Handles one request and returns the reply body.
    pub fn handle(&mut self, m: &Message) -> Json {
        let req = match Request::parse(m) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        match self {
            KvService::Linearizable(map) => request::apply(map, &req).0,
            KvService::Sequential(s) => s.handle(&m.src, &req, Instant::now()),
            KvService::LastWriteWins(s) => s.handle(&req, Instant::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

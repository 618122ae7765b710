//! One key-value request to a service, parsed ([`Request`]), and how it acts on a
//! plain map ([`apply`]): the linearizable semantics every service builds on.

use std::collections::HashMap;

use serde_json::{json, Value as Json};

use crate::subject::maelstrom::protocol::{error_body, ErrorCode, Message};

/// What a request asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// `read {key}`.
    Read { key: String },
    /// `write {key, value}`.
    Write { key: String, value: Json },
    /// `cas {key, from, to, create_if_not_exists}`.
    Cas {
        key: String,
        from: Json,
        to: Json,
        create: bool,
    },
}

impl Request {
    /// The request in `m`, or the error reply it gets.
    pub fn parse(m: &Message) -> Result<Request, Json> {
        let body = &m.body;
        let Some(key) = body.get("key") else {
            return Err(error_body(ErrorCode::MalformedRequest, "missing key"));
        };
        let key = key.to_string();
        let field = |name: &str| body.get(name).cloned().unwrap_or(Json::Null);
        match m.kind() {
            Some("read") => Ok(Request::Read { key }),
            Some("write") => Ok(Request::Write {
                key,
                value: field("value"),
            }),
            Some("cas") => Ok(Request::Cas {
                key,
                from: field("from"),
                to: field("to"),
                create: body
                    .get("create_if_not_exists")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            }),
            other => Err(error_body(
                ErrorCode::NotSupported,
                &format!("{} does not support {:?}", m.dest, other),
            )),
        }
    }

    /// The key it names.
    pub fn key(&self) -> &str {
        match self {
            Request::Read { key } | Request::Write { key, .. } | Request::Cas { key, .. } => key,
        }
    }
}

/// What a request did to the map it was applied to.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Nothing changed (a read, or a cas that failed).
    None,
    /// The key now holds this value.
    Set(Json),
}

/// `req` applied to `map`: the reply body and what changed. Errors as Maelstrom's:
/// 20 when the key does not exist, 22 when a cas's `from` is not what it holds.
pub fn apply(map: &mut HashMap<String, Json>, req: &Request) -> (Json, Effect) {
    let (reply, effect) = answer(map.get(req.key()), req);
    if let Effect::Set(v) = &effect {
        map.insert(req.key().to_string(), v.clone());
    }
    (reply, effect)
}

/// The reply to `req` against a key holding `current`, and what it would change.
pub fn answer(current: Option<&Json>, req: &Request) -> (Json, Effect) {
    match req {
        Request::Read { .. } => match current {
            Some(v) => (json!({"type": "read_ok", "value": v}), Effect::None),
            None => (missing(), Effect::None),
        },
        Request::Write { value, .. } => (json!({"type": "write_ok"}), Effect::Set(value.clone())),
        Request::Cas {
            from, to, create, ..
        } => match current {
            None if *create => (json!({"type": "cas_ok"}), Effect::Set(to.clone())),
            None => (missing(), Effect::None),
            Some(cur) if cur == from => (json!({"type": "cas_ok"}), Effect::Set(to.clone())),
            Some(cur) => (
                error_body(
                    ErrorCode::PreconditionFailed,
                    &format!("expected {from}, but had {cur}"),
                ),
                Effect::None,
            ),
        },
    }
}

fn missing() -> Json {
    error_body(ErrorCode::KeyDoesNotExist, "key does not exist")
}

//! Maelstrom's wire protocol: one JSON message per line, `{"src", "dest", "body"}`;
//! a body has a `type`, an optional `msg_id`, and replies carry `in_reply_to`. Errors
//! are bodies of type `error` with a numeric `code`; each code is either *definite*
//! (the operation certainly did not happen: a `fail`) or *indefinite* (it may have
//! happened: an `info`). Unknown keys are ignored everywhere.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One message between nodes, clients and services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The sender (`n0`, `c3`, `lin-kv`).
    pub src: String,
    /// The receiver.
    pub dest: String,
    /// The payload: an object with at least `type`.
    pub body: Json,
}

/// Why a line is not a Maelstrom message.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    /// Not JSON, or not an object with `src`, `dest` and `body`.
    #[error("not a Maelstrom message ({reason}): {line}")]
    Malformed {
        /// What was wrong.
        reason: String,
        /// The line (shortened).
        line: String,
    },
}

impl Message {
    /// Parses one line of a node's stdout.
    pub fn parse(line: &str) -> Result<Message, ProtocolError> {
        let short = || line.chars().take(200).collect::<String>();
        let m: Message = serde_json::from_str(line).map_err(|e| ProtocolError::Malformed {
            reason: e.to_string(),
            line: short(),
        })?;
        if !m.body.is_object() {
            return Err(ProtocolError::Malformed {
                reason: "body is not an object".into(),
                line: short(),
            });
        }
        if m.kind().is_none() {
            return Err(ProtocolError::Malformed {
                reason: "body has no string `type`".into(),
                line: short(),
            });
        }
        Ok(m)
    }

    /// The message as one line (no trailing newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The body's `type`.
    pub fn kind(&self) -> Option<&str> {
        self.body.get("type").and_then(Json::as_str)
    }

    /// The body's `msg_id`.
    pub fn msg_id(&self) -> Option<u64> {
        self.body.get("msg_id").and_then(Json::as_u64)
    }

    /// The body's `in_reply_to`.
    pub fn in_reply_to(&self) -> Option<u64> {
        self.body.get("in_reply_to").and_then(Json::as_u64)
    }

    /// A reply to this message from `self.dest`, with `body` (its `in_reply_to` set).
    pub fn reply(&self, mut body: Json) -> Message {
        if let (Some(o), Some(id)) = (body.as_object_mut(), self.msg_id()) {
            o.insert("in_reply_to".into(), id.into());
        }
        Message {
            src: self.dest.clone(),
            dest: self.src.clone(),
            body,
        }
    }
}

/// Maelstrom's error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// 0: the request timed out (indefinite).
    Timeout,
    /// 1: the destination node does not exist.
    NodeNotFound,
    /// 10: the operation is not supported.
    NotSupported,
    /// 11: temporarily unavailable; try again later.
    TemporarilyUnavailable,
    /// 12: the request was malformed.
    MalformedRequest,
    /// 13: the node crashed while handling it (indefinite).
    Crash,
    /// 14: aborted.
    Abort,
    /// 20: the key does not exist.
    KeyDoesNotExist,
    /// 21: the key already exists.
    KeyAlreadyExists,
    /// 22: a precondition (a cas's `from`) failed.
    PreconditionFailed,
    /// 30: a transaction conflict.
    TxnConflict,
    /// Any other code (custom codes are 1000 and up); treated as indefinite.
    Other(i64),
}

impl ErrorCode {
    /// The code for a number.
    pub fn from_code(code: i64) -> ErrorCode {
        match code {
            0 => ErrorCode::Timeout,
            1 => ErrorCode::NodeNotFound,
            10 => ErrorCode::NotSupported,
            11 => ErrorCode::TemporarilyUnavailable,
            12 => ErrorCode::MalformedRequest,
            13 => ErrorCode::Crash,
            14 => ErrorCode::Abort,
            20 => ErrorCode::KeyDoesNotExist,
            21 => ErrorCode::KeyAlreadyExists,
            22 => ErrorCode::PreconditionFailed,
            30 => ErrorCode::TxnConflict,
            n => ErrorCode::Other(n),
        }
    }

    /// The number on the wire.
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Timeout => 0,
            ErrorCode::NodeNotFound => 1,
            ErrorCode::NotSupported => 10,
            ErrorCode::TemporarilyUnavailable => 11,
            ErrorCode::MalformedRequest => 12,
            ErrorCode::Crash => 13,
            ErrorCode::Abort => 14,
            ErrorCode::KeyDoesNotExist => 20,
            ErrorCode::KeyAlreadyExists => 21,
            ErrorCode::PreconditionFailed => 22,
            ErrorCode::TxnConflict => 30,
            ErrorCode::Other(n) => n,
        }
    }

    /// Whether the error proves the operation did not happen (`fail`); otherwise it
    /// may have happened (`info`).
    pub fn is_definite(self) -> bool {
        !matches!(
            self,
            ErrorCode::Timeout | ErrorCode::Crash | ErrorCode::Other(_)
        )
    }

    /// The code's name as Maelstrom's docs spell it.
    pub fn name(self) -> String {
        match self {
            ErrorCode::Timeout => "timeout".into(),
            ErrorCode::NodeNotFound => "node-not-found".into(),
            ErrorCode::NotSupported => "not-supported".into(),
            ErrorCode::TemporarilyUnavailable => "temporarily-unavailable".into(),
            ErrorCode::MalformedRequest => "malformed-request".into(),
            ErrorCode::Crash => "crash".into(),
            ErrorCode::Abort => "abort".into(),
            ErrorCode::KeyDoesNotExist => "key-does-not-exist".into(),
            ErrorCode::KeyAlreadyExists => "key-already-exists".into(),
            ErrorCode::PreconditionFailed => "precondition-failed".into(),
            ErrorCode::TxnConflict => "txn-conflict".into(),
            ErrorCode::Other(n) => format!("error {n}"),
        }
    }
}

/// An `error` body with `code` and `text`.
pub fn error_body(code: ErrorCode, text: &str) -> Json {
    serde_json::json!({"type": "error", "code": code.code(), "text": text})
}

/// The error in a reply body, if it is one: its code and text.
pub fn error_of(body: &Json) -> Option<(ErrorCode, String)> {
    if body.get("type").and_then(Json::as_str) != Some("error") {
        return None;
    }
    let code = body.get("code").and_then(Json::as_i64).unwrap_or(-1);
    let text = body
        .get("text")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    Some((ErrorCode::from_code(code), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_unknown_keys_parses_and_replies_carry_in_reply_to() {
        let m = Message::parse(
            r#"{"id":7,"src":"c1","dest":"n0","body":{"type":"echo","msg_id":3,"echo":"hi","extra":1}}"#,
        )
        .unwrap();
        assert_eq!(m.kind(), Some("echo"));
        assert_eq!(m.msg_id(), Some(3));
        let r = m.reply(serde_json::json!({"type":"echo_ok"}));
        assert_eq!((r.src.as_str(), r.dest.as_str()), ("n0", "c1"));
        assert_eq!(r.in_reply_to(), Some(3));
    }

    #[test]
    fn a_line_without_a_typed_body_is_malformed() {
        assert!(Message::parse("hello").is_err());
        assert!(Message::parse(r#"{"src":"n0","dest":"c1","body":3}"#).is_err());
        assert!(Message::parse(r#"{"src":"n0","dest":"c1","body":{}}"#).is_err());
    }

    #[test]
    fn timeouts_crashes_and_unknown_codes_are_indefinite_the_rest_definite() {
        for c in [0, 13, 1000] {
            assert!(!ErrorCode::from_code(c).is_definite(), "{c}");
        }
        for c in [1, 10, 11, 12, 14, 20, 21, 22, 30] {
            assert!(ErrorCode::from_code(c).is_definite(), "{c}");
            assert_eq!(ErrorCode::from_code(c).code(), c);
        }
        let (code, text) = error_of(&error_body(ErrorCode::PreconditionFailed, "no")).unwrap();
        assert_eq!((code, text.as_str()), (ErrorCode::PreconditionFailed, "no"));
    }
}

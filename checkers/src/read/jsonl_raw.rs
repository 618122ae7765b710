//! The borrowed form of one JSONL line: the same fields and the same rules as
//! [`Event`]'s own deserializer, but `f`, string keys and node names borrow from the
//! line, so that a chunk of lines can share one `Arc<str>` per distinct key and node
//! ([`Names`]) instead of allocating one per event.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::de::{self, value::MapAccessDeserializer, value::SeqAccessDeserializer};
use serde::de::{Deserializer, IntoDeserializer, Visitor};
use serde::Deserialize;

use crate::history::{Event, EventKind, Process, F};
use crate::value::Value;

/// One line, borrowing from its text.
#[derive(Deserialize)]
pub(super) struct RawEvent<'a> {
    index: u64,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventKind,
    #[serde(borrow)]
    f: Cow<'a, str>,
    #[serde(default, borrow)]
    key: Option<Name<'a>>,
    #[serde(default, deserialize_with = "super::jsonl_value::value")]
    value: Value,
    #[serde(default, borrow)]
    node: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    latency: Option<u64>,
}

impl<'a> RawEvent<'a> {
    /// The event, with its key and node shared through `names`.
    pub(super) fn into_event(self, names: &mut Names<'a>) -> Event {
        Event {
            index: self.index,
            time: self.time,
            process: self.process,
            kind: self.kind,
            f: F::parse(&self.f),
            key: self.key.map(|k| match k {
                Name::Borrowed(s) => Value::Str(names.get(s)),
                Name::Other(v) => v,
            }),
            value: self.value,
            node: self.node.map(|n| match n {
                Cow::Borrowed(s) => names.get(s),
                Cow::Owned(s) => Arc::from(s),
            }),
            error: self.error,
            latency: self.latency,
        }
    }
}

/// Interned strings of a chunk of lines.
#[derive(Default)]
pub(super) struct Names<'a>(FxHashMap<&'a str, Arc<str>>);

impl<'a> Names<'a> {
    fn get(&mut self, s: &'a str) -> Arc<str> {
        Arc::clone(self.0.entry(s).or_insert_with(|| Arc::from(s)))
    }
}

/// A key: a string that borrows from the line when it has no escapes, or any value.
enum Name<'a> {
    Borrowed(&'a str),
    Other(Value),
}

impl<'de: 'a, 'a> Deserialize<'de> for Name<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name<'a>, D::Error> {
        d.deserialize_any(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Name<'de>, E> {
        Ok(Name::Borrowed(s))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Name<'de>, E> {
        Ok(Name::Other(Value::str(s)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Name<'de>, E> {
        Ok(Name::Other(Value::Null))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Name<'de>, E> {
        Ok(Name::Other(Value::Bool(b)))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Name<'de>, E> {
        Ok(Name::Other(Value::Int(i)))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Name<'de>, E> {
        Value::deserialize(u.into_deserializer()).map(Name::Other)
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Name<'de>, E> {
        Ok(Name::Other(Value::Float(x)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Name<'de>, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Name::Other)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Name<'de>, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Name::Other)
    }
}

//! The JSONL reader's deserializer for an event's `value`: the same [`Value`] that
//! `Value`'s own `Deserialize` builds (same types, same errors), built with less
//! memory. Lists are collected on a per-thread scratch stack and then moved into a
//! vector of exactly their length (a growing vector would keep up to half its
//! capacity spare: a list-append read of 30 elements holds 30, not 32 or 64, values);
//! short strings (micro-op names such as `append` and `r`, keywords, small keys)
//! share one `Arc<str>` per thread instead of one allocation each.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::value::Value;

/// Strings up to this many bytes are shared.
const SHORT: usize = 24;
/// At most this many distinct short strings are kept per thread (then new ones are
/// allocated as usual): the table stays small whatever the history holds.
const SHARED_MAX: usize = 4096;

/// What building values needs, one per thread.
#[derive(Default)]
struct Scratch {
    /// Elements of the lists being built, innermost last.
    stack: Vec<Value>,
    /// The short strings seen so far on this thread.
    shared: FxHashSet<Arc<str>>,
}

impl Scratch {
    /// `s` as an `Arc<str>`, the thread's shared copy when it is short.
    fn shared(&mut self, s: &str) -> Arc<str> {
        if s.len() > SHORT {
            return Arc::from(s);
        }
        if let Some(a) = self.shared.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        if self.shared.len() < SHARED_MAX {
            self.shared.insert(Arc::clone(&a));
        }
        a
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// `deserialize_with` for an event's `value` field.
pub(super) fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    SCRATCH.with(|s| d.deserialize_any(CompactVisitor(&mut s.borrow_mut())))
}

/// Builds a [`Value`] the way `Value`'s `Deserialize` does, on the thread's
/// scratch.
struct CompactVisitor<'s>(&'s mut Scratch);

impl<'de> DeserializeSeed<'de> for CompactVisitor<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CompactVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        match i64::try_from(u) {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => Err(E::custom(format!(
                "integer {u} is too large: faultline takes integers that fit in 64-bit signed"
            ))),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(self.0.shared(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let scratch = self.0;
        let start = scratch.stack.len();
        loop {
            match seq.next_element_seed(CompactVisitor(&mut *scratch)) {
                Ok(Some(v)) => scratch.stack.push(v),
                Ok(None) => break,
                Err(e) => {
                    scratch.stack.truncate(start);
                    return Err(e);
                }
            }
        }
        Ok(Value::List(scratch.stack.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let scratch = self.0;
        let mut m = Vec::new();
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let v = map.next_value_seed(CompactVisitor(&mut *scratch))?;
            m.push((scratch.shared(&k), v));
        }
        m.shrink_to_fit();
        Ok(Value::Map(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact(text: &str) -> Result<Value, String> {
        value(&mut serde_json::Deserializer::from_str(text)).map_err(|e| e.to_string())
    }

    #[test]
    fn it_builds_the_value_that_values_own_deserializer_builds() {
        for text in [
            r#"[null,true,3,-4,2.5,"s",[1,[2]],{"a":1,"b":[null]}]"#,
            r#"[["append",5,1],["r",5,[1,2,3]],["r","a long key name that is not shared",null]]"#,
            r#"{"kind":"majorities-ring","groups":[["n1","n2"],["n3"]]}"#,
            "[]",
            "[[[]]]",
            "-9223372036854775808",
        ] {
            let expected: Value = serde_json::from_str(text).unwrap();
            assert_eq!(compact(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn lists_hold_exactly_their_elements() {
        let Value::List(l) = compact("[1,2,3,4,5,6,7,8,9]").unwrap() else {
            panic!("a list")
        };
        assert_eq!(l.capacity(), 9);
    }

    #[test]
    fn errors_are_values_own_and_leave_nothing_behind() {
        let e = compact("[1,[2,18446744073709551615]]").unwrap_err();
        let own = serde_json::from_str::<Value>("[1,[2,18446744073709551615]]").unwrap_err();
        assert_eq!(e, own.to_string());
        assert!(compact("[1,[2,").is_err());
        assert_eq!(SCRATCH.with(|s| s.borrow().stack.len()), 0);
        assert_eq!(compact("[7]").unwrap(), Value::List(vec![Value::Int(7)]));
    }
}

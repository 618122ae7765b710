//! The `kv` model, for one key of a key-value store: read|get, write|put, cas, and
//! append. Appending a string concatenates (Porcupine's kv logs); appending anything
//! else pushes onto a list. An absent key reads as `null` or as `""` (Porcupine's
//! kv logs return `""` for a missing key): the two are the same state here.

use super::register::cas_pair;
use super::Model;
use crate::history::{Op, F};
use crate::value::Value;

/// One key of a key-value store.
#[derive(Clone, Debug)]
pub struct Kv {
    /// The initial value.
    pub initial: Value,
}

/// `null` and `""` are both "absent".
fn same(a: &Value, b: &Value) -> bool {
    a == b || (is_absent(a) && is_absent(b))
}

fn is_absent(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Str(s) => s.is_empty(),
        _ => false,
    }
}

impl Model for Kv {
    type State = Value;

    fn show(&self, state: &Value) -> String {
        state.to_string()
    }

    fn init(&self) -> Value {
        self.initial.clone()
    }

    fn step(&self, state: &Value, op: &Op) -> Option<Value> {
        match &op.f {
            F::Read => same(&op.value, state).then(|| state.clone()),
            F::Write => Some(op.value.clone()),
            F::Cas => {
                let (expected, new) = cas_pair(&op.value)?;
                same(expected, state).then(|| new.clone())
            }
            F::Append => match (state, &op.value) {
                (Value::Null, Value::Str(s)) => Some(Value::Str(s.clone())),
                (Value::Str(a), Value::Str(b)) => {
                    let mut s = String::with_capacity(a.len() + b.len());
                    s.push_str(a);
                    s.push_str(b);
                    Some(Value::str(&s))
                }
                (Value::Null, v) => Some(Value::List(vec![v.clone()])),
                (Value::List(l), v) => {
                    let mut l = l.clone();
                    l.push(v.clone());
                    Some(Value::List(l))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn explain(&self, state: &Value, op: &Op) -> String {
        match &op.f {
            F::Read => format!("read returned {}, but the key held {state}", op.value),
            F::Cas => match cas_pair(&op.value) {
                Some((e, _)) => format!("cas expected {e}, but the key held {state}"),
                None => format!("cas value {} is not [expected, new]", op.value),
            },
            F::Append => format!("cannot append {} to {state}", op.value),
            f => format!("a key-value store has no operation \"{f}\""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op as op;

    #[test]
    fn an_absent_key_reads_as_empty_string_or_null() {
        let m = Kv {
            initial: Value::Null,
        };
        assert!(m.step(&Value::Null, &op(F::Read, Value::str(""))).is_some());
        assert!(m.step(&Value::Null, &op(F::Read, Value::Null)).is_some());
    }

    #[test]
    fn appends_concatenate_strings() {
        let m = Kv {
            initial: Value::Null,
        };
        let s = m
            .step(&Value::Null, &op(F::Append, Value::str("x 0 ")))
            .unwrap();
        let s = m.step(&s, &op(F::Append, Value::str("y"))).unwrap();
        assert_eq!(s, Value::str("x 0 y"));
        assert!(m.step(&s, &op(F::Read, Value::str("x 0 "))).is_none());
    }
}

/// A kv key that only sees string appends and reads, checked with an anchor: the
/// longest string any `ok` read returned. Appends only grow the string, so every
/// state of a legal order is a prefix of the anchor or has it as a prefix (the anchor
/// is itself one of those states). A step that leaves that chain is pruned at once,
/// instead of when a later read fails; the answer is the same, found far sooner.
#[derive(Clone, Debug)]
pub struct AppendChain {
    /// The plain model.
    pub kv: Kv,
    /// The longest string an `ok` read returned.
    pub anchor: std::sync::Arc<str>,
}

impl AppendChain {
    /// The anchored model for `ops` if they are only string appends and reads.
    pub fn for_ops(kv: Kv, ops: &[&Op]) -> Option<AppendChain> {
        let mut anchor: Option<std::sync::Arc<str>> = None;
        for o in ops {
            match (&o.f, &o.value) {
                (F::Append, Value::Str(_)) => {}
                (F::Read, v) if o.outcome != crate::history::Outcome::Ok => {
                    let _ = v;
                }
                (F::Read, Value::Str(s)) => {
                    if anchor.as_ref().is_none_or(|a| a.len() < s.len()) {
                        anchor = Some(s.clone());
                    }
                }
                (F::Read, Value::Null) => {}
                _ => return None,
            }
        }
        if !matches!(kv.initial, Value::Null) && kv.initial.as_str() != Some("") {
            return None;
        }
        Some(AppendChain {
            kv,
            anchor: anchor.unwrap_or_else(|| std::sync::Arc::from("")),
        })
    }
}

impl Model for AppendChain {
    type State = Value;

    fn show(&self, state: &Value) -> String {
        state.to_string()
    }

    fn init(&self) -> Value {
        self.kv.init()
    }

    fn step(&self, state: &Value, op: &Op) -> Option<Value> {
        let next = self.kv.step(state, op)?;
        if op.f == F::Append {
            let s = next.as_str().unwrap_or("");
            let a: &str = &self.anchor;
            if !(a.starts_with(s) || s.starts_with(a)) {
                return None;
            }
        }
        Some(next)
    }

    fn explain(&self, state: &Value, op: &Op) -> String {
        self.kv.explain(state, op)
    }
}

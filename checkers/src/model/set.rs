//! The `set` model: add an element; read returns the whole set (as a list, compared
//! as a set: order and duplicates in the read do not matter here — the eventual
//! checker reports duplicates).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Model;
use crate::history::{Op, F};
use crate::value::Value;

/// A grow-only set.
#[derive(Clone, Debug)]
pub struct Set {
    /// The initial elements (`null` = empty).
    pub initial: Value,
}

/// A set state: the elements, shared so that clones are cheap.
pub type SetState = Arc<BTreeSet<Value>>;

fn as_set(v: &Value) -> Option<BTreeSet<Value>> {
    match v {
        Value::Null => Some(BTreeSet::new()),
        Value::List(l) => Some(l.iter().cloned().collect()),
        _ => None,
    }
}

impl Model for Set {
    type State = SetState;

    fn init(&self) -> SetState {
        Arc::new(as_set(&self.initial).unwrap_or_default())
    }

    fn step(&self, state: &SetState, op: &Op) -> Option<SetState> {
        match &op.f {
            F::Add => {
                if state.contains(&op.value) {
                    return Some(state.clone());
                }
                let mut s = (**state).clone();
                s.insert(op.value.clone());
                Some(Arc::new(s))
            }
            F::Read => (as_set(&op.value)? == **state).then(|| state.clone()),
            _ => None,
        }
    }

    fn explain(&self, state: &SetState, op: &Op) -> String {
        let Some(read) = as_set(&op.value) else {
            return format!(
                "operation {} {} is not understood by the set model",
                op.f, op.value
            );
        };
        let missing: Vec<String> = state.difference(&read).map(|v| v.to_string()).collect();
        let extra: Vec<String> = read.difference(state).map(|v| v.to_string()).collect();
        format!(
            "read returned a set missing [{}] and with unexpected [{}]",
            missing.join(", "),
            extra.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op as op;

    #[test]
    fn a_read_must_return_exactly_the_added_elements() {
        let m = Set {
            initial: Value::Null,
        };
        let s = m.step(&m.init(), &op(F::Add, Value::Int(1))).unwrap();
        let s = m.step(&s, &op(F::Add, Value::Int(2))).unwrap();
        let both = Value::List(vec![Value::Int(2), Value::Int(1)]);
        assert!(m.step(&s, &op(F::Read, both)).is_some());
        assert!(m
            .step(&s, &op(F::Read, Value::List(vec![Value::Int(1)])))
            .is_none());
    }
}

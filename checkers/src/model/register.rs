//! The `register` and `cas-register` models: a single value; read, write and
//! compare-and-set (`[expected, new]`). An absent value is `null`.

use super::Model;
use crate::history::{Op, F};
use crate::value::Value;

/// A register; with `cas` set, compare-and-set is allowed too.
#[derive(Clone, Debug)]
pub struct Register {
    /// The initial value.
    pub initial: Value,
    /// Whether `cas` ops are part of the model (`cas-register`).
    pub cas: bool,
}

impl Model for Register {
    type State = Value;

    fn show(&self, state: &Value) -> String {
        state.to_string()
    }

    fn init(&self) -> Value {
        self.initial.clone()
    }

    fn step(&self, state: &Value, op: &Op) -> Option<Value> {
        match &op.f {
            F::Read => (op.value == *state).then(|| state.clone()),
            F::Write => Some(op.value.clone()),
            F::Cas if self.cas => {
                let (expected, new) = cas_pair(&op.value)?;
                (expected == state).then(|| new.clone())
            }
            _ => None,
        }
    }

    fn explain(&self, state: &Value, op: &Op) -> String {
        match &op.f {
            F::Read => format!("read returned {}, but the register held {state}", op.value),
            F::Cas if self.cas => match cas_pair(&op.value) {
                Some((expected, _)) => {
                    format!("cas expected {expected}, but the register held {state}")
                }
                None => format!("cas value {} is not [expected, new]", op.value),
            },
            f => format!("a register has no operation \"{f}\""),
        }
    }
}

/// The `[expected, new]` of a cas value.
pub fn cas_pair(v: &Value) -> Option<(&Value, &Value)> {
    match v.as_list()? {
        [e, n] => Some((e, n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op as op;

    #[test]
    fn a_read_must_return_the_current_value() {
        let m = Register {
            initial: Value::Null,
            cas: false,
        };
        assert_eq!(
            m.step(&Value::Null, &op(F::Read, Value::Null)),
            Some(Value::Null)
        );
        assert_eq!(m.step(&Value::Int(1), &op(F::Read, Value::Int(2))), None);
        assert_eq!(
            m.step(&Value::Int(1), &op(F::Write, Value::Int(2))),
            Some(Value::Int(2))
        );
    }

    #[test]
    fn a_cas_applies_only_when_expected_matches() {
        let m = Register {
            initial: Value::Int(0),
            cas: true,
        };
        let cas = op(F::Cas, Value::List(vec![Value::Int(0), Value::Int(5)]));
        assert_eq!(m.step(&Value::Int(0), &cas), Some(Value::Int(5)));
        assert_eq!(m.step(&Value::Int(1), &cas), None);
        assert!(m.explain(&Value::Int(1), &cas).contains("held 1"));
    }

    #[test]
    fn a_plain_register_has_no_cas() {
        let m = Register {
            initial: Value::Int(0),
            cas: false,
        };
        let cas = op(F::Cas, Value::List(vec![Value::Int(0), Value::Int(5)]));
        assert_eq!(m.step(&Value::Int(0), &cas), None);
    }
}

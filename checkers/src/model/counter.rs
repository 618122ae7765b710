//! The `counter` model: add a signed delta; read returns the sum.

use super::Model;
use crate::history::{Op, F};
use crate::value::Value;

/// A counter.
#[derive(Clone, Debug)]
pub struct Counter {
    /// The initial value (`null` = 0).
    pub initial: Value,
}

impl Model for Counter {
    type State = i64;

    fn show(&self, state: &i64) -> String {
        state.to_string()
    }

    fn init(&self) -> i64 {
        self.initial.as_int().unwrap_or(0)
    }

    fn step(&self, state: &i64, op: &Op) -> Option<i64> {
        match &op.f {
            F::Add => state.checked_add(op.value.as_int()?),
            F::Read => (op.value.as_int()? == *state).then_some(*state),
            _ => None,
        }
    }

    fn explain(&self, state: &i64, op: &Op) -> String {
        match &op.f {
            F::Read => format!("read returned {}, but the counter was {state}", op.value),
            f => format!("counter operation {f} {} is not understood", op.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op as op;

    #[test]
    fn signed_deltas_add_up() {
        let m = Counter {
            initial: Value::Null,
        };
        let s = m.step(&0, &op(F::Add, Value::Int(5))).unwrap();
        let s = m.step(&s, &op(F::Add, Value::Int(-2))).unwrap();
        assert_eq!(m.step(&s, &op(F::Read, Value::Int(3))), Some(3));
        assert_eq!(m.step(&s, &op(F::Read, Value::Int(5))), None);
    }
}

//! The `queue` model: FIFO enqueue / dequeue. A dequeue returns the front element, or
//! `null` when the queue is empty. An indeterminate dequeue that takes effect removes
//! the front element, whatever it is.

use std::collections::VecDeque;
use std::sync::Arc;

use super::Model;
use crate::history::{Op, Outcome, F};
use crate::value::Value;

/// A FIFO queue.
#[derive(Clone, Debug)]
pub struct Queue {
    /// The initial elements, front first (`null` = empty).
    pub initial: Value,
}

/// A queue state, shared so that clones are cheap.
pub type QueueState = Arc<VecDeque<Value>>;

impl Model for Queue {
    type State = QueueState;

    fn init(&self) -> QueueState {
        Arc::new(
            self.initial
                .as_list()
                .unwrap_or(&[])
                .iter()
                .cloned()
                .collect(),
        )
    }

    fn step(&self, state: &QueueState, op: &Op) -> Option<QueueState> {
        match &op.f {
            F::Enqueue => {
                let mut q = (**state).clone();
                q.push_back(op.value.clone());
                Some(Arc::new(q))
            }
            F::Dequeue => match (state.front(), op.outcome) {
                (None, Outcome::Info) => Some(state.clone()),
                (None, _) => op.value.is_null().then(|| state.clone()),
                (Some(front), outcome) if outcome == Outcome::Info || *front == op.value => {
                    let mut q = (**state).clone();
                    q.pop_front();
                    Some(Arc::new(q))
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn explain(&self, state: &QueueState, op: &Op) -> String {
        match state.front() {
            Some(front) => format!(
                "dequeue returned {}, but the front of the queue was {front}",
                op.value
            ),
            None => format!("dequeue returned {}, but the queue was empty", op.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op as op;

    #[test]
    fn dequeues_come_out_in_fifo_order() {
        let m = Queue {
            initial: Value::Null,
        };
        let s = m.step(&m.init(), &op(F::Enqueue, Value::Int(1))).unwrap();
        let s = m.step(&s, &op(F::Enqueue, Value::Int(2))).unwrap();
        assert!(m.step(&s, &op(F::Dequeue, Value::Int(2))).is_none());
        let s = m.step(&s, &op(F::Dequeue, Value::Int(1))).unwrap();
        assert_eq!(s.len(), 1);
    }
}

//! The value each key was last seen with ([`Seen`]): what a cas expects, so that cas
//! succeeds often enough to matter. It is fed from every slot's completions
//! ([`Seen::observe`]) and shared by the slots' generators — the one thing
//! completions feed back into the register workloads (`cas-register`, `kv`, and
//! Maelstrom's `lin-kv`).

use std::sync::atomic::{AtomicI64, Ordering};

use checkers::{Outcome, Value, F};

use crate::generator::Completion;

/// Per key index, the value of the latest `ok` completion on it by any slot (`null`
/// before any). Register values are integers or `null` (any other value read is not
/// kept).
#[derive(Debug)]
pub(crate) struct Seen(Vec<AtomicI64>);

/// How `null` is held (never a written value: those are positive).
const SEEN_NULL: i64 = i64::MIN;

impl Seen {
    /// Nothing seen yet for `keys` keys.
    pub(crate) fn new(keys: usize) -> Seen {
        Seen((0..keys).map(|_| AtomicI64::new(SEEN_NULL)).collect())
    }

    /// What key `k` was last seen with.
    pub(crate) fn get(&self, k: usize) -> Value {
        match self.0[k].load(Ordering::Relaxed) {
            SEEN_NULL => Value::Null,
            v => Value::Int(v),
        }
    }

    /// Key `k` was seen with `v`.
    pub(crate) fn set(&self, k: usize, v: &Value) {
        let held = match v {
            Value::Null => SEEN_NULL,
            Value::Int(i) if *i != SEEN_NULL => *i,
            _ => return,
        };
        if let Some(slot) = self.0.get(k) {
            slot.store(held, Ordering::Relaxed);
        }
    }

    /// Keeps what an `ok` read, write or cas of key `k` says the key holds: a read's
    /// value, a write's value, a cas's new value. Anything else is ignored.
    pub(crate) fn observe(&self, k: usize, c: &Completion) {
        if c.outcome != Outcome::Ok {
            return;
        }
        let value = match c.op.f {
            F::Read => &c.value,
            F::Write => &c.op.value,
            F::Cas => match c.op.value.as_list() {
                Some([_, new]) => new,
                _ => return,
            },
            _ => return,
        };
        self.set(k, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_null_until_seen_and_then_holds_the_latest_integer() {
        let seen = Seen::new(2);
        assert_eq!(seen.get(1), Value::Null);
        seen.set(1, &Value::Int(7));
        seen.set(1, &Value::str("not a register value"));
        assert_eq!(seen.get(1), Value::Int(7));
        seen.set(1, &Value::Null);
        assert_eq!(seen.get(1), Value::Null);
        seen.set(5, &Value::Int(3));
        assert_eq!(seen.get(0), Value::Null);
    }
}

//! The search's view of one key's ops: which ops take part, where each may take
//! effect, and which must.

use std::collections::HashMap;

use super::search::SearchOp;
use crate::history::{Op, Outcome, F};
use crate::model::cas_pair;
use crate::value::Value;

/// Builds the search's view of `ops` (one key's ops in invoke order).
///
/// Failed ops and indeterminate reads are dropped (they had no effect). Every other op
/// calls at its invoke and returns at its completion; an indeterminate op never
/// returns and may be left out. With `register_like` (only read, write and cas on the
/// key), two sound reductions use what the history reveals:
/// - an indeterminate write or cas whose new value no op ever observes (no read
///   returns it, no cas expects it) is dropped: in any legal order that includes it,
///   nothing between it and the next change looks at the state, so leaving it out
///   keeps the order legal;
/// - an indeterminate write or cas whose new value is written by no other op, is not
///   the initial value, and is observed by an `ok` op, certainly happened, before the
///   earliest such observer completed: it becomes a required op returning there.
pub fn prepare<'a>(ops: &[&'a Op], register_like: bool, initial: &Value) -> Vec<SearchOp<'a>> {
    let kept = ops.iter().filter(|o| match o.outcome {
        Outcome::Fail => false,
        Outcome::Info => o.f != F::Read,
        Outcome::Ok => true,
    });
    let mut pins: HashMap<&Value, Pin> = HashMap::new();
    if register_like {
        for o in ops.iter().filter(|o| o.outcome != Outcome::Fail) {
            if let Some(v) = written(o) {
                pins.entry(v).or_default().writers += 1;
            }
            let observed = match (&o.f, o.outcome) {
                (F::Read, Outcome::Ok) => Some(&o.value),
                (F::Cas, _) => cas_pair(&o.value).map(|(e, _)| e),
                _ => None,
            };
            if let Some(v) = observed {
                let pin = pins.entry(v).or_default();
                pin.observed = true;
                if o.outcome == Outcome::Ok {
                    let c = o.complete_index.unwrap_or(u64::MAX);
                    pin.first_ok_observer = pin.first_ok_observer.min(c);
                }
            }
        }
    }
    let mut search_ops = Vec::new();
    for &o in kept {
        let ok = o.outcome == Outcome::Ok;
        let mut s = SearchOp {
            op: o,
            call: o.invoke_index,
            ret: if ok {
                o.complete_index.unwrap_or(u64::MAX)
            } else {
                u64::MAX
            },
            required: ok,
        };
        if register_like && !ok {
            if let Some(v) = written(o).filter(|v| !is_absent(v)) {
                let pin = pins.get(v).copied().unwrap_or_default();
                if !pin.observed {
                    continue;
                }
                if pin.writers == 1
                    && v != initial
                    && pin.first_ok_observer > o.invoke_index
                    && pin.first_ok_observer != u64::MAX
                {
                    s.ret = pin.first_ok_observer;
                    s.required = true;
                }
            }
        }
        search_ops.push(s);
    }
    search_ops
}

/// What the history reveals about one value (register-like keys).
#[derive(Clone, Copy, Debug)]
struct Pin {
    writers: u32,
    observed: bool,
    first_ok_observer: u64,
}

impl Default for Pin {
    fn default() -> Pin {
        Pin {
            writers: 0,
            observed: false,
            first_ok_observer: u64::MAX,
        }
    }
}

/// The value a write or cas would leave in the register.
fn written(o: &Op) -> Option<&Value> {
    match o.f {
        F::Write => Some(&o.value),
        F::Cas => cas_pair(&o.value).map(|(_, n)| n),
        _ => None,
    }
}

/// `null` and `""` both mean "absent" for kv keys: one value id, never pinned or dropped.
fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

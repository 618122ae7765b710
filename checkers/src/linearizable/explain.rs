//! Explanations of a non-linearizable register key that are facts about the history,
//! each derived from the ops of the window it explains, and typed so that every claim
//! can be checked against the history ([`Explanation`]).
//!
//! The shapes, tried in this order for the op the search could not place (then for
//! every other `ok` read or cas of the window):
//!
//! - [`Explanation::NeverWritten`]: the op observed a value (a read's result, a cas's
//!   expected value) that no write or cas of the key ever set and that is not the
//!   initial value.
//! - [`Explanation::Overwritten`]: the op observed `v`, and every op that could have
//!   set `v` (each write or cas of `v`, and the initial value when it is `v`) completed
//!   and was then surely overwritten before the op began: a write or cas invoked after
//!   it completed and completed before the op was invoked. No order can put `v` back:
//!   every source of `v` is accounted for. A stale read, a lost write (the overwriting
//!   write is lost if the read is right) and an impossible cas all have this shape.
//! - [`Explanation::NoOrder`]: no two-write proof exists; the window's ops have no
//!   legal order (the search proved it), and the explanation says how far the longest
//!   legal order got.

use serde::{Deserialize, Serialize};

use crate::history::{Op, Outcome, F};
use crate::model::cas_pair;
use crate::value::Value;

/// One op as an explanation names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpRef {
    /// `index` of its invoke event (the op's identity in the history).
    pub index: u64,
    /// Its function.
    pub f: F,
    /// The value it carried (a read's result, a write's value, a cas's pair).
    pub value: Value,
    /// Its process.
    pub process: u64,
    /// When it was invoked, ns.
    pub invoked_ns: u64,
    /// When it completed, ns (`None`: never).
    pub completed_ns: Option<u64>,
}

impl OpRef {
    /// The reference to `op`.
    pub fn of(op: &Op) -> OpRef {
        OpRef {
            index: op.invoke_index,
            f: op.f.clone(),
            value: op.value.clone(),
            process: op.process,
            invoked_ns: op.invoke_time,
            completed_ns: op.complete_time,
        }
    }

    /// "write 5 (process 2)".
    fn name(&self) -> String {
        format!("{} {} (process {})", self.f, self.value, self.process)
    }
}

/// Why a key is not linearizable, as claims about the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "kebab-case")]
pub enum Explanation {
    /// `op` observed `observed`, which nothing ever set.
    NeverWritten {
        /// The read or cas.
        op: OpRef,
        /// The value it observed.
        observed: Value,
        /// The key's initial value.
        initial: Value,
    },
    /// `op` observed `observed`, set last by `written_by` (`None`: the initial value),
    /// which `overwritten_by` surely overwrote before `op` began; `others` more sources
    /// of the value were overwritten likewise.
    Overwritten {
        /// The read or cas.
        op: OpRef,
        /// The value it observed.
        observed: Value,
        /// The write or cas whose value was observed (the latest to complete), or
        /// `None` when it is the initial value.
        written_by: Option<OpRef>,
        /// An `ok` write or cas invoked after `written_by` completed and completed
        /// before `op` was invoked, setting another value.
        overwritten_by: OpRef,
        /// How many other sources of `observed` there are (each overwritten too).
        others: usize,
    },
    /// No short proof: the window's `ops` ops have no legal order.
    NoOrder {
        /// The op the search could not place.
        op: OpRef,
        /// How many ops the window holds.
        ops: usize,
        /// How many ops the longest legal order found placed.
        placed: usize,
        /// Why the op could not follow that order, in the model's words.
        why: String,
    },
}

/// What `op` observed of the register: a read's result or a cas's expected value.
fn observed(op: &Op) -> Option<&Value> {
    match op.f {
        F::Read => Some(&op.value),
        F::Cas => cas_pair(&op.value).map(|(e, _)| e),
        _ => None,
    }
}

/// What `op` sets the register to, if it may set it.
fn sets(op: &Op) -> Option<&Value> {
    match op.f {
        F::Write => Some(&op.value),
        F::Cas => cas_pair(&op.value).map(|(_, n)| n),
        _ => None,
    }
}

/// Whether two register values are the same (`kv`: an absent key reads as "").
fn same(a: &Value, b: &Value, kv: bool) -> bool {
    let empty = |v: &Value| v.is_null() || v.as_str() == Some("");
    a == b || (kv && empty(a) && empty(b))
}

/// Whether `a` surely completed before `b` was invoked.
fn before(a: &Op, b: &Op) -> bool {
    a.outcome == Outcome::Ok && a.complete_index.is_some_and(|c| c < b.invoke_index)
}

/// The two-write proof for `op` (an `ok` read or cas), if there is one.
pub fn short_proof(op: &Op, key_ops: &[&Op], initial: &Value, kv: bool) -> Option<Explanation> {
    if op.outcome != Outcome::Ok {
        return None;
    }
    let v = observed(op)?;
    let sources: Vec<&Op> = key_ops
        .iter()
        .copied()
        .filter(|o| o.outcome != Outcome::Fail && sets(o).is_some_and(|s| same(s, v, kv)))
        .collect();
    let from_initial = same(initial, v, kv);
    if sources.is_empty() && !from_initial {
        return Some(Explanation::NeverWritten {
            op: OpRef::of(op),
            observed: v.clone(),
            initial: initial.clone(),
        });
    }
    // An ok op that sets another value, invoked after `after` (if any) completed and
    // completed before `op` was invoked: the latest to complete.
    let overwriter = |after: Option<&Op>| {
        key_ops
            .iter()
            .copied()
            .filter(|w| w.outcome == Outcome::Ok && sets(w).is_some_and(|s| !same(s, v, kv)))
            .filter(|w| before(w, op) && after.is_none_or(|a| before(a, w)))
            .max_by_key(|w| w.complete_index)
    };
    let mut proofs = Vec::new();
    for s in &sources {
        proofs.push((Some(*s), overwriter(Some(s))?));
    }
    if from_initial {
        proofs.push((None, overwriter(None)?));
    }
    let others = proofs.len() - 1;
    let (written_by, by) = proofs
        .into_iter()
        .max_by_key(|(s, _)| s.map(|s| s.complete_index))?;
    Some(Explanation::Overwritten {
        op: OpRef::of(op),
        observed: v.clone(),
        written_by: written_by.map(OpRef::of),
        overwritten_by: OpRef::of(by),
        others,
    })
}

impl Explanation {
    /// The explanation in plain words, for the key labelled `key` (`-`: no key);
    /// `at` formats a time in ns.
    pub fn text(&self, key: &str, at: &dyn Fn(u64) -> String) -> String {
        let done = |o: &OpRef| o.completed_ns.map_or("never".to_string(), at);
        let of = if key == "-" {
            String::new()
        } else {
            format!(" of {key}")
        };
        let what = |o: &OpRef, v: &Value| match o.f {
            F::Cas => format!("cas{of} {} (process {}) expected {v}", o.value, o.process),
            _ => format!("read{of} (process {}) returned {v}", o.process),
        };
        match self {
            Explanation::NeverWritten {
                op,
                observed,
                initial,
            } => format!(
                "{}, invoked at {}: no write or cas ever set {observed}, and the initial value is {initial}",
                what(op, observed),
                at(op.invoked_ns)
            ),
            Explanation::Overwritten {
                op,
                observed,
                written_by,
                overwritten_by: by,
                others,
            } => {
                let source = match written_by {
                    Some(w) => format!("{} completed at {}", w.name(), done(w)),
                    None => format!("{observed} was the initial value"),
                };
                let more = match others {
                    0 => String::new(),
                    1 => format!("; the other op that sets {observed} was overwritten likewise"),
                    n => format!("; the {n} other ops that set {observed} were overwritten likewise"),
                };
                format!(
                    "{}, invoked at {}, but {observed} had been overwritten before it began: {source}, then {} was invoked at {} and completed at {}{more}",
                    what(op, observed),
                    at(op.invoked_ns),
                    by.name(),
                    at(by.invoked_ns),
                    done(by)
                )
            }
            Explanation::NoOrder {
                op,
                ops,
                placed,
                why,
            } => format!(
                "{}{of} {} (process {}), invoked at {}, cannot be placed: no order of the window's {ops} ops is legal; the longest legal order found placed {placed} ops, after which {why}",
                op.f,
                op.value,
                op.process,
                at(op.invoked_ns),
            ),
        }
    }

    /// The op the explanation is about.
    pub fn op(&self) -> &OpRef {
        match self {
            Explanation::NeverWritten { op, .. }
            | Explanation::Overwritten { op, .. }
            | Explanation::NoOrder { op, .. } => op,
        }
    }
}

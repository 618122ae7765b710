//! The failing window of a component that is not sequentially consistent: a small
//! set of its ops that, on its own, has no legal order, found by shrinking the
//! component and re-running the search after every step.
//!
//! Every step only weakens the window, so that "the window has no legal order"
//! still proves "the component has none" (if the component had a legal order, its
//! restriction would be a legal order of the window):
//! - **drop a key** (all its ops): a legal order restricted to the other keys stays
//!   legal, since each key's state only depends on that key's ops;
//! - **drop a read**: a read changes no state;
//! - **make an op optional** (it may be placed, in its program-order position, or
//!   left out): a legal order that places it is still allowed;
//! - **drop an optional write or cas whose value no op of the window observes**
//!   (register-like models only): in a legal order, the ops between it and the next
//!   write of that key would have to observe its value, so there are none and it can
//!   be taken out.
//!
//! A step is kept only if the search, run again, finds no legal order within the
//! budget; so a window is never reported unverified. The window starts as the whole
//! component (already proven by the main search).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::search::{search, Component, Found};
use crate::evidence::Window;
use crate::history::{key_label, Op, F};
use crate::model::{cas_pair, Model};
use crate::value::Value;
use crate::verdict::Budget;

/// Longest time spent shrinking one component's window.
const SHRINK_TIME: Duration = Duration::from_secs(5);

/// An op of the window: its index in the component's op list and whether it is
/// required.
pub type Slot = (usize, bool);

/// Shrinks and explains the failing window of a component whose `ops` (failed ops
/// and indeterminate reads already left out) have no legal order.
pub struct Shrink<'a, M> {
    /// The model.
    pub model: &'a M,
    /// The component's ops.
    pub ops: &'a [&'a Op],
    /// Register-like models: the initial value (turns on the value reasoning).
    pub register_initial: Option<&'a Value>,
    /// The check's budget.
    pub budget: &'a Budget,
}

impl<M: Model> Shrink<'_, M> {
    /// The component of the window `w`.
    fn component(&self, w: &[Slot]) -> Component<'_> {
        self.component_with(w, self.register_initial)
    }

    /// The component of the window `w`, with value reasoning from `initial`.
    fn component_with(&self, w: &[Slot], initial: Option<&Value>) -> Component<'_> {
        let ops: Vec<(&Op, bool)> = w.iter().map(|&(i, r)| (self.ops[i], r)).collect();
        let mut keys: Vec<Option<Value>> = Vec::new();
        for (o, _) in &ops {
            if !keys.contains(&o.key) {
                keys.push(o.key.clone());
            }
        }
        Component::new(&ops, &keys, initial)
    }

    /// Whether the window `w` has no legal order (decided within `budget`).
    fn fails(&self, w: &[Slot], budget: &Budget) -> bool {
        !w.is_empty()
            && !budget.expired()
            && matches!(
                search(self.model, &self.component(w), budget, false),
                Found::Inconsistent(_)
            )
    }

    /// The value an op leaves in its key (writes and cas).
    fn written<'o>(&self, o: &'o Op) -> Option<&'o Value> {
        match o.f {
            F::Write => Some(&o.value),
            F::Cas => cas_pair(&o.value).map(|(_, n)| n),
            _ => None,
        }
    }

    /// Whether `o` observes `v` on `key` (a read of it, a cas expecting it).
    fn observes(&self, o: &Op, key: &Option<Value>, v: &Value) -> bool {
        o.key == *key
            && match o.f {
                F::Read => o.value == *v,
                F::Cas => cas_pair(&o.value).is_some_and(|(e, _)| e == v),
                _ => false,
            }
    }

    /// The window `w` weakened at the ops in `which` in the way `how` (see the
    /// module doc); `None` if nothing changes. Public so that the soundness of each
    /// step can be tested against a brute-force oracle.
    pub fn weaken(&self, w: &[Slot], which: &HashSet<usize>, how: How) -> Option<Vec<Slot>> {
        let mut out: Vec<Slot> = Vec::with_capacity(w.len());
        let mut unobserved: Vec<usize> = Vec::new();
        let mut changed = false;
        for &(i, required) in w {
            if !which.contains(&i) {
                out.push((i, required));
                continue;
            }
            match how {
                How::DropReads if self.ops[i].f == F::Read => changed = true,
                How::Relax if required && self.ops[i].f != F::Read => {
                    out.push((i, false));
                    changed = true;
                }
                How::DropUnobserved if !required => {
                    out.push((i, false));
                    unobserved.push(i);
                }
                _ => out.push((i, required)),
            }
        }
        if self.register_initial.is_some() && !unobserved.is_empty() {
            let gone: HashSet<usize> = unobserved
                .into_iter()
                .filter(|&i| {
                    let o = self.ops[i];
                    self.written(o).is_some_and(|v| {
                        !out.iter()
                            .any(|&(j, _)| j != i && self.observes(self.ops[j], &o.key, v))
                    })
                })
                .collect();
            if !gone.is_empty() {
                out.retain(|(i, _)| !gone.contains(i));
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// The shrunk window, verified: starts from every op of the component.
    pub fn shrink(&self) -> Vec<Slot> {
        let soon = Instant::now() + SHRINK_TIME;
        let budget = Budget {
            deadline: Some(self.budget.deadline.map_or(soon, |d| d.min(soon))),
            ..*self.budget
        };
        let mut w: Vec<Slot> = self
            .ops
            .iter()
            .enumerate()
            .map(|(i, o)| (i, o.outcome == crate::history::Outcome::Ok))
            .collect();
        // Keys first, biggest first.
        let mut keys: Vec<(usize, Option<Value>)> = Vec::new();
        for o in self.ops {
            match keys.iter_mut().find(|(_, k)| *k == o.key) {
                Some((n, _)) => *n += 1,
                None => keys.push((1, o.key.clone())),
            }
        }
        if keys.len() > 1 {
            keys.sort_by_key(|k| std::cmp::Reverse(k.0));
            let keys: Vec<Option<Value>> = keys.into_iter().map(|(_, k)| k).collect();
            chunks(keys, |drop: &[Option<Value>]| {
                let next: Vec<Slot> = w
                    .iter()
                    .copied()
                    .filter(|&(i, _)| !drop.contains(&self.ops[i].key))
                    .collect();
                let ok = self.fails(&next, &budget);
                if ok {
                    w = next;
                }
                ok
            });
        }
        // Then ops: reads dropped first (that makes the window smaller), then writes
        // made optional, then optional writes nobody observes dropped, then reads again.
        for how in [
            How::DropReads,
            How::Relax,
            How::DropUnobserved,
            How::DropReads,
        ] {
            let items: Vec<usize> = w.iter().map(|&(i, _)| i).collect();
            chunks(items, |which: &[usize]| {
                let which: HashSet<usize> = which.iter().copied().collect();
                match self.weaken(&w, &which, how) {
                    Some(next) if self.fails(&next, &budget) => {
                        w = next;
                        true
                    }
                    _ => false,
                }
            });
        }
        w
    }

    /// The evidence JSON of the window `w` (already verified).
    pub fn evidence(&self, w: &[Slot]) -> Window {
        let soon = Instant::now() + SHRINK_TIME;
        let budget = Budget {
            deadline: Some(self.budget.deadline.map_or(soon, |d| d.min(soon))),
            ..*self.budget
        };
        // The longest legal order is first looked for without the unique-value
        // reduction, so that the op blamed is one whose result is impossible (a
        // read), not a write the reduction held back.
        // It gets half the time: the search with the reduction is far faster.
        let now = Instant::now();
        let half = Budget {
            deadline: budget
                .deadline
                .map(|d| now + d.saturating_duration_since(now) / 2),
            ..budget
        };
        let mut c = self.component_with(w, None);
        let mut deepest = match search(self.model, &c, &half, true) {
            Found::Inconsistent(d) => d,
            _ => None,
        };
        if deepest.is_none() && self.register_initial.is_some() {
            c = self.component(w);
            deepest = match search(self.model, &c, &budget, true) {
                Found::Inconsistent(d) => d,
                _ => None,
            };
        }
        let at = |(p, i): (usize, usize)| c.processes[p][i].op;
        let (prefix, culprit, why) = match &deepest {
            Some(d) => {
                // The culprit: a blocked required op that is illegal after the prefix
                // (else any blocked op), earliest invoked.
                let blocked = || d.blocked.iter().map(|&(p, i)| c.processes[p][i]);
                let illegal = blocked()
                    .filter(|s| s.required)
                    .filter(|s| self.model.step(&d.states[s.slot], s.op).is_none())
                    .min_by_key(|s| s.op.invoke_index);
                let s = illegal.or_else(|| blocked().min_by_key(|s| s.op.invoke_index));
                let why = s.map(|s| {
                    if self.model.step(&d.states[s.slot], s.op).is_none() {
                        self.model.explain(&d.states[s.slot], s.op)
                    } else {
                        "every way on from there is illegal".to_string()
                    }
                });
                let prefix: Vec<&Op> = d.prefix.iter().map(|&x| at(x)).collect();
                (prefix, s.map(|s| s.op), why)
            }
            None => (Vec::new(), None, None),
        };
        let culprit = culprit.unwrap_or_else(|| {
            let first = w
                .iter()
                .find(|(i, _)| self.ops[*i].f == F::Read)
                .unwrap_or(&w[0]);
            self.ops[first.0]
        });
        let explanation = match self
            .register_initial
            .and_then(|initial| never_written(culprit, self.ops, initial))
        {
            // A fact of the whole component, not of one search order.
            Some(fact) => format!("{}; {fact}, so no order allows it", describe(culprit)),
            None => explain(culprit, w.len(), &prefix, self.ops, w, why),
        };
        let mut ops: Vec<u64> = w.iter().map(|&(i, _)| self.ops[i].invoke_index).collect();
        ops.sort_unstable();
        let mut optional: Vec<u64> = w
            .iter()
            .filter(|(_, r)| !r)
            .map(|&(i, _)| self.ops[i].invoke_index)
            .collect();
        optional.sort_unstable();
        Window {
            ops,
            optional,
            prefix: prefix.iter().map(|o| o.invoke_index).collect(),
            culprit: Some(culprit.invoke_index),
            culprit_time_ns: Some(culprit.invoke_time),
            explanation,
            verified: true,
            checked_from: "the initial value of every key".to_string(),
            component_ops: Some(self.ops.len() as u64),
            ..Window::default()
        }
    }
}

/// A way to weaken a window (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Drop reads.
    DropReads,
    /// Make required ops optional.
    Relax,
    /// Drop optional writes and cas whose value nobody observes (register-like).
    DropUnobserved,
}

/// Tries `apply` on chunks of `items`, halving the chunk size down to one; `apply`
/// returns whether it kept the change (the chunk's items are then done with).
fn chunks<T>(mut items: Vec<T>, mut apply: impl FnMut(&[T]) -> bool) {
    let mut size = items.len().div_ceil(2).max(1);
    loop {
        let mut i = 0;
        while i < items.len() {
            let end = (i + size).min(items.len());
            if apply(&items[i..end]) {
                items.drain(i..end);
            } else {
                i = end;
            }
        }
        if size == 1 || items.is_empty() {
            return;
        }
        size = size.div_ceil(2);
    }
}

/// An op in words: "process 3 read x = 2", "process 1 wrote x = 5".
pub fn describe(o: &Op) -> String {
    let key = key_label(o.key.as_ref());
    match o.f {
        F::Read => format!("process {} read {key} = {}", o.process, o.value),
        F::Write => format!("process {} wrote {key} = {}", o.process, o.value),
        F::Cas => match cas_pair(&o.value) {
            Some((e, n)) => format!("process {} set {key} from {e} to {n} (cas)", o.process),
            None => format!("process {} did cas {} on {key}", o.process, o.value),
        },
        _ => format!("process {} did {} {} on {key}", o.process, o.f, o.value),
    }
}

/// "no write or cas ever set 7, and the initial value is null", when `culprit` (an
/// ok read, or a cas) observed a value that no op of its component (`ops`: every op on
/// its keys that did not fail) sets and that is not the initial value. Null and ""
/// are left to the search (a kv key reads as either when absent).
fn never_written(culprit: &Op, ops: &[&Op], initial: &Value) -> Option<String> {
    let v = match culprit.f {
        F::Read => &culprit.value,
        F::Cas => cas_pair(&culprit.value)?.0,
        _ => return None,
    };
    if v.is_null() || v.as_str() == Some("") || v == initial {
        return None;
    }
    let sets = |o: &Op| match o.f {
        F::Write => o.value == *v,
        F::Cas => cas_pair(&o.value).is_some_and(|(_, n)| n == v),
        _ => false,
    };
    let set = ops.iter().any(|o| o.key == culprit.key && sets(o));
    (!set).then(|| format!("no write or cas ever set {v}, and the initial value is {initial}"))
}

/// The plain-words explanation of a window.
fn explain(
    culprit: &Op,
    n: usize,
    prefix: &[&Op],
    ops: &[&Op],
    w: &[Slot],
    why: Option<String>,
) -> String {
    // The culprit's own previous op in the window, if any.
    let own = w
        .iter()
        .map(|&(i, _)| ops[i])
        .filter(|o| o.process == culprit.process && o.invoke_index < culprit.invoke_index)
        .max_by_key(|o| o.invoke_index);
    let mut s = describe(culprit);
    if let Some(o) = own {
        s.push_str(&format!(" after its own {}", own_phrase(o)));
    }
    s.push_str(&format!(
        "; no single order of these {n} ops that keeps each process's own order allows it"
    ));
    if let Some(why) = why {
        s.push_str(&format!(" (in the longest legal order found: {why}"));
        let setter = prefix
            .iter()
            .rev()
            .find(|o| o.key == culprit.key && o.f != F::Read);
        if let Some(set) = setter {
            s.push_str(&format!(", last set when {}", describe(set)));
        }
        s.push(')');
    }
    s
}

/// An op as the object of "after its own ...": "write of x = 5".
fn own_phrase(o: &Op) -> String {
    let key = key_label(o.key.as_ref());
    match o.f {
        F::Write => format!("write of {key} = {}", o.value),
        F::Read => format!("read of {key} = {}", o.value),
        F::Cas => match cas_pair(&o.value) {
            Some((e, n)) => format!("cas of {key} from {e} to {n}"),
            None => format!("cas {} on {key}", o.value),
        },
        _ => format!("{} {} on {key}", o.f, o.value),
    }
}

//! Lookaheads: what the ops not yet placed demand of the state the search just
//! reached. Two sound reductions for registers and key-value keys:
//!
//! - **Dead states.** An op still to place that must observe a value `v` (a required
//!   read returning `v`, a required cas expecting `v`) can only be placed while the
//!   state is `v`. If the state is not `v` now and no op still to place can bring `v`
//!   back, no linearization follows: the search backs off at once instead of when
//!   the read finally fails. For registers "bring back" means writing `v` (this is
//!   what makes unique written values cheap: a value read later cannot be
//!   overwritten first). For string keys with appends, the state only grows between
//!   writes, so the state must be a prefix of `v`, or some write still to place must
//!   write a prefix of `v`.
//! - **Unobserved states are alike.** A state that no op still to place can observe
//!   (no read or cas may see it, nor, with appends, any string it grows into)
//!   behaves like any other such state from here on: every later op either fails on
//!   it or overwrites it. All of them are replaced by one stand-in value, so the memo
//!   sees them as one state.
//!
//! Both depend only on which ops are placed and on the state, so the memo stays
//! exact.

use std::collections::HashMap;

use super::search::SearchOp;
use crate::history::F;
use crate::model::cas_pair;
use crate::value::Value;

/// What the ops still to place demand of a state.
pub trait Lookahead<S> {
    /// Op `i` (a position in the search's op list) was placed.
    fn place(&mut self, i: usize);
    /// Op `i` was taken back out (the reverse of the latest `place(i)`).
    fn unplace(&mut self, i: usize);
    /// Reviews the state just reached: the state to continue from (itself, or a
    /// stand-in every later op treats alike), or `None` if no linearization can follow.
    fn review(&self, state: S) -> Option<S>;
    /// When [`Lookahead::review`] rejects `state`: an op still to place that can then
    /// never be placed, if known (for evidence).
    fn blocker(&self, _state: &S) -> Option<usize> {
        None
    }
}

/// Builds the lookahead for one search (one list of ops).
pub trait Pruning<S>: Sync {
    /// The lookahead built.
    type L: Lookahead<S>;
    /// The lookahead for `ops`, none of them placed.
    fn build(&self, ops: &[SearchOp<'_>]) -> Self::L;
}

impl<S, P: Pruning<S>> Pruning<S> for &P {
    type L = P::L;
    fn build(&self, ops: &[SearchOp<'_>]) -> P::L {
        (**self).build(ops)
    }
}

/// No pruning: every state is kept as it is.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPruning;

/// The lookahead of [`NoPruning`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Nothing;

impl<S> Lookahead<S> for Nothing {
    fn place(&mut self, _: usize) {}
    fn unplace(&mut self, _: usize) {}
    fn review(&self, state: S) -> Option<S> {
        Some(state)
    }
}

impl<S> Pruning<S> for NoPruning {
    type L = Nothing;
    fn build(&self, _: &[SearchOp<'_>]) -> Nothing {
        Nothing
    }
}

/// The pruning for models whose state is one [`Value`] that reads return whole:
/// `register`, `cas-register` and `kv`.
#[derive(Clone, Copy, Debug)]
pub struct ValuePruning {
    /// `kv` semantics: `null` and `""` are one value (absent), and appends may
    /// concatenate strings (then states are compared by prefix).
    pub kv: bool,
}

/// Counts per observed value, and a Fenwick tree of the "stuck" demands: required
/// observers of a value that no op still to place can write.
#[derive(Debug)]
pub struct ValueLookahead {
    /// Prefix mode: values are strings sorted, and a state matches the range of
    /// values it is a prefix of. Otherwise a state matches its own value only.
    prefix: bool,
    kv: bool,
    /// Observed values: sorted strings (prefix mode) or a map value -> id.
    sorted: Vec<String>,
    ids: HashMap<Value, u32>,
    /// Per op: the value id it observes; the range of ids it can write (lo, hi).
    observes: Vec<Option<u32>>,
    writes: Vec<Option<(u32, u32)>>,
    required: Vec<bool>,
    /// Per value id: observers still to place, required ones, writers still to place.
    obs: Vec<u32>,
    need: Vec<u32>,
    writers: Vec<u32>,
    /// Stuck demands per id (`need` where `writers` is 0), as a Fenwick tree.
    stuck: Fenwick,
    stuck_total: u64,
    /// Observers still to place per id, as a Fenwick tree (prefix mode).
    obs_tree: Fenwick,
    /// Required observers per id, to name one when a state is dead.
    observers_of: Vec<Vec<u32>>,
    placed: Vec<bool>,
    /// The stand-in for unobserved states.
    stand_in: Value,
}

impl Pruning<Value> for ValuePruning {
    type L = ValueLookahead;

    fn build(&self, ops: &[SearchOp<'_>]) -> ValueLookahead {
        let prefix = self.kv && ops.iter().any(|o| o.op.f == F::Append);
        let norm = |v: &Value| -> Value {
            if self.kv && is_absent(v) {
                Value::str("")
            } else {
                v.clone()
            }
        };
        // What each op observes and writes, as values.
        let mut seen: Vec<(Option<Value>, Option<Value>)> = Vec::with_capacity(ops.len());
        for o in ops {
            let (obs, wr) = match o.op.f {
                F::Read => (Some(norm(&o.op.value)), None),
                F::Write => (None, Some(norm(&o.op.value))),
                F::Cas => match cas_pair(&o.op.value) {
                    Some((e, n)) => (Some(norm(e)), Some(norm(n))),
                    None => (None, None),
                },
                _ => (None, None),
            };
            seen.push((obs, wr));
        }
        let mut la = ValueLookahead {
            prefix,
            kv: self.kv,
            sorted: Vec::new(),
            ids: HashMap::new(),
            observes: Vec::with_capacity(ops.len()),
            writes: Vec::with_capacity(ops.len()),
            required: ops.iter().map(|o| o.required).collect(),
            obs: Vec::new(),
            need: Vec::new(),
            writers: Vec::new(),
            stuck: Fenwick::new(0),
            stuck_total: 0,
            obs_tree: Fenwick::new(0),
            observers_of: Vec::new(),
            placed: vec![false; ops.len()],
            stand_in: Value::Null,
        };
        if prefix {
            // Every observed value and every written value must be a string.
            let all_strings = seen.iter().all(|(a, b)| {
                a.as_ref().is_none_or(|v| v.as_str().is_some())
                    && b.as_ref().is_none_or(|v| v.as_str().is_some())
            }) && ops
                .iter()
                .all(|o| o.op.f != F::Append || o.op.value.as_str().is_some());
            if !all_strings {
                return la.disabled();
            }
            let mut v: Vec<String> = seen
                .iter()
                .filter_map(|(a, _)| a.as_ref().and_then(Value::as_str).map(str::to_string))
                .collect();
            v.sort_unstable();
            v.dedup();
            let longest = v.iter().map(String::len).max().unwrap_or(0);
            la.stand_in = Value::str(&"\u{1}".repeat(longest + 1));
            la.sorted = v;
        } else {
            for (a, _) in &seen {
                if let Some(a) = a {
                    let n = la.ids.len() as u32;
                    la.ids.entry(a.clone()).or_insert(n);
                }
            }
            let mut stand_in = String::from("\u{1}unobserved");
            while la.ids.contains_key(&Value::str(&stand_in)) {
                stand_in.push('!');
            }
            la.stand_in = Value::str(&stand_in);
        }
        let n = if prefix {
            la.sorted.len()
        } else {
            la.ids.len()
        };
        la.obs = vec![0; n];
        la.need = vec![0; n];
        la.writers = vec![0; n];
        la.observers_of = vec![Vec::new(); n];
        for (i, (a, b)) in seen.iter().enumerate() {
            let o = a.as_ref().map(|a| la.range(a).0);
            let w = b.as_ref().map(|b| la.range(b)).filter(|(lo, hi)| lo < hi);
            if let Some(o) = o {
                la.obs[o as usize] += 1;
                if ops[i].required {
                    la.need[o as usize] += 1;
                    la.observers_of[o as usize].push(i as u32);
                }
            }
            if let Some((lo, hi)) = w {
                for id in lo..hi {
                    la.writers[id as usize] += 1;
                }
            }
            la.observes.push(o);
            la.writes.push(w);
        }
        la.stuck = Fenwick::new(n);
        la.obs_tree = Fenwick::new(n);
        for id in 0..n {
            let s = la.stuck_of(id);
            la.stuck.add(id, s as i64);
            la.stuck_total += s;
            la.obs_tree.add(id, la.obs[id] as i64);
        }
        la
    }
}

impl ValueLookahead {
    /// The ids a state matches, as `usize`s (the stand-in matches none).
    fn matches(&self, state: &Value) -> (usize, usize) {
        if *state == self.stand_in {
            return (0, 0);
        }
        let (lo, hi) = self.range(state);
        (lo as usize, hi as usize)
    }

    /// A lookahead that reviews nothing (values it cannot reason about).
    fn disabled(mut self) -> ValueLookahead {
        self.prefix = false;
        self.ids.clear();
        self.observes = vec![None; self.required.len()];
        self.writes = vec![None; self.required.len()];
        self.stand_in = Value::Null;
        self
    }

    /// The ids a state matches: in prefix mode every observed value it is a prefix
    /// of, else its own value (empty if unobserved).
    fn range(&self, v: &Value) -> (u32, u32) {
        if self.prefix {
            let s = v.as_str().unwrap_or("");
            let lo = self.sorted.partition_point(|x| x.as_str() < s);
            let hi = lo + self.sorted[lo..].partition_point(|x| x.starts_with(s));
            (lo as u32, hi as u32)
        } else {
            let absent = Value::str("");
            let key = if self.kv && is_absent(v) { &absent } else { v };
            match self.ids.get(key) {
                Some(&id) => (id, id + 1),
                None => (0, 0),
            }
        }
    }

    fn stuck_of(&self, id: usize) -> u64 {
        if self.writers[id] == 0 {
            u64::from(self.need[id])
        } else {
            0
        }
    }

    /// Applies `change` to id's counts, keeping the stuck tree in step.
    fn update(&mut self, id: usize, change: impl FnOnce(&mut ValueLookahead)) {
        let before = self.stuck_of(id);
        change(self);
        let after = self.stuck_of(id);
        if before != after {
            self.stuck.add(id, after as i64 - before as i64);
            self.stuck_total = self.stuck_total + after - before;
        }
    }

    fn shift(&mut self, i: usize, placed: bool) {
        self.placed[i] = placed;
        let d: i64 = if placed { -1 } else { 1 };
        let step = |x: &mut u32| *x = (i64::from(*x) + d) as u32;
        if let Some(o) = self.observes[i] {
            let required = self.required[i];
            self.update(o as usize, |la| {
                step(&mut la.obs[o as usize]);
                if required {
                    step(&mut la.need[o as usize]);
                }
            });
            self.obs_tree.add(o as usize, d);
        }
        if let Some((lo, hi)) = self.writes[i] {
            for id in lo..hi {
                self.update(id as usize, |la| step(&mut la.writers[id as usize]));
            }
        }
    }
}

impl Lookahead<Value> for ValueLookahead {
    fn place(&mut self, i: usize) {
        self.shift(i, true);
    }

    fn unplace(&mut self, i: usize) {
        self.shift(i, false);
    }

    fn review(&self, state: Value) -> Option<Value> {
        if self.obs.is_empty() {
            return Some(state);
        }
        let (lo, hi) = self.matches(&state);
        if self.stuck.sum(hi) - self.stuck.sum(lo) != self.stuck_total as i64 {
            return None;
        }
        if self.obs_tree.sum(hi) == self.obs_tree.sum(lo) {
            return Some(self.stand_in.clone());
        }
        Some(state)
    }

    fn blocker(&self, state: &Value) -> Option<usize> {
        let (lo, hi) = self.matches(state);
        (0..self.obs.len())
            .filter(|&id| (id < lo || id >= hi) && self.stuck_of(id) > 0)
            .flat_map(|id| self.observers_of[id].iter())
            .map(|&i| i as usize)
            .find(|&i| !self.placed[i])
    }
}

/// `null` and `""` are one value (absent) for kv keys.
fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// A Fenwick (binary indexed) tree of counts: point updates, prefix sums.
#[derive(Debug, Clone)]
struct Fenwick(Vec<i64>);

impl Fenwick {
    fn new(n: usize) -> Fenwick {
        Fenwick(vec![0; n + 1])
    }

    fn add(&mut self, i: usize, d: i64) {
        let mut i = i + 1;
        while i < self.0.len() {
            self.0[i] += d;
            i += i & i.wrapping_neg();
        }
    }

    /// The sum of the first `i` counts.
    fn sum(&self, i: usize) -> i64 {
        let mut i = i;
        let mut s = 0;
        while i > 0 {
            s += self.0[i];
            i &= i - 1;
        }
        s
    }
}

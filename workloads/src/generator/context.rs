//! What a generator is asked with and told: the [`Context`] of a request (the time,
//! the slot and process asking, which slots are free), the [`Next`] answer, the
//! [`Completion`] of an operation it gave, and [`SlotSet`], a small set of slot
//! numbers.

use std::time::Duration;

use checkers::{Outcome, Value};

use crate::OpSpec;

/// A set of slot numbers (`0..`), as a bit set.
#[derive(Clone, Debug, Default)]
pub struct SlotSet {
    words: Vec<u64>,
}

impl PartialEq for SlotSet {
    fn eq(&self, other: &SlotSet) -> bool {
        self.is_superset(other) && other.is_superset(self)
    }
}

impl Eq for SlotSet {}

impl SlotSet {
    /// The empty set.
    pub fn new() -> SlotSet {
        SlotSet::default()
    }

    /// Every slot in `0..n`.
    pub fn all(n: usize) -> SlotSet {
        SlotSet::from_fn(n, |_| true)
    }

    /// The slots in `0..n` for which `keep` is true.
    pub fn from_fn(n: usize, mut keep: impl FnMut(usize) -> bool) -> SlotSet {
        let mut s = SlotSet {
            words: vec![0; n.div_ceil(64)],
        };
        for i in (0..n).filter(|&i| keep(i)) {
            s.insert(i);
        }
        s
    }

    /// Just `slot`.
    pub fn one(slot: usize) -> SlotSet {
        let mut s = SlotSet::new();
        s.insert(slot);
        s
    }

    /// Adds `slot`.
    pub fn insert(&mut self, slot: usize) {
        let w = slot / 64;
        if w >= self.words.len() {
            self.words.resize(w + 1, 0);
        }
        self.words[w] |= 1 << (slot % 64);
    }

    /// Removes `slot`.
    pub fn remove(&mut self, slot: usize) {
        if let Some(w) = self.words.get_mut(slot / 64) {
            *w &= !(1 << (slot % 64));
        }
    }

    /// Whether `slot` is in the set.
    pub fn contains(&self, slot: usize) -> bool {
        self.words
            .get(slot / 64)
            .is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// How many slots are in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    /// Whether every slot of `other` is in this set.
    pub fn is_superset(&self, other: &SlotSet) -> bool {
        other.words.iter().enumerate().all(|(i, &o)| {
            let mine = self.words.get(i).copied().unwrap_or(0);
            o & !mine == 0
        })
    }

    /// The slots in both sets.
    pub fn intersection(&self, other: &SlotSet) -> SlotSet {
        SlotSet {
            words: self
                .words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| a & b)
                .collect(),
        }
    }

    /// The slots, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            (0..64)
                .filter(move |b| w & (1 << b) != 0)
                .map(move |b| i * 64 + b)
        })
    }
}

/// What a generator is asked with: who asks, when, and who else is free.
///
/// The scheduler runs a generator over a fixed number of *slots* (workers), each
/// performing one operation at a time as its current logical *process*. Times are
/// measured from when the scheduler began running this generator.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Time since the scheduler began running the generator.
    pub time: Duration,
    /// The slot asking (or, in [`crate::generator::Generator::update`], the slot
    /// whose operation completed).
    pub slot: usize,
    /// The logical process the slot performs as.
    pub process: u64,
    serving: &'a SlotSet,
    free: &'a SlotSet,
}

impl<'a> Context<'a> {
    /// The context of `slot` (performing as `process`) asking at `time`, for a
    /// generator that serves the slots in `serving` while the slots in `free` have no
    /// operation outstanding.
    pub fn new(
        time: Duration,
        slot: usize,
        process: u64,
        serving: &'a SlotSet,
        free: &'a SlotSet,
    ) -> Context<'a> {
        Context {
            time,
            slot,
            process,
            serving,
            free,
        }
    }

    /// The slots this generator serves (all the scheduler's, unless a routing
    /// combinator narrowed them).
    pub fn serving(&self) -> &SlotSet {
        self.serving
    }

    /// Whether `slot` has no operation outstanding.
    pub fn is_free(&self, slot: usize) -> bool {
        self.free.contains(slot)
    }

    /// The served slots with no operation outstanding.
    pub fn free_slots(&self) -> impl Iterator<Item = usize> + '_ {
        self.serving.iter().filter(|&s| self.free.contains(s))
    }

    /// The same request, for a generator that serves only `serving`.
    pub fn serving_only<'b>(&'b self, serving: &'b SlotSet) -> Context<'b> {
        Context {
            time: self.time,
            slot: self.slot,
            process: self.process,
            serving,
            free: self.free,
        }
    }
}

/// A generator's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Perform this operation.
    Op(OpSpec),
    /// Nothing for the asking slot yet: ask again after the next completion, or at
    /// time `until` at the latest.
    Pending {
        /// When to ask again even if nothing completes.
        until: Option<Duration>,
    },
    /// Nothing more for the asking slot, ever.
    Done,
}

impl Next {
    /// Pending until the next completion.
    pub fn pending() -> Next {
        Next::Pending { until: None }
    }

    /// Pending until `until` (or the next completion, if sooner).
    pub fn pending_until(until: Duration) -> Next {
        Next::Pending { until: Some(until) }
    }

    /// The operation, if this is one.
    pub fn into_op(self) -> Option<OpSpec> {
        match self {
            Next::Op(op) => Some(op),
            _ => None,
        }
    }
}

/// The earlier of two optional wake-up times (`None` is "no time").
pub fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// How an operation a generator gave ended, as the generator is told.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The slot that performed it.
    pub slot: usize,
    /// The process it was performed as.
    pub process: u64,
    /// The operation as invoked.
    pub op: OpSpec,
    /// How it ended.
    pub outcome: Outcome,
    /// What it returned (a read's value; for writes the written value); the invoked
    /// value when it did not end `ok`.
    pub value: Value,
    /// When it completed (the same clock as [`Context::time`]).
    pub time: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_set_holds_slots_beyond_one_word() {
        let mut s = SlotSet::from_fn(130, |i| i % 64 == 3);
        assert_eq!(s.iter().collect::<Vec<_>>(), [3, 67]);
        assert!(s.contains(67) && !s.contains(66));
        s.insert(200);
        s.remove(3);
        assert_eq!(s.len(), 2);
        assert!(SlotSet::all(201).is_superset(&s));
        assert!(!s.is_superset(&SlotSet::one(4)));
        assert_eq!(s.intersection(&SlotSet::all(100)), SlotSet::one(67));
        s.clear();
        assert!(s.is_empty());
    }
}

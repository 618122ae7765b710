//! The search for a linearization of one key's operations: the Wing–Gong–Lowe
//! algorithm as Porcupine runs it (a list of call and return entries; linearize calls
//! in order, lift them out of the list, backtrack at a return), with a memo of
//! (linearized set, model state) pairs already explored.
//!
//! Beyond Porcupine, each of these is sound (it never loses a legal order) and keeps
//! the search small:
//! - the memo ([`super::memo`]) keys the linearized set compactly and clears itself
//!   rather than exhaust memory;
//! - a [`Lookahead`] rejects states from which some op still to place can never be
//!   placed, and merges states no op still to place can tell apart;
//! - identical ops that never return (twins) are placed in call order only;
//! - right after an op that may or may not take effect, a blind write is not tried
//!   (the optional op would have had no effect: orders without it are tried anyway).

use std::collections::HashMap;

use super::lookahead::{Lookahead, Pruning};
use super::memo::Memo;
use crate::history::{Op, F};
use crate::model::Model;
use crate::value::Value;
use crate::verdict::Budget;

/// One operation as the search sees it.
#[derive(Clone, Copy, Debug)]
pub struct SearchOp<'a> {
    /// The history's op.
    pub op: &'a Op,
    /// Order key of its call entry.
    pub call: u64,
    /// Order key of its return entry (`u64::MAX`: never returns, may be omitted).
    pub ret: u64,
    /// Whether a linearization must include it. An op that is not required may take
    /// effect anywhere between its call and its return, or not at all (indeterminate
    /// ops never return).
    pub required: bool,
}

/// What a search found.
#[derive(Debug)]
pub enum Found<S> {
    /// A legal order exists.
    Linearizable,
    /// No legal order exists. With tracking on, the deepest attempt.
    NotLinearizable(Option<Deepest<S>>),
    /// The budget ran out first.
    Unknown,
}

/// The deepest point a failed search reached.
#[derive(Debug, Clone)]
pub struct Deepest<S> {
    /// Positions (into the search's op list) of the longest legal prefix, in order.
    pub prefix: Vec<usize>,
    /// Position of the op that could not be placed after that prefix.
    pub culprit: usize,
    /// The model state after the prefix.
    pub state: S,
}

/// Entries of the call/return list.
#[derive(Clone, Copy)]
struct Entry {
    op: u32,
    is_call: bool,
    /// For calls, the index of the matching return entry.
    partner: u32,
}

/// Searches for a linearization of `ops` (in call order) from `init`, pruned by
/// `pruning`. `track` records the deepest attempt for evidence.
pub fn search<M: Model, P: Pruning<M::State>>(
    model: &M,
    ops: &[SearchOp<'_>],
    init: M::State,
    pruning: P,
    budget: &Budget,
    track: bool,
) -> Found<M::State> {
    let mut memo = Memo::new(budget.memory_bytes.unwrap_or(512 << 20));
    let mut la = pruning.build(ops);
    search_with(model, ops, init, &mut la, budget, track, &mut memo)
}

/// [`search`] with a lookahead and a memo given.
fn search_with<M: Model, L: Lookahead<M::State>>(
    model: &M,
    ops: &[SearchOp<'_>],
    init: M::State,
    la: &mut L,
    budget: &Budget,
    track: bool,
    memo: &mut Memo<M::State>,
) -> Found<M::State> {
    let n = ops.len();
    let mut required_left = ops.iter().filter(|o| o.required).count();
    if required_left == 0 {
        return Found::Linearizable;
    }
    // Entries sorted by order key; a sentinel head at index n*2.
    let mut order: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
    for (i, o) in ops.iter().enumerate() {
        order.push((o.call, true, i as u32));
        order.push((o.ret, false, i as u32));
    }
    // Calls before returns at equal keys (only +inf returns can tie).
    order.sort_unstable_by_key(|&(k, is_call, i)| (k, !is_call, i));
    let head = 2 * n;
    let mut entries: Vec<Entry> = Vec::with_capacity(2 * n + 1);
    let mut ret_at = vec![0u32; n];
    for (pos, &(_, is_call, i)) in order.iter().enumerate() {
        entries.push(Entry {
            op: i,
            is_call,
            partner: 0,
        });
        if !is_call {
            ret_at[i as usize] = pos as u32;
        }
    }
    for e in entries.iter_mut() {
        if e.is_call {
            e.partner = ret_at[e.op as usize];
        }
    }
    entries.push(Entry {
        op: u32::MAX,
        is_call: false,
        partner: 0,
    });
    const NIL: usize = usize::MAX;
    let mut next: Vec<usize> = (1..=2 * n).collect();
    next[2 * n - 1] = NIL;
    next.push(if n > 0 { 0 } else { NIL });
    let mut prev: Vec<usize> = Vec::with_capacity(2 * n + 1);
    prev.push(head);
    prev.extend(0..2 * n - 1);
    prev.push(NIL);

    // Required ops placed: a bitset over all ops where optional ops' bits are always
    // set (so the full-word frontier passes them); optional ops placed: a bitset over
    // the optional ops alone.
    let words = n.div_ceil(64);
    let mut bits = vec![0u64; words];
    let mut opt_rank = vec![u32::MAX; n];
    let mut optionals = 0usize;
    for (i, o) in ops.iter().enumerate() {
        if !o.required {
            bits[i / 64] |= 1 << (i % 64);
            opt_rank[i] = optionals as u32;
            optionals += 1;
        }
    }
    let mut opt_bits = vec![0u64; optionals.div_ceil(64)];
    let mut full_words = 0usize;
    while full_words < words && bits[full_words] == u64::MAX {
        full_words += 1;
    }
    let mut placed = vec![false; n];
    // Stack of (call entry, state before it, max word used before it).
    let mut stack: Vec<(usize, M::State, usize)> = Vec::new();
    let mut hi_word = 0usize;
    let mut deepest: Option<Deepest<M::State>> = None;
    let mut state = match la.review(init.clone()) {
        Some(s) => s,
        None if track => init,
        None => return Found::NotLinearizable(None),
    };
    let mut steps: u64 = 0;
    let twin = twins(ops);
    // Whether `write` is a blind write here (its result does not depend on the
    // state), and whether the last op placed was optional.
    let blind_writes = register_like(ops);
    let mut blind_after = false;

    let mut entry = next[head];
    loop {
        if required_left == 0 {
            return Found::Linearizable;
        }
        steps += 1;
        if steps & 0x3ff == 0 && budget.expired() {
            return Found::Unknown;
        }
        let e = entries[entry];
        if e.is_call {
            let i = e.op as usize;
            // An op identical to an earlier, still unplaced op that never returns
            // either: placing this one instead of that one reaches the same state.
            if twin[i] != NONE && !placed[twin[i] as usize] {
                entry = next[entry];
                continue;
            }
            // Right after an optional op, a blind write is not tried: the optional op
            // would have no effect, and orders without it are explored anyway.
            if blind_after && ops[i].op.f == F::Write {
                entry = next[entry];
                continue;
            }
            let stepped = model.step(&state, ops[i].op).and_then(|s| {
                la.place(i);
                let reviewed = if track {
                    match la.review(s.clone()) {
                        Some(r) => Some(r),
                        None => {
                            // Dead: some op can never be placed after this one.
                            let depth = stack.len() + 1;
                            if deepest.as_ref().is_none_or(|d| depth > d.prefix.len()) {
                                if let Some(b) = la.blocker(&s) {
                                    let mut prefix: Vec<usize> = stack
                                        .iter()
                                        .map(|&(c, _, _)| entries[c].op as usize)
                                        .collect();
                                    prefix.push(i);
                                    deepest = Some(Deepest {
                                        prefix,
                                        culprit: b,
                                        state: s,
                                    });
                                }
                            }
                            None
                        }
                    }
                } else {
                    la.review(s)
                };
                if reviewed.is_none() {
                    la.unplace(i);
                }
                reviewed
            });
            if let Some(new_state) = stepped {
                let required = ops[i].required;
                let (w, b) = (i / 64, 1u64 << (i % 64));
                let (ow, ob) = (opt_rank[i] as usize / 64, 1u64 << (opt_rank[i] % 64));
                let new_hi = if required {
                    bits[w] |= b;
                    while full_words < words && bits[full_words] == u64::MAX {
                        full_words += 1;
                    }
                    hi_word.max(w)
                } else {
                    opt_bits[ow] |= ob;
                    hi_word
                };
                let rest: &[u64] = if full_words > new_hi {
                    &[]
                } else {
                    &bits[full_words..=new_hi]
                };
                // A configuration right after an optional op allows fewer moves (no
                // blind write): it is not memoized, so it never hides the same
                // configuration reached otherwise.
                let transient = blind_writes && !required;
                if transient || memo.insert(full_words as u32, rest, &opt_bits, &new_state) {
                    stack.push((entry, std::mem::replace(&mut state, new_state), hi_word));
                    blind_after = transient;
                    hi_word = new_hi;
                    placed[i] = true;
                    if required {
                        required_left -= 1;
                    }
                    // Lift the call and its return out of the list.
                    let r = e.partner as usize;
                    for x in [entry, r] {
                        let (p, nx) = (prev[x], next[x]);
                        next[p] = nx;
                        if nx != NIL {
                            prev[nx] = p;
                        }
                    }
                    entry = next[head];
                    continue;
                }
                la.unplace(i);
                if required {
                    bits[w] &= !b;
                    if full_words > w {
                        full_words = w;
                    }
                } else {
                    opt_bits[ow] &= !ob;
                }
            }
            entry = next[entry];
        } else if !ops[e.op as usize].required {
            // An optional op's return passed unplaced: it did not take effect.
            entry = next[entry];
        } else {
            // A required op's return, and it is not linearized: backtrack.
            if track
                && deepest
                    .as_ref()
                    .is_none_or(|d| stack.len() > d.prefix.len())
            {
                deepest = Some(Deepest {
                    prefix: stack
                        .iter()
                        .map(|&(c, _, _)| entries[c].op as usize)
                        .collect(),
                    culprit: e.op as usize,
                    state: state.clone(),
                });
            }
            let Some((call, old_state, old_hi)) = stack.pop() else {
                return Found::NotLinearizable(deepest);
            };
            let i = entries[call].op as usize;
            // Back to the configuration before `i`: transient if the op before it
            // was optional.
            blind_after = blind_writes
                && stack
                    .last()
                    .is_some_and(|&(c, _, _)| !ops[entries[c].op as usize].required);
            state = old_state;
            hi_word = old_hi;
            placed[i] = false;
            la.unplace(i);
            if ops[i].required {
                required_left += 1;
                let (w, b) = (i / 64, 1u64 << (i % 64));
                bits[w] &= !b;
                if full_words > w {
                    full_words = w;
                }
            } else {
                let r = opt_rank[i];
                opt_bits[r as usize / 64] &= !(1u64 << (r % 64));
            }
            // Put the call and its return back (reverse order of lifting).
            let r = entries[call].partner as usize;
            for x in [r, call] {
                let (p, nx) = (prev[x], next[x]);
                next[p] = x;
                if nx != NIL {
                    prev[nx] = x;
                }
            }
            entry = next[call];
        }
    }
}

/// Whether every op is a read, write, cas or append: then these are register or kv
/// ops, and a write is blind (it leaves the same state whatever the state was).
fn register_like(ops: &[SearchOp<'_>]) -> bool {
    ops.iter()
        .all(|o| matches!(o.op.f, F::Read | F::Write | F::Cas | F::Append))
}

/// No twin.
const NONE: u32 = u32::MAX;

/// For each op that never returns, the previous op (in call order) that also never
/// returns and is identical to it (same function and values), or [`NONE`].
///
/// Two such ops are interchangeable in any order (neither constrains where it goes
/// after its call, and both step the model alike), so the search only ever places
/// the earliest unplaced one of a family: the placed members of a family are always
/// a prefix of it, and orders that differ only by swapping twins are explored once.
fn twins(ops: &[SearchOp<'_>]) -> Vec<u32> {
    let mut last: HashMap<(&F, &Value, &Value), u32> = HashMap::new();
    let mut out = vec![NONE; ops.len()];
    let mut by_call: Vec<usize> = (0..ops.len()).collect();
    by_call.sort_by_key(|&i| ops[i].call);
    for i in by_call {
        let o = &ops[i];
        if o.ret == u64::MAX && !o.required {
            if let Some(j) = last.insert((&o.op.f, &o.op.value, &o.op.invoke_value), i as u32) {
                out[i] = j;
            }
        }
    }
    out
}

/// The earlier interface of [`prepare`](super::prepare::prepare), kept for callers
/// that still use it: the search ops, and no [`Values`].
pub fn prepare<'a>(
    ops: &[&'a Op],
    register_like: bool,
    initial: &Value,
) -> (Vec<SearchOp<'a>>, Option<Values>) {
    (super::prepare::prepare(ops, register_like, initial), None)
}

/// Kept for callers of the earlier interface, where it carried value ids for a
/// pruning the [`Lookahead`]s now do. As a [`Pruning`] it prunes nothing: use
/// [`super::check_key`] to decide a key with every pruning.
#[derive(Clone, Copy, Debug, Default)]
pub struct Values;

impl<S> Pruning<S> for Option<&Values> {
    type L = super::lookahead::Nothing;
    fn build(&self, _: &[SearchOp<'_>]) -> Self::L {
        super::lookahead::Nothing
    }
}

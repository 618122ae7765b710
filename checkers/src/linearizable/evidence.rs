//! Evidence for a key that is not linearizable: the longest legal prefix the search
//! found, the op that cannot be placed after it and why, and a verified window.
//!
//! The window is a proof, checked by searching it again. Let `T` be the completion of
//! the op the search could not place (the culprit), and `H_T` the history cut at `T`:
//! the ops invoked before `T`, where an op still running at `T` may or may not have
//! taken effect. If `H` is linearizable so is `H_T` (take the ops a linearization of
//! `H` places before `T`). The checker first confirms that `H_T` has no legal order
//! from the initial state (trying later cuts if not).
//!
//! Then, for register-like keys, it shrinks `H_T` from the front: a window is the ops
//! of `H_T` invoked at or after some op `s`, plus, as optional, every earlier op of
//! `H_T` still running when `s` was invoked. In any linearization of `H_T`, the ops
//! placed after `s`'s invoke are exactly such ops, starting from the value the
//! register held then: the value of the last write placed before, which is one of the
//! writes not surely overwritten by then (or the initial value if no write surely
//! happened). So a window with no legal order from *every* such value proves the
//! history is not linearizable on its own (`"standalone": true`). Otherwise the window is `H_T` itself,
//! checked from the initial state. `"optional"` lists the window's ops that may or may
//! not have taken effect; `"context"` the earlier writes (also in `"ops"`) whose values
//! are the states a standalone window was checked from, and `"starts_at"` the invoke
//! index where it begins. `"verified": false` means no
//! failing cut was found within the budget and the window shown is every op of the key.

use super::explain::{short_proof, Explanation, OpRef};
use super::lookahead::Pruning;
use super::search::{search, Deepest, Found, SearchOp};
use crate::evidence::{Linearization, Step, Window, MAX_STEPS};
use crate::history::{key_label, Op, Outcome};
use crate::model::Model;
use crate::value::Value;
use crate::verdict::Budget;

/// Most distinct start states a window is verified from.
const MAX_STARTS: usize = 64;

/// Longest window searched for before giving up on shrinking.
const MAX_WINDOW: usize = 4096;

/// Seconds, for messages.
pub fn secs(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// `ops` (in call order) cut at `t`: the ops invoked before `t`; those still running
/// at `t` may or may not take effect.
///
/// Indeterminate ops are as the history says (the search may have pinned some to
/// return before the op that observed them: a fact about the whole history, which a
/// proof on its own should not lean on).
fn cut_at<'a>(ops: &[SearchOp<'a>], t: u64) -> Vec<SearchOp<'a>> {
    ops.iter()
        .filter(|o| o.call < t)
        .map(|o| {
            let mut o = *o;
            if o.ret > t || o.op.outcome != Outcome::Ok {
                o.required = false;
                o.ret = u64::MAX;
            }
            o
        })
        .collect()
}

/// The window of `h` (in call order) that starts at `k`: `h[k..]`, after the earlier
/// ops still running at `h[k]`'s call, as optional ops.
fn window_from<'a>(h: &[SearchOp<'a>], k: usize) -> Vec<SearchOp<'a>> {
    let from = h[k].call;
    let mut w: Vec<SearchOp<'a>> = h[..k]
        .iter()
        .filter(|o| o.ret > from)
        .map(|o| SearchOp {
            required: false,
            ..*o
        })
        .collect();
    w.extend_from_slice(&h[k..]);
    w
}

/// An op that may set the state to `state` whatever it was (a register's write or
/// cas), with its call and return order keys (`u64::MAX`: never returns).
#[derive(Clone, Debug)]
pub struct Writer<S> {
    /// Order key of its call: its invoke index.
    pub call: u64,
    /// Order key of its return (`u64::MAX` for an op that may or may not happen).
    pub ret: u64,
    /// The state it leaves.
    pub state: S,
}

/// The states the key may be in at `at` (just before the op called there), in any
/// linearization: the initial state unless some write surely took effect before,
/// and the value of every write called before `at` that no other write surely
/// follows before `at` (one that was called after it returned, and returned before
/// `at`); and the calls of those writes. `None` if there are more than [`MAX_STARTS`].
fn possible_states<M: Model>(
    model: &M,
    writers: &[Writer<M::State>],
    at: u64,
) -> Option<(Vec<M::State>, Vec<u64>)> {
    let latest_done_call = writers.iter().filter(|w| w.ret < at).map(|w| w.call).max();
    let mut states: Vec<M::State> = Vec::new();
    let mut calls = Vec::new();
    if latest_done_call.is_none() {
        states.push(model.init());
    }
    for w in writers {
        if w.call < at && latest_done_call.is_none_or(|c| w.ret > c) {
            calls.push(w.call);
            if !states.contains(&w.state) {
                states.push(w.state.clone());
                if states.len() > MAX_STARTS {
                    return None;
                }
            }
        }
    }
    Some((states, calls))
}

/// A register-like key as the explanation needs it: every op of the key as the
/// history has it, the initial value, and whether an absent value reads as `""` (kv).
#[derive(Clone, Copy)]
pub struct RegisterKey<'a> {
    /// Every op of the key, in invoke order.
    pub ops: &'a [&'a Op],
    /// The initial value.
    pub initial: &'a Value,
    /// Whether the model is kv.
    pub kv: bool,
}

/// What a register-like key offers the evidence: its writers and its ops.
pub type RegisterFacts<'a, S> = (Option<Vec<Writer<S>>>, Option<RegisterKey<'a>>);

/// Builds the evidence window of an invalid key. `writers`: for register-like keys,
/// every op that may set the state (writes and cas that did not fail); `register`:
/// the same keys' ops, for explanations that are facts about the history.
pub fn window<M: Model, P: Pruning<M::State>>(
    model: &M,
    ops: &[SearchOp<'_>],
    deepest: &Deepest<M::State>,
    (writers, register): RegisterFacts<'_, M::State>,
    pruning: &P,
    budget: &Budget,
) -> Window {
    let culprit = ops[deepest.culprit];
    let fails = |inst: &[SearchOp<'_>], starts: &[M::State]| {
        starts.iter().all(|s| {
            matches!(
                search(model, inst, s.clone(), pruning, budget, false),
                Found::NotLinearizable(_)
            )
        })
    };
    let init = [model.init()];
    // The earliest cut, from the culprit's completion on, with no legal order.
    let mut cuts: Vec<u64> = ops
        .iter()
        .map(|o| o.ret)
        .filter(|&r| r != u64::MAX && r >= culprit.ret)
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts.push(u64::MAX);
    let mut cut = None;
    let (mut i, mut step) = (0usize, 1usize);
    loop {
        let t = cuts[i.min(cuts.len() - 1)];
        if fails(&cut_at(ops, t), &init) {
            cut = Some(t);
            break;
        }
        if i >= cuts.len() - 1 || budget.expired() {
            break;
        }
        i += step;
        step *= 2;
    }
    let mut verified = cut.is_some();
    let h = cut_at(ops, cut.unwrap_or(u64::MAX));
    let mut standalone = false;
    let mut win = h.clone();
    let mut context: Vec<u64> = Vec::new();
    let mut starts_at = None;
    if let (Some(writers), true) = (&writers, verified) {
        let last = h
            .iter()
            .rposition(|o| o.op.invoke_index == culprit.op.invoke_index)
            .unwrap_or(h.len() - 1);
        let fails_from = |k: usize| {
            let (from, calls) = possible_states(model, writers, h[k].call)?;
            let w = window_from(&h, k);
            fails(&w, &from).then_some((w, calls, h[k].call))
        };
        // Grow the window from the culprit back in doubling steps until it has no legal
        // order, then bisect for the latest start that still has none.
        let (mut good, mut size) = (last + 1, 1usize);
        let mut bad = None;
        while good > 0 && !budget.expired() {
            let k = (last + 1).saturating_sub(size);
            if let Some(w) = fails_from(k) {
                bad = Some((k, w));
                break;
            }
            good = k;
            size = (size * 2).min(last + 1);
            if last - k > MAX_WINDOW {
                break;
            }
        }
        if let Some((mut lo, mut w)) = bad {
            // `lo` fails, `good` does not (or is past the end).
            while good - lo > 1 && !budget.expired() {
                let mid = lo + (good - lo) / 2;
                match fails_from(mid) {
                    Some(m) => {
                        lo = mid;
                        w = m;
                    }
                    None => good = mid,
                }
            }
            (win, context, _) = w;
            starts_at = Some(w.2);
            standalone = true;
        }
    }
    if !verified {
        win = ops.to_vec();
    }
    verified &= !win.is_empty();
    context.retain(|c| !win.iter().any(|o| o.call == *c));
    let mut window: Vec<u64> = win.iter().map(|o| o.op.invoke_index).collect();
    window.extend(&context);
    window.sort_unstable();
    let mut optional: Vec<u64> = win
        .iter()
        .filter(|o| !o.required)
        .map(|o| o.op.invoke_index)
        .collect();
    optional.sort_unstable();
    // The state after the prefix, replayed (the search may keep a stand-in), and
    // the state after each of its last steps, for stepping through.
    let (linearization, state) = replay(model, ops, deepest);
    let why = model.explain(&state, culprit.op);
    // A short proof about the history, for the culprit or else another ok read or cas
    // of the window; failing that, what the search showed.
    let proof = register.and_then(|r| {
        std::iter::once(culprit.op)
            .chain(win.iter().map(|o| o.op))
            .find_map(|o| short_proof(o, r.ops, r.initial, r.kv))
    });
    let claim = proof.unwrap_or_else(|| Explanation::NoOrder {
        op: OpRef::of(culprit.op),
        ops: window.len(),
        placed: deepest.prefix.len(),
        why,
    });
    // The ops the explanation names are drawn with the window.
    if let Explanation::Overwritten {
        op,
        written_by,
        overwritten_by,
        ..
    } = &claim
    {
        for named in [Some(op), written_by.as_ref(), Some(overwritten_by)]
            .into_iter()
            .flatten()
        {
            if !window.contains(&named.index) {
                window.push(named.index);
                context.push(named.index);
            }
        }
        window.sort_unstable();
    }
    let explanation = claim.text(&key_label(culprit.op.key.as_ref()), &|ns| secs(ns));
    let key = key_label(culprit.op.key.as_ref());
    Window {
        ops: window,
        optional,
        context,
        starts_at,
        prefix: deepest
            .prefix
            .iter()
            .map(|&p| ops[p].op.invoke_index)
            .collect(),
        linearization: Some(linearization),
        culprit: Some(culprit.op.invoke_index),
        culprit_time_ns: Some(culprit.op.invoke_time),
        explanation,
        claim: Some(claim),
        verified,
        standalone,
        checked_from: if standalone {
            "every value the register may have held when the window begins"
        } else {
            "the initial state (the window is the history up to the culprit's completion)"
        }
        .to_string(),
        key_label: Some(key),
        ..Window::default()
    }
}

/// The deepest legal order replayed from the initial state: its last
/// [`MAX_STEPS`] steps with the state after each, and the state it ends in (the
/// search's own when a replayed step is refused, which a stand-in state may cause).
fn replay<M: Model>(
    model: &M,
    ops: &[SearchOp<'_>],
    deepest: &Deepest<M::State>,
) -> (Linearization, M::State) {
    let skip = deepest.prefix.len().saturating_sub(MAX_STEPS);
    let mut state = model.init();
    let mut start = model.show(&state);
    let mut steps = Vec::with_capacity(deepest.prefix.len() - skip);
    for (n, &p) in deepest.prefix.iter().enumerate() {
        let Some(next) = model.step(&state, ops[p].op) else {
            let end = deepest.state.clone();
            let lin = Linearization {
                skipped: skip as u64,
                start,
                steps,
                end: model.show(&end),
            };
            return (lin, end);
        };
        state = next;
        if n + 1 == skip {
            start = model.show(&state);
        }
        if n >= skip {
            steps.push(Step {
                op: ops[p].op.invoke_index,
                state: model.show(&state),
            });
        }
    }
    let lin = Linearization {
        skipped: skip as u64,
        start,
        steps,
        end: model.show(&state),
    };
    (lin, state)
}

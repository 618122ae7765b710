//! Evidence for a key that is not linearizable: the longest legal prefix the search
//! found, the op that cannot be placed after it and why, and a verified window.
//!
//! The window is the shortest run of the key's ops (in invoke order), ending with the
//! shortest prefix of the key's history that already has no legal order, such that
//! the run alone has no legal order from any of the candidate start states. For
//! register-like keys with few distinct values the candidates are every state the
//! register can ever hold (the initial value and every value written), so the window
//! is a self-contained proof: no earlier history can rescue it (`"standalone": true`).
//! Otherwise the candidates are the initial state and the (at most 64 latest) states
//! along the longest legal prefix: `"standalone": false`. `"verified": false` means no such run was found
//! within the budget and the window shown is the whole failing prefix.

use std::collections::HashSet;

use serde_json::json;

use super::search::{search, Deepest, Found, SearchOp};
use crate::history::{key_label, Op};
use crate::model::Model;
use crate::verdict::Budget;

/// Most distinct start states a window is verified from.
const MAX_STARTS: usize = 64;

/// Longest window searched for before giving up on shrinking.
const MAX_WINDOW: usize = 4096;

/// Seconds, for messages.
pub fn secs(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// A short description of an op: "read of k7 returned 3 at 1.204 s".
pub fn describe(op: &Op) -> String {
    let key = match &op.key {
        Some(_) => format!(" of {}", op.key_label()),
        None => String::new(),
    };
    let at = secs(op.complete_time.unwrap_or(op.invoke_time));
    match op.f {
        crate::history::F::Read => format!("read{key} returned {} at {at}", op.value),
        _ => format!(
            "{}{key} {} (process {}, invoked at {})",
            op.f,
            op.value,
            op.process,
            secs(op.invoke_time)
        ),
    }
}

/// Builds the evidence JSON for an invalid key.
pub fn window<M: Model>(
    model: &M,
    ops: &[SearchOp<'_>],
    deepest: &Deepest<M::State>,
    register_states: Option<Vec<M::State>>,
    budget: &Budget,
) -> serde_json::Value {
    let culprit = ops[deepest.culprit].op;
    // Shortest failing prefix: ops invoked before the culprit completed, then shrink.
    let cut = culprit.complete_index.unwrap_or(u64::MAX);
    let mut end = ops
        .iter()
        .rposition(|o| o.call < cut)
        .unwrap_or(ops.len() - 1);
    let fails = |slice: &[SearchOp<'_>], starts: &[M::State]| {
        starts.iter().all(|s| {
            matches!(
                search(model, slice, s.clone(), None, budget, false),
                Found::NotLinearizable(_)
            )
        })
    };
    let init = [model.init()];
    if !fails(&ops[..=end], &init) {
        end = ops.len() - 1;
    }
    // Candidate start states: every state a register can hold (when few enough),
    // else the initial state and the states along the longest legal prefix.
    let along_prefix = || {
        let mut v = vec![model.init()];
        let mut state = model.init();
        for &p in &deepest.prefix {
            if let Some(s) = model.step(&state, ops[p].op) {
                state = s;
                v.push(state.clone());
            }
        }
        v
    };
    let (mut starts, standalone) = match register_states {
        Some(all) if all.len() < MAX_STARTS => {
            let mut v = vec![model.init()];
            v.extend(all);
            (v, true)
        }
        _ => (along_prefix(), false),
    };
    let mut seen: HashSet<M::State> = HashSet::new();
    starts.retain(|s| seen.insert(s.clone()));
    if starts.len() > MAX_STARTS {
        starts.drain(..starts.len() - MAX_STARTS);
    }
    let mut start = end;
    let mut verified = false;
    loop {
        if fails(&ops[start..=end], &starts) {
            verified = true;
            break;
        }
        if start == 0 || budget.expired() || end - start > MAX_WINDOW {
            start = 0;
            break;
        }
        // One op at a time near the culprit, then in growing steps.
        let step = ((end - start) / 8).max(1);
        start = start.saturating_sub(step);
    }
    let window: Vec<u64> = ops[start..=end].iter().map(|o| o.op.invoke_index).collect();
    let why = model.explain(&deepest.state, culprit);
    let setter = deepest
        .prefix
        .iter()
        .rev()
        .map(|&p| ops[p].op)
        .find(|o| o.f != crate::history::F::Read);
    let mut explanation = format!("{}: {why}", describe(culprit));
    if let Some(w) = setter {
        explanation.push_str(&format!(
            " — last set by {} {}, which completed at {}",
            w.f,
            w.value,
            w.complete_time
                .map(secs)
                .unwrap_or_else(|| "an unknown time".into())
        ));
    }
    json!({
        "ops": window,
        "prefix": deepest.prefix.iter().map(|&p| ops[p].op.invoke_index).collect::<Vec<_>>(),
        "culprit": culprit.invoke_index,
        "culprit_time_ns": culprit.invoke_time,
        "explanation": explanation,
        "verified": verified,
        "standalone": standalone && verified,
        "checked_from": if standalone { "every value the register can hold" } else { "the initial state and the states along the longest legal order" },
        "key_label": key_label(culprit.key.as_ref()),
    })
}

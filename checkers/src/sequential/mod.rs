//! The sequential-consistency checker.
//!
//! **Criterion.** A history is sequentially consistent if there is one total order of
//! its operations that (1) keeps each process's operations in the order the process
//! issued them, and (2) is legal for the model, every key starting from the initial
//! value. Real time across processes does not constrain the order (that is what
//! separates it from linearizability). `ok` ops must be in the order; `fail` ops never
//! happened and are left out; an `info` op (always its process's last: a process is
//! retired after one) may be in the order or not; an `info` read constrains nothing.
//!
//! **Not compositional.** A history can be sequentially consistent key by key and not
//! as a whole (the store-buffer litmus test: p1 writes x then reads y = initial, p2
//! writes y then reads x = initial). So keys are never checked apart. The only split
//! made is into *components*: sets of processes and keys where no process of one
//! component touches a key of another. That is sound: orders of separate components
//! can be interleaved freely, since they share neither program order nor state.
//!
//! **How.** A linearizable history is sequentially consistent, so each component is
//! first checked for linearizability (fast, per key); only if that fails is the
//! depth-first search of [`search`] run (per process positions + per key states,
//! memoized; candidates tried in real-time order, which finds a legal order at once
//! for most real histories). The budget turns an unfinished search into `unknown`.
//!
//! Evidence (`CheckResult::evidence`):
//! ```json
//! {"components": [{"keys": [...], "processes": [...], "verdict": "invalid",
//!   "window": {"ops": [..invoke indices..], "prefix": [..], "culprit": 17,
//!              "explanation": "...", "verified": true}}],
//!  "decided": 3, "undecided": [], "total_components": 3}
//! ```
//! `window.ops` is the failing window: the blocked ops on the culprit's key and the
//! ops placed since the op that last set that key, of that key or of the processes
//! involved (at most 64); `verified` says
//! the history cut after each process's blocked op was re-checked and has no legal
//! order.

pub mod search;

use std::collections::HashMap;

use serde_json::json;

use crate::history::{key_label, History, Op, Outcome, F};
use crate::model::{Model, ModelSpec, ModelVisitor};
use crate::value::Value;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};
use search::{search, Component, Found};

/// The sequential-consistency checker as a [`Checker`].
#[derive(Clone, Debug)]
pub struct Sequential {
    /// The model to check against.
    pub spec: ModelSpec,
}

impl Checker for Sequential {
    fn name(&self) -> &str {
        "sequential"
    }

    fn check(&self, history: &History, budget: &Budget) -> CheckResult {
        check(history, &self.spec, budget)
    }
}

/// The processes and keys of one component, and its ops.
struct Part<'a> {
    keys: Vec<Option<Value>>,
    processes: Vec<u64>,
    ops: Vec<&'a Op>,
}

/// Splits the history into components (union of processes sharing keys).
fn components(history: &History) -> Vec<Part<'_>> {
    let mut key_ids: HashMap<&Option<Value>, usize> = HashMap::new();
    let mut proc_ids: HashMap<u64, usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let node = |parent: &mut Vec<usize>| {
        parent.push(parent.len());
        parent.len() - 1
    };
    let mut op_nodes = Vec::with_capacity(history.ops.len());
    for op in &history.ops {
        let k = *key_ids.entry(&op.key).or_insert_with(|| node(&mut parent));
        let p = *proc_ids
            .entry(op.process)
            .or_insert_with(|| node(&mut parent));
        let (a, b) = (find(&mut parent, k), find(&mut parent, p));
        parent[a] = b;
        op_nodes.push(k);
    }
    let mut parts: Vec<Part<'_>> = Vec::new();
    let mut by_root: HashMap<usize, usize> = HashMap::new();
    for (op, &k) in history.ops.iter().zip(&op_nodes) {
        let root = find(&mut parent, k);
        let i = *by_root.entry(root).or_insert_with(|| {
            parts.push(Part {
                keys: Vec::new(),
                processes: Vec::new(),
                ops: Vec::new(),
            });
            parts.len() - 1
        });
        let part = &mut parts[i];
        if !part.keys.contains(&op.key) {
            part.keys.push(op.key.clone());
        }
        if !part.processes.contains(&op.process) {
            part.processes.push(op.process);
        }
        part.ops.push(op);
    }
    parts
}

/// Checks `history` for sequential consistency against `spec`.
pub fn check(history: &History, spec: &ModelSpec, budget: &Budget) -> CheckResult {
    let parts = components(history);
    let results: Vec<(Verdict, Option<serde_json::Value>)> = parts
        .iter()
        .map(|part| {
            let sub = History {
                ops: part.ops.iter().map(|o| (*o).clone()).collect(),
                nemesis: Vec::new(),
                event_count: 0,
            };
            if crate::linearizable::check(&sub, spec, budget).verdict == Verdict::Valid {
                return (Verdict::Valid, None);
            }
            spec.visit(PartCheck { part, budget })
        })
        .collect();
    summarize(spec, &parts, results)
}

/// Checks one component with the concrete model.
struct PartCheck<'a, 'b> {
    part: &'a Part<'b>,
    budget: &'a Budget,
}

impl ModelVisitor for PartCheck<'_, '_> {
    type Output = (Verdict, Option<serde_json::Value>);

    fn visit<M: Model + 'static>(self, model: M) -> Self::Output {
        let c = build(&self.part.ops, &self.part.keys, &self.part.processes, None);
        match search(&model, &c, self.budget, false) {
            Found::Consistent => (Verdict::Valid, None),
            Found::Unknown => (Verdict::Unknown, None),
            Found::Inconsistent(_) => {
                let Found::Inconsistent(Some(d)) = search(&model, &c, self.budget, true) else {
                    return (Verdict::Invalid, None);
                };
                (
                    Verdict::Invalid,
                    Some(evidence(&model, self.part, &c, &d, self.budget)),
                )
            }
        }
    }
}

/// The search's view of a component; with `cut`, each process only up to and
/// including position `cut[p]`.
fn build<'a>(
    ops: &[&'a Op],
    keys: &[Option<Value>],
    processes: &[u64],
    cut: Option<&[usize]>,
) -> Component<'a> {
    let mut per: Vec<Vec<&'a Op>> = vec![Vec::new(); processes.len()];
    for op in ops {
        let keep = match op.outcome {
            Outcome::Fail => false,
            Outcome::Info => op.f != F::Read,
            Outcome::Ok => true,
        };
        if keep {
            let p = processes
                .iter()
                .position(|&q| q == op.process)
                .expect("process of the component");
            per[p].push(op);
        }
    }
    if let Some(cut) = cut {
        for (p, ops) in per.iter_mut().enumerate() {
            ops.truncate(cut[p]);
        }
    }
    let required = per
        .iter()
        .map(|ops| ops.iter().take_while(|o| o.outcome == Outcome::Ok).count())
        .collect();
    let slots = per
        .iter()
        .map(|ops| {
            ops.iter()
                .map(|o| {
                    keys.iter()
                        .position(|k| *k == o.key)
                        .expect("key of the component")
                })
                .collect()
        })
        .collect();
    Component {
        processes: per,
        required,
        slots,
        keys: keys.len(),
    }
}

/// Evidence for an inconsistent component.
fn evidence<M: Model>(
    model: &M,
    part: &Part<'_>,
    c: &Component<'_>,
    d: &search::Deepest<M::State>,
    budget: &Budget,
) -> serde_json::Value {
    let op_at = |(p, i): (usize, usize)| c.processes[p][i];
    let culprit = d
        .blocked
        .iter()
        .map(|&b| op_at(b))
        .min_by_key(|o| o.invoke_index)
        .expect("a blocked op");
    let cslot = part
        .keys
        .iter()
        .position(|k| *k == culprit.key)
        .unwrap_or(0);
    let why = model.explain(&d.states[cslot], culprit);
    let setter = d
        .prefix
        .iter()
        .rev()
        .map(|&x| op_at(x))
        .find(|o| o.key == culprit.key && o.f != F::Read);
    let mut explanation = format!(
        "process {}'s {} of {} ({}) cannot be placed: {why}",
        culprit.process,
        culprit.f,
        key_label(culprit.key.as_ref()),
        culprit.value
    );
    if let Some(s) = setter {
        explanation.push_str(&format!(
            " — in the longest legal order found, {} was last set by process {}'s {} {}",
            key_label(culprit.key.as_ref()),
            s.process,
            s.f,
            s.value
        ));
    }
    // Verify: the history cut after each process's blocked op has no legal order.
    let mut cut: Vec<usize> = vec![0; c.processes.len()];
    for &(p, i) in &d.prefix {
        cut[p] = cut[p].max(i + 1);
    }
    for &(p, i) in &d.blocked {
        cut[p] = cut[p].max(i + 1);
    }
    let sub = build(&part.ops, &part.keys, &part.processes, Some(&cut));
    let verified = matches!(search(model, &sub, budget, false), Found::Inconsistent(_));
    // The window: the blocked ops and the prefix since the setter (or the last 8).
    let since = setter
        .and_then(|s| d.prefix.iter().position(|&x| std::ptr::eq(op_at(x), s)))
        .unwrap_or(d.prefix.len().saturating_sub(8));
    // Only ops that bear on the culprit: its key, or the processes of the culprit and
    // of the op that last set its key.
    let involved = |o: &Op| {
        o.key == culprit.key
            || o.process == culprit.process
            || setter.is_some_and(|s| s.process == o.process)
    };
    let mut window: Vec<u64> = d.prefix[since..]
        .iter()
        .map(|&x| op_at(x))
        .filter(|o| involved(o))
        .map(|o| o.invoke_index)
        .collect();
    window.extend(
        d.blocked
            .iter()
            .map(|&b| op_at(b))
            .filter(|o| o.key == culprit.key)
            .map(|o| o.invoke_index),
    );
    window.truncate(64);
    window.sort_unstable();
    json!({
        "ops": window,
        "prefix": d.prefix.iter().map(|&x| op_at(x).invoke_index).collect::<Vec<_>>(),
        "culprit": culprit.invoke_index,
        "culprit_time_ns": culprit.invoke_time,
        "explanation": explanation,
        "verified": verified,
    })
}

/// Turns per-component results into the checker's answer.
fn summarize(
    spec: &ModelSpec,
    parts: &[Part<'_>],
    results: Vec<(Verdict, Option<serde_json::Value>)>,
) -> CheckResult {
    let verdict = results.iter().fold(Verdict::Valid, |v, (r, _)| v.worst(*r));
    let total = parts.len();
    let undecided: Vec<usize> = (0..total)
        .filter(|&i| results[i].0 == Verdict::Unknown)
        .collect();
    let invalid: Vec<usize> = (0..total)
        .filter(|&i| results[i].0 == Verdict::Invalid)
        .collect();
    let label = |i: usize| {
        parts[i]
            .keys
            .iter()
            .map(|k| key_label(k.as_ref()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = match verdict {
        Verdict::Valid => "sequentially consistent".to_string(),
        Verdict::Invalid => {
            let first = &results[invalid[0]].1;
            let why = first
                .as_ref()
                .and_then(|w| w["explanation"].as_str())
                .unwrap_or("no legal order exists");
            format!("not sequentially consistent ({} of {total} independent groups of keys; keys {}): {why}", invalid.len(), label(invalid[0]))
        }
        Verdict::Unknown => format!(
            "unknown: the budget ran out for {} of {total} independent groups of keys (keys {})",
            undecided.len(),
            label(undecided[0])
        ),
    };
    let comps: Vec<serde_json::Value> = parts
        .iter()
        .zip(&results)
        .filter(|(_, (v, _))| *v != Verdict::Valid)
        .map(|(p, (v, w))| {
            let mut e = json!({
                "keys": p.keys.iter().map(|k| k.as_ref().map(Value::to_json)).collect::<Vec<_>>(),
                "processes": p.processes,
                "verdict": v,
            });
            if let Some(w) = w {
                e["window"] = w.clone();
            }
            e
        })
        .collect();
    CheckResult {
        checker: "sequential".into(),
        model: spec.kind.as_str().into(),
        verdict,
        summary,
        evidence: json!({
            "components": comps,
            "decided": total - undecided.len(),
            "undecided": undecided.iter().map(|&i| label(i)).collect::<Vec<_>>(),
            "total_components": total,
        }),
    }
}

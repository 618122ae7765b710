//! The sequential-consistency checker.
//!
//! **Criterion.** A history is sequentially consistent if there is one total order of
//! its operations that (1) keeps each process's operations in the order the process
//! issued them (invoke order), and (2) is legal for the model, every key starting
//! from the initial value and the model applied to each key on its own (the state
//! is the tuple of per-key states). Real time across processes does not constrain
//! the order: that is what separates it from linearizability. `ok` ops must be in
//! the order; `fail` ops never happened and are left out; an `info` op (always its
//! process's last: a process is retired after one) may be in the order or not; an
//! `info` read constrains nothing and is left out.
//!
//! **Not compositional.** A history can be sequentially consistent key by key and not
//! as a whole (the store-buffer litmus test: p1 writes x then reads y = initial, p2
//! writes y then reads x = initial). So keys are never checked apart. The only split
//! is into *components*: the connected components of the graph linking each process
//! to the keys it touches (with `ok` and indeterminate non-read ops). That split is
//! sound: two components share neither a process (so no program order) nor a key
//! (so no state), hence legal orders of each can be interleaved in any way into a
//! legal order of the whole, and the whole has one only if each has. Components are
//! checked in parallel (two at a time), largest first.
//!
//! **How.** A linearizable history is sequentially consistent, so each component's
//! keys are first checked for linearizability (fast, per key; linearizability is
//! compositional), within half the remaining time. Only if that does not settle it,
//! the depth-first search of [`search`] runs (per-process positions and per-key
//! states, memoized, with the reductions its doc lists). The budget turns an
//! unfinished search into `unknown` for that component; other components are still
//! decided.
//!
//! Before the search, [`saturate`] derives the orders that reads-from forces (for
//! read/write/cas histories with unique writes) and proves a component invalid by a
//! cycle of them, in polynomial time; that cycle is added to the window as
//! `window.saturation` (`ops`, `steps`, `explanation`, `length`). Saturation is exact
//! as a refutation but not complete: what it leaves open is the NP-complete remainder
//! (Gibbons & Korach 1997), decided by the search.
//!
//! **Register-like components** (register, cas-register, and kv when no value is the
//! empty string, the one place kv differs from a register): the search reasons about
//! values: the unique-value reduction, and the order [`graph`] derives (reads-from,
//! program order and the write orders they force, to a fixpoint) as a precedence
//! graph, so an op is tried only once all its derived predecessors are placed or
//! skipped; `info` writes whose value no op observes are left out of the search
//! (exact: see `searched`). What is exact: every refusal (a cycle, a pruned move) is
//! forced in every legal order; a `valid` is a legal order the search built; an
//! `invalid` is a cycle or an exhausted search. The window of an invalid component
//! gets [`WINDOW_TIME`] (half to shrink it, half to find its longest legal prefix):
//! the verdict is already decided, and a window is reported only once verified.
//!
//! Evidence (`CheckResult::evidence`, typed as [`crate::evidence::SequentialEvidence`]),
//! for components that are not valid:
//! ```json
//! {"kind": "sequential", "components": [{"keys": [...], "processes": [...], "verdict": "invalid",
//!   "window": {"ops": [..invoke indices..], "optional": [..], "prefix": [..],
//!              "culprit": 17, "culprit_time_ns": 123, "explanation": "...",
//!              "verified": true, "checked_from": "the initial value of every key",
//!              "component_ops": 40}}],
//!  "decided": 3, "undecided": ["k2, k5"], "total_components": 3}
//! ```
//! `window.ops` is a set of the component's ops that on its own has no legal order
//! ([`window`] says how it is shrunk and why that proves the component has none);
//! `optional` are its ops that may be placed or left out; `prefix` is the longest
//! legal order of the window the search found and `culprit` the op that cannot
//! follow it. `undecided` names the keys of each component the budget did not allow
//! to decide.

mod graph;
pub mod saturate;
pub mod search;
pub mod window;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::evidence::{ComponentEvidence, Evidence, Saturation, SequentialEvidence, Window};
use crate::history::{key_label, History, Op, Outcome, F};
use crate::linearizable::search as lin;
use crate::model::{cas_pair, Model, ModelKind, ModelSpec, ModelVisitor};
use crate::value::Value;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};
use search::{search, Component, Found};
use window::Shrink;

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

/// The processes and keys of one component, and its ops (failed ops and
/// indeterminate reads left out).
struct Part<'a> {
    keys: Vec<Option<Value>>,
    processes: Vec<u64>,
    ops: Vec<&'a Op>,
}

/// Whether an op can be in a legal order at all: not failed, not an `info` read.
fn kept(op: &Op) -> bool {
    match op.outcome {
        Outcome::Fail => false,
        Outcome::Info => op.f != F::Read,
        Outcome::Ok => true,
    }
}

/// Splits the history into components (union of processes sharing keys).
fn components(history: &History) -> Vec<Part<'_>> {
    use std::collections::HashMap;
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
    let ops: Vec<&Op> = history.ops.iter().filter(|o| kept(o)).collect();
    let mut op_nodes = Vec::with_capacity(ops.len());
    for op in &ops {
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
    for (op, &k) in ops.iter().zip(&op_nodes) {
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
    let results = match spec.visit(Run {
        spec,
        parts: &parts,
        budget,
    }) {
        Ok(r) => r,
        Err(e) => {
            return CheckResult {
                checker: "sequential".to_string(),
                model: spec.kind.as_str().to_string(),
                verdict: Verdict::Unknown,
                summary: format!("not decided: {e}"),
                evidence: Evidence::None.into_json(),
            }
        }
    };
    summarize(spec, &parts, results)
}

/// What one component came to: its verdict and, if invalid, its window.
type PartResult = (Verdict, Option<Window>);

/// Checks every component with the concrete model, two at a time, largest first.
struct Run<'a, 'b> {
    spec: &'a ModelSpec,
    parts: &'a [Part<'b>],
    budget: &'a Budget,
}

impl ModelVisitor for Run<'_, '_> {
    type Output = Vec<PartResult>;

    fn visit<M: Model + 'static>(self, model: M) -> Vec<PartResult> {
        let mut order: Vec<usize> = (0..self.parts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.parts[i].ops.len()));
        let results: Vec<Mutex<Option<PartResult>>> =
            self.parts.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let work = || loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(n) else { return };
            let r = check_part(&model, self.spec, &self.parts[i], self.budget);
            *results[i].lock().expect("no panics while locked") = Some(r);
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(2)
            .min(self.parts.len());
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(work);
                }
            });
        }
        results
            .into_iter()
            .map(|r| {
                r.into_inner()
                    .expect("no panics while locked")
                    .expect("every component checked")
            })
            .collect()
    }
}

/// Register-like models reason about values (see [`search`]): exact value equality,
/// read / write / cas only. The `kv` model is one too when no value is the empty
/// string (its only difference from a register is that `""` and `null` are the
/// same state).
fn register_initial<'a>(spec: &'a ModelSpec, ops: &[&Op]) -> Option<&'a Value> {
    let empty = |v: &Value| matches!(v, Value::Str(s) if s.is_empty());
    let no_empty = |o: &&Op| match o.f {
        F::Cas => cas_pair(&o.value).is_some_and(|(e, n)| !empty(e) && !empty(n)),
        _ => !empty(&o.value),
    };
    let register = match spec.kind {
        ModelKind::Register | ModelKind::CasRegister => true,
        ModelKind::Kv => !empty(&spec.initial) && ops.iter().all(no_empty),
        _ => false,
    };
    (register
        && ops
            .iter()
            .all(|o| matches!(o.f, F::Read | F::Write | F::Cas)))
    .then_some(&spec.initial)
}

/// Register-like components: the ops worth searching. An `info` write (or cas) whose
/// value no op of the component observes is left out, which is exact: in a legal
/// order that has it, the ops between it and the next write of its key observe
/// nothing (no op observes its value), so the order without it is still legal.
fn searched<'a>(ops: &[&'a Op], initial: Option<&Value>) -> Vec<&'a Op> {
    let Some(initial) = initial else {
        return ops.to_vec();
    };
    let observed: std::collections::HashSet<(&Option<Value>, &Value)> = ops
        .iter()
        .filter_map(|o| match o.f {
            F::Read => Some((&o.key, &o.value)),
            F::Cas => cas_pair(&o.value).map(|(e, _)| (&o.key, e)),
            _ => None,
        })
        .collect();
    ops.iter()
        .copied()
        .filter(|o| {
            let written = match o.f {
                F::Write => Some(&o.value),
                F::Cas => cas_pair(&o.value).map(|(_, n)| n),
                _ => None,
            };
            match written {
                Some(v) if o.outcome == Outcome::Info => {
                    v == initial || observed.contains(&(&o.key, v))
                }
                _ => true,
            }
        })
        .collect()
}

/// Whether every key of the component is linearizable (which settles it), within
/// half the time left.
fn linearizable<M: Model>(model: &M, spec: &ModelSpec, part: &Part<'_>, budget: &Budget) -> bool {
    let now = Instant::now();
    let budget = Budget {
        deadline: budget
            .deadline
            .map(|d| now + d.saturating_duration_since(now) / 2),
        ..*budget
    };
    let register_like = matches!(
        spec.kind,
        ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
    ) && part
        .ops
        .iter()
        .all(|o| matches!(o.f, F::Read | F::Write | F::Cas));
    part.keys.iter().all(|k| {
        let ops: Vec<&Op> = part.ops.iter().copied().filter(|o| o.key == *k).collect();
        let (ops, values) = lin::prepare(&ops, register_like, &spec.initial);
        matches!(
            lin::search(model, &ops, model.init(), values.as_ref(), &budget, false),
            lin::Found::Linearizable
        )
    })
}

/// How long the window of a component proven invalid may take (shrinking it, then
/// finding its longest legal prefix: half each).
const WINDOW_TIME: std::time::Duration = std::time::Duration::from_secs(1);

/// Checks one component.
fn check_part<M: Model>(
    model: &M,
    spec: &ModelSpec,
    part: &Part<'_>,
    budget: &Budget,
) -> PartResult {
    if linearizable(model, spec, part, budget) {
        return (Verdict::Valid, None);
    }
    // Saturation first: a cycle of forced orders proves the component invalid.
    let proof = match saturate::saturate(spec, &part.ops, budget) {
        saturate::Saturated::Cycle(c) => Some(Saturation::from(c)),
        saturate::Saturated::ThinAir(why) => Some(Saturation {
            explanation: why,
            ..Saturation::default()
        }),
        saturate::Saturated::Open => None,
    };
    let initial = register_initial(spec, &part.ops);
    if proof.is_none() {
        let ops: Vec<(&Op, bool)> = searched(&part.ops, initial)
            .into_iter()
            .map(|o| (o, o.outcome == Outcome::Ok))
            .collect();
        let c = Component::new(&ops, &part.keys, initial);
        match search(model, &c, budget, false) {
            Found::Consistent => return (Verdict::Valid, None),
            Found::Unknown => return (Verdict::Unknown, None),
            Found::Inconsistent(_) => {}
        }
    }
    // The verdict is decided (by saturation's cycle or the exhausted search): the
    // window that explains it gets a bounded share of time, shrinking first, then
    // the longest legal prefix; it is verified whatever its size.
    let capped = |share: std::time::Duration| Budget {
        deadline: Some(
            budget
                .deadline
                .map_or(Instant::now() + share, |d| d.min(Instant::now() + share)),
        ),
        ..*budget
    };
    let first = capped(WINDOW_TIME / 2);
    let shrink = Shrink {
        model,
        ops: &part.ops,
        register_initial: initial,
        budget: &first,
    };
    let w = shrink.shrink();
    let second = capped(WINDOW_TIME / 2);
    let shrink = Shrink {
        budget: &second,
        ..shrink
    };
    let mut evidence = shrink.evidence(&w);
    evidence.saturation = proof;
    (Verdict::Invalid, Some(evidence))
}

/// Turns per-component results into the checker's answer.
fn summarize(spec: &ModelSpec, parts: &[Part<'_>], results: Vec<PartResult>) -> CheckResult {
    let verdict = results.iter().fold(Verdict::Valid, |v, (r, _)| v.worst(*r));
    let total = parts.len();
    let undecided: Vec<usize> = (0..total)
        .filter(|&i| results[i].0 == Verdict::Unknown)
        .collect();
    let invalid: Vec<usize> = (0..total)
        .filter(|&i| results[i].0 == Verdict::Invalid)
        .collect();
    let label = |i: usize| {
        let keys = &parts[i].keys;
        let mut s = keys
            .iter()
            .take(5)
            .map(|k| key_label(k.as_ref()))
            .collect::<Vec<_>>()
            .join(", ");
        if keys.len() > 5 {
            s.push_str(&format!(" and {} more", keys.len() - 5));
        }
        s
    };
    let summary = match verdict {
        Verdict::Valid => "sequentially consistent".to_string(),
        Verdict::Invalid => {
            let first = &results[invalid[0]].1;
            let why = first
                .as_ref()
                .map_or("no legal order exists", |w| w.explanation.as_str());
            let mut s = format!("not sequentially consistent: {why}");
            if total > 1 {
                s.push_str(&format!(
                    " ({} of {total} independent groups of processes and keys fail; this \
                     one has keys {})",
                    invalid.len(),
                    label(invalid[0])
                ));
            }
            s
        }
        Verdict::Unknown => format!(
            "unknown: the budget ran out for {} of {total} independent groups of processes \
             and keys (first: keys {}); the others are sequentially consistent",
            undecided.len(),
            label(undecided[0])
        ),
    };
    let components: Vec<ComponentEvidence> = parts
        .iter()
        .zip(&results)
        .filter(|(_, (v, _))| *v != Verdict::Valid)
        .map(|(p, (v, w))| ComponentEvidence {
            keys: p
                .keys
                .iter()
                .map(|k| k.as_ref().map(Value::to_json))
                .collect(),
            processes: p.processes.clone(),
            verdict: *v,
            window: w.clone(),
        })
        .collect();
    let evidence = Evidence::Sequential(SequentialEvidence {
        components,
        decided: (total - undecided.len()) as u64,
        undecided: undecided.iter().map(|&i| label(i)).collect(),
        total_components: total as u64,
    });
    CheckResult {
        checker: "sequential".into(),
        model: spec.kind.as_str().into(),
        verdict,
        summary,
        evidence: evidence.into_json(),
    }
}

#[cfg(test)]
mod tests;

//! The linearizability checker.
//!
//! A history is linearizable if every operation can be given a single instant between
//! its invoke and its completion such that, in the order of those instants, each
//! operation is legal for the model: `ok` ops with what they observed; `fail` ops
//! never take effect; `info` ops may take effect at any instant after their invoke, or
//! never.
//!
//! How: the history is split by key (linearizability is compositional, so a history is
//! linearizable iff each key's sub-history is), keys are checked in parallel on every
//! core, largest first, and every key is decided — all invalid keys are reported. Each
//! key is searched by [`search`] (Wing–Gong–Lowe with memoization, as Porcupine does,
//! plus the reductions of [`search::prepare`]). A key the budget does not allow to be
//! decided is `unknown`, and the result says which keys were decided.
//!
//! Evidence (`CheckResult::evidence`, typed as [`crate::evidence::LinearizableEvidence`]):
//! ```json
//! {"kind": "linearizable", "keys": [{"key": "k7", "verdict": "invalid",
//!            "window": {"ops": [..invoke indices..], "prefix": [..], "culprit": 12,
//!                       "explanation": "...", "verified": true, "standalone": true}}],
//!  "decided": 99, "undecided": ["k3"], "invalid_keys": 1, "total_keys": 100,
//!  "valid_keys_listed": 100}
//! ```
//! Invalid and unknown keys are always listed; valid keys up to `valid_keys_listed`.

mod evidence;
pub mod explain;
pub mod lookahead;
pub mod memo;
pub mod prepare;
pub mod search;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::evidence::{Evidence, KeyEvidence, LinearizableEvidence, Window};
use crate::history::{key_label, History, Op, Outcome, F};
use crate::model::{Kv, Model, ModelKind, ModelSpec, ModelVisitor, Register};
use crate::value::Value;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};
use lookahead::{NoPruning, Pruning, ValuePruning};
use prepare::prepare;
use search::{search, Found};

/// How many valid keys the evidence lists by name.
const VALID_KEYS_LISTED: usize = 100;

/// The linearizability checker as a [`Checker`].
#[derive(Clone, Debug)]
pub struct Linearizable {
    /// The model to check against.
    pub spec: ModelSpec,
}

impl Checker for Linearizable {
    fn name(&self) -> &str {
        "linearizable"
    }

    fn check(&self, history: &History, budget: &Budget) -> CheckResult {
        check(history, &self.spec, budget)
    }
}

/// The answer for one key.
#[derive(Debug, Clone)]
pub struct KeyResult {
    /// The key (`None` for ops without one).
    pub key: Option<Value>,
    /// Its verdict.
    pub verdict: Verdict,
    /// The evidence window, for invalid keys.
    pub window: Option<Window>,
    /// When the key's first anomaly happened (culprit invoke time), for invalid keys.
    pub anomaly_ns: Option<u64>,
}

/// Checks `history` for linearizability against `spec`.
pub fn check(history: &History, spec: &ModelSpec, budget: &Budget) -> CheckResult {
    let mut keys = check_keys(history, spec, budget);
    if history.untimed {
        // Times are event indices: say so in every explanation.
        for k in &mut keys {
            let Some(w) = k.window.as_mut() else { continue };
            if let Some(claim) = &w.claim {
                w.explanation = claim.text(&crate::history::key_label(k.key.as_ref()), &|ns| {
                    history.at(ns)
                });
            }
        }
    }
    summarize(spec, keys, &|ns| history.at(ns))
}

/// Splits the history by key, in order of each key's first op.
pub fn partition(history: &History) -> Vec<(Option<Value>, Vec<&Op>)> {
    let mut index: HashMap<&Option<Value>, usize> = HashMap::new();
    let mut parts: Vec<(Option<Value>, Vec<&Op>)> = Vec::new();
    for op in &history.ops {
        let i = *index.entry(&op.key).or_insert_with(|| {
            parts.push((op.key.clone(), Vec::new()));
            parts.len() - 1
        });
        parts[i].1.push(op);
    }
    parts
}

/// Decides every key, in parallel; results in the order of [`partition`].
pub fn check_keys(history: &History, spec: &ModelSpec, budget: &Budget) -> Vec<KeyResult> {
    let parts = partition(history);
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1.len()));
    let results: Mutex<Vec<Option<KeyResult>>> = Mutex::new(vec![None; parts.len()]);
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(parts.len())
        .max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(n) else { break };
                let (key, ops) = &parts[i];
                let r = check_key(spec, key, ops, budget);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// Decides one key: with the value lookahead for registers and kv keys, else plain.
pub fn check_key(spec: &ModelSpec, key: &Option<Value>, ops: &[&Op], budget: &Budget) -> KeyResult {
    let job = KeyCheck {
        spec,
        key,
        ops,
        budget,
    };
    let initial = spec.initial.clone();
    match spec.kind {
        ModelKind::Register | ModelKind::CasRegister => job.run(
            Register {
                initial,
                cas: spec.kind == ModelKind::CasRegister,
            },
            &ValuePruning { kv: false },
        ),
        ModelKind::Kv => job.run(Kv { initial }, &ValuePruning { kv: true }),
        _ => spec.visit(job).unwrap_or_else(|e| KeyResult {
            key: key.clone(),
            verdict: Verdict::Unknown,
            window: Some(Window {
                explanation: e.to_string(),
                ..Window::default()
            }),
            anomaly_ns: None,
        }),
    }
}

/// Checks one key with the concrete model.
struct KeyCheck<'a> {
    spec: &'a ModelSpec,
    key: &'a Option<Value>,
    ops: &'a [&'a Op],
    budget: &'a Budget,
}

impl ModelVisitor for KeyCheck<'_> {
    type Output = KeyResult;

    fn visit<M: Model + 'static>(self, model: M) -> KeyResult {
        self.run(model, &NoPruning)
    }
}

impl KeyCheck<'_> {
    fn run<M: Model, P: Pruning<M::State>>(self, model: M, pruning: &P) -> KeyResult {
        let register_like = matches!(
            self.spec.kind,
            ModelKind::Register | ModelKind::CasRegister | ModelKind::Kv
        ) && self
            .ops
            .iter()
            .all(|o| matches!(o.f, F::Read | F::Write | F::Cas));
        let ops = prepare(self.ops, register_like, &self.spec.initial);
        let mut result = KeyResult {
            key: self.key.clone(),
            verdict: Verdict::Valid,
            window: None,
            anomaly_ns: None,
        };
        match search(&model, &ops, model.init(), pruning, self.budget, false) {
            Found::Linearizable => {}
            Found::Unknown => result.verdict = Verdict::Unknown,
            Found::NotLinearizable(_) => {
                result.verdict = Verdict::Invalid;
                // Again, recording the deepest attempt, for evidence.
                if let Found::NotLinearizable(Some(deepest)) =
                    search(&model, &ops, model.init(), pruning, self.budget, true)
                {
                    let writers = register_like.then(|| register_writers(&model, self.ops));
                    let register = register_like.then_some(evidence::RegisterKey {
                        ops: self.ops,
                        initial: &self.spec.initial,
                        kv: self.spec.kind == ModelKind::Kv,
                    });
                    let w = evidence::window(
                        &model,
                        &ops,
                        &deepest,
                        (writers, register),
                        pruning,
                        self.budget,
                    );
                    result.anomaly_ns = Some(ops[deepest.culprit].op.invoke_time);
                    result.window = Some(w);
                }
            }
        }
        result
    }
}

/// Every op that may set a register-like key's state whatever it was: writes and cas
/// (their new value) that did not fail, with the state each leaves.
fn register_writers<M: Model>(model: &M, ops: &[&Op]) -> Vec<evidence::Writer<M::State>> {
    let mut out = Vec::new();
    for o in ops.iter().filter(|o| o.outcome != Outcome::Fail) {
        let value = match o.f {
            F::Write => o.value.clone(),
            F::Cas => match crate::model::cas_pair(&o.value) {
                Some((_, n)) => n.clone(),
                None => continue,
            },
            _ => continue,
        };
        let mut w = (*o).clone();
        w.f = F::Write;
        w.value = value;
        if let Some(state) = model.step(&model.init(), &w) {
            out.push(evidence::Writer {
                call: o.invoke_index,
                ret: match (o.outcome, o.complete_index) {
                    (Outcome::Ok, Some(c)) => c,
                    _ => u64::MAX,
                },
                state,
            });
        }
    }
    out
}

/// Turns per-key results into the checker's answer.
fn summarize(spec: &ModelSpec, keys: Vec<KeyResult>, at: &dyn Fn(u64) -> String) -> CheckResult {
    let total = keys.len();
    let invalid: Vec<&KeyResult> = keys
        .iter()
        .filter(|k| k.verdict == Verdict::Invalid)
        .collect();
    let unknown: Vec<&KeyResult> = keys
        .iter()
        .filter(|k| k.verdict == Verdict::Unknown)
        .collect();
    let verdict = if !invalid.is_empty() {
        Verdict::Invalid
    } else if !unknown.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    let names = |ks: &[&KeyResult]| {
        let mut v: Vec<String> = ks
            .iter()
            .take(10)
            .map(|k| key_label(k.key.as_ref()))
            .collect();
        if ks.len() > 10 {
            v.push(format!("and {} more", ks.len() - 10));
        }
        v.join(", ")
    };
    let keyed = total > 1 || keys.first().is_some_and(|k| k.key.is_some());
    let summary = match verdict {
        Verdict::Valid if keyed => format!("linearizable: all {total} keys"),
        Verdict::Valid => "linearizable".to_string(),
        Verdict::Invalid => {
            let first = invalid
                .iter()
                .filter_map(|k| k.anomaly_ns)
                .min()
                .unwrap_or(0);
            let what = invalid
                .iter()
                .min_by_key(|k| k.anomaly_ns.unwrap_or(u64::MAX))
                .and_then(|k| k.window.as_ref())
                .map_or("", |w| w.explanation.as_str());
            let keys_part = if keyed {
                format!("{} of {total} keys ({}); ", invalid.len(), names(&invalid))
            } else {
                String::new()
            };
            format!(
                "not linearizable: {keys_part}first anomaly at {}: {what}",
                at(first)
            )
        }
        Verdict::Unknown => format!(
            "unknown: {} of {total} keys decided (all linearizable); the budget ran out for {}",
            total - unknown.len(),
            names(&unknown)
        ),
    };
    let mut listed_valid = 0;
    let entries: Vec<KeyEvidence> = keys
        .iter()
        .filter(|k| {
            k.verdict != Verdict::Valid || {
                listed_valid += 1;
                listed_valid <= VALID_KEYS_LISTED
            }
        })
        .map(|k| KeyEvidence {
            key: k.key.as_ref().map(Value::to_json),
            verdict: k.verdict,
            window: k.window.clone(),
        })
        .collect();
    let evidence = Evidence::Linearizable(LinearizableEvidence {
        keys: entries,
        decided: (total - unknown.len()) as u64,
        undecided: unknown
            .iter()
            .map(|k| k.key.as_ref().map(Value::to_json))
            .collect(),
        invalid_keys: invalid.len() as u64,
        total_keys: total as u64,
        valid_keys_listed: VALID_KEYS_LISTED as u64,
    });
    CheckResult {
        checker: "linearizable".into(),
        model: spec.kind.as_str().into(),
        verdict,
        summary,
        evidence: evidence.into_json(),
    }
}

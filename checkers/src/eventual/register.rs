//! Eventual consistency of registers and kv keys (see the module docs of `eventual`).

use std::collections::{BTreeMap, HashSet};

use crate::evidence::{Accounting, EventualEvidence, RegisterConvergence};

use super::{some, Judgement};
use crate::history::{key_label, History, Op, Outcome, F};
use crate::model::{cas_pair, ModelSpec};
use crate::value::Value;
use crate::verdict::Verdict;

/// Judges a register or kv history against its final reads.
pub(crate) fn judge(history: &History, spec: &ModelSpec, finals: &[&Op]) -> Judgement {
    let mut written: HashSet<(&Option<Value>, &Value)> = HashSet::new();
    let mut acked: HashSet<&Option<Value>> = HashSet::new();
    for o in history.ops.iter().filter(|o| o.outcome != Outcome::Fail) {
        let v = match o.f {
            F::Write => Some(&o.value),
            F::Cas => cas_pair(&o.value).map(|(_, n)| n),
            _ => None,
        };
        if let Some(v) = v {
            written.insert((&o.key, v));
            if o.outcome == Outcome::Ok {
                acked.insert(&o.key);
            }
        }
    }
    let mut by_key: BTreeMap<String, (Option<Value>, BTreeMap<String, Value>)> = BTreeMap::new();
    for r in finals {
        let who = r
            .node
            .as_deref()
            .map_or_else(|| format!("process {}", r.process), str::to_string);
        let entry = by_key
            .entry(key_label(r.key.as_ref()))
            .or_insert_with(|| (r.key.clone(), BTreeMap::new()));
        entry.1.insert(who, r.value.clone());
    }
    let mut problems = Vec::new();
    let mut keys = Vec::new();
    for (label, (key, values)) in &by_key {
        let distinct: Vec<&Value> = {
            let mut v: Vec<&Value> = values.values().collect();
            v.sort();
            v.dedup();
            v
        };
        let problem = if distinct.len() > 1 {
            Some(format!(
                "key {label}: nodes disagree ({})",
                values
                    .iter()
                    .map(|(n, v)| format!("{n}: {}", short(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if let Some(v) = distinct.first() {
            if v.get("siblings").is_some() {
                let n = v
                    .get("siblings")
                    .and_then(Value::as_list)
                    .map_or(0, <[Value]>::len);
                Some(format!("key {label}: {n} unresolved siblings"))
            } else if written.contains(&(key, *v)) || (**v == spec.initial && !acked.contains(key))
            {
                None
            } else {
                Some(format!(
                    "key {label}: final value {} was never written",
                    short(v)
                ))
            }
        } else {
            None
        };
        keys.push(RegisterConvergence {
            key: key.as_ref().map(Value::to_json),
            final_values: values
                .iter()
                .map(|(n, v)| (n.clone(), v.to_json()))
                .collect(),
            problem: problem.clone(),
        });
        if let Some(p) = problem {
            problems.push(p);
        }
    }
    // Keys with an acknowledged write but no final read cannot be judged.
    let mut unread: Vec<String> = acked
        .iter()
        .map(|k| key_label(k.as_ref()))
        .filter(|l| !by_key.contains_key(l))
        .collect();
    unread.sort();
    let verdict = if !problems.is_empty() {
        Verdict::Invalid
    } else if !unread.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    let summary = if verdict == Verdict::Valid {
        format!(
            "eventually consistent: all {} keys converged to a written value",
            by_key.len()
        )
    } else if verdict == Verdict::Unknown {
        format!(
            "unknown: {} keys converged, but {} written keys have no final read: {}",
            by_key.len(),
            unread.len(),
            some(&unread)
        )
    } else {
        format!(
            "not eventually consistent: {} of {} keys did not converge: {}",
            problems.len(),
            by_key.len(),
            some(&problems)
        )
    };
    Judgement {
        verdict,
        summary,
        evidence: EventualEvidence {
            final_reads: finals.len(),
            accounting: Accounting::Registers {
                keys,
                unread_keys: unread,
            },
        },
    }
}

/// A value for a summary, cut to 60 characters.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

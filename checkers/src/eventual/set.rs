//! Eventual consistency of a grow-only set (see the module docs of `eventual`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::json;

use super::{secs, some, Judgement};
use crate::history::{History, Op, Outcome, F};
use crate::value::Value;
use crate::verdict::Verdict;

/// Judges a set history against its final reads.
pub(crate) fn judge(history: &History, finals: &[&Op]) -> Judgement {
    // When each element's ok add completed; which elements some ok/info add tried.
    let mut acked: BTreeMap<&Value, u64> = BTreeMap::new();
    let mut attempted: BTreeSet<&Value> = BTreeSet::new();
    for o in history.ops.iter().filter(|o| o.f == F::Add) {
        match o.outcome {
            Outcome::Ok => {
                attempted.insert(&o.value);
                let t = o.complete_time.unwrap_or(o.invoke_time);
                let e = acked.entry(&o.value).or_insert(t);
                *e = (*e).min(t);
            }
            Outcome::Info => {
                attempted.insert(&o.value);
            }
            Outcome::Fail => {}
        }
    }
    let reads: Vec<&Op> = history
        .ops
        .iter()
        .filter(|o| o.f == F::Read && o.outcome == Outcome::Ok)
        .collect();
    let mut seen: BTreeSet<&Value> = BTreeSet::new();
    let mut unexpected: BTreeSet<&Value> = BTreeSet::new();
    let mut duplicated: BTreeSet<&Value> = BTreeSet::new();
    for r in &reads {
        let mut in_read: HashMap<&Value, u32> = HashMap::new();
        for e in r.value.as_list().unwrap_or(&[]) {
            seen.insert(e);
            *in_read.entry(e).or_default() += 1;
            if !attempted.contains(e) {
                unexpected.insert(e);
            }
        }
        duplicated.extend(in_read.into_iter().filter(|&(_, n)| n > 1).map(|(e, _)| e));
    }
    let final_sets: Vec<BTreeSet<&Value>> = finals
        .iter()
        .map(|r| r.value.as_list().unwrap_or(&[]).iter().collect())
        .collect();
    let lost: Vec<&Value> = acked
        .keys()
        .copied()
        .filter(|e| final_sets.iter().any(|s| !s.contains(e)))
        .collect();
    let never_read: Vec<&Value> = attempted
        .iter()
        .copied()
        .filter(|e| !seen.contains(e))
        .collect();
    // Staleness: reads invoked after the ack that missed the element.
    let mut stale: Vec<(&Value, u64)> = Vec::new();
    for (&e, &ack) in &acked {
        if lost.contains(&e) {
            continue;
        }
        let last_miss = reads
            .iter()
            .filter(|r| r.invoke_time > ack && !r.value.as_list().unwrap_or(&[]).contains(e))
            .filter_map(|r| r.complete_time)
            .max();
        if let Some(t) = last_miss {
            stale.push((e, t.saturating_sub(ack)));
        }
    }
    let stable = acked.len() - lost.len() - stale.len();
    let verdict = if lost.is_empty() && unexpected.is_empty() && duplicated.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    let summary = if verdict == Verdict::Valid {
        let mut s = format!(
            "eventually consistent: all {} acknowledged adds are in the {} final reads",
            acked.len(),
            finals.len()
        );
        if let Some(max) = stale.iter().map(|&(_, d)| d).max() {
            s.push_str(&format!(
                "; {} were stale for a while (longest {})",
                stale.len(),
                secs(max)
            ));
        }
        s
    } else {
        let mut parts = Vec::new();
        if !lost.is_empty() {
            let first = lost
                .iter()
                .filter_map(|e| acked.get(e))
                .min()
                .copied()
                .unwrap_or(0);
            parts.push(format!(
                "lost {} acknowledged adds: {} (first acknowledged at {})",
                lost.len(),
                some(&lost),
                secs(first)
            ));
        }
        if !unexpected.is_empty() {
            parts.push(format!(
                "{} unexpected elements never added: {}",
                unexpected.len(),
                some(&unexpected.iter().collect::<Vec<_>>())
            ));
        }
        if !duplicated.is_empty() {
            parts.push(format!(
                "{} elements duplicated within a read: {}",
                duplicated.len(),
                some(&duplicated.iter().collect::<Vec<_>>())
            ));
        }
        format!("not eventually consistent: {}", parts.join("; "))
    };
    let j = |v: &[&Value]| v.iter().map(|e| e.to_json()).collect::<Vec<_>>();
    Judgement {
        verdict,
        summary,
        evidence: json!({
            "final_reads": finals.len(),
            "elements": {
                "lost": j(&lost),
                "stale": stale.iter().map(|(e, d)| json!({"element": e.to_json(), "ms": *d as f64 / 1e6})).collect::<Vec<_>>(),
                "never_read": j(&never_read),
                "unexpected": j(&unexpected.into_iter().collect::<Vec<_>>()),
                "duplicated": j(&duplicated.into_iter().collect::<Vec<_>>()),
                "stable": stable,
                "acknowledged": acked.len(),
            }
        }),
    }
}

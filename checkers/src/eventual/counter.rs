//! Eventual consistency of a counter (see the module docs of `eventual`).

use std::collections::BTreeSet;

use serde_json::json;

use super::{some, Judgement};
use crate::history::{History, Op, Outcome, F};
use crate::verdict::Verdict;

/// Most indeterminate deltas whose subset sums are enumerated exactly.
const EXACT_INFO: usize = 20;

/// Judges a counter history against its final reads.
pub(crate) fn judge(history: &History, finals: &[&Op]) -> Judgement {
    let adds = history.ops.iter().filter(|o| o.f == F::Add);
    let mut ok_sum: i64 = 0;
    let mut info: Vec<i64> = Vec::new();
    for o in adds {
        let d = o.value.as_int().unwrap_or(0);
        match o.outcome {
            Outcome::Ok => ok_sum = ok_sum.saturating_add(d),
            Outcome::Info => info.push(d),
            Outcome::Fail => {}
        }
    }
    let exact = info.len() <= EXACT_INFO;
    let possible: Option<BTreeSet<i64>> = exact.then(|| {
        let mut sums = BTreeSet::from([ok_sum]);
        for d in &info {
            let more: Vec<i64> = sums.iter().map(|s| s.saturating_add(*d)).collect();
            sums.extend(more);
        }
        sums
    });
    let lo = ok_sum + info.iter().filter(|d| **d < 0).sum::<i64>();
    let hi = ok_sum + info.iter().filter(|d| **d > 0).sum::<i64>();
    let bad: Vec<(i64, String)> = finals
        .iter()
        .filter_map(|r| {
            let v = r.value.as_int();
            let fine = match (v, &possible) {
                (Some(v), Some(p)) => p.contains(&v),
                (Some(v), None) => (lo..=hi).contains(&v),
                (None, _) => false,
            };
            (!fine).then(|| {
                (
                    r.value.as_int().unwrap_or(i64::MIN),
                    r.node
                        .as_deref()
                        .map_or_else(|| format!("process {}", r.process), |n| n.to_string()),
                )
            })
        })
        .collect();
    let verdict = if bad.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    let range = format!(
        "{ok_sum} (acknowledged) to between {lo} and {hi} with the {} indeterminate adds",
        info.len()
    );
    let summary = if bad.is_empty() {
        format!(
            "eventually consistent: all {} final reads are possible sums ({range})",
            finals.len()
        )
    } else {
        let shown: Vec<String> = bad.iter().map(|(v, n)| format!("{v} from {n}")).collect();
        format!(
            "not eventually consistent: final reads {} are not possible sums; expected {range}",
            some(&shown)
        )
    };
    Judgement {
        verdict,
        summary,
        evidence: json!({
            "final_reads": finals.len(),
            "counter": {"ok_sum": ok_sum, "info_deltas": info, "lower": lo, "upper": hi, "exact": exact,
                        "bad_reads": bad.iter().map(|(v, n)| json!({"value": v, "from": n})).collect::<Vec<_>>()}
        }),
    }
}

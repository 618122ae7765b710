//! The checker of Maelstrom's `unique-ids` workload: clients ask any node to
//! `generate` an id (f `generate`, the `ok` value the id), and the system must be
//! totally available and never hand out one id twice.
//!
//! - **invalid** iff two `ok` generates returned equal ids (the evidence names each
//!   duplicated id with the ops that got it);
//! - **unknown** when no generate succeeded;
//! - otherwise **valid**, with the availability (the share of generates that were
//!   `ok`) in the summary and evidence: a system that answers few requests is
//!   correct here, and the figure says how available it was.

use std::collections::BTreeMap;

use serde_json::json;

use crate::history::{History, Outcome};
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// The unique-ids checker.
#[derive(Debug, Default, Clone, Copy)]
pub struct UniqueIds;

/// Each id handed out more than once, with the ids of the ops that got it.
pub fn duplicates(history: &History) -> Vec<(serde_json::Value, Vec<usize>)> {
    let mut seen: BTreeMap<String, (serde_json::Value, Vec<usize>)> = BTreeMap::new();
    for o in history
        .ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.f.as_str() == "generate")
    {
        let id = o.value.to_json();
        seen.entry(id.to_string())
            .or_insert_with(|| (id, Vec::new()))
            .1
            .push(o.id);
    }
    seen.into_values()
        .filter(|(_, ops)| ops.len() > 1)
        .collect()
}

impl Checker for UniqueIds {
    fn name(&self) -> &str {
        "unique-ids"
    }

    fn check(&self, history: &History, _budget: &Budget) -> CheckResult {
        let generates: Vec<_> = history
            .ops
            .iter()
            .filter(|o| o.f.as_str() == "generate")
            .collect();
        let ok = generates
            .iter()
            .filter(|o| o.outcome == Outcome::Ok)
            .count();
        let availability = if generates.is_empty() {
            0.0
        } else {
            ok as f64 / generates.len() as f64
        };
        let dups = duplicates(history);
        let (verdict, summary) = if !dups.is_empty() {
            (
                Verdict::Invalid,
                format!(
                    "ids are not unique: {} ids were handed out more than once, e.g. {} to ops {:?}",
                    dups.len(),
                    dups[0].0,
                    dups[0].1
                ),
            )
        } else if ok == 0 {
            (
                Verdict::Unknown,
                "unknown: no generate succeeded, so no id was observed".to_string(),
            )
        } else {
            (
                Verdict::Valid,
                format!(
                    "all {ok} acknowledged ids are unique; availability {:.1}% ({ok} of {} generates ok)",
                    availability * 100.0,
                    generates.len()
                ),
            )
        };
        CheckResult {
            checker: "unique-ids".into(),
            model: "unique-ids".into(),
            verdict,
            summary,
            evidence: json!({
                "acknowledged": ok,
                "attempted": generates.len(),
                "availability": availability,
                "duplicates": dups.iter().take(50).map(|(id, ops)| json!({"id": id, "ops": ops})).collect::<Vec<_>>(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::jsonl;

    fn history(ids: &[serde_json::Value]) -> History {
        let mut text = String::new();
        for (i, id) in ids.iter().enumerate() {
            let (t, v) = if id.is_null() {
                ("info", json!(null))
            } else {
                ("ok", id.clone())
            };
            text += &format!(
                "{}\n{}\n",
                json!({"index": 2 * i, "time": 2 * i, "process": i, "type": "invoke", "f": "generate", "value": null}),
                json!({"index": 2 * i + 1, "time": 2 * i + 1, "process": i, "type": t, "f": "generate", "value": v})
            );
        }
        jsonl::read(text.as_bytes(), "<test>").unwrap()
    }

    #[test]
    fn an_id_handed_out_twice_is_invalid_and_named_with_its_ops() {
        let h = history(&[json!("n1-1"), json!(2), json!("n1-1")]);
        let r = UniqueIds.check(&h, &Budget::default());
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(
            r.evidence["duplicates"],
            json!([{"id": "n1-1", "ops": [0, 2]}])
        );
        // An integer and a string that print alike are different ids.
        let h = history(&[json!(1), json!("1")]);
        assert_eq!(
            UniqueIds.check(&h, &Budget::default()).verdict,
            Verdict::Valid
        );
    }

    #[test]
    fn distinct_ids_are_valid_with_their_availability_and_none_is_unknown() {
        let h = history(&[json!(1), json!(null), json!(3), json!(4)]);
        let r = UniqueIds.check(&h, &Budget::default());
        assert_eq!(r.verdict, Verdict::Valid);
        assert_eq!(r.evidence["availability"], json!(0.75));
        let h = history(&[json!(null)]);
        assert_eq!(
            UniqueIds.check(&h, &Budget::default()).verdict,
            Verdict::Unknown
        );
    }
}

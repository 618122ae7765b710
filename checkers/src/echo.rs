//! The checker of Maelstrom's `echo` workload: a client sends `echo` with a payload
//! and the node must answer `echo_ok` carrying the same payload back.
//!
//! - **invalid** iff an `ok` echo came back with a payload other than the one sent
//!   (the evidence names each such op with what was sent and what came back);
//! - **unknown** when no echo succeeded (nothing was observed);
//! - otherwise **valid**, with the availability (the share of echoes that were `ok`)
//!   in the summary and evidence.

use serde_json::json;

use crate::history::{History, Outcome};
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// The echo checker.
#[derive(Debug, Default, Clone, Copy)]
pub struct Echo;

/// How many mismatched echoes the evidence lists at most.
const LISTED: usize = 50;

impl Checker for Echo {
    fn name(&self) -> &str {
        "echo"
    }

    fn check(&self, history: &History, _budget: &Budget) -> CheckResult {
        let echoes: Vec<_> = history
            .ops
            .iter()
            .filter(|o| o.f.as_str() == "echo")
            .collect();
        let ok: Vec<_> = echoes.iter().filter(|o| o.outcome == Outcome::Ok).collect();
        let wrong: Vec<_> = ok.iter().filter(|o| o.value != o.invoke_value).collect();
        let availability = if echoes.is_empty() {
            0.0
        } else {
            ok.len() as f64 / echoes.len() as f64
        };
        let (verdict, summary) = if let Some(first) = wrong.first() {
            (
                Verdict::Invalid,
                format!(
                    "{} of {} acknowledged echoes came back changed, e.g. op {} sent {} and got {}",
                    wrong.len(),
                    ok.len(),
                    first.id,
                    first.invoke_value.to_json(),
                    first.value.to_json()
                ),
            )
        } else if ok.is_empty() {
            (
                Verdict::Unknown,
                "unknown: no echo succeeded, so no reply was observed".to_string(),
            )
        } else {
            (
                Verdict::Valid,
                format!(
                    "all {} acknowledged echoes came back unchanged; availability {:.1}% ({} of {} echoes ok)",
                    ok.len(),
                    availability * 100.0,
                    ok.len(),
                    echoes.len()
                ),
            )
        };
        CheckResult {
            checker: "echo".into(),
            model: "echo".into(),
            verdict,
            summary,
            evidence: json!({
                "acknowledged": ok.len(),
                "attempted": echoes.len(),
                "availability": availability,
                "changed": wrong.iter().take(LISTED).map(|o| json!({
                    "op": o.id,
                    "sent": o.invoke_value.to_json(),
                    "received": o.value.to_json(),
                })).collect::<Vec<_>>(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::jsonl;

    /// A history of echoes, each `(sent, Some(received))` for an `ok` reply or
    /// `(sent, None)` for one that timed out.
    fn history(echoes: &[(&str, Option<&str>)]) -> History {
        let mut text = String::new();
        for (i, (sent, got)) in echoes.iter().enumerate() {
            let (t, v) = match got {
                Some(g) => ("ok", json!(g)),
                None => ("info", json!(sent)),
            };
            text += &format!(
                "{}\n{}\n",
                json!({"index": 2 * i, "time": 2 * i, "process": i, "type": "invoke", "f": "echo", "value": sent}),
                json!({"index": 2 * i + 1, "time": 2 * i + 1, "process": i, "type": t, "f": "echo", "value": v})
            );
        }
        jsonl::read(text.as_bytes(), "<test>").unwrap()
    }

    #[test]
    fn an_echo_that_comes_back_changed_is_invalid_and_named_with_both_payloads() {
        let h = history(&[("echo 1", Some("echo 1")), ("echo 2", Some("echo 3"))]);
        let r = Echo.check(&h, &Budget::default());
        assert_eq!(r.verdict, Verdict::Invalid);
        assert_eq!(
            r.evidence["changed"],
            json!([{"op": 1, "sent": "echo 2", "received": "echo 3"}])
        );
        assert!(
            r.summary.contains("sent \"echo 2\" and got \"echo 3\""),
            "{}",
            r.summary
        );
    }

    #[test]
    fn unchanged_echoes_are_valid_with_their_availability_and_none_is_unknown() {
        let h = history(&[
            ("a", Some("a")),
            ("b", None),
            ("c", Some("c")),
            ("d", Some("d")),
        ]);
        let r = Echo.check(&h, &Budget::default());
        assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
        assert_eq!(r.evidence["availability"], json!(0.75));
        let h = history(&[("a", None)]);
        assert_eq!(Echo.check(&h, &Budget::default()).verdict, Verdict::Unknown);
    }
}

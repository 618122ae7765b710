//! What a report shows of a run, read leniently from `results.json` and `test.json`:
//! a missing or oddly shaped field is shown as absent, never an error, so a report
//! can always be drawn from whatever a run (or an older faultline) left behind.

use checkers::{CheckResult, Verdict};
use serde_json::Value as Json;

use crate::results::{Interruption, RunResults};

/// A run, as the report shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunView {
    /// The test's name.
    pub name: String,
    /// The run's directory.
    pub run_dir: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// How long it took, ms.
    pub duration_ms: Option<u64>,
    /// The run's verdict (the worst of its checkers when `results.json` lacks one).
    pub verdict: Option<Verdict>,
    /// The store under test.
    pub store: String,
    /// The workload.
    pub workload: String,
    /// The faults asked for.
    pub nemesis: Vec<String>,
    /// The generators' seed.
    pub seed: Option<u64>,
    /// Every checker's result.
    pub checkers: Vec<CheckResult>,
    /// Operation counts: total, ok, fail, info.
    pub ops: Option<[u64; 4]>,
    /// The command that re-runs the test.
    pub command: String,
    /// The resolved configuration (`test.json`), or null.
    pub test: Json,
    /// Why the verdict is `unknown` when the history allows no decision (all nodes
    /// had exited, no operation succeeded), as `results.json` says.
    pub verdict_reason: Option<String>,
    /// Where and why the run stopped before it finished, as `results.json` says.
    pub interrupted: Option<Interruption>,
}

impl RunView {
    /// Reads a run from the JSON of `results.json` and `test.json` (either may be null).
    pub fn from_json(results: &Json, test: &Json) -> RunView {
        let s = |k: &str| str_field(results, k).or_else(|| str_field(test, k));
        let checkers: Vec<CheckResult> = results
            .get("checkers")
            .and_then(Json::as_array)
            .map(|a| a.iter().map(check_result).collect())
            .unwrap_or_default();
        let verdict = results
            .get("verdict")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .or_else(|| {
                (!checkers.is_empty()).then(|| {
                    checkers
                        .iter()
                        .fold(Verdict::Valid, |v, c| v.worst(c.verdict))
                })
            });
        let ops = results.get("ops").map(|o| {
            let n = |k: &str| o.get(k).and_then(Json::as_u64).unwrap_or(0);
            [n("total"), n("ok"), n("fail"), n("info")]
        });
        let nemesis = results
            .get("nemesis")
            .or_else(|| test.get("nemesis"))
            .and_then(Json::as_array)
            .map(|a| a.iter().map(text).collect())
            .unwrap_or_default();
        RunView {
            name: s("name").unwrap_or_else(|| "unnamed run".into()),
            run_dir: s("run_dir").unwrap_or_default(),
            started: s("started").unwrap_or_default(),
            duration_ms: results.get("duration_ms").and_then(Json::as_u64),
            verdict,
            store: s("store").unwrap_or_default(),
            workload: s("workload").unwrap_or_default(),
            nemesis,
            seed: results
                .get("seed")
                .or_else(|| test.get("seed"))
                .and_then(Json::as_u64),
            checkers,
            ops,
            command: s("command").unwrap_or_default(),
            test: test.clone(),
            verdict_reason: str_field(results, "verdict_reason"),
            interrupted: results
                .get("interrupted")
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
        }
    }

    /// The view of a [`RunResults`] the driver holds in memory.
    pub fn from_results(r: &RunResults, test: &Json) -> RunView {
        RunView::from_json(&serde_json::to_value(r).unwrap_or(Json::Null), test)
    }

    /// The faults as words: "partition, kill" or "none".
    pub fn faults(&self) -> String {
        if self.nemesis.is_empty() {
            "none".to_string()
        } else {
            self.nemesis.join(", ")
        }
    }

    /// A field of `test.json` as text, when present and not null.
    pub fn test_field(&self, key: &str) -> Option<String> {
        self.test.get(key).filter(|v| !v.is_null()).map(text)
    }
}

/// A checker's result, leniently: missing fields become empty, an unreadable
/// verdict becomes `unknown`.
pub fn check_result(v: &Json) -> CheckResult {
    if let Ok(r) = serde_json::from_value::<CheckResult>(v.clone()) {
        return r;
    }
    CheckResult {
        checker: str_field(v, "checker").unwrap_or_else(|| "checker".into()),
        model: str_field(v, "model").unwrap_or_default(),
        verdict: v
            .get("verdict")
            .and_then(|x| serde_json::from_value(x.clone()).ok())
            .unwrap_or(Verdict::Unknown),
        summary: str_field(v, "summary").unwrap_or_default(),
        evidence: v.get("evidence").cloned().unwrap_or(Json::Null),
    }
}

fn str_field(v: &Json, key: &str) -> Option<String> {
    v.get(key).filter(|x| !x.is_null()).map(text)
}

/// A JSON value as text: strings bare, anything else as JSON.
pub fn text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `s` cut to at most `n` characters, with an ellipsis when cut.
pub fn short(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_results_file_missing_most_fields_still_gives_a_view() {
        let v = RunView::from_json(
            &json!({"checkers": [{"checker": "linearizable", "verdict": "invalid"}, {"odd": 1}]}),
            &json!({"store": "etcd", "nemesis": ["partition"]}),
        );
        assert_eq!(v.verdict, Some(Verdict::Invalid));
        assert_eq!(v.store, "etcd");
        assert_eq!(v.faults(), "partition");
        assert_eq!(v.checkers[1].verdict, Verdict::Unknown);
        assert_eq!(v.name, "unnamed run");
        assert!(v.seed.is_none());
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        assert_eq!(short("ééééé", 3), "ééé…");
        assert_eq!(short("abc", 3), "abc");
    }
}

//! A checker's verdict in words a newcomer understands, for the top of a report, the
//! JUnit failure message and the JSON summary: "not linearizable: 3 of 100 keys;
//! first anomaly at 12.4 s, during a partition (n1 n2 | n3)".
//!
//! Built from the checker's evidence (whatever fields it has; a missing field just
//! leaves its part of the sentence out) and the run's fault windows.

use checkers::{CheckResult, History, Verdict};
use serde::Serialize;
use serde_json::Value as Json;

use super::faults::{during, FaultWindow};

/// One checker's verdict in words, with the facts the sentence was made of.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    /// The checker.
    pub checker: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// The sentence.
    pub text: String,
    /// When the first anomaly happened (the invoke of the op that cannot be placed), s.
    pub first_anomaly_s: Option<f64>,
    /// The faults active then, in words ("during a pause of n1").
    pub during: Option<String>,
    /// How many keys (or groups of keys) are affected, of how many.
    pub affected: Option<(u64, u64)>,
}

/// The property a checker judges, as an adjective: `linearizable`.
fn adjective(checker: &str) -> String {
    match checker {
        "linearizable" => "linearizable".into(),
        "sequential" => "sequentially consistent".into(),
        "eventual" => "eventually consistent".into(),
        other => other.replace(['-', '_'], " "),
    }
}

/// The failing windows in a lin/SC evidence (`keys[].window`, `components[].window`).
pub fn windows(evidence: &Json) -> Vec<&Json> {
    let mut windows: Vec<&Json> = ["keys", "components"]
        .iter()
        .filter_map(|k| evidence.get(*k).and_then(Json::as_array))
        .flatten()
        .filter_map(|e| e.get("window"))
        .filter(|w| w.is_object())
        .collect();
    // In time order: the first anomaly first (by its culprit's invoke).
    windows.sort_by_key(|w| {
        let n = |k: &str| w.get(k).and_then(Json::as_u64).unwrap_or(u64::MAX);
        (n("culprit_time_ns"), n("culprit"))
    });
    windows
}

/// The invoke time (ns) of a window's culprit: its `culprit_time_ns`, else the
/// culprit op's invoke in the history.
pub fn culprit_time(history: &History, w: &Json) -> Option<u64> {
    if let Some(t) = w.get("culprit_time_ns").and_then(Json::as_u64) {
        return Some(t);
    }
    let idx = w.get("culprit").and_then(Json::as_u64)?;
    history
        .ops
        .binary_search_by_key(&idx, |o| o.invoke_index)
        .ok()
        .map(|i| history.ops[i].invoke_time)
}

/// (affected, total, unit) from the evidence's counts.
fn affected(r: &CheckResult) -> Option<(u64, u64, &'static str)> {
    let e = &r.evidence;
    let n = |k: &str| e.get(k).and_then(Json::as_u64);
    if let (Some(bad), Some(total)) = (n("invalid_keys"), n("total_keys")) {
        return Some((bad, total, "keys"));
    }
    if let (Some(comps), Some(total)) = (
        e.get("components").and_then(Json::as_array),
        n("total_components"),
    ) {
        let bad = comps.iter().filter(|c| c["verdict"] == "invalid").count() as u64;
        let unit = if total == 1 {
            "group of keys"
        } else {
            "groups of keys"
        };
        return Some((bad, total, unit));
    }
    if let Some(keys) = e.get("keys").and_then(Json::as_object) {
        let bad = keys.values().filter(|k| k["verdict"] == "invalid").count() as u64;
        return Some((bad, keys.len() as u64, "keys"));
    }
    if let Some(keys) = e.get("keys").and_then(Json::as_array) {
        let bad = keys
            .iter()
            .filter(|k| k.get("problem").is_some_and(|p| !p.is_null()))
            .count() as u64;
        return Some((bad, keys.len() as u64, "keys"));
    }
    None
}

/// Eventual evidence, summed over keys: "4 lost, 12 stale (up to 850 ms)".
fn element_counts(e: &Json) -> Option<String> {
    let mut sets: Vec<&Json> = Vec::new();
    if let Some(el) = e.get("elements") {
        sets.push(el);
    }
    if let Some(keys) = e.get("keys").and_then(Json::as_object) {
        sets.extend(
            keys.values()
                .filter_map(|k| k.pointer("/evidence/elements")),
        );
    }
    if sets.is_empty() {
        return None;
    }
    let len = |k: &str| -> usize {
        sets.iter()
            .filter_map(|s| s.get(k).and_then(Json::as_array))
            .map(Vec::len)
            .sum()
    };
    let stale_ms = sets
        .iter()
        .filter_map(|s| s.get("stale").and_then(Json::as_array))
        .flatten()
        .filter_map(|x| x.get("ms").and_then(Json::as_f64))
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let mut parts = Vec::new();
    for (k, word) in [
        ("lost", "lost"),
        ("unexpected", "unexpected"),
        ("duplicated", "duplicated"),
        ("never_read", "never read"),
    ] {
        if len(k) > 0 {
            parts.push(format!("{} {word}", len(k)));
        }
    }
    if let Some(ms) = stale_ms {
        parts.push(format!("{} stale (up to {ms:.0} ms)", len("stale")));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The headline of one checker.
pub fn of(r: &CheckResult, history: &History, faults: &[FaultWindow]) -> Headline {
    let adj = adjective(&r.checker);
    let counts = affected(r);
    let first = windows(&r.evidence)
        .into_iter()
        .filter_map(|w| culprit_time(history, w))
        .min();
    // Without faults and without a history, nothing is known of what was active.
    let known = !faults.is_empty() || !history.ops.is_empty();
    let during_text = first.filter(|_| known).map(|t| during(faults, t));
    let mut parts: Vec<String> = Vec::new();
    let lead = match r.verdict {
        Verdict::Valid => {
            if let Some((_, total, unit)) = counts.filter(|c| c.1 > 1) {
                parts.push(format!("all {total} {unit}"));
            }
            adj
        }
        Verdict::Invalid => {
            if let Some((bad, total, unit)) = counts.filter(|c| c.0 > 0) {
                parts.push(format!("{bad} of {total} {unit}"));
            }
            if let Some(el) = element_counts(&r.evidence) {
                parts.push(el);
            }
            if let Some(t) = first {
                let d = during_text
                    .as_ref()
                    .map(|d| format!(", {d}"))
                    .unwrap_or_default();
                parts.push(format!("first anomaly at {:.1} s{d}", t as f64 / 1e9));
            }
            format!("not {adj}")
        }
        Verdict::Unknown => {
            if let Some(decided) = r.evidence.get("decided").and_then(Json::as_u64) {
                if let Some((_, total, unit)) = counts {
                    parts.push(format!("{decided} of {total} {unit} decided"));
                }
            }
            format!("undecided whether {adj}")
        }
    };
    let mut text = if parts.is_empty() {
        lead
    } else {
        format!("{lead}: {}", parts.join("; "))
    };
    if r.verdict == Verdict::Unknown || (r.verdict == Verdict::Invalid && parts.is_empty()) {
        // The checker's own words say why (budget ran out, no final reads, ...).
        if let Some(why) = r.summary.split_once(": ").map(|(_, why)| why) {
            text.push_str(&format!(" — {}", super::view::short(why, 200)));
        }
    }
    Headline {
        checker: r.checker.clone(),
        verdict: r.verdict,
        text,
        first_anomaly_s: first.map(|t| t as f64 / 1e9),
        during: during_text,
        affected: counts.map(|(a, t, _)| (a, t)),
    }
}

/// The headlines of every checker.
pub fn all(results: &[CheckResult], history: &History, faults: &[FaultWindow]) -> Vec<Headline> {
    results.iter().map(|r| of(r, history, faults)).collect()
}

/// The run's verdict in a few words: "Invalid: a consistency violation was found".
pub fn run_words(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Valid) => "Valid: no checker found an anomaly",
        Some(Verdict::Invalid) => "Invalid: a consistency violation was found",
        Some(Verdict::Unknown) => "Unknown: not every check could be decided",
        None => "No verdict: the run recorded no checker results",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn failing_windows_are_listed_in_time_order() {
        let e = json!({"keys": [
            {"key": "a", "window": {"culprit": 40, "culprit_time_ns": 900}},
            {"key": "b", "window": {"culprit": 7, "culprit_time_ns": 100}},
            {"key": "c", "window": {"culprit": 20, "culprit_time_ns": 500}},
        ]});
        let order: Vec<u64> = windows(&e)
            .iter()
            .filter_map(|w| w["culprit"].as_u64())
            .collect();
        assert_eq!(order, vec![7, 20, 40]);
    }

    fn result(checker: &str, verdict: Verdict, evidence: Json) -> CheckResult {
        CheckResult {
            checker: checker.into(),
            model: "kv".into(),
            verdict,
            summary: String::new(),
            evidence,
        }
    }

    fn partition() -> FaultWindow {
        FaultWindow {
            kind: "partition".into(),
            start: 10_000_000_000,
            end: 15_000_000_000,
            nodes: vec![],
            detail: "n1 n2 | n3".into(),
            stopped: true,
        }
    }

    #[test]
    fn an_invalid_key_count_and_the_fault_at_the_first_anomaly_are_in_words() {
        let r = result(
            "linearizable",
            Verdict::Invalid,
            json!({"invalid_keys": 3, "total_keys": 100, "keys": [
                {"key": "k1", "verdict": "invalid", "window": {"culprit": 7, "culprit_time_ns": 13_000_000_000u64}},
                {"key": "k2", "verdict": "invalid", "window": {"culprit": 5, "culprit_time_ns": 12_400_000_000u64}},
            ]}),
        );
        let h = of(&r, &History::default(), &[partition()]);
        assert_eq!(
            h.text,
            "not linearizable: 3 of 100 keys; first anomaly at 12.4 s, during a partition (n1 n2 | n3)"
        );
        assert_eq!(h.affected, Some((3, 100)));
    }

    #[test]
    fn evidence_without_counts_or_windows_still_gives_a_sentence() {
        let mut r = result("sequential", Verdict::Invalid, json!(null));
        r.summary = "not sequentially consistent: reads went backwards".into();
        let h = of(&r, &History::default(), &[]);
        assert_eq!(h.text, "not sequentially consistent — reads went backwards");
        let v = of(
            &result("eventual", Verdict::Valid, json!({})),
            &History::default(),
            &[],
        );
        assert_eq!(v.text, "eventually consistent");
    }

    #[test]
    fn eventual_element_accounting_is_summed_over_keys() {
        let r = result(
            "eventual",
            Verdict::Invalid,
            json!({"keys": {
                "a": {"verdict": "invalid", "evidence": {"elements": {"lost": [1, 2], "stale": [{"element": 3, "ms": 850.0}]}}},
                "b": {"verdict": "valid", "evidence": {"elements": {"lost": [], "stale": [{"element": 4, "ms": 10.0}]}}},
            }}),
        );
        let h = of(&r, &History::default(), &[]);
        assert_eq!(
            h.text,
            "not eventually consistent: 1 of 2 keys; 2 lost, 2 stale (up to 850 ms)"
        );
    }
}

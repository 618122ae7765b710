//! A checker's verdict in words a newcomer understands, for the top of a report, the
//! JUnit failure message and the JSON summary: "not linearizable: 3 of 100 keys;
//! first anomaly at 12.4 s, during a partition (n1 n2 | n3)".
//!
//! Built from the checker's typed evidence ([`checkers::Evidence`]: what a shape
//! lacks just leaves its part of the sentence out) and the run's fault windows.

use checkers::evidence::{Accounting, EventualEvidence, SetAccounting, Window};
use checkers::{CheckResult, Evidence, History, Verdict};
use serde::Serialize;

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

/// The invoke time (ns) of a window's culprit: its `culprit_time_ns`, else the
/// culprit op's invoke in the history.
pub fn culprit_time(history: &History, w: &Window) -> Option<u64> {
    if let Some(t) = w.culprit_time_ns {
        return Some(t);
    }
    let idx = w.culprit?;
    history
        .ops
        .binary_search_by_key(&idx, |o| o.invoke_index)
        .ok()
        .map(|i| history.ops[i].invoke_time)
}

/// The set accountings of eventual evidence: its own, or each key's.
fn set_accountings(e: &EventualEvidence) -> Vec<&SetAccounting> {
    match &e.accounting {
        Accounting::Set { elements, .. } => vec![elements],
        Accounting::PerKey { keys } => keys
            .values()
            .flat_map(|k| set_accountings(&k.evidence))
            .collect(),
        _ => Vec::new(),
    }
}

/// Eventual evidence, summed over keys: "4 lost, 12 stale (up to 850 ms)".
fn element_counts(e: &Evidence) -> Option<String> {
    let Evidence::Eventual(e) = e else {
        return None;
    };
    let sets = set_accountings(e);
    if sets.is_empty() {
        return None;
    }
    let sum = |f: fn(&SetAccounting) -> usize| -> usize { sets.iter().map(|s| f(s)).sum() };
    let stale_ms = sets
        .iter()
        .flat_map(|s| &s.stale)
        .map(|x| x.ms)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let mut parts = Vec::new();
    for (n, word) in [
        (sum(|s| s.lost.len()), "lost"),
        (sum(|s| s.unexpected.len()), "unexpected"),
        (sum(|s| s.duplicated.len()), "duplicated"),
        (sum(|s| s.never_read.len()), "never read"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    if let Some(ms) = stale_ms {
        parts.push(format!(
            "{} stale (up to {ms:.0} ms)",
            sum(|s| s.stale.len())
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The headline of one checker.
pub fn of(r: &CheckResult, history: &History, faults: &[FaultWindow]) -> Headline {
    let adj = adjective(&r.checker);
    let evidence = r.typed_evidence();
    let counts = evidence.affected();
    let first = evidence
        .windows()
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
            if let Some(el) = element_counts(&evidence) {
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
            if let Some(decided) = evidence.decided() {
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

/// One checker's line on the terminal: its own summary and, when it found an anomaly,
/// the faults that were active when the first one began, as the report's headline says
/// ("linearizable (kv): invalid — …; the first anomaly came during a partition (n1 | n2 n3)").
pub fn terminal_line(r: &CheckResult, headline: Option<&Headline>) -> String {
    let line = format!("{} ({}): {} — {}", r.checker, r.model, r.verdict, r.summary);
    let during = headline
        .filter(|h| h.checker == r.checker && h.verdict == Verdict::Invalid)
        .and_then(|h| h.during.as_deref());
    match during {
        Some(d) => format!("{line}; the first anomaly came {d}"),
        None => line,
    }
}

/// The run's verdict in a few words: "Invalid: a consistency violation was found";
/// for an `unknown` verdict the history's own reason when it allows no decision
/// (`reason`: "Unknown: no operation succeeded: all 3 nodes had exited — see nodes/*/").
pub fn run_words(v: Option<Verdict>, reason: Option<&str>) -> String {
    match (v, reason) {
        (Some(Verdict::Valid), _) => "Valid: no checker found an anomaly".into(),
        (Some(Verdict::Invalid), _) => "Invalid: a consistency violation was found".into(),
        (Some(Verdict::Unknown), Some(why)) => format!("Unknown: {why}"),
        (Some(Verdict::Unknown), None) => "Unknown: not every check could be decided".into(),
        (None, _) => "No verdict: the run recorded no checker results".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkers::evidence::{KeyJudgement, StaleElement};
    use serde_json::{json, Value as Json};

    #[test]
    fn failing_windows_are_listed_in_time_order() {
        let e = Evidence::from_json(&json!({"kind": "linearizable", "keys": [
            {"key": "a", "verdict": "invalid", "window": {"culprit": 40, "culprit_time_ns": 900}},
            {"key": "b", "verdict": "invalid", "window": {"culprit": 7, "culprit_time_ns": 100}},
            {"key": "c", "verdict": "invalid", "window": {"culprit": 20, "culprit_time_ns": 500}},
        ], "decided": 3, "undecided": [], "invalid_keys": 3, "total_keys": 3, "valid_keys_listed": 100}));
        let order: Vec<u64> = e.windows().iter().filter_map(|w| w.culprit).collect();
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
            json!({"kind": "linearizable", "decided": 100, "undecided": [], "valid_keys_listed": 100,
                "invalid_keys": 3, "total_keys": 100, "keys": [
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
    fn the_terminal_line_of_an_invalid_checker_names_the_faults_at_its_first_anomaly() {
        let mut r = result(
            "linearizable",
            Verdict::Invalid,
            json!({"kind": "linearizable", "decided": 1, "undecided": [], "valid_keys_listed": 100,
                "invalid_keys": 1, "total_keys": 1, "keys": [
                {"key": "k1", "verdict": "invalid", "window": {"culprit": 7, "culprit_time_ns": 12_400_000_000u64}},
            ]}),
        );
        r.summary = "not linearizable: 1 of 1 keys (k1)".into();
        let h = of(&r, &History::default(), &[partition()]);
        assert_eq!(
            terminal_line(&r, Some(&h)),
            "linearizable (kv): invalid — not linearizable: 1 of 1 keys (k1); the first anomaly came during a partition (n1 n2 | n3)"
        );
        // Outside every fault window it says so; a valid checker's line is its summary.
        let mut later = partition();
        (later.start, later.end) = (20_000_000_000, 25_000_000_000);
        let quiet = of(&r, &History::default(), &[later]);
        assert!(terminal_line(&r, Some(&quiet))
            .ends_with("; the first anomaly came with no fault active"));
        let mut v = result("linearizable", Verdict::Valid, json!(null));
        v.summary = "linearizable: all 5 keys".into();
        let hv = of(&v, &History::default(), &[partition()]);
        assert_eq!(
            terminal_line(&v, Some(&hv)),
            "linearizable (kv): valid — linearizable: all 5 keys"
        );
        assert_eq!(
            terminal_line(&r, None),
            "linearizable (kv): invalid — not linearizable: 1 of 1 keys (k1)"
        );
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
            Evidence::Eventual(EventualEvidence {
                final_reads: 2,
                accounting: Accounting::PerKey {
                    keys: [("a", true, vec![1, 2], 850.0), ("b", false, vec![], 10.0)]
                        .into_iter()
                        .map(|(k, bad, lost, ms)| {
                            let elements = SetAccounting {
                                lost: lost.into_iter().map(Json::from).collect(),
                                stale: vec![StaleElement {
                                    element: 3.into(),
                                    ms,
                                }],
                                ..SetAccounting::default()
                            };
                            let judgement = KeyJudgement {
                                verdict: if bad {
                                    Verdict::Invalid
                                } else {
                                    Verdict::Valid
                                },
                                summary: String::new(),
                                evidence: EventualEvidence {
                                    final_reads: 1,
                                    accounting: Accounting::Set {
                                        elements,
                                        malformed_reads: 0,
                                    },
                                },
                            };
                            (k.to_string(), judgement)
                        })
                        .collect(),
                },
            })
            .into_json(),
        );
        let h = of(&r, &History::default(), &[]);
        assert_eq!(
            h.text,
            "not eventually consistent: 1 of 2 keys; 2 lost, 2 stale (up to 850 ms)"
        );
    }
}

//! The eventual-consistency checker on hand-written histories, one per criterion.

use checkers::eventual;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::jsonl;
use checkers::{Budget, History, Verdict};

/// Builds a history from `(process, type, f, value)` lines; `"M"` as process is the
/// final-reads marker. Times are the indices.
fn history(lines: &[(&str, &str, &str, &str)]) -> History {
    let mut text = String::new();
    for (i, (p, t, f, v)) in lines.iter().enumerate() {
        let (process, node) = match *p {
            "M" => ("\"nemesis\"".to_string(), String::new()),
            p => {
                let (p, n) = p.split_once('@').unwrap_or((p, ""));
                (
                    p.to_string(),
                    if n.is_empty() {
                        String::new()
                    } else {
                        format!(",\"node\":\"{n}\"")
                    },
                )
            }
        };
        text.push_str(&format!(
            "{{\"index\":{i},\"time\":{},\"process\":{process},\"type\":\"{t}\",\"f\":\"{f}\",\"value\":{v}{node}}}\n",
            i * 1_000_000
        ));
    }
    jsonl::read(text.as_bytes(), "test.jsonl").unwrap()
}

fn judge(h: &History, kind: ModelKind) -> checkers::CheckResult {
    eventual::check(h, &ModelSpec::new(kind), &Budget::unlimited())
}

#[test]
fn a_set_whose_final_reads_hold_every_acknowledged_add_is_eventually_consistent() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("2", "invoke", "add", "2"),
        ("2", "info", "add", "2"),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[1]"),
    ]);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
    assert_eq!(r.evidence["elements"]["never_read"], serde_json::json!([2]));
}

#[test]
fn an_acknowledged_add_missing_from_final_reads_is_lost() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("1", "invoke", "add", "7"),
        ("1", "ok", "add", "7"),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[1]"),
    ]);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["elements"]["lost"], serde_json::json!([7]));
    assert!(
        r.summary.contains("lost 1 acknowledged adds: 7"),
        "{}",
        r.summary
    );
}

#[test]
fn elements_never_added_or_read_twice_are_reported() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("2", "invoke", "add", "5"),
        ("2", "fail", "add", "5"),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[1, 1, 5, 9]"),
    ]);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(
        r.evidence["elements"]["unexpected"],
        serde_json::json!([5, 9])
    );
    assert_eq!(r.evidence["elements"]["duplicated"], serde_json::json!([1]));
}

#[test]
fn an_add_missing_from_a_later_read_is_stale_for_that_long() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("2", "invoke", "read", "null"),
        ("2", "ok", "read", "[]"),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[1]"),
    ]);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(
        r.evidence["elements"]["stale"][0]["ms"],
        serde_json::json!(2.0)
    );
}

#[test]
fn a_counter_read_must_be_the_acknowledged_sum_plus_some_indeterminate_deltas() {
    let lines = |final_value: &'static str| {
        history(&[
            ("1", "invoke", "add", "5"),
            ("1", "ok", "add", "5"),
            ("2", "invoke", "add", "-2"),
            ("2", "info", "add", "-2"),
            ("3", "invoke", "add", "10"),
            ("3", "info", "add", "10"),
            ("M", "info", "final-reads", "null"),
            ("4", "invoke", "read", "null"),
            ("4", "ok", "read", final_value),
        ])
    };
    for ok in ["5", "3", "15", "13"] {
        assert_eq!(
            judge(&lines(ok), ModelKind::Counter).verdict,
            Verdict::Valid,
            "{ok}"
        );
    }
    for bad in ["4", "6", "14", "0"] {
        let r = judge(&lines(bad), ModelKind::Counter);
        assert_eq!(r.verdict, Verdict::Invalid, "{bad}: {}", r.summary);
    }
}

#[test]
fn registers_whose_nodes_disagree_have_not_converged() {
    let h = history(&[
        ("1", "invoke", "write", "1"),
        ("1", "ok", "write", "1"),
        ("2", "invoke", "write", "2"),
        ("2", "ok", "write", "2"),
        ("M", "info", "final-reads", "null"),
        ("3@n1", "invoke", "read", "null"),
        ("3@n1", "ok", "read", "1"),
        ("4@n2", "invoke", "read", "null"),
        ("4@n2", "ok", "read", "2"),
    ]);
    let r = judge(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(r.summary.contains("disagree"), "{}", r.summary);
}

#[test]
fn a_converged_value_nobody_wrote_is_invalid() {
    let h = history(&[
        ("1", "invoke", "write", "1"),
        ("1", "ok", "write", "1"),
        ("M", "info", "final-reads", "null"),
        ("3@n1", "invoke", "read", "null"),
        ("3@n1", "ok", "read", "3"),
        ("4@n2", "invoke", "read", "null"),
        ("4@n2", "ok", "read", "3"),
    ]);
    assert_eq!(judge(&h, ModelKind::Register).verdict, Verdict::Invalid);
    let h = history(&[
        ("1", "invoke", "write", "1"),
        ("1", "ok", "write", "1"),
        ("M", "info", "final-reads", "null"),
        ("3@n1", "invoke", "read", "null"),
        ("3@n1", "ok", "read", "1"),
        ("4@n2", "invoke", "read", "null"),
        ("4@n2", "ok", "read", "1"),
    ]);
    assert_eq!(judge(&h, ModelKind::Register).verdict, Verdict::Valid);
}

#[test]
fn a_history_without_final_reads_is_unknown() {
    let h = history(&[("1", "invoke", "add", "1"), ("1", "ok", "add", "1")]);
    assert_eq!(judge(&h, ModelKind::Set).verdict, Verdict::Unknown);
}

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

#[test]
fn elements_of_the_initial_set_are_not_unexpected() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[0, 1]"),
    ]);
    let spec = ModelSpec {
        kind: ModelKind::Set,
        initial: serde_json::from_str("[0]").unwrap(),
    };
    let r = eventual::check(&h, &spec, &Budget::unlimited());
    assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
    assert_eq!(judge(&h, ModelKind::Set).verdict, Verdict::Invalid);
}

#[test]
fn stable_elements_are_counted_and_a_read_that_is_not_a_set_makes_it_unknown() {
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("2", "invoke", "read", "null"),
        ("2", "ok", "read", "\"oops\""),
        ("M", "info", "final-reads", "null"),
        ("3", "invoke", "read", "null"),
        ("3", "ok", "read", "[1]"),
    ]);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.summary);
    assert!(r.summary.contains("not a set"), "{}", r.summary);
    assert_eq!(r.evidence["elements"]["stable"], 1);
}

#[test]
fn a_counter_starts_at_its_initial_value() {
    let h = history(&[
        ("1", "invoke", "add", "5"),
        ("1", "ok", "add", "5"),
        ("M", "info", "final-reads", "null"),
        ("4", "invoke", "read", "null"),
        ("4", "ok", "read", "15"),
    ]);
    let spec = ModelSpec {
        kind: ModelKind::Counter,
        initial: serde_json::from_str("10").unwrap(),
    };
    let r = eventual::check(&h, &spec, &Budget::unlimited());
    assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
    assert_eq!(judge(&h, ModelKind::Counter).verdict, Verdict::Invalid);
}

#[test]
fn many_indeterminate_counter_adds_are_still_checked_exactly() {
    // 30 indeterminate +2s: every even total up to 60 is possible, no odd one is,
    // though an odd total lies inside the interval [0, 60].
    let mut lines = Vec::new();
    for p in 0..30 {
        let p: &'static str = Box::leak(p.to_string().into_boxed_str());
        lines.push((p, "invoke", "add", "2"));
        lines.push((p, "info", "add", "2"));
    }
    lines.push(("M", "info", "final-reads", "null"));
    lines.push(("100", "invoke", "read", "null"));
    let mut odd = lines.clone();
    lines.push(("100", "ok", "read", "42"));
    odd.push(("100", "ok", "read", "41"));
    let r = judge(&history(&lines), ModelKind::Counter);
    assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
    assert_eq!(r.evidence["counter"]["exact"], true);
    let r = judge(&history(&odd), ModelKind::Counter);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
}

#[test]
fn a_written_key_without_a_final_read_is_unknown() {
    let text = [
        r#"{"index":0,"time":0,"process":1,"type":"invoke","f":"write","key":"a","value":1}"#,
        r#"{"index":1,"time":1,"process":1,"type":"ok","f":"write","key":"a","value":1}"#,
        r#"{"index":2,"time":2,"process":1,"type":"invoke","f":"write","key":"b","value":2}"#,
        r#"{"index":3,"time":3,"process":1,"type":"ok","f":"write","key":"b","value":2}"#,
        r#"{"index":4,"time":4,"process":"nemesis","type":"info","f":"final-reads","value":null}"#,
        r#"{"index":5,"time":5,"process":2,"type":"invoke","f":"read","key":"a","value":null}"#,
        r#"{"index":6,"time":6,"process":2,"type":"ok","f":"read","key":"a","value":1}"#,
    ]
    .join("\n");
    let h = jsonl::read(text.as_bytes(), "kv.jsonl").unwrap();
    let r = judge(&h, ModelKind::Kv);
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.summary);
    assert_eq!(r.evidence["unread_keys"], serde_json::json!(["b"]));
}

#[test]
fn without_the_marker_the_final_reads_are_those_after_the_last_update() {
    // The read at index 2 ran before the add of 2 completed: not final. The last
    // read misses 2, so 2 is lost.
    let h = history(&[
        ("1", "invoke", "add", "1"),
        ("1", "ok", "add", "1"),
        ("2", "invoke", "read", "null"),
        ("3", "invoke", "add", "2"),
        ("2", "ok", "read", "[1]"),
        ("3", "ok", "add", "2"),
        ("2", "invoke", "read", "null"),
        ("2", "ok", "read", "[1]"),
    ]);
    let finals = eventual::final_reads(&h);
    assert_eq!(finals.len(), 1);
    assert_eq!(finals[0].invoke_index, 6);
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["elements"]["lost"], serde_json::json!([2]));
}

#[test]
fn sets_over_several_keys_are_judged_per_key() {
    let text = [
        r#"{"index":0,"time":0,"process":1,"type":"invoke","f":"add","key":"a","value":1}"#,
        r#"{"index":1,"time":1,"process":1,"type":"ok","f":"add","key":"a","value":1}"#,
        r#"{"index":2,"time":2,"process":1,"type":"invoke","f":"add","key":"b","value":1}"#,
        r#"{"index":3,"time":3,"process":1,"type":"ok","f":"add","key":"b","value":1}"#,
        r#"{"index":4,"time":4,"process":"nemesis","type":"info","f":"final-reads","value":null}"#,
        r#"{"index":5,"time":5,"process":2,"type":"invoke","f":"read","key":"a","value":null}"#,
        r#"{"index":6,"time":6,"process":2,"type":"ok","f":"read","key":"a","value":[1]}"#,
        r#"{"index":7,"time":7,"process":2,"type":"invoke","f":"read","key":"b","value":null}"#,
        r#"{"index":8,"time":8,"process":2,"type":"ok","f":"read","key":"b","value":[]}"#,
    ]
    .join("\n");
    let h = jsonl::read(text.as_bytes(), "sets.jsonl").unwrap();
    let r = judge(&h, ModelKind::Set);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    assert!(
        r.summary
            .contains("1 of 2 keys; key b: not eventually consistent: lost 1"),
        "{}",
        r.summary
    );
    assert_eq!(r.evidence["keys"]["a"]["verdict"], "valid");
}

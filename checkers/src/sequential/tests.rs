//! Hand-written histories for the sequential-consistency checker: each edge of the
//! criterion, the non-compositional case, and the evidence.

use serde_json::json;

use super::check;
use crate::model::{ModelKind, ModelSpec};
use crate::read::jsonl;
use crate::{Budget, CheckResult, History, Verdict};

/// `(process, type, f, key, value)` lines; times are index × 1 ms.
fn history(lines: &[Line<'_>]) -> History {
    let mut text = String::new();
    for (i, (p, t, f, k, v)) in lines.iter().enumerate() {
        text.push_str(&format!(
            "{{\"index\":{i},\"time\":{},\"process\":{p},\"type\":\"{t}\",\"f\":\"{f}\",\"key\":\"{k}\",\"value\":{v}}}\n",
            i * 1_000_000
        ));
    }
    jsonl::read(text.as_bytes(), "t.jsonl").expect("a well-formed history")
}

fn sc(h: &History, kind: ModelKind) -> CheckResult {
    check(h, &ModelSpec::new(kind), &Budget::unlimited())
}

fn lin(h: &History, kind: ModelKind) -> Verdict {
    crate::linearizable::check(h, &ModelSpec::new(kind), &Budget::unlimited()).verdict
}

/// One event line: `(process, type, f, key, value)`.
type Line<'a> = (u64, &'a str, &'a str, &'a str, &'a str);

/// An op as two events: invoke and completion, back to back.
fn op<'a>(
    p: u64,
    f: &'a str,
    k: &'a str,
    invoke: &'a str,
    end: &'a str,
    result: &'a str,
) -> [Line<'a>; 2] {
    [(p, "invoke", f, k, invoke), (p, end, f, k, result)]
}

fn ops(list: &[[Line<'static>; 2]]) -> History {
    let lines: Vec<_> = list.iter().flatten().copied().collect();
    history(&lines)
}

#[test]
fn the_store_buffer_litmus_test_is_not_sequentially_consistent_though_each_key_is() {
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(2, "write", "y", "1", "ok", "1"),
        op(1, "read", "y", "null", "ok", "null"),
        op(2, "read", "x", "null", "ok", "null"),
    ]);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    let c = &r.evidence["components"][0];
    assert_eq!(c["processes"], json!([1, 2]));
    let w = &c["window"];
    assert_eq!(w["verified"], true);
    assert_eq!(w["ops"], json!([0, 2, 4, 6]), "all four ops are needed");
    assert!(
        r.summary
            .starts_with("not sequentially consistent: process"),
        "{}",
        r.summary
    );
    for key in ["x", "y"] {
        let one = History {
            ops: h
                .ops
                .iter()
                .filter(|o| o.key == Some(crate::Value::str(key)))
                .cloned()
                .collect(),
            ..History::default()
        };
        assert_eq!(sc(&one, ModelKind::Register).verdict, Verdict::Valid);
    }
}

#[test]
fn a_stale_read_by_another_process_is_sequentially_consistent_but_not_linearizable() {
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(2, "read", "x", "null", "ok", "null"),
    ]);
    assert_eq!(sc(&h, ModelKind::Register).verdict, Verdict::Valid);
    assert_eq!(lin(&h, ModelKind::Register), Verdict::Invalid);
}

#[test]
fn reading_an_older_value_after_ones_own_write_is_not_sequentially_consistent() {
    let h = ops(&[
        op(3, "write", "x", "2", "ok", "2"),
        op(3, "write", "x", "5", "ok", "5"),
        op(3, "read", "x", "null", "ok", "2"),
        op(1, "read", "x", "null", "ok", "5"),
    ]);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid);
    let w = &r.evidence["components"][0]["window"];
    assert_eq!(w["ops"], json!([0, 2, 4]), "process 1's read is not needed");
    assert_eq!(w["culprit"], 4);
    assert!(
        r.summary
            .contains("process 3 read x = 2 after its own write of x = 5"),
        "{}",
        r.summary
    );
}

#[test]
fn reads_going_backwards_in_one_process_are_not_sequentially_consistent() {
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(1, "write", "x", "2", "ok", "2"),
        op(2, "read", "x", "null", "ok", "2"),
        op(2, "read", "x", "null", "ok", "1"),
    ]);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["components"][0]["window"]["verified"], true);
    // The other way round is fine.
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(1, "write", "x", "2", "ok", "2"),
        op(2, "read", "x", "null", "ok", "1"),
        op(2, "read", "x", "null", "ok", "2"),
    ]);
    assert_eq!(sc(&h, ModelKind::Register).verdict, Verdict::Valid);
}

#[test]
fn an_indeterminate_write_may_or_may_not_have_happened() {
    // Process 1's write crashed; process 2 saw it, then saw the initial value gone.
    let took_effect = ops(&[
        op(1, "write", "x", "1", "info", "1"),
        op(2, "read", "x", "null", "ok", "1"),
    ]);
    assert_eq!(
        sc(&took_effect, ModelKind::Register).verdict,
        Verdict::Valid
    );
    let did_not = ops(&[
        op(1, "write", "x", "1", "info", "1"),
        op(2, "read", "x", "null", "ok", "null"),
    ]);
    assert_eq!(sc(&did_not, ModelKind::Register).verdict, Verdict::Valid);
    // But it cannot both have and not have happened: 1 then null (nobody rewrote it).
    let both = ops(&[
        op(1, "write", "x", "1", "info", "1"),
        op(2, "read", "x", "null", "ok", "1"),
        op(2, "read", "x", "null", "ok", "null"),
    ]);
    let r = sc(&both, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(
        r.evidence["components"][0]["window"]["optional"],
        json!([0])
    );
}

#[test]
fn an_indeterminate_read_constrains_nothing() {
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(2, "read", "x", "null", "info", "7"),
    ]);
    assert_eq!(sc(&h, ModelKind::Register).verdict, Verdict::Valid);
}

#[test]
fn a_failed_cas_never_happened() {
    // The failed cas would explain the read of 2; since it failed, nothing does.
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(1, "cas", "x", "[1,2]", "fail", "[1,2]"),
        op(2, "read", "x", "null", "ok", "2"),
    ]);
    let r = sc(&h, ModelKind::CasRegister);
    assert_eq!(r.verdict, Verdict::Invalid);
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(1, "cas", "x", "[1,2]", "ok", "[1,2]"),
        op(2, "read", "x", "null", "ok", "2"),
        op(2, "read", "x", "null", "ok", "2"),
    ]);
    assert_eq!(sc(&h, ModelKind::CasRegister).verdict, Verdict::Valid);
}

#[test]
fn a_cas_that_expects_a_value_nobody_could_see_yet_is_not_sequentially_consistent() {
    // Process 2's cas from 1 succeeded before its own read of null... the order
    // "write 1, cas, read" fails the read, "read, write 1, cas" breaks process 2's order.
    let h = ops(&[
        op(1, "write", "x", "1", "ok", "1"),
        op(2, "cas", "x", "[1,3]", "ok", "[1,3]"),
        op(2, "read", "x", "null", "ok", "null"),
    ]);
    assert_eq!(sc(&h, ModelKind::CasRegister).verdict, Verdict::Invalid);
}

#[test]
fn nil_reads_see_the_initial_value_and_honour_initial() {
    let h = ops(&[
        op(1, "read", "x", "null", "ok", "null"),
        op(2, "write", "x", "4", "ok", "4"),
        op(1, "read", "x", "null", "ok", "null"),
    ]);
    assert_eq!(sc(&h, ModelKind::Register).verdict, Verdict::Valid);
    let spec = ModelSpec {
        kind: ModelKind::Register,
        initial: crate::Value::Int(0),
    };
    let r = check(&h, &spec, &Budget::unlimited());
    assert_eq!(
        r.verdict,
        Verdict::Invalid,
        "the initial value is 0, not null"
    );
}

#[test]
fn independent_groups_of_keys_are_judged_apart_and_all_reported() {
    let h = ops(&[
        // Group a: processes 1, 2 on a (bad: reads go backwards).
        op(1, "write", "a", "1", "ok", "1"),
        op(1, "write", "a", "2", "ok", "2"),
        op(2, "read", "a", "null", "ok", "2"),
        op(2, "read", "a", "null", "ok", "1"),
        // Group b: processes 3, 4 on b and c (fine).
        op(3, "write", "b", "1", "ok", "1"),
        op(4, "read", "b", "null", "ok", "null"),
        op(4, "write", "c", "1", "ok", "1"),
        op(3, "read", "c", "null", "ok", "1"),
    ]);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["total_components"], 2);
    assert_eq!(r.evidence["decided"], 2);
    let comps = r.evidence["components"].as_array().unwrap();
    assert_eq!(comps.len(), 1, "only the invalid group is listed");
    assert_eq!(comps[0]["keys"], json!(["a"]));
}

#[test]
fn a_failed_op_does_not_join_two_groups() {
    let h = ops(&[
        op(1, "write", "a", "1", "ok", "1"),
        op(1, "write", "b", "1", "fail", "1"),
        op(2, "write", "b", "2", "ok", "2"),
    ]);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Valid);
    assert_eq!(r.evidence["total_components"], 2);
}

#[test]
fn a_spent_deadline_gives_unknown_not_a_guess() {
    // Six processes adding to a counter and a read nobody's adds explain: the search
    // has to try many interleavings before it can say no.
    let mut list = Vec::new();
    for p in 1..=5u64 {
        for _ in 0..3 {
            list.push(op(p, "add", "x", "1", "ok", "1"));
        }
    }
    list.push(op(6, "read", "x", "null", "ok", "-1"));
    let h = ops(&list);
    let spec = ModelSpec {
        kind: ModelKind::Counter,
        initial: crate::Value::Int(0),
    };
    let past = Budget {
        deadline: Some(std::time::Instant::now()),
        memory_bytes: None,
    };
    let r = check(&h, &spec, &past);
    assert_eq!(r.verdict, Verdict::Unknown, "{}", r.summary);
    assert_eq!(r.evidence["decided"], 0);
    assert_eq!(r.evidence["undecided"], json!(["x"]));
    assert!(r.summary.starts_with("unknown"), "{}", r.summary);
    let r = check(&h, &spec, &Budget::unlimited());
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
}

#[test]
fn a_read_of_a_value_nobody_wrote_is_found_without_a_search() {
    let mut list = Vec::new();
    for p in 1..=6u64 {
        for i in 0..4 {
            let v: &'static str = Box::leak(format!("{}", p * 10 + i).into_boxed_str());
            list.push(op(p, "write", "x", v, "ok", v));
        }
    }
    list.push(op(7, "read", "x", "null", "ok", "999"));
    let h = ops(&list);
    let r = sc(&h, ModelKind::Register);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    let w = &r.evidence["components"][0]["window"];
    assert_eq!(w["ops"], json!([48]), "the read alone: {w}");
}

#[test]
fn other_models_compose_per_key_states_too() {
    // Counters: process 1 adds to a then reads b = 0; process 2 adds to b then reads
    // a = 0: the store-buffer test again.
    let h = ops(&[
        op(1, "add", "a", "1", "ok", "1"),
        op(2, "add", "b", "1", "ok", "1"),
        op(1, "read", "b", "null", "ok", "0"),
        op(2, "read", "a", "null", "ok", "0"),
    ]);
    let spec = ModelSpec {
        kind: ModelKind::Counter,
        initial: crate::Value::Int(0),
    };
    assert_eq!(
        check(&h, &spec, &Budget::unlimited()).verdict,
        Verdict::Invalid
    );
    // A queue: a dequeue sees process 1's second enqueue before its first.
    let h = ops(&[
        op(1, "enqueue", "q", "1", "ok", "1"),
        op(1, "enqueue", "q", "2", "ok", "2"),
        op(2, "dequeue", "q", "null", "ok", "2"),
    ]);
    assert_eq!(sc(&h, ModelKind::Queue).verdict, Verdict::Invalid);
}

#[test]
fn the_checker_trait_names_it_sequential() {
    use crate::Checker;
    let c = super::Sequential {
        spec: ModelSpec::new(ModelKind::Register),
    };
    assert_eq!(c.name(), "sequential");
    let h = ops(&[op(1, "write", "x", "1", "ok", "1")]);
    assert_eq!(c.check(&h, &Budget::unlimited()).verdict, Verdict::Valid);
}

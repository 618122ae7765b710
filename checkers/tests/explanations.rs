//! Every explanation of a non-linearizable register key says only true things about
//! the history: a property test checks each claim of each explanation against the
//! history it explains, and one test per explanation shape pins its words.

use checkers::linearizable::explain::{Explanation, OpRef};
use checkers::model::{ModelKind, ModelSpec};
use checkers::{linearizable, Budget, Event, EventKind, History, Process, Value};
use checkers::{Verdict, F};
use proptest::prelude::*;

#[path = "support/claims.rs"]
mod claims;
use claims::verify;

/// An op of a generated history: (process slot, f, value, start gap, duration, outcome).
type Gen = (u8, u8, i64, i64, u64, u64, u8);

/// Builds a history from generated ops: each process slot runs its ops one after
/// another; an `info` op gets a process of its own (a crashed process is not reused).
fn history(gens: &[Gen]) -> History {
    let mut clock = [0u64; 3];
    let mut spans = Vec::new();
    for (i, &(slot, f, a, b, gap, len, outcome)) in gens.iter().enumerate() {
        let slot = slot as usize % 3;
        let start = clock[slot] + 1 + gap;
        let end = start + 1 + len;
        clock[slot] = end;
        let (f, value) = match f % 3 {
            0 => (F::Read, Value::Int(a)),
            1 => (F::Write, Value::Int(a)),
            _ => (F::Cas, Value::List(vec![Value::Int(a), Value::Int(b)])),
        };
        let kind = match outcome % 6 {
            0 => EventKind::Info,
            1 => EventKind::Fail,
            _ => EventKind::Ok,
        };
        let process = if kind == EventKind::Info {
            100 + i as u64
        } else {
            slot as u64
        };
        spans.push((start, end, process, f, value, kind));
    }
    // (time, completion first at a tie, event)
    let mut events = Vec::new();
    for (start, end, process, f, value, kind) in spans {
        let invoke_value = if f == F::Read {
            Value::Null
        } else {
            value.clone()
        };
        let ev = |kind, value| Event {
            index: 0,
            time: 0,
            process: Process::Client(process),
            kind,
            f: f.clone(),
            key: None,
            value,
            node: None,
            error: None,
            latency: None,
        };
        events.push((start, 1, ev(EventKind::Invoke, invoke_value)));
        events.push((end, 0, ev(kind, value)));
    }
    events.sort_by_key(|(t, order, _)| (*t, *order));
    History::from_events(events.into_iter().enumerate().map(|(i, (t, _, mut e))| {
        e.index = i as u64;
        e.time = t * 1000;
        e
    }))
    .expect("a well-formed history")
}

/// The claims of every invalid key's explanation.
fn claims(h: &History, initial: &Value) -> (Verdict, Vec<Explanation>) {
    let spec = ModelSpec {
        kind: ModelKind::CasRegister,
        initial: initial.clone(),
    };
    let r = linearizable::check(h, &spec, &Budget::unlimited());
    let claims = r.evidence["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["window"].get("claim"))
        .map(|c| serde_json::from_value(c.clone()).expect("a claim parses"))
        .collect();
    (r.verdict, claims)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn every_claim_of_every_explanation_is_true_of_its_history(
        gens in proptest::collection::vec((0u8..3, 0u8..3, 0i64..3, 0i64..3, 0u64..3, 0u64..4, 0u8..6), 2..12),
        initial in 0i64..2,
    ) {
        let h = history(&gens);
        let initial = Value::Int(initial);
        let (verdict, claims) = claims(&h, &initial);
        if verdict == Verdict::Invalid {
            prop_assert!(!claims.is_empty(), "an invalid key comes with an explanation");
        }
        for c in &claims {
            if let Err(wrong) = verify(&h, &initial, c) {
                return Err(TestCaseError::fail(format!("{wrong}\nclaim: {c:?}\nhistory: {:?}", h.ops)));
            }
        }
    }
}

/// A history from (process, f, value, invoke time, completion time, outcome) rows,
/// times in ms.
fn rows(rows: &[(u64, &str, Value, u64, u64, EventKind)]) -> History {
    let mut events = Vec::new();
    for (p, f, v, t0, t1, kind) in rows {
        let f = F::parse(f);
        let ev = |kind, value, t: u64| Event {
            index: 0,
            time: t * 1_000_000,
            process: Process::Client(*p),
            kind,
            f: f.clone(),
            key: Some(Value::str("k3")),
            value,
            node: None,
            error: None,
            latency: None,
        };
        let iv = if f == F::Read { Value::Null } else { v.clone() };
        events.push(ev(EventKind::Invoke, iv, *t0));
        events.push(ev(*kind, v.clone(), *t1));
    }
    events.sort_by_key(|e| (e.time, e.kind == EventKind::Invoke));
    History::from_events(events.into_iter().enumerate().map(|(i, mut e)| {
        e.index = i as u64;
        e
    }))
    .unwrap()
}

/// The words of the first invalid key's explanation, after checking every claim of
/// its typed form against `h` ([`verify`]).
fn explanation(h: &History, kind: ModelKind) -> String {
    explained(h, kind).0
}

/// The words and the typed claim of the first invalid key's explanation; the claim
/// is verified against `h` first, so a shape test fails on a false claim even when
/// its words look right.
fn explained(h: &History, kind: ModelKind) -> (String, Explanation) {
    let spec = ModelSpec::new(kind);
    let r = linearizable::check(h, &spec, &Budget::unlimited());
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    let window = &r.evidence["keys"][0]["window"];
    let claim: Explanation =
        serde_json::from_value(window["claim"].clone()).expect("the window carries a claim");
    if let Err(wrong) = verify(h, &spec.initial, &claim) {
        panic!("a false claim: {wrong}\nclaim: {claim:?}");
    }
    let words = window["explanation"].as_str().unwrap().to_string();
    (words, claim)
}

/// The invoke index of the op of `h` that `process` invoked `nth` (0-based).
fn nth_of(h: &History, process: u64, nth: usize) -> u64 {
    h.ops
        .iter()
        .filter(|o| o.process == process)
        .nth(nth)
        .map(|o| o.invoke_index)
        .expect("the op exists")
}

const OK: EventKind = EventKind::Ok;

#[test]
fn a_stale_read_names_the_write_read_the_write_that_overwrote_it_and_both_times() {
    // The issue's shape: 178, then later writes; the read returns 178's value after
    // write 150 completed.
    let h = rows(&[
        (1, "write", Value::Int(178), 1000, 1756, OK),
        (2, "write", Value::Int(187), 1760, 1790, OK),
        (3, "write", Value::Int(150), 1795, 1811, OK),
        (4, "read", Value::Int(178), 1820, 1830, OK),
    ]);
    let (e, claim) = explained(&h, ModelKind::Register);
    assert_eq!(
        e,
        "read of k3 (process 4) returned 178, invoked at 1.820 s, but 178 had been overwritten before it began: \
         write 178 (process 1) completed at 1.756 s, then write 150 (process 3) was invoked at 1.795 s and completed at 1.811 s"
    );
    // The write read is 178's; the overwriter is the latest write to complete before
    // the read began (150, not 187), both as the history has them.
    let Explanation::Overwritten {
        op,
        written_by: Some(w),
        overwritten_by,
        others: 0,
        ..
    } = claim
    else {
        panic!("not a stale-read claim: {claim:?}")
    };
    assert_eq!(op.index, nth_of(&h, 4, 0));
    assert_eq!(
        (w.index, w.value.clone()),
        (nth_of(&h, 1, 0), Value::Int(178))
    );
    assert_eq!(w.completed_ns, Some(1_756_000_000));
    assert_eq!(
        (overwritten_by.index, overwritten_by.value.clone()),
        (nth_of(&h, 3, 0), Value::Int(150))
    );
    assert_eq!(overwritten_by.completed_ns, Some(1_811_000_000));
    assert!(overwritten_by.completed_ns < Some(op.invoked_ns));
}

#[test]
fn a_lost_write_is_explained_by_the_write_that_completed_before_the_read() {
    let h = rows(&[
        (1, "write", Value::Int(1), 0, 10, OK),
        (2, "write", Value::Int(2), 20, 30, OK),
        (3, "read", Value::Int(1), 40, 50, OK),
    ]);
    let (e, claim) = explained(&h, ModelKind::Register);
    assert!(
        e.contains("write 2 (process 2) was invoked at 0.020 s and completed at 0.030 s"),
        "{e}"
    );
    assert!(
        e.contains("write 1 (process 1) completed at 0.010 s"),
        "{e}"
    );
    // The lost write is write 2: acknowledged, completed before the read began, and
    // not what the read saw.
    let Explanation::Overwritten {
        written_by: Some(w),
        overwritten_by: lost,
        ..
    } = claim
    else {
        panic!("not a lost-write claim: {claim:?}")
    };
    assert_eq!((w.index, lost.index), (nth_of(&h, 1, 0), nth_of(&h, 2, 0)));
    assert_eq!(lost.f, F::Write);
    assert_eq!(lost.value, Value::Int(2));
}

#[test]
fn an_impossible_cas_names_what_it_expected_and_who_overwrote_it() {
    let pair = |a, b| Value::List(vec![Value::Int(a), Value::Int(b)]);
    let h = rows(&[
        (1, "write", Value::Int(1), 0, 10, OK),
        (2, "write", Value::Int(2), 20, 30, OK),
        (3, "cas", pair(1, 5), 40, 50, OK),
    ]);
    let (e, claim) = explained(&h, ModelKind::CasRegister);
    assert!(
        e.starts_with(
            "cas of k3 [1,5] (process 3) expected 1, invoked at 0.040 s, but 1 had been overwritten"
        ),
        "{e}"
    );
    let Explanation::Overwritten {
        op,
        observed,
        written_by: Some(w),
        overwritten_by,
        ..
    } = claim
    else {
        panic!("not an impossible-cas claim: {claim:?}")
    };
    assert_eq!((op.f, observed), (F::Cas, Value::Int(1)));
    assert_eq!(w.index, nth_of(&h, 1, 0));
    assert_eq!(overwritten_by.index, nth_of(&h, 2, 0));
}

#[test]
fn a_never_written_value_says_nothing_set_it() {
    let h = rows(&[
        (1, "write", Value::Int(1), 0, 10, OK),
        (2, "read", Value::Int(7), 20, 30, OK),
    ]);
    let (e, claim) = explained(&h, ModelKind::Register);
    assert_eq!(
        e,
        "read of k3 (process 2) returned 7, invoked at 0.020 s: no write or cas ever set 7, and the initial value is null"
    );
    assert_eq!(
        claim,
        Explanation::NeverWritten {
            op: claim.op().clone(),
            observed: Value::Int(7),
            initial: Value::Null,
        }
    );
    assert_eq!(claim.op().index, nth_of(&h, 2, 0));
}

#[test]
fn a_sibling_read_is_a_value_no_write_set_not_a_register_that_held_null() {
    // The issue's siblings run: writes 5 and 4 both completed, then a read returned
    // both as siblings. No write set the pair, which is what the claim says; it must
    // not say the register held null after two completed writes.
    let siblings = Value::from_json(&serde_json::json!({"siblings": [5, 4]}));
    let h = rows(&[
        (1, "write", Value::Int(5), 1, 90, OK),
        (2, "write", Value::Int(4), 2, 109, OK),
        (3, "read", siblings.clone(), 120, 130, OK),
    ]);
    let (e, claim) = explained(&h, ModelKind::Register);
    assert_eq!(
        e,
        r#"read of k3 (process 3) returned {"siblings":[5,4]}, invoked at 0.120 s: no write or cas ever set {"siblings":[5,4]}, and the initial value is null"#
    );
    assert!(!e.contains("held null"), "{e}");
    let Explanation::NeverWritten { op, observed, .. } = claim else {
        panic!("not a never-written claim: {claim:?}")
    };
    assert_eq!((op.index, observed), (nth_of(&h, 3, 0), siblings));
}

#[test]
fn a_read_of_the_initial_value_after_a_completed_write_names_that_write() {
    let h = rows(&[
        (1, "write", Value::Int(5), 0, 90, OK),
        (2, "read", Value::Null, 100, 110, OK),
    ]);
    let e = explanation(&h, ModelKind::Register);
    assert!(
        e.contains("null was the initial value, then write 5 (process 1) was invoked at 0.000 s and completed at 0.090 s"),
        "{e}"
    );
}

#[test]
fn a_violation_with_no_two_write_proof_says_no_order_is_legal() {
    // Two concurrent writes, then two reads that disagree on which came last.
    let h = rows(&[
        (1, "write", Value::Int(1), 0, 50, OK),
        (2, "write", Value::Int(2), 0, 50, OK),
        (3, "read", Value::Int(1), 60, 70, OK),
        (4, "read", Value::Int(2), 80, 90, OK),
    ]);
    let e = explanation(&h, ModelKind::Register);
    assert!(
        e.contains("cannot be placed: no order of the window's"),
        "{e}"
    );
}

#[test]
fn a_history_without_times_names_ops_by_number_not_seconds() {
    let h = checkers::read::edn::read(
        "({:process 0, :type :invoke, :f :write, :value 1}\n\
          {:process 0, :type :ok, :f :write, :value 1}\n\
          {:process 0, :type :invoke, :f :write, :value 2}\n\
          {:process 0, :type :ok, :f :write, :value 2}\n\
          {:process 1, :type :invoke, :f :read, :value nil}\n\
          {:process 1, :type :ok, :f :read, :value 1})",
        "k.edn",
    )
    .unwrap();
    assert!(h.untimed);
    let r = linearizable::check(
        &h,
        &ModelSpec::new(ModelKind::Register),
        &Budget::unlimited(),
    );
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(!r.summary.contains(" s"), "{}", r.summary);
    assert!(
        r.summary.contains("first anomaly at op #4")
            && r.summary.contains("write 1 (process 0) completed at op #1")
            && r.summary
                .contains("invoked at op #2 and completed at op #3"),
        "{}",
        r.summary
    );
}

/// An untimed history whose op maps are spread over lines, with comments between
/// them: op #N must count the maps from 0 (or be the map's `:index`), not lines.
const UNTIMED_WITH_COMMENTS: &str =
    "; a Knossos-style file: a list, comments, maps over several lines\n\
(\n\
 ; op #0 and #1: write 1\n\
 {:process 0, :type :invoke,\n\
  :f :write, :value 1}\n\
 {:process 0, :type :ok, :f :write, :value 1}\n\
\n\
 {:process 0, :type :invoke, :f :write, :value 2} {:process 0, :type :ok, :f :write, :value 2}\n\
 ; op #4: the stale read's invoke\n\
 {:process 1, :type :invoke, :f :read, :value nil}\n\
 {:process 1, :type :ok, :f :read, :value 1})\n";

#[test]
fn op_n_is_the_position_of_the_op_map_in_the_file_counting_from_zero() {
    let h = checkers::read::edn::read(UNTIMED_WITH_COMMENTS, "c.edn").unwrap();
    let r = linearizable::check(
        &h,
        &ModelSpec::new(ModelKind::Register),
        &Budget::unlimited(),
    );
    assert_eq!(r.verdict, Verdict::Invalid);
    // The maps, in file order: 0 invoke write 1, 1 ok write 1, 2 invoke write 2,
    // 3 ok write 2, 4 invoke read, 5 ok read 1 (their lines are 4, 6, 8, 8, 10, 11).
    assert!(
        r.summary.contains("first anomaly at op #4")
            && r.summary.contains("write 1 (process 0) completed at op #1")
            && r.summary
                .contains("invoked at op #2 and completed at op #3"),
        "{}",
        r.summary
    );
    // With Jepsen's :index (here from 100), N is the :index.
    let mut indexed = String::new();
    for (n, part) in UNTIMED_WITH_COMMENTS.split("{:process").enumerate() {
        if n > 0 {
            indexed.push_str(&format!("{{:index {}, :process", 99 + n));
        }
        indexed.push_str(part);
    }
    let h = checkers::read::edn::read(&indexed, "i.edn").unwrap();
    let r = linearizable::check(
        &h,
        &ModelSpec::new(ModelKind::Register),
        &Budget::unlimited(),
    );
    assert!(
        r.summary.contains("first anomaly at op #104")
            && r.summary.contains("completed at op #101"),
        "{}",
        r.summary
    );
}

#[test]
fn the_verifier_refuses_false_claims_about_the_history() {
    // The check the shape tests and the property test rely on must itself fail on a
    // false claim: a wrong time, a write that does not set the value read, an
    // overwriter that completed after the read began, a missed source.
    let h = rows(&[
        (1, "write", Value::Int(178), 1000, 1756, OK),
        (2, "write", Value::Int(187), 1760, 1790, OK),
        (3, "write", Value::Int(150), 1795, 1811, OK),
        (4, "read", Value::Int(178), 1820, 1830, OK),
        (5, "write", Value::Int(9), 1825, 1900, OK),
    ]);
    let (_, claim) = explained(&h, ModelKind::Register);
    let Explanation::Overwritten {
        op,
        observed,
        written_by: Some(w),
        overwritten_by,
        others,
    } = claim
    else {
        panic!("not a stale-read claim: {claim:?}")
    };
    let make = |w: OpRef, by: OpRef, others: usize| Explanation::Overwritten {
        op: op.clone(),
        observed: observed.clone(),
        written_by: Some(w),
        overwritten_by: by,
        others,
    };
    let op_ref = |process: u64| {
        let o = h.ops.iter().find(|o| o.process == process).unwrap();
        OpRef {
            index: o.invoke_index,
            f: o.f.clone(),
            value: o.value.clone(),
            process: o.process,
            invoked_ns: o.invoke_time,
            completed_ns: o.complete_time,
        }
    };
    let mut late = w.clone();
    late.completed_ns = Some(1_700_000_000);
    let wrong = [
        (
            "a wrong completion time",
            make(late, overwritten_by.clone(), others),
        ),
        (
            "a write of another value",
            make(op_ref(2), overwritten_by.clone(), others),
        ),
        (
            "an overwriter still running when the read began",
            make(w.clone(), op_ref(5), others),
        ),
        (
            "a miscounted set of sources",
            make(w.clone(), overwritten_by.clone(), others + 1),
        ),
    ];
    for (what, claim) in wrong {
        assert!(
            verify(&h, &Value::Null, &claim).is_err(),
            "{what} was accepted: {claim:?}"
        );
    }
}

#[test]
fn a_sibling_read_under_sequential_consistency_says_no_write_set_it() {
    // The sequential checker's words for the issue's siblings run: a fact of the
    // whole history, not "the register held null" in some search order, although
    // writes 5 and 4 completed.
    let siblings = Value::from_json(&serde_json::json!({"siblings": [5, 4]}));
    let h = rows(&[
        (1, "write", Value::Int(5), 1, 90, OK),
        (2, "write", Value::Int(4), 2, 109, OK),
        (3, "read", siblings, 120, 130, OK),
    ]);
    let spec = ModelSpec::new(ModelKind::Register);
    let r = checkers::factory::check(
        checkers::Consistency::Sequential,
        &spec,
        &h,
        &Budget::unlimited(),
    );
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    let e = r.typed_evidence();
    let w = e.windows()[0];
    assert_eq!(
        w.explanation,
        r#"process 3 read k3 = {"siblings":[5,4]}; no write or cas ever set {"siblings":[5,4]}, and the initial value is null, so no order allows it"#
    );
    assert!(!r.summary.contains("held null"), "{}", r.summary);
}

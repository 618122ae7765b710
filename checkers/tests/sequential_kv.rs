//! Sequential consistency on kv histories: the kv model reasons about values like a
//! register, except where it differs from one (an absent key reads as `null` or `""`).

use checkers::model::{ModelKind, ModelSpec};
use checkers::{sequential, Budget, Event, EventKind, History, Process, Value, F};

/// A history of `(process, f, key, value)` ops, each completing before the next.
fn history(ops: &[(u64, F, &str, Value)]) -> History {
    let mut events = Vec::new();
    for (p, f, key, v) in ops {
        for kind in [EventKind::Invoke, EventKind::Ok] {
            let index = events.len() as u64;
            events.push(Event {
                index,
                time: index * 10,
                process: Process::Client(*p),
                kind,
                f: f.clone(),
                key: Some(Value::str(key)),
                value: if kind == EventKind::Invoke && *f == F::Read {
                    Value::Null
                } else {
                    v.clone()
                },
                node: None,
                error: None,
                latency: None,
            });
        }
    }
    History::from_events(events).expect("a well-formed history")
}

fn verdict(h: &History, kind: ModelKind) -> checkers::Verdict {
    sequential::check(h, &ModelSpec::new(kind), &Budget::unlimited()).verdict
}

#[test]
fn an_empty_string_reads_as_absent_in_kv_but_not_in_a_register() {
    // p2 reads x = "" after p1 wrote x = 1 and then x = null: in kv, "" is null.
    let h = history(&[
        (1, F::Write, "x", Value::Int(1)),
        (1, F::Write, "x", Value::Null),
        (2, F::Read, "x", Value::Int(1)),
        (2, F::Read, "x", Value::str("")),
    ]);
    assert_eq!(verdict(&h, ModelKind::Kv), checkers::Verdict::Valid);
    assert_eq!(verdict(&h, ModelKind::Register), checkers::Verdict::Invalid);
}

#[test]
fn a_kv_read_going_back_to_an_overwritten_value_is_invalid() {
    let h = history(&[
        (1, F::Write, "x", Value::Int(1)),
        (1, F::Write, "x", Value::Int(2)),
        (2, F::Read, "x", Value::Int(2)),
        (2, F::Read, "x", Value::Int(1)),
    ]);
    assert_eq!(verdict(&h, ModelKind::Kv), checkers::Verdict::Invalid);
}

//! The sweep against the reference algorithm of [`crate::causal::view`], process by
//! process, on hand-written and random small histories (valid and invalid).

use proptest::prelude::*;

use super::*;
use crate::causal::order::{clocks, ReadsFrom};
use crate::causal::view::{reference, ViewOutcome};
use crate::{Event, EventKind, History, Process, Value, F};

/// One op: process, write or read, key, and for a read which write of the key it
/// returns (an index into that key's writes, any of them, or the initial value past
/// the end).
type RandomOp = (u64, bool, u8, u8);

/// A history of `ops`, each done before the next; writes get unique values.
fn history(ops: &[RandomOp]) -> History {
    let mut written: Vec<Vec<i64>> = vec![Vec::new(); 3];
    for (i, &(_, write, key, _)) in ops.iter().enumerate() {
        if write {
            written[key as usize].push(i as i64 + 1);
        }
    }
    let mut events = Vec::new();
    for (i, &(process, write, key, pick)) in ops.iter().enumerate() {
        let values = &written[key as usize];
        let v = if write {
            Value::Int(i as i64 + 1)
        } else {
            values
                .get(pick as usize % (values.len() + 1))
                .map_or(Value::Null, |&v| Value::Int(v))
        };
        for kind in [EventKind::Invoke, EventKind::Ok] {
            let index = events.len() as u64;
            events.push(Event {
                index,
                time: index * 10,
                process: Process::Client(process),
                kind,
                f: if write { F::Write } else { F::Read },
                key: Some(Value::str(["x", "y", "z"][key as usize])),
                value: if kind == EventKind::Invoke && !write {
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

/// Per process: whether the reference holds, and the sweep's answer, for causal
/// memory (`causal`) or PRAM.
fn compare(obs: &Observed, causal: bool) -> Vec<(bool, Fast)> {
    let writes = obs.key_writes();
    let budget = Budget::unlimited();
    let co = clocks(obs, ReadsFrom::All, &[]).ok();
    (0..obs.processes.len() as u32)
        .map(|p| {
            let reads_from = if causal {
                ReadsFrom::All
            } else {
                ReadsFrom::Of(p)
            };
            let holds = matches!(
                reference(obs, p, reads_from, &writes, &budget),
                ViewOutcome::Valid
            );
            let swept = match (causal, &co) {
                (true, Some(co)) => view_of(obs, p, Order::Causal(co), &writes, &budget),
                (true, None) => Fast::Suspect,
                (false, _) => view_of(obs, p, Order::Program, &writes, &budget),
            };
            (holds, swept)
        })
        .collect()
}

fn observed(ops: &[(u64, &str)]) -> Observed {
    let ops: Vec<RandomOp> = ops
        .iter()
        .map(|&(p, s)| {
            let parts: Vec<&str> = s.split(' ').collect();
            let key = parts[1].as_bytes()[0] - b'x';
            (p, parts[0] == "w", key, parts[2].parse().unwrap_or(u8::MAX))
        })
        .collect();
    let h = history(&ops);
    Observed::from_history(&h, &Value::Null).expect("judgeable")
}

#[test]
fn reading_a_value_back_after_a_newer_one_has_no_causal_memory_view_on_the_sweep() {
    // p2 reads x=1, then x=2 (the second write of x), then x=1 again.
    let obs = observed(&[
        (1, "w x 0"),
        (1, "w x 1"),
        (2, "r x 0"),
        (2, "r x 1"),
        (2, "r x 0"),
    ]);
    let got = compare(&obs, true);
    assert_eq!(got[0], (true, Fast::Holds));
    assert_eq!(got[1], (false, Fast::Suspect));
}

#[test]
fn a_dependency_through_another_process_binds_the_causal_sweep_but_not_the_program_one() {
    // p1 writes x, p2 reads it and writes y, p3 reads y then the initial x.
    let obs = observed(&[
        (1, "w x 0"),
        (2, "r x 0"),
        (2, "w y 0"),
        (3, "r y 0"),
        (3, "r x 9"),
    ]);
    let causal = compare(&obs, true);
    assert_eq!(causal[2], (false, Fast::Suspect));
    let pram = compare(&obs, false);
    assert_eq!(pram[2], (true, Fast::Holds));
}

/// The sweep's answer for each process, PRAM-style, after checking the reference
/// agrees.
fn pram(ops: &[(u64, &str)]) -> Vec<Fast> {
    let obs = observed(ops);
    compare(&obs, false)
        .into_iter()
        .map(|(holds, swept)| {
            assert_eq!(holds, swept == Fast::Holds);
            swept
        })
        .collect()
}

#[test]
fn a_reader_that_sees_writes_in_their_program_order_holds_on_the_sweep() {
    let got = pram(&[(1, "w x 0"), (2, "r x 0"), (1, "w x 0"), (2, "r x 1")]);
    assert_eq!(got, [Fast::Holds, Fast::Holds]);
}

#[test]
fn a_reader_that_sees_one_writers_writes_out_of_order_is_left_to_the_reference() {
    let got = pram(&[(1, "w x 0"), (1, "w x 0"), (2, "r x 1"), (2, "r x 0")]);
    assert_eq!(got, [Fast::Holds, Fast::Suspect]);
}

#[test]
fn a_read_of_the_initial_value_after_a_write_in_its_past_is_left_to_the_reference() {
    let got = pram(&[(1, "w x 0"), (1, "w y 0"), (2, "r y 0"), (2, "r x _")]);
    assert_eq!(got, [Fast::Holds, Fast::Suspect]);
}

#[test]
fn orders_forced_through_another_writer_are_found_by_the_sweep() {
    // p3 reads x (p1's) after y (p2's, which wrote x first): p2's x must precede p1's
    // in p3's view; then reading p2's x again is a cycle.
    let ok = pram(&[
        (1, "w x 0"),
        (2, "w x 0"),
        (2, "w y 0"),
        (3, "r y 0"),
        (3, "r x 0"),
    ]);
    assert_eq!(ok, [Fast::Holds, Fast::Holds, Fast::Holds]);
    let bad = pram(&[
        (1, "w x 0"),
        (2, "w x 0"),
        (2, "w y 0"),
        (3, "r y 0"),
        (3, "r x 0"),
        (3, "r x 1"),
    ]);
    assert_eq!(bad[2], Fast::Suspect);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(500)
    ))]

    /// The sweep holds exactly where the reference does, for causal memory and for
    /// PRAM.
    #[test]
    fn the_sweep_decides_every_process_as_the_reference_does(
        ops in prop::collection::vec((1u64..4, any::<bool>(), 0u8..3, any::<u8>()), 1..14)
    ) {
        let h = history(&ops);
        if let Ok(obs) = Observed::from_history(&h, &Value::Null) {
            for causal in [true, false] {
                for (p, &(holds, swept)) in compare(&obs, causal).iter().enumerate() {
                    prop_assert_ne!(swept, Fast::OutOfTime);
                    prop_assert_eq!(swept == Fast::Holds, holds, "process {} causal {}", p, causal);
                }
            }
        }
    }
}

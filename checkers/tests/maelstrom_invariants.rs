//! Maelstrom's own invariants — kafka logs, unique ids, echo — on randomized
//! histories with known answers.
//!
//! - **kafka**: histories simulated from a correct log store (one log per key, offsets
//!   0, 1, ...; polls return the log from the offset asked; commits that never go
//!   back; sends that time out applied or not at random) are valid; each mutation
//!   (an acknowledged message dropped from the middle of a poll, a message polled at
//!   a second offset, a stranger at an acknowledged offset) is found as its kind.
//! - **unique-ids** and **echo**: the checker agrees with a brute-force oracle (every
//!   pair of acknowledged ids compared; every acknowledged reply compared with what
//!   was sent).

use std::collections::HashMap;

use checkers::echo::Echo;
use checkers::kafka::{findings, Kafka};
use checkers::read::jsonl;
use checkers::unique_ids::UniqueIds;
use checkers::{Budget, Checker, History, Verdict};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

/// One history event: process, type, f, value.
type Event = (u64, &'static str, &'static str, Json);

fn read(events: &[Event]) -> History {
    let text: String = events
        .iter()
        .enumerate()
        .map(|(i, (p, t, f, v))| {
            format!(
                "{}\n",
                json!({"index": i, "time": i * 10, "process": p, "type": t, "f": f, "value": v})
            )
        })
        .collect();
    jsonl::read(text.as_bytes(), "<proptest>").expect("a well-formed history")
}

/// What a kafka client step asks for.
#[derive(Clone, Debug)]
enum Step {
    /// Send to key `.0`; `.1`: whether it times out (`info`), and if so `.2`: whether
    /// the store applied it anyway.
    Send(usize, bool, bool),
    /// Poll key `.0` from a point `.1` (a fraction of the log's length, in percent).
    Poll(usize, u8),
    /// Commit key `.0` at a point `.1` between the committed offset and the end.
    Commit(usize, u8),
    /// List key `.0`'s committed offset.
    List(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..2usize, proptest::bool::weighted(0.15), any::<bool>())
            .prop_map(|(k, t, a)| Step::Send(k, t, a)),
        3 => (0..2usize, 0..=100u8).prop_map(|(k, p)| Step::Poll(k, p)),
        1 => (0..2usize, 0..=100u8).prop_map(|(k, p)| Step::Commit(k, p)),
        1 => (0..2usize).prop_map(Step::List),
    ]
}

fn key(k: usize) -> String {
    format!("k{k}")
}

/// A history of `steps` (step `i` as process `i`), executed one at a time against a
/// correct log store.
fn simulate(steps: &[Step]) -> Vec<Event> {
    let mut logs: HashMap<usize, Vec<i64>> = HashMap::new();
    let mut committed: HashMap<usize, i64> = HashMap::new();
    let mut events = Vec::new();
    let mut next_msg = 100;
    for (i, s) in steps.iter().enumerate() {
        let p = i as u64;
        match *s {
            Step::Send(k, timeout, applied) => {
                next_msg += 1;
                let log = logs.entry(k).or_default();
                events.push((p, "invoke", "send", json!([key(k), next_msg])));
                if timeout {
                    if applied {
                        log.push(next_msg);
                    }
                    events.push((p, "info", "send", json!([key(k), next_msg])));
                } else {
                    log.push(next_msg);
                    let offset = log.len() - 1;
                    events.push((p, "ok", "send", json!([key(k), next_msg, offset])));
                }
            }
            Step::Poll(k, at) => {
                let log = logs.entry(k).or_default();
                let from = log.len() * at as usize / 100;
                let got: Vec<Json> = log
                    .iter()
                    .enumerate()
                    .skip(from)
                    .map(|(o, m)| json!([o, m]))
                    .collect();
                events.push((p, "invoke", "poll", json!([[key(k), from]])));
                events.push((p, "ok", "poll", json!([[key(k), got]])));
            }
            Step::Commit(k, at) => {
                let len = logs.entry(k).or_default().len() as i64;
                if len == 0 {
                    continue;
                }
                let low = committed.get(&k).copied().unwrap_or(0);
                let offset = low + (len - 1 - low).max(0) * at as i64 / 100;
                committed.insert(k, offset);
                events.push((p, "invoke", "commit_offsets", json!([[key(k), offset]])));
                events.push((p, "ok", "commit_offsets", json!([[key(k), offset]])));
            }
            Step::List(k) => {
                let Some(&offset) = committed.get(&k) else {
                    continue;
                };
                events.push((p, "invoke", "list_committed_offsets", json!([key(k)])));
                events.push((p, "ok", "list_committed_offsets", json!([[key(k), offset]])));
            }
        }
    }
    events
}

/// The offsets of messages acknowledged by an `ok` send (per key name).
fn acknowledged(events: &[Event]) -> HashMap<(String, i64), i64> {
    events
        .iter()
        .filter(|(_, t, f, _)| *t == "ok" && *f == "send")
        .map(|(_, _, _, v)| {
            let k = v[0].as_str().unwrap().to_string();
            ((k, v[2].as_i64().unwrap()), v[1].as_i64().unwrap())
        })
        .collect()
}

/// How to break a simulated history.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    /// Drop an acknowledged message from the middle of a poll's result.
    Lose,
    /// Return a polled message again at the next offset past the end.
    Duplicate,
    /// Put a message never sent at an acknowledged offset.
    Conflict,
}

/// `events` mutated by `m` at the `pick`-th poll that allows it, and the finding
/// kind it must produce; `None` when no poll allows it.
fn mutate(events: &[Event], m: Mutation, pick: usize) -> Option<(Vec<Event>, &'static str)> {
    let acked = acknowledged(events);
    let candidates: Vec<usize> = (0..events.len())
        .filter(|&i| {
            let (_, t, f, v) = &events[i];
            if *t != "ok" || *f != "poll" {
                return false;
            }
            let k = v[0][0].as_str().unwrap().to_string();
            let got = v[0][1].as_array().unwrap();
            match m {
                // A middle entry whose send was acknowledged before this poll began
                // (every acknowledged send before it in this sequential history).
                Mutation::Lose => {
                    got.len() >= 3 && {
                        let mid = &got[1];
                        acked.contains_key(&(k, mid[0].as_i64().unwrap()))
                            && acked_before(events, i - 1, mid[1].as_i64().unwrap())
                    }
                }
                Mutation::Duplicate => !got.is_empty(),
                Mutation::Conflict => got
                    .iter()
                    .any(|e| acked.contains_key(&(k.clone(), e[0].as_i64().unwrap()))),
            }
        })
        .collect();
    let &i = candidates.get(pick % candidates.len().max(1))?;
    let mut out = events.to_vec();
    let v = &mut out[i].3;
    let k = v[0][0].as_str().unwrap().to_string();
    let got = v[0][1].as_array_mut().unwrap();
    let kind = match m {
        Mutation::Lose => {
            got.remove(1);
            "lost"
        }
        Mutation::Duplicate => {
            let last = got.last().unwrap().clone();
            let first = got[0].clone();
            got.push(json!([last[0].as_i64().unwrap() + 1, first[1]]));
            "duplicate"
        }
        Mutation::Conflict => {
            let e = got
                .iter_mut()
                .find(|e| acked.contains_key(&(k.clone(), e[0].as_i64().unwrap())))
                .unwrap();
            e[1] = json!(1_000_000);
            "conflict"
        }
    };
    Some((out, kind))
}

/// Whether message `msg`'s `ok` send is among `events[..end]`.
fn acked_before(events: &[Event], end: usize, msg: i64) -> bool {
    events[..end]
        .iter()
        .any(|(_, t, f, v)| *t == "ok" && *f == "send" && v[1].as_i64() == Some(msg))
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Lose),
        Just(Mutation::Duplicate),
        Just(Mutation::Conflict)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_correct_log_store_gives_a_valid_kafka_history(steps in proptest::collection::vec(step(), 1..40)) {
        let h = read(&simulate(&steps));
        let found = findings(&h);
        prop_assert!(found.is_empty(), "false findings: {found:?}");
        prop_assert_ne!(Kafka.check(&h, &Budget::default()).verdict, Verdict::Invalid);
    }

    #[test]
    fn each_broken_log_is_found_as_what_broke_it(
        steps in proptest::collection::vec(step(), 5..40),
        m in mutation(),
        pick in 0..100usize,
    ) {
        let events = simulate(&steps);
        let mutated = mutate(&events, m, pick);
        // Too many histories without a poll to break would fail the test (proptest
        // gives up after too many rejections), so it cannot pass vacuously.
        prop_assume!(mutated.is_some());
        let (broken, kind) = mutated.unwrap();
        let h = read(&broken);
        let found = findings(&h);
        prop_assert!(found.iter().any(|f| f.kind == kind), "{kind} not found in {found:?}");
        prop_assert_eq!(Kafka.check(&h, &Budget::default()).verdict, Verdict::Invalid);
    }

    #[test]
    fn unique_ids_agrees_with_comparing_every_pair(ids in proptest::collection::vec(proptest::option::weighted(0.8, 0..30i64), 0..25)) {
        let mut events = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            events.push((i as u64, "invoke", "generate", Json::Null));
            events.push(match id {
                Some(id) => (i as u64, "ok", "generate", json!(id)),
                None => (i as u64, "info", "generate", Json::Null),
            });
        }
        let acked: Vec<i64> = ids.iter().flatten().copied().collect();
        let duplicated = (0..acked.len()).any(|a| (a + 1..acked.len()).any(|b| acked[a] == acked[b]));
        let expected = if duplicated {
            Verdict::Invalid
        } else if acked.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::Valid
        };
        prop_assert_eq!(UniqueIds.check(&read(&events), &Budget::default()).verdict, expected);
    }

    #[test]
    fn echo_agrees_with_comparing_every_reply_with_what_was_sent(replies in proptest::collection::vec(0..4u8, 0..25)) {
        // 0: timed out; 1, 2: echoed faithfully; 3: echoed changed.
        let mut events = Vec::new();
        for (i, r) in replies.iter().enumerate() {
            let sent = format!("echo {i}");
            events.push((i as u64, "invoke", "echo", json!(sent)));
            events.push(match r {
                0 => (i as u64, "info", "echo", json!(sent)),
                3 => (i as u64, "ok", "echo", json!(format!("{sent}!"))),
                _ => (i as u64, "ok", "echo", json!(sent)),
            });
        }
        let expected = if replies.contains(&3) {
            Verdict::Invalid
        } else if replies.iter().all(|r| *r == 0) {
            Verdict::Unknown
        } else {
            Verdict::Valid
        };
        prop_assert_eq!(Echo.check(&read(&events), &Budget::default()).verdict, expected);
    }
}

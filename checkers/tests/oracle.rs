//! Property tests: random small histories, every verdict of the linearizability and
//! sequential-consistency checkers cross-checked against a brute-force oracle that
//! tries every order of every subset of the indeterminate ops.
//!
//! Histories come from a real register (each op takes effect at a random instant
//! inside its interval; an indeterminate op takes effect or not), so they are
//! linearizable by construction; a mutated copy (a read's value changed, an outcome
//! changed) may or may not be. Single- and multi-key (cas-register per key).

use checkers::model::{ModelKind, ModelSpec};
use checkers::{linearizable, sequential};
use checkers::{Budget, Event, EventKind, History, Outcome, Process, Value, Verdict, F};
use proptest::prelude::*;

/// A tiny deterministic generator (xorshift), seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One simulated op before it becomes events.
#[derive(Clone, Debug)]
struct Sim {
    process: u64,
    key: i64,
    f: F,
    value: Value,
    start: u64,
    end: u64,
    outcome: Outcome,
}

/// Simulates `n` ops on `procs` processes over `keys` cas-registers.
fn simulate(seed: u64, procs: u64, keys: i64, n: usize) -> Vec<Sim> {
    simulate_values(seed, procs, keys, n, false)
}

/// As [`simulate`]; with `unique`, every written value is new (a counter) and a cas
/// expects some earlier written value, which exercises the checker's reductions for
/// unique values.
fn simulate_values(seed: u64, procs: u64, keys: i64, n: usize, unique: bool) -> Vec<Sim> {
    let mut rng = Rng(seed | 1);
    let mut counter = 10i64;
    let mut fresh = |rng: &mut Rng| {
        if unique {
            counter += 1;
            counter
        } else {
            rng.below(3) as i64
        }
    };
    let old = |rng: &mut Rng, counter: i64| {
        if unique {
            10 + rng.below((counter - 9) as u64) as i64
        } else {
            rng.below(3) as i64
        }
    };
    let mut free_at = vec![0u64; procs as usize];
    let mut next_id = procs;
    let mut ids: Vec<u64> = (0..procs).collect();
    // (effect time, op index); ops are planned first, values filled in effect order.
    let mut sims = Vec::new();
    let mut effects = Vec::new();
    for i in 0..n {
        let slot = rng.below(procs) as usize;
        let start = free_at[slot] + rng.below(5);
        let end = start + 1 + rng.below(10);
        free_at[slot] = end + 1;
        let key = rng.below(keys as u64) as i64;
        let (f, value) = match rng.below(3) {
            0 => (F::Read, Value::Null),
            1 => (F::Write, Value::Int(fresh(&mut rng))),
            _ => {
                let new = fresh(&mut rng);
                let expected = match old(&mut rng, new) {
                    10 if unique => Value::Null,
                    e => Value::Int(e),
                };
                (F::Cas, Value::List(vec![expected, Value::Int(new)]))
            }
        };
        let outcome = match rng.below(10) {
            0 => Outcome::Info,
            _ => Outcome::Ok,
        };
        let takes_effect = outcome == Outcome::Ok || rng.below(2) == 0;
        if takes_effect {
            let at = if outcome == Outcome::Ok {
                start + rng.below(end - start + 1)
            } else {
                start + rng.below(40)
            };
            effects.push((at * 2 + 1, i));
        }
        sims.push(Sim {
            process: ids[slot],
            key,
            f,
            value,
            start: start * 2,
            end: end * 2,
            outcome,
        });
        if outcome == Outcome::Info {
            ids[slot] = next_id;
            next_id += 1;
        }
    }
    effects.sort();
    let mut regs = vec![Value::Null; keys as usize];
    let mut applied = vec![false; n];
    for (_, i) in effects {
        let s = &mut sims[i];
        let reg = &mut regs[s.key as usize];
        match s.f {
            F::Read => s.value = reg.clone(),
            F::Write => *reg = s.value.clone(),
            _ => {
                let l = s.value.as_list().unwrap().to_vec();
                if l[0] == *reg {
                    *reg = l[1].clone();
                } else if s.outcome == Outcome::Ok {
                    s.outcome = Outcome::Fail;
                }
            }
        }
        applied[i] = true;
    }
    sims
}

/// Events of simulated ops, in time order.
fn history(sims: &[Sim]) -> History {
    let mut evs: Vec<(u64, usize, bool)> = Vec::new();
    for (i, s) in sims.iter().enumerate() {
        evs.push((s.start, i, true));
        if s.outcome != Outcome::Info {
            evs.push((s.end, i, false));
        }
    }
    evs.sort();
    let events = evs.iter().enumerate().map(|(index, &(t, i, inv))| {
        let s = &sims[i];
        Event {
            index: index as u64,
            time: t,
            process: Process::Client(s.process),
            kind: if inv {
                EventKind::Invoke
            } else {
                match s.outcome {
                    Outcome::Ok => EventKind::Ok,
                    Outcome::Fail => EventKind::Fail,
                    Outcome::Info => EventKind::Info,
                }
            },
            f: s.f.clone(),
            key: Some(Value::Int(s.key)),
            value: if inv && s.f == F::Read {
                Value::Null
            } else {
                s.value.clone()
            },
            node: None,
            error: None,
            latency: None,
        }
    });
    History::from_events(events).expect("a well-formed history")
}

/// The oracle: is there an order of the ok ops plus any subset of the info ops that
/// respects `before` and is legal for per-key cas-registers?
fn oracle(h: &History, lin: bool) -> bool {
    let ops: Vec<_> = h
        .ops
        .iter()
        .filter(|o| o.outcome != Outcome::Fail && !(o.outcome == Outcome::Info && o.f == F::Read))
        .collect();
    let n = ops.len();
    let before = |a: usize, b: usize| -> bool {
        if lin {
            ops[a].precedes(ops[b])
        } else {
            ops[a].process == ops[b].process && ops[a].invoke_index < ops[b].invoke_index
        }
    };
    fn go(
        ops: &[&checkers::Op],
        used: &mut Vec<bool>,
        regs: &mut std::collections::HashMap<Value, Value>,
        before: &dyn Fn(usize, usize) -> bool,
    ) -> bool {
        let n = ops.len();
        // Done when every ok op is used (info ops are optional).
        if (0..n).all(|i| used[i] || ops[i].outcome == Outcome::Info) {
            return true;
        }
        for i in 0..n {
            if used[i]
                || (0..n)
                    .any(|j| !used[j] && j != i && before(j, i) && ops[j].outcome == Outcome::Ok)
            {
                continue;
            }
            // An info op that must precede i but is skipped is fine; an info op j with
            // before(j, i) never happens (info ops precede nothing).
            let key = ops[i].key.clone().unwrap();
            let cur = regs.get(&key).cloned().unwrap_or(Value::Null);
            let next = match ops[i].f {
                F::Read => (ops[i].value == cur).then(|| cur.clone()),
                F::Write => Some(ops[i].value.clone()),
                _ => {
                    let l = ops[i].value.as_list().unwrap();
                    (l[0] == cur).then(|| l[1].clone())
                }
            };
            let Some(next) = next else { continue };
            used[i] = true;
            regs.insert(key.clone(), next);
            if go(ops, used, regs, before) {
                return true;
            }
            regs.insert(key, cur);
            used[i] = false;
        }
        false
    }
    // Dropping an info op is "never using it": the search above may simply not pick it.
    go(&ops, &mut vec![false; n], &mut Default::default(), &before)
}

/// Changes one thing about a history: a read's value or an op's outcome.
fn mutate(mut sims: Vec<Sim>, seed: u64) -> Vec<Sim> {
    let mut rng = Rng(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1);
    if sims.is_empty() {
        return sims;
    }
    let i = rng.below(sims.len() as u64) as usize;
    match (rng.below(2), &sims[i].f) {
        (0, F::Read) if sims[i].outcome == Outcome::Ok => {
            sims[i].value = Value::Int(rng.below(3) as i64)
        }
        (_, F::Cas) if sims[i].outcome != Outcome::Info => {
            sims[i].outcome = if sims[i].outcome == Outcome::Ok {
                Outcome::Fail
            } else {
                Outcome::Ok
            };
        }
        _ => {
            // Shift the op later: its interval moves past others.
            sims[i].start += 7;
            sims[i].end += 7;
            let p = sims[i].process;
            // Keep one outstanding op per process: undo if it now overlaps its neighbours.
            if sims.iter().enumerate().any(|(j, s)| {
                j != i && s.process == p && s.start < sims[i].end + 2 && sims[i].start < s.end + 2
            }) {
                sims[i].start -= 7;
                sims[i].end -= 7;
            }
        }
    }
    sims
}

fn verdicts(h: &History) -> (Verdict, Verdict) {
    let spec = ModelSpec::new(ModelKind::CasRegister);
    let b = Budget::unlimited();
    (
        linearizable::check(h, &spec, &b).verdict,
        sequential::check(h, &spec, &b).verdict,
    )
}

fn expect(ok: bool) -> Verdict {
    if ok {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn simulated_histories_are_linearizable_and_the_oracle_agrees(seed in any::<u64>(), procs in 1u64..4, keys in 1i64..3, n in 1usize..8) {
        let h = history(&simulate(seed, procs, keys, n));
        let (lin, sc) = verdicts(&h);
        prop_assert_eq!(lin, Verdict::Valid);
        prop_assert_eq!(sc, Verdict::Valid);
        prop_assert!(oracle(&h, true));
    }

    #[test]
    fn histories_with_unique_values_get_the_oracles_verdicts(seed in any::<u64>(), m in any::<u64>(), procs in 1u64..4, n in 1usize..8, mutated in any::<bool>()) {
        let sims = simulate_values(seed, procs, 1, n, true);
        let sims = if mutated { mutate(sims, m) } else { sims };
        let h = history(&sims);
        let (lin, sc) = verdicts(&h);
        prop_assert_eq!(lin, expect(oracle(&h, true)), "linearizable: {:?}", h.ops);
        prop_assert_eq!(sc, expect(oracle(&h, false)), "sequential: {:?}", h.ops);
    }

    #[test]
    fn mutated_histories_get_the_oracles_verdicts(seed in any::<u64>(), m in any::<u64>(), procs in 1u64..4, keys in 1i64..3, n in 1usize..8) {
        let sims = mutate(simulate(seed, procs, keys, n), m);
        let h = history(&sims);
        let (lin, sc) = verdicts(&h);
        prop_assert_eq!(lin, expect(oracle(&h, true)), "linearizable: {:?}", h.ops);
        prop_assert_eq!(sc, expect(oracle(&h, false)), "sequential: {:?}", h.ops);
        // Linearizable implies sequentially consistent.
        prop_assert!(lin != Verdict::Valid || sc == Verdict::Valid);
    }
}

#[test]
fn the_mutations_produce_every_kind_of_verdict() {
    // Guards the property above against testing only easy cases.
    let (mut lin_invalid, mut sc_only, mut both_valid) = (0, 0, 0);
    for seed in 1..3000u64 {
        let h = history(&mutate(simulate(seed, 3, 2, 7), seed * 7));
        match (oracle(&h, true), oracle(&h, false)) {
            (false, true) => sc_only += 1,
            (false, false) => lin_invalid += 1,
            (true, _) => both_valid += 1,
        }
    }
    assert!(
        lin_invalid > 30 && sc_only > 30 && both_valid > 30,
        "{lin_invalid} {sc_only} {both_valid}"
    );
}

#[test]
fn the_store_buffer_litmus_test_is_sequentially_consistent_per_key_but_not_as_a_whole() {
    let sims = vec![
        Sim {
            process: 0,
            key: 0,
            f: F::Write,
            value: Value::Int(1),
            start: 0,
            end: 10,
            outcome: Outcome::Ok,
        },
        Sim {
            process: 1,
            key: 1,
            f: F::Write,
            value: Value::Int(1),
            start: 1,
            end: 11,
            outcome: Outcome::Ok,
        },
        Sim {
            process: 0,
            key: 1,
            f: F::Read,
            value: Value::Null,
            start: 20,
            end: 30,
            outcome: Outcome::Ok,
        },
        Sim {
            process: 1,
            key: 0,
            f: F::Read,
            value: Value::Null,
            start: 21,
            end: 31,
            outcome: Outcome::Ok,
        },
    ];
    let h = history(&sims);
    let spec = ModelSpec::new(ModelKind::Register);
    let r = sequential::check(&h, &spec, &Budget::unlimited());
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    assert_eq!(
        r.evidence["components"][0]["window"]["verified"],
        serde_json::json!(true)
    );
    for key in 0..2 {
        let one = History {
            ops: h
                .ops
                .iter()
                .filter(|o| o.key == Some(Value::Int(key)))
                .cloned()
                .collect(),
            ..History::default()
        };
        assert_eq!(
            sequential::check(&one, &spec, &Budget::unlimited()).verdict,
            Verdict::Valid
        );
    }
}

#[test]
fn a_stale_read_is_sequentially_consistent_but_not_linearizable() {
    let sims = vec![
        Sim {
            process: 0,
            key: 0,
            f: F::Write,
            value: Value::Int(1),
            start: 0,
            end: 10,
            outcome: Outcome::Ok,
        },
        Sim {
            process: 1,
            key: 0,
            f: F::Read,
            value: Value::Null,
            start: 20,
            end: 30,
            outcome: Outcome::Ok,
        },
    ];
    let (lin, sc) = verdicts(&history(&sims));
    assert_eq!((lin, sc), (Verdict::Invalid, Verdict::Valid));
}

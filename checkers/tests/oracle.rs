//! Property tests: random small histories, every verdict of the linearizability and
//! sequential-consistency checkers cross-checked against a brute-force oracle that
//! tries every order of every subset of the indeterminate ops.
//!
//! Histories come from real registers (each op takes effect at a random instant
//! inside its interval; an indeterminate op takes effect or not), so they are
//! linearizable by construction; a mutated copy (a read's value changed, an outcome
//! changed, an op shifted in time) may or may not be. 2-4 processes, 1-2 keys,
//! register and cas-register (one register per key). For every history the
//! sequential checker calls invalid, its failing window is checked by the oracle too:
//! on its own it must have no legal order.

use checkers::model::Register;
use checkers::model::{ModelKind, ModelSpec};
use checkers::sequential::window::{How, Shrink, Slot};
use checkers::{linearizable, sequential};
use checkers::{
    Budget, CheckResult, Event, EventKind, History, Op, Outcome, Process, Value, Verdict, F,
};
use proptest::prelude::*;
use std::collections::HashMap;

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
    simulate_values(seed, procs, keys, n, false, true)
}

/// As [`simulate`]; with `unique`, every written value is new (a counter) and a cas
/// expects some earlier written value, which exercises the checker's reductions for
/// unique values; without `cas`, plain registers (reads and writes only).
fn simulate_values(
    seed: u64,
    procs: u64,
    keys: i64,
    n: usize,
    unique: bool,
    cas: bool,
) -> Vec<Sim> {
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
        let (f, value) = match rng.below(if cas { 3 } else { 2 }) {
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
        let outcome = match rng.below(8) {
            0 => Outcome::Info,
            1 if f != F::Read => Outcome::Fail,
            _ => Outcome::Ok,
        };
        let takes_effect =
            outcome == Outcome::Ok || (outcome == Outcome::Info && rng.below(2) == 0);
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

/// The oracle: is there a subset of the optional ops which, with every required op,
/// has an order that respects `before` and is legal for one register per key (with
/// cas if `cas`), starting from null? Straightforward: every subset, every order
/// (an order is abandoned as soon as one of its steps is illegal).
fn legal_order_exists(ops: &[(&Op, bool)], lin: bool, cas: bool) -> bool {
    let optional: Vec<usize> = (0..ops.len()).filter(|&i| ops[i].1).collect();
    (0u32..1 << optional.len()).any(|subset| {
        let chosen: Vec<&Op> = (0..ops.len())
            .filter(|&i| match optional.iter().position(|&j| j == i) {
                Some(bit) => subset & (1 << bit) != 0,
                None => true,
            })
            .map(|i| ops[i].0)
            .collect();
        let before = |a: &Op, b: &Op| {
            if lin {
                a.precedes(b)
            } else {
                a.process == b.process && a.invoke_index < b.invoke_index
            }
        };
        some_order(
            &chosen,
            &mut vec![false; chosen.len()],
            &mut HashMap::new(),
            &before,
            cas,
        )
    })
}

/// Whether the unused ops of `ops` can all be placed, in some order, after the used
/// ones (whose effect is `regs`).
fn some_order(
    ops: &[&Op],
    used: &mut Vec<bool>,
    regs: &mut HashMap<Value, Value>,
    before: &dyn Fn(&Op, &Op) -> bool,
    cas: bool,
) -> bool {
    if used.iter().all(|&u| u) {
        return true;
    }
    for i in 0..ops.len() {
        let waits = (0..ops.len()).any(|j| !used[j] && j != i && before(ops[j], ops[i]));
        if used[i] || waits {
            continue;
        }
        let o = ops[i];
        let key = o.key.clone().expect("every op has a key");
        let cur = regs.get(&key).cloned().unwrap_or(Value::Null);
        let next = match o.f {
            F::Read => (o.value == cur).then(|| cur.clone()),
            F::Write => Some(o.value.clone()),
            F::Cas if cas => {
                let l = o.value.as_list().expect("cas takes [expected, new]");
                (l[0] == cur).then(|| l[1].clone())
            }
            _ => None,
        };
        let Some(next) = next else { continue };
        used[i] = true;
        regs.insert(key.clone(), next);
        if some_order(ops, used, regs, before, cas) {
            return true;
        }
        regs.insert(key, cur);
        used[i] = false;
    }
    false
}

/// The oracle on a whole history: `ok` ops required, `info` ops (but reads) optional,
/// `fail` ops and `info` reads left out.
fn oracle(h: &History, lin: bool, cas: bool) -> bool {
    let ops: Vec<(&Op, bool)> = h
        .ops
        .iter()
        .filter(|o| o.outcome != Outcome::Fail && !(o.outcome == Outcome::Info && o.f == F::Read))
        .map(|o| (o, o.outcome == Outcome::Info))
        .collect();
    legal_order_exists(&ops, lin, cas)
}

/// Changes one thing about a history: a read's value, an op's outcome, or an op's
/// place in time.
fn mutate(mut sims: Vec<Sim>, seed: u64) -> Vec<Sim> {
    let mut rng = Rng(seed.wrapping_mul(0x9e3779b97f4a7c15) | 1);
    if sims.is_empty() {
        return sims;
    }
    let i = rng.below(sims.len() as u64) as usize;
    let p = sims[i].process;
    let last_of_process = !sims[i + 1..].iter().any(|s| s.process == p);
    match rng.below(4) {
        0 if sims[i].f == F::Read && sims[i].outcome == Outcome::Ok => {
            sims[i].value = Value::Int(rng.below(3) as i64)
        }
        1 if sims[i].f != F::Read => {
            // ok <-> fail: a write or cas that did happen is said not to, or the
            // other way round.
            sims[i].outcome = match sims[i].outcome {
                Outcome::Ok => Outcome::Fail,
                Outcome::Fail => Outcome::Ok,
                Outcome::Info => Outcome::Ok,
            };
        }
        2 if last_of_process && sims[i].outcome != Outcome::Info => {
            // A completed op becomes indeterminate (the process is not used again).
            sims[i].outcome = Outcome::Info;
        }
        _ => {
            // Shift the op later: its interval moves past others.
            sims[i].start += 7;
            sims[i].end += 7;
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

/// Both checkers' verdicts, register or cas-register.
fn verdicts(h: &History, cas: bool) -> (Verdict, CheckResult) {
    let spec = ModelSpec::new(if cas {
        ModelKind::CasRegister
    } else {
        ModelKind::Register
    });
    let b = Budget::unlimited();
    (
        linearizable::check(h, &spec, &b).verdict,
        sequential::check(h, &spec, &b),
    )
}

fn expect(ok: bool) -> Verdict {
    if ok {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// Checks the sequential checker's failing windows: ops of the history, the culprit
/// among them, and no legal order on their own (optional ops may be left out).
fn windows_have_no_legal_order(h: &History, r: &CheckResult, cas: bool) -> Result<(), String> {
    for c in r.evidence["components"].as_array().into_iter().flatten() {
        let w = &c["window"];
        let set = |name: &str| -> Vec<u64> {
            w[name]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
                .unwrap_or_default()
        };
        let (ids, optional) = (set("ops"), set("optional"));
        let ops: Vec<(&Op, bool)> = h
            .ops
            .iter()
            .filter(|o| ids.contains(&o.invoke_index))
            .map(|o| (o, optional.contains(&o.invoke_index)))
            .collect();
        if ops.is_empty() || ops.len() != ids.len() {
            return Err(format!("window {ids:?} is not a set of the history's ops"));
        }
        if !ids.contains(&w["culprit"].as_u64().unwrap_or(u64::MAX)) || w["verified"] != true {
            return Err(format!("window {w} has no culprit in it or is unverified"));
        }
        if legal_order_exists(&ops, false, cas) {
            return Err(format!("window {w} has a legal order"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn simulated_histories_are_valid_for_both_checkers_and_the_oracle(seed in any::<u64>(), procs in 2u64..=4, keys in 1i64..=2, n in 1usize..=8, cas in any::<bool>()) {
        let h = history(&simulate_values(seed, procs, keys, n, false, cas));
        let (lin, sc) = verdicts(&h, cas);
        prop_assert_eq!(lin, Verdict::Valid);
        prop_assert_eq!(sc.verdict, Verdict::Valid);
        prop_assert!(oracle(&h, true, cas));
    }

    #[test]
    fn histories_with_unique_values_get_the_oracles_verdicts(seed in any::<u64>(), m in any::<u64>(), procs in 2u64..=4, keys in 1i64..=2, n in 1usize..=8, mutated in any::<bool>(), cas in any::<bool>()) {
        let sims = simulate_values(seed, procs, keys, n, true, cas);
        let sims = if mutated { mutate(sims, m) } else { sims };
        let h = history(&sims);
        let (lin, sc) = verdicts(&h, cas);
        prop_assert_eq!(lin, expect(oracle(&h, true, cas)), "linearizable: {:?}", h.ops);
        prop_assert_eq!(sc.verdict, expect(oracle(&h, false, cas)), "sequential: {:?}", h.ops);
        prop_assert!(windows_have_no_legal_order(&h, &sc, cas).is_ok(), "{:?}", windows_have_no_legal_order(&h, &sc, cas));
    }

    #[test]
    fn mutated_histories_get_the_oracles_verdicts(seed in any::<u64>(), m in any::<u64>(), procs in 2u64..=4, keys in 1i64..=2, n in 1usize..=8, cas in any::<bool>()) {
        let sims = mutate(simulate_values(seed, procs, keys, n, false, cas), m);
        let h = history(&sims);
        let (lin, sc) = verdicts(&h, cas);
        prop_assert_eq!(lin, expect(oracle(&h, true, cas)), "linearizable: {:?}", h.ops);
        prop_assert_eq!(sc.verdict, expect(oracle(&h, false, cas)), "sequential: {:?}", h.ops);
        // Linearizable implies sequentially consistent.
        prop_assert!(lin != Verdict::Valid || sc.verdict == Verdict::Valid);
        prop_assert!(windows_have_no_legal_order(&h, &sc, cas).is_ok(), "{:?}", windows_have_no_legal_order(&h, &sc, cas));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// The failing window is shrunk by weakening steps, each of which must keep a
    /// sequentially consistent history so (else a window would prove nothing).
    #[test]
    fn weakening_a_sequentially_consistent_history_keeps_it_so(seed in any::<u64>(), m in any::<u64>(), procs in 2u64..=4, keys in 1i64..=2, n in 1usize..=8, cas in any::<bool>(), steps in proptest::collection::vec((0u8..3, any::<u8>()), 1..6)) {
        let h = history(&mutate(simulate_values(seed, procs, keys, n, false, cas), m));
        prop_assume!(oracle(&h, false, cas));
        let ops: Vec<&Op> = h
            .ops
            .iter()
            .filter(|o| o.outcome != Outcome::Fail && !(o.outcome == Outcome::Info && o.f == F::Read))
            .collect();
        let model = Register { initial: Value::Null, cas };
        let budget = Budget::unlimited();
        let shrink = Shrink { model: &model, ops: &ops, register_initial: Some(&Value::Null), budget: &budget };
        let mut w: Vec<Slot> = ops.iter().enumerate().map(|(i, o)| (i, o.outcome == Outcome::Ok)).collect();
        for (how, mask) in steps {
            let how = [How::DropReads, How::Relax, How::DropUnobserved][how as usize];
            let which = w.iter().enumerate().filter(|(b, _)| mask & (1 << (b % 8)) != 0).map(|(_, &(i, _))| i).collect();
            if let Some(next) = shrink.weaken(&w, &which, how) {
                w = next;
                let window: Vec<(&Op, bool)> = w.iter().map(|&(i, r)| (ops[i], !r)).collect();
                prop_assert!(legal_order_exists(&window, false, cas), "{:?} made {:?} inconsistent", how, window);
            }
        }
    }
}

#[test]
fn the_mutations_produce_every_kind_of_verdict() {
    // Guards the properties above against testing only easy cases: among mutated
    // histories some are not linearizable but sequentially consistent, some neither,
    // and some multi-key ones are sequentially consistent key by key but not as a
    // whole.
    let (mut lin_invalid, mut sc_only, mut both_valid, mut not_per_key) = (0, 0, 0, 0);
    for seed in 1..3000u64 {
        let h = history(&mutate(simulate(seed, 3, 2, 8), seed * 7));
        let sc = oracle(&h, false, true);
        match (oracle(&h, true, true), sc) {
            (false, true) => sc_only += 1,
            (false, false) => lin_invalid += 1,
            (true, _) => both_valid += 1,
        }
        let per_key = (0..2).all(|k| {
            let one = History {
                ops: h
                    .ops
                    .iter()
                    .filter(|o| o.key == Some(Value::Int(k)))
                    .cloned()
                    .collect(),
                ..History::default()
            };
            oracle(&one, false, true)
        });
        if per_key && !sc {
            not_per_key += 1;
        }
    }
    assert!(
        lin_invalid > 30 && sc_only > 30 && both_valid > 30 && not_per_key > 0,
        "{lin_invalid} {sc_only} {both_valid} {not_per_key}"
    );
}

#[test]
fn the_store_buffer_litmus_test_is_sequentially_consistent_per_key_but_not_as_a_whole() {
    let op = |process, key, f: F, start| Sim {
        process,
        key,
        value: if f == F::Write {
            Value::Int(1)
        } else {
            Value::Null
        },
        f,
        start,
        end: start + 10,
        outcome: Outcome::Ok,
    };
    let h = history(&[
        op(0, 0, F::Write, 0),
        op(1, 1, F::Write, 1),
        op(0, 1, F::Read, 20),
        op(1, 0, F::Read, 21),
    ]);
    assert!(!oracle(&h, false, false));
    let (_, r) = verdicts(&h, false);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    windows_have_no_legal_order(&h, &r, false).unwrap();
}

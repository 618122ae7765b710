//! A randomized self-check of the linearizability checker's reductions (lookahead,
//! stand-in states, twins, no blind write after an optional op, pinned and dropped
//! indeterminate writes): on thousands of small random histories its verdict must
//! equal that of a plain search with none of them (Wing–Gong–Lowe with a memo of
//! (placed set, state), written here from scratch), and every window it reports as a
//! proof must have no legal order by that plain search.
//!
//! Histories come from a simulated kv key or register (each op takes effect at a
//! random instant inside its interval; an indeterminate op takes effect or not), then
//! some reads are given another plausible value, so both verdicts occur. Values come
//! from small pools, so repeats, empty strings and shared prefixes are common.

use std::collections::HashSet;

use checkers::model::{Kv, Model, ModelKind, ModelSpec, Register};
use checkers::{linearizable, Budget, Event, EventKind, History, Op, Outcome, Process, Value};
use checkers::{Verdict, F};

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

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// kv: get, put, append (strings), cas.
    Kv,
    /// cas-register: read, write, cas (small integers).
    Cas,
}

/// `n` simulated ops on `procs` processes; events in time order.
fn simulate(seed: u64, kind: Kind, procs: u64, n: usize) -> History {
    let mut rng = Rng(seed | 1);
    let tokens = ["a", "b", "ab", "c", ""];
    let mut state = Value::Null;
    // (time, is_invoke, op number)
    struct S {
        process: u64,
        f: F,
        value: Value,
        start: u64,
        end: u64,
        effect: Option<u64>,
        outcome: Outcome,
    }
    let mut sims: Vec<S> = Vec::new();
    let mut free = vec![0u64; procs as usize];
    let mut ids: Vec<u64> = (0..procs).collect();
    let mut next_id = procs;
    for _ in 0..n {
        let p = rng.below(procs) as usize;
        let start = free[p] + rng.below(3);
        let end = start + 1 + rng.below(6);
        let pick = |rng: &mut Rng| match kind {
            Kind::Kv => Value::str(tokens[rng.below(tokens.len() as u64) as usize]),
            Kind::Cas => Value::Int(rng.below(3) as i64),
        };
        let (f, value) = match (kind, rng.below(4)) {
            (_, 0) => (F::Read, Value::Null),
            (_, 1) => (F::Write, pick(&mut rng)),
            (Kind::Kv, 2) => (F::Append, pick(&mut rng)),
            _ => {
                let e = if rng.below(2) == 0 {
                    Value::Null
                } else {
                    pick(&mut rng)
                };
                (F::Cas, Value::List(vec![e, pick(&mut rng)]))
            }
        };
        let info = rng.below(8) == 0;
        let effect = (!info || rng.below(2) == 0).then(|| start + 1 + rng.below(end - start));
        sims.push(S {
            process: ids[p],
            f,
            value,
            start,
            end,
            effect,
            outcome: if info { Outcome::Info } else { Outcome::Ok },
        });
        free[p] = end + 1;
        if info {
            ids[p] = next_id;
            next_id += 1;
        }
    }
    // Apply effects in time order on the real state.
    let mut order: Vec<usize> = (0..sims.len())
        .filter(|&i| sims[i].effect.is_some())
        .collect();
    order.sort_by_key(|&i| (sims[i].effect, i));
    let model = Kv {
        initial: Value::Null,
    };
    for i in order {
        let s = &mut sims[i];
        let op = as_op(&s.f, &s.value);
        match s.f {
            F::Read => s.value = state.clone(),
            _ => match model.step(&state, &op) {
                Some(next) => state = next,
                None if s.outcome == Outcome::Ok => s.outcome = Outcome::Fail,
                None => {}
            },
        }
    }
    // Mutate some reads: another plausible value.
    for s in sims.iter_mut() {
        if s.f == F::Read && s.outcome == Outcome::Ok && rng.below(5) == 0 {
            s.value = match (kind, &s.value) {
                (Kind::Kv, Value::Str(v)) if !v.is_empty() && rng.below(2) == 0 => {
                    Value::str(&v[..v.len() - 1])
                }
                (Kind::Kv, _) => Value::str(tokens[rng.below(4) as usize]),
                (Kind::Cas, _) => Value::Int(rng.below(3) as i64),
            };
        }
    }
    let mut evs: Vec<(u64, usize, bool)> = Vec::new();
    for (i, s) in sims.iter().enumerate() {
        evs.push((s.start, i, true));
        if s.outcome != Outcome::Info || rng.below(2) == 0 {
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
            kind: match (inv, s.outcome) {
                (true, _) => EventKind::Invoke,
                (false, Outcome::Ok) => EventKind::Ok,
                (false, Outcome::Fail) => EventKind::Fail,
                (false, Outcome::Info) => EventKind::Info,
            },
            f: s.f.clone(),
            key: Some(Value::str("k")),
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

fn as_op(f: &F, value: &Value) -> Op {
    Op {
        id: 0,
        process: 0,
        f: f.clone(),
        key: None,
        invoke_value: value.clone(),
        value: value.clone(),
        outcome: Outcome::Ok,
        invoke_index: 0,
        complete_index: Some(1),
        invoke_time: 0,
        complete_time: Some(1),
        node: None,
        error: None,
    }
}

/// The plain search: (op, required, call, return).
struct Plain<'a, M: Model> {
    model: &'a M,
    ops: Vec<(&'a Op, bool, u64, u64)>,
    memo: HashSet<(Vec<bool>, M::State)>,
}

impl<M: Model> Plain<'_, M> {
    fn exists(&mut self, placed: &mut Vec<bool>, state: &M::State) -> bool {
        let unplaced_required = self
            .ops
            .iter()
            .zip(placed.iter())
            .filter(|(o, p)| !**p && o.1);
        let Some(first_ret) = unplaced_required.map(|(o, _)| o.3).min() else {
            return true;
        };
        if !self.memo.insert((placed.clone(), state.clone())) {
            return false;
        }
        // The latest call placed: an optional op that returned before it can no
        // longer take effect.
        let last_call = (0..self.ops.len())
            .filter(|&i| placed[i])
            .map(|i| self.ops[i].2)
            .max();
        for i in 0..self.ops.len() {
            let (op, required, call, ret) = self.ops[i];
            if placed[i] || call > first_ret || (!required && last_call.is_some_and(|c| ret < c)) {
                continue;
            }
            if let Some(next) = self.model.step(state, op) {
                placed[i] = true;
                let found = self.exists(placed, &next);
                placed[i] = false;
                if found {
                    return true;
                }
            }
        }
        false
    }
}

/// Whether `ops` (with which are optional) have a legal order from `init`.
fn plain<M: Model>(model: &M, ops: &[(&Op, bool)], init: M::State) -> bool {
    let ops: Vec<(&Op, bool, u64, u64)> = ops
        .iter()
        .filter(|(o, _)| o.outcome != Outcome::Fail)
        .map(|&(o, optional)| {
            let required = o.outcome == Outcome::Ok && !optional;
            let ret = match (o.outcome, o.complete_index) {
                (Outcome::Ok, Some(c)) => c,
                _ => u64::MAX,
            };
            (o, required, o.invoke_index, ret)
        })
        .collect();
    let mut placed = vec![false; ops.len()];
    Plain {
        model,
        ops,
        memo: HashSet::new(),
    }
    .exists(&mut placed, &init)
}

/// The values the key may hold just before the op invoked at `at`: the initial one
/// unless a write surely happened before, and those of the writes not surely
/// overwritten before `at`.
fn possible_states<M: Model>(model: &M, h: &History, at: u64) -> Vec<M::State> {
    let writes: Vec<(u64, u64, M::State)> = h
        .ops
        .iter()
        .filter(|o| o.outcome != Outcome::Fail)
        .filter_map(|o| {
            let v = match o.f {
                F::Write => o.value.clone(),
                F::Cas => o.value.as_list()?[1].clone(),
                _ => return None,
            };
            let ret = match o.outcome {
                Outcome::Ok => o.complete_index?,
                _ => u64::MAX,
            };
            let state = model.step(&model.init(), &as_op(&F::Write, &v))?;
            Some((o.invoke_index, ret, state))
        })
        .collect();
    let latest = writes.iter().filter(|w| w.1 < at).map(|w| w.0).max();
    let mut out: Vec<M::State> = writes
        .iter()
        .filter(|w| w.0 < at && latest.is_none_or(|c| w.1 > c))
        .map(|w| w.2.clone())
        .collect();
    if latest.is_none() {
        out.push(model.init());
    }
    out
}

fn check_one<M: Model>(model: &M, kind: ModelKind, h: &History, seed: u64) -> Verdict {
    let r = linearizable::check(h, &ModelSpec::new(kind), &Budget::unlimited());
    let all: Vec<(&Op, bool)> = h.ops.iter().map(|o| (o, false)).collect();
    let expected = if plain(model, &all, model.init()) {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    assert_eq!(
        r.verdict,
        expected,
        "seed {seed}: {}\n{:#?}",
        r.summary,
        h.ops
            .iter()
            .map(|o| format!(
                "{} {:?} {} {} [{}, {:?}]",
                o.process, o.outcome, o.f, o.value, o.invoke_index, o.complete_index
            ))
            .collect::<Vec<_>>()
    );
    if r.verdict == Verdict::Invalid {
        let w = &r.evidence["keys"][0]["window"];
        assert_eq!(w["verified"], true, "seed {seed}");
        // A window is a proof on its own terms: its ops (the optional ones as
        // may-or-may-not) have no legal order from the initial state or, for a
        // standalone window, from any value the key may hold where it starts.
        let list = |name: &str| -> Vec<u64> {
            w[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        };
        let (ids, optional, context) = (list("ops"), list("optional"), list("context"));
        let win: Vec<(&Op, bool)> = h
            .ops
            .iter()
            .filter(|o| ids.contains(&o.invoke_index) && !context.contains(&o.invoke_index))
            .map(|o| (o, optional.contains(&o.invoke_index)))
            .collect();
        let starts = match w["starts_at"].as_u64() {
            None => vec![model.init()],
            Some(at) => possible_states(model, h, at),
        };
        for s in starts {
            assert!(
                !plain(model, &win, s.clone()),
                "seed {seed}: the window {ids:?} has a legal order from {s:?}"
            );
        }
    }
    r.verdict
}

/// Runs `cases` histories of 3 to 9 ops (`FL_RANDOM_CASES` and `FL_RANDOM_OPS`
/// override both, for a longer run).
fn run(kind: Kind, cases: u64) {
    let cases = std::env::var("FL_RANDOM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    let max_ops: u64 = std::env::var("FL_RANDOM_OPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(9);
    let mut seen = [0usize; 2];
    for seed in 1..=cases {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let procs = 2 + rng.below(3);
        let n = 3 + rng.below(max_ops - 2) as usize;
        let h = simulate(rng.next(), kind, procs, n);
        let v = match kind {
            Kind::Kv => check_one(
                &Kv {
                    initial: Value::Null,
                },
                ModelKind::Kv,
                &h,
                seed,
            ),
            Kind::Cas => check_one(
                &Register {
                    initial: Value::Null,
                    cas: true,
                },
                ModelKind::CasRegister,
                &h,
                seed,
            ),
        };
        seen[usize::from(v == Verdict::Invalid)] += 1;
    }
    assert!(
        seen[0] > cases as usize / 10 && seen[1] > cases as usize / 10,
        "both verdicts occur: {seen:?}"
    );
}

#[test]
fn kv_keys_with_appends_puts_and_cas_get_the_plain_searchs_verdict() {
    run(Kind::Kv, 3000);
}

#[test]
fn cas_registers_with_repeated_values_get_the_plain_searchs_verdict() {
    run(Kind::Cas, 3000);
}

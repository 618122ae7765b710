//! A deterministic simulation of the scheduler for unit tests: slots on a simulated
//! clock, each operation taking a fixed latency and ending as a given function says.

use std::time::Duration;

use checkers::{Outcome, Value};

use super::{Completion, Context, Generator, Next, SlotSet};
use crate::OpSpec;

/// One operation the simulation performed.
#[derive(Clone, Debug, PartialEq)]
pub struct SimOp {
    pub slot: usize,
    pub process: u64,
    pub invoked: Duration,
    pub completed: Duration,
    pub op: OpSpec,
    pub outcome: Outcome,
}

/// Runs `gen` over `slots` slots until every slot is done, nothing can happen, or
/// `horizon` passes. Each operation takes `latency` and ends as `answer` says
/// (given the operation and the time it was invoked).
pub fn simulate(
    gen: &mut dyn Generator,
    slots: usize,
    latency: Duration,
    horizon: Duration,
    mut answer: impl FnMut(&OpSpec, Duration) -> (Outcome, Value),
) -> Vec<SimOp> {
    let serving = SlotSet::all(slots);
    let mut free = SlotSet::all(slots);
    let mut process: Vec<u64> = (0..slots as u64).collect();
    let mut wake: Vec<Option<Duration>> = vec![Some(Duration::ZERO); slots];
    let mut done = vec![false; slots];
    let mut busy: Vec<Option<(Duration, Duration, OpSpec)>> = vec![None; slots];
    let mut out = Vec::new();
    loop {
        let completion = (0..slots)
            .filter_map(|s| busy[s].as_ref().map(|b| (b.1, s)))
            .min();
        let ask = (0..slots)
            .filter(|&s| !done[s] && busy[s].is_none())
            .filter_map(|s| wake[s].map(|t| (t, s)))
            .min();
        match (completion, ask) {
            (Some((t, s)), a) if a.is_none_or(|(ta, _)| t <= ta) => {
                if t > horizon {
                    break;
                }
                let (invoked, _, op) = busy[s].take().unwrap();
                let (outcome, value) = answer(&op, invoked);
                free.insert(s);
                let ctx = Context::new(t, s, process[s], &serving, &free);
                gen.update(
                    &ctx,
                    &Completion {
                        slot: s,
                        process: process[s],
                        op: op.clone(),
                        outcome,
                        value,
                        time: t,
                    },
                );
                out.push(SimOp {
                    slot: s,
                    process: process[s],
                    invoked,
                    completed: t,
                    op,
                    outcome,
                });
                if outcome == Outcome::Info {
                    process[s] += slots as u64;
                }
                wake[s] = Some(t);
                for w in wake.iter_mut().filter(|w| w.is_none()) {
                    *w = Some(t);
                }
            }
            (_, Some((t, s))) => {
                if t > horizon {
                    break;
                }
                let ctx = Context::new(t, s, process[s], &serving, &free);
                match gen.op(&ctx) {
                    Next::Op(op) => {
                        free.remove(s);
                        busy[s] = Some((t, t + latency, op));
                    }
                    Next::Pending { until } => {
                        wake[s] = until.map(|u| u.max(t + Duration::from_micros(1)));
                    }
                    Next::Done => done[s] = true,
                }
            }
            _ => break,
        }
    }
    out
}

/// Every operation answered `ok` with its own value (reads with `null`).
pub fn all_ok(op: &OpSpec, _at: Duration) -> (Outcome, Value) {
    let v = if op.f == checkers::F::Read {
        Value::Null
    } else {
        op.value.clone()
    };
    (Outcome::Ok, v)
}

/// The first `n` operations `gen` gives slot `slot` of `slots`, asked one after
/// another with no completions (the others free), at time zero.
pub fn ops_of(gen: &mut dyn Generator, slot: usize, slots: usize, n: usize) -> Vec<OpSpec> {
    let serving = SlotSet::all(slots);
    let free = SlotSet::all(slots);
    let ctx = Context::new(Duration::ZERO, slot, slot as u64, &serving, &free);
    (0..n).map_while(|_| gen.op(&ctx).into_op()).collect()
}

/// Runs `gen` over 4 slots with `latency` per op against one linearizable register
/// per key (a cas applies only when it expects what the key holds; with
/// `missing_fails`, a cas on a key never written fails, as Maelstrom's lin-kv
/// answers error 20, else a missing key holds `null`); the ops and the fraction of
/// cas that succeeded.
pub fn against_registers(
    gen: &mut dyn Generator,
    latency: Duration,
    missing_fails: bool,
) -> (Vec<SimOp>, f64) {
    use checkers::F;
    let mut store: std::collections::HashMap<Value, Value> = std::collections::HashMap::new();
    let (mut cas, mut cas_ok) = (0, 0);
    let ops = simulate(gen, 4, latency, Duration::from_secs(5), |op, _| {
        let key = op.key.clone().expect("register ops name a key");
        let cur = store.get(&key).cloned();
        match (&op.f, op.value.as_list()) {
            (F::Read, _) => (Outcome::Ok, cur.unwrap_or(Value::Null)),
            (F::Write, _) => {
                store.insert(key, op.value.clone());
                (Outcome::Ok, op.value.clone())
            }
            (F::Cas, Some([expected, new])) => {
                cas += 1;
                let held = match cur {
                    Some(v) => Some(v),
                    None if missing_fails => None,
                    None => Some(Value::Null),
                };
                if held.as_ref() == Some(expected) {
                    cas_ok += 1;
                    store.insert(key, new.clone());
                    (Outcome::Ok, op.value.clone())
                } else {
                    (Outcome::Fail, op.value.clone())
                }
            }
            _ => panic!("not a register op: {op:?}"),
        }
    });
    (ops, cas_ok as f64 / cas.max(1) as f64)
}

/// Asserts that `a` and `b` (the same generator under other timings) gave every one
/// of 4 slots the same functions, keys and written values, up to what a cas expects.
pub fn assert_same_up_to_cas_expectations(a: &[SimOp], b: &[SimOp]) {
    use checkers::F;
    let shape = |ops: &[SimOp], slot: usize| -> Vec<(F, Option<Value>, Value)> {
        ops.iter()
            .filter(|o| o.slot == slot)
            .map(|o| {
                let v = match o.op.f {
                    F::Cas => o.op.value.as_list().expect("cas [expected, new]")[1].clone(),
                    _ => o.op.value.clone(),
                };
                (o.op.f.clone(), o.op.key.clone(), v)
            })
            .collect()
    };
    for slot in 0..4 {
        let (x, y) = (shape(a, slot), shape(b, slot));
        let n = x.len().min(y.len());
        assert!(n > 100, "slot {slot}: only {n} ops");
        assert_eq!(x[..n], y[..n], "slot {slot}");
    }
}

//! Sequential consistency: saturation before search. Hand-written violations it
//! proves with a cycle, and random small histories where every cycle it reports is
//! confirmed by a brute-force oracle (no sequential order exists) and the checker's
//! verdict agrees with the oracle.

mod support;

use checkers::consistency::Consistency::Sequential;
use checkers::model::{ModelKind, ModelSpec};
use checkers::sequential::saturate::{saturate, Saturated};
use checkers::{Budget, History, Verdict};
use proptest::prelude::*;
use support::rw::{check, history, sessions, simulate, Rng, RwOp, Store};

fn saturated(h: &History) -> Saturated {
    let ops: Vec<&checkers::Op> = h.ops.iter().collect();
    saturate(&ModelSpec::new(ModelKind::Kv), &ops, &Budget::unlimited())
}

#[test]
fn the_store_buffer_litmus_test_is_a_cycle_of_four_ops() {
    let h = sessions(&[&["w x 1", "r y _"], &["w y 1", "r x _"]]);
    let Saturated::Cycle(c) = saturated(&h) else {
        panic!("saturation finds the cycle")
    };
    assert_eq!(c.length, 4, "{}", c.explanation);
    let r = check(Sequential, &h);
    assert_eq!(r.verdict, Verdict::Invalid);
    let proof = &r.evidence["components"][0]["window"]["saturation"];
    assert_eq!(proof["length"], 4, "{}", r.evidence);
    assert!(
        proof["explanation"]
            .as_str()
            .unwrap()
            .contains("a cycle of 4 ops"),
        "{proof}"
    );
    let line = checkers::lattice::spectrum(&[r]).line();
    assert_eq!(line, "held: none; broke: sequential (cycle of 4 ops)");
}

#[test]
fn a_write_seen_between_a_write_and_its_read_is_a_cycle() {
    // p2 reads x=2 then x=1: x=1 was overwritten by x=2 before p2's first read.
    let h = sessions(&[&["w x 1", "w x 2"], &["r x 2", "r x 1"]]);
    assert!(matches!(saturated(&h), Saturated::Cycle(_)));
}

#[test]
fn two_readers_disagreeing_on_two_writes_is_a_cycle() {
    let h = sessions(&[
        &["w x 1"],
        &["w x 2"],
        &["r x 1", "r x 2"],
        &["r x 2", "r x 1"],
    ]);
    assert!(matches!(saturated(&h), Saturated::Cycle(_)));
}

#[test]
fn a_consistent_history_leaves_saturation_open() {
    let h = sessions(&[&["w x 1", "r y 1"], &["w y 1", "r x 1"]]);
    assert!(matches!(saturated(&h), Saturated::Open));
    assert_eq!(check(Sequential, &h).verdict, Verdict::Valid);
}

/// Brute force: some order of all ops (indeterminate writes in or out) that keeps
/// program order and in which every read returns the last write of its key.
fn sequential_oracle(ops: &[RwOp]) -> bool {
    let infos: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].outcome == checkers::EventKind::Info)
        .collect();
    (0..1u32 << infos.len()).any(|mask| {
        let kept: Vec<&RwOp> = ops
            .iter()
            .enumerate()
            .filter(|(i, _)| match infos.iter().position(|x| x == i) {
                Some(b) => mask & (1 << b) != 0,
                None => true,
            })
            .map(|(_, o)| o)
            .collect();
        let mut used = vec![false; kept.len()];
        let mut state = std::collections::HashMap::new();
        search(&kept, &mut used, &mut state, 0)
    })
}

fn search(
    ops: &[&RwOp],
    used: &mut Vec<bool>,
    state: &mut std::collections::HashMap<&'static str, Option<i64>>,
    done: usize,
) -> bool {
    if done == ops.len() {
        return true;
    }
    for i in 0..ops.len() {
        // The next op of its process.
        if used[i] || (0..i).any(|j| !used[j] && ops[j].process == ops[i].process) {
            continue;
        }
        let o = ops[i];
        let old = state.get(o.key).copied().flatten();
        if !o.write && old != o.value {
            continue;
        }
        used[i] = true;
        if o.write {
            state.insert(o.key, o.value);
        }
        let found = search(ops, used, state, done + 1);
        used[i] = false;
        state.insert(o.key, old);
        if found {
            return true;
        }
    }
    false
}

const STORES: [Store; 5] = [
    Store::Atomic,
    Store::Stale,
    Store::Causal,
    Store::Fifo,
    Store::Any,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_saturation_cycle_is_confirmed_and_the_verdict_agrees_with_brute_force(
        seed in any::<u64>(), s in 0usize..5, mutate in 0u64..2
    ) {
        let mut rng = Rng(seed | 1);
        let procs = 2 + rng.below(2);
        let n = 4 + rng.below(4) as usize;
        let mut ops = simulate(seed, STORES[s], procs, 2, n);
        if mutate == 1 {
            let reads: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].write).collect();
            if let Some(&r) = reads.get(rng.below(reads.len().max(1) as u64) as usize) {
                let vals: Vec<Option<i64>> = ops.iter().filter(|o| o.write && o.key == ops[r].key).map(|o| o.value).collect();
                ops[r].value = vals.get(rng.below(vals.len().max(1) as u64) as usize).copied().flatten();
            }
        }
        let h = history(&ops);
        let want = sequential_oracle(&ops);
        if let Saturated::Cycle(c) = saturated(&h) {
            prop_assert!(!want, "saturation's cycle is false: {} on {:#?}", c.explanation, ops);
        }
        let got = check(Sequential, &h).verdict;
        prop_assert_eq!(got, if want { Verdict::Valid } else { Verdict::Invalid }, "{:#?}", ops);
    }
}

/// Makes the last op of some processes indeterminate (`info`: a process is retired
/// after one), so that some info writes are read and others are not.
fn with_info(mut ops: Vec<RwOp>, rng: &mut Rng) -> Vec<RwOp> {
    let procs: Vec<u64> = {
        let mut p: Vec<u64> = ops.iter().map(|o| o.process).collect();
        p.sort_unstable();
        p.dedup();
        p
    };
    for p in procs {
        if rng.below(2) == 0 {
            if let Some(last) = ops.iter_mut().rev().find(|o| o.process == p) {
                last.outcome = checkers::EventKind::Info;
            }
        }
    }
    ops
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// The kv model gets the register reasoning (unique values, the derived order,
    /// unread info writes left out): on histories with info ops over three keys its
    /// verdict, and the register model's, agree with brute force, and every window
    /// of an invalid verdict has no legal order by brute force either.
    #[test]
    fn kv_histories_with_info_ops_get_the_oracles_verdict_under_both_models(
        seed in any::<u64>(), s in 0usize..5, mutate in 0u64..2
    ) {
        let mut rng = Rng(seed | 1);
        let procs = 2 + rng.below(3);
        let n = 4 + rng.below(5) as usize;
        let mut ops = simulate(seed, STORES[s], procs, 3, n);
        if mutate == 1 {
            let reads: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].write).collect();
            if let Some(&r) = reads.get(rng.below(reads.len().max(1) as u64) as usize) {
                let vals: Vec<Option<i64>> = ops.iter().filter(|o| o.write && o.key == ops[r].key).map(|o| o.value).collect();
                ops[r].value = vals.get(rng.below(vals.len().max(1) as u64) as usize).copied().flatten();
            }
        }
        let ops = with_info(ops, &mut rng);
        let h = history(&ops);
        let want = if sequential_oracle(&ops) { Verdict::Valid } else { Verdict::Invalid };
        let kv = check(Sequential, &h);
        // Through the factory, a history with no `ok` op is `unknown` by design: a
        // verdict on zero successful operations would say nothing.
        let none_ok = h.ops.iter().all(|o| o.outcome != checkers::Outcome::Ok);
        let kv_want = if none_ok { Verdict::Unknown } else { want };
        prop_assert_eq!(kv.verdict, kv_want, "kv on {:#?}", ops);
        let register = checkers::sequential::check(&h, &ModelSpec::new(ModelKind::Register), &Budget::unlimited());
        prop_assert_eq!(register.verdict, want, "register on {:#?}", ops);
        if want == Verdict::Invalid && !none_ok {
            // The window: a set of the history's ops (by invoke index) with no legal
            // order, its optional ops in or out.
            let window = &kv.evidence["components"][0]["window"];
            let invokes: Vec<u64> = window["ops"].as_array().expect("a window").iter().map(|v| v.as_u64().unwrap()).collect();
            let optional: Vec<u64> = window["optional"].as_array().map_or(Vec::new(), |a| a.iter().map(|v| v.as_u64().unwrap()).collect());
            let sub: Vec<RwOp> = h.ops.iter().zip(&ops).filter(|(o, _)| invokes.contains(&o.invoke_index)).map(|(o, r)| {
                let mut r = r.clone();
                if optional.contains(&o.invoke_index) {
                    r.outcome = checkers::EventKind::Info;
                }
                r
            }).collect();
            prop_assert!(!sequential_oracle(&sub), "the window has a legal order: {:?} of {:#?}", invokes, ops);
        }
    }
}

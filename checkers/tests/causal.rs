//! Causal consistency (CC, CM, CCv) and PRAM: hand-written histories for each bad
//! pattern, and random small histories from simulated stores of each strength (and
//! mutated copies), every verdict cross-checked against a brute-force oracle that
//! enumerates orders straight from the definitions.

mod support;

use checkers::consistency::Consistency::{self, *};
use checkers::lattice::implies;
use checkers::Verdict;
use proptest::prelude::*;
use support::rw::{check, history, op, sessions, simulate, Rng, RwOp, Store};

fn verdict(model: Consistency, h: &checkers::History) -> Verdict {
    check(model, h).verdict
}

#[test]
fn a_read_of_the_initial_value_after_its_causal_past_wrote_it_is_write_co_init_read() {
    let h = sessions(&[&["w x 1", "w y 2"], &["r y 2", "r x _"]]);
    let r = check(Causal, &h);
    assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
    assert!(
        r.summary.contains(
            "WriteCOInitRead: p1 wrote x=1 -> p1 wrote y=2 -> p2 read y=2 -> p2 read x=⊥"
        ),
        "{}",
        r.summary
    );
    assert_eq!(r.evidence["brief"], "WriteCOInitRead");
    for m in [CausalMemory, CausalConvergence, Pram] {
        assert_eq!(verdict(m, &h), Verdict::Invalid, "{m}");
    }
}

#[test]
fn a_read_of_an_overwritten_value_in_its_causal_past_is_write_co_read() {
    let h = sessions(&[&["w x 1", "w x 2", "w y 3"], &["r y 3", "r x 1"]]);
    let r = check(Causal, &h);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["brief"], "WriteCORead", "{}", r.summary);
    assert!(r.summary.contains("p1 wrote x=2"), "{}", r.summary);
}

#[test]
fn reads_that_cause_each_other_are_cyclic_co() {
    let h = sessions(&[&["r x 2", "w y 1"], &["r y 1", "w x 2"]]);
    let r = check(Causal, &h);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["brief"], "CyclicCO", "{}", r.summary);
    assert_eq!(
        verdict(Pram, &h),
        Verdict::Valid,
        "PRAM does not chain reads-from"
    );
}

#[test]
fn two_readers_disagreeing_on_the_order_of_two_writes_is_cyclic_cf_only() {
    let h = sessions(&[
        &["w x 1"],
        &["w x 2"],
        &["r x 1", "r x 2"],
        &["r x 2", "r x 1"],
    ]);
    let r = check(CausalConvergence, &h);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["brief"], "CyclicCF", "{}", r.summary);
    for m in [Causal, CausalMemory, Pram] {
        assert_eq!(verdict(m, &h), Verdict::Valid, "{m}");
    }
}

#[test]
fn reading_a_value_back_after_a_newer_one_breaks_causal_memory_but_not_cc() {
    let h = sessions(&[&["w x 1"], &["w x 2"], &["r x 1", "r x 2", "r x 1"]]);
    assert_eq!(verdict(Causal, &h), Verdict::Valid);
    let r = check(CausalMemory, &h);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(r.summary.contains("p3"), "{}", r.summary);
    assert_eq!(verdict(Pram, &h), Verdict::Invalid);
    assert_eq!(verdict(CausalConvergence, &h), Verdict::Invalid);
}

#[test]
fn a_dependency_through_another_process_binds_causal_but_not_pram() {
    let h = sessions(&[&["w x 1"], &["r x 1", "w y 1"], &["r y 1", "r x _"]]);
    assert_eq!(verdict(Pram, &h), Verdict::Valid);
    assert_eq!(verdict(Causal, &h), Verdict::Invalid);
    assert_eq!(verdict(CausalMemory, &h), Verdict::Invalid);
}

#[test]
fn a_value_only_a_failed_write_wrote_is_a_thin_air_read() {
    let h = sessions(&[&["w! x 1"], &["r x 1"]]);
    for m in [Causal, CausalMemory, CausalConvergence, Pram] {
        let r = check(m, &h);
        assert_eq!(r.verdict, Verdict::Invalid, "{m}");
        assert!(r.summary.contains("ThinAirRead"), "{}", r.summary);
    }
}

#[test]
fn an_indeterminate_write_that_was_read_happened_and_one_never_read_may_not_have() {
    let read = sessions(&[&["w? x 1"], &["r x 1", "r x _"]]);
    assert_eq!(verdict(Causal, &read), Verdict::Invalid);
    let unread = sessions(&[&["w x 2", "w? x 1"], &["r x 2", "r x 2"]]);
    for m in [Causal, CausalMemory, CausalConvergence, Pram] {
        assert_eq!(verdict(m, &unread), Verdict::Valid, "{m}");
    }
}

#[test]
fn two_writes_of_one_value_are_refused_as_unknown() {
    let h = sessions(&[&["w x 1"], &["w x 1"], &["r x 1"]]);
    let r = check(Causal, &h);
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(r.summary.contains("both write x=1"), "{}", r.summary);
}

// ---- The oracle -------------------------------------------------------------

/// An access of the oracle's history.
#[derive(Clone, Debug)]
struct A {
    process: u64,
    write: bool,
    key: &'static str,
    value: Option<i64>,
}

/// Every order of `items` that keeps `before` (i before j), calling `f` until it
/// returns true.
fn orders(
    items: &[usize],
    before: &dyn Fn(usize, usize) -> bool,
    f: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    fn go(
        left: &mut Vec<usize>,
        done: &mut Vec<usize>,
        before: &dyn Fn(usize, usize) -> bool,
        f: &mut dyn FnMut(&[usize]) -> bool,
    ) -> bool {
        if left.is_empty() {
            return f(done);
        }
        for i in 0..left.len() {
            let x = left[i];
            if left.iter().any(|&y| y != x && before(y, x)) {
                continue;
            }
            left.remove(i);
            done.push(x);
            let found = go(left, done, before, f);
            done.pop();
            left.insert(i, x);
            if found {
                return true;
            }
        }
        false
    }
    go(&mut items.to_vec(), &mut Vec::new(), before, f)
}

/// Whether, in `seq`, read `r` returns the last write of its key before it.
fn legal_read(accs: &[A], seq: &[usize], r: usize) -> bool {
    let at = seq
        .iter()
        .position(|&x| x == r)
        .expect("the read is in the sequence");
    let last = seq[..at]
        .iter()
        .rev()
        .find(|&&w| accs[w].write && accs[w].key == accs[r].key);
    last.map(|&w| accs[w].value).unwrap_or(None) == accs[r].value
}

/// The oracle's verdict for `model` over the ops that happened (`ops` already
/// without failed ops and indeterminate reads; `info` writes are all kept, and the
/// oracle tries every subset of them).
fn oracle(model: Consistency, ops: &[RwOp]) -> bool {
    let infos: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].outcome == checkers::EventKind::Info)
        .collect();
    (0..1u32 << infos.len()).any(|mask| {
        let accs: Vec<A> = ops
            .iter()
            .enumerate()
            .filter(|(i, _)| match infos.iter().position(|x| x == i) {
                Some(b) => mask & (1 << b) != 0,
                None => true,
            })
            .map(|(_, o)| A {
                process: o.process,
                write: o.write,
                key: o.key,
                value: o.value,
            })
            .collect();
        oracle_on(model, &accs)
    })
}

#[allow(clippy::needless_range_loop)] // index loops mirror the definitions
fn oracle_on(model: Consistency, accs: &[A]) -> bool {
    let n = accs.len();
    // Reads-from: the unique write of the read's value (or none: thin air).
    let mut rf: Vec<Option<usize>> = vec![None; n];
    for r in 0..n {
        if accs[r].write || accs[r].value.is_none() {
            continue;
        }
        match (0..n).find(|&w| {
            accs[w].write && accs[w].key == accs[r].key && accs[w].value == accs[r].value
        }) {
            Some(w) => rf[r] = Some(w),
            None => return false,
        }
    }
    let po = |a: usize, b: usize| a < b && accs[a].process == accs[b].process;
    // Causal order: (po ∪ rf)+.
    let mut co = vec![vec![false; n]; n];
    for a in 0..n {
        for b in 0..n {
            co[a][b] = po(a, b) || rf[b] == Some(a);
        }
    }
    for k in 0..n {
        for a in 0..n {
            for b in 0..n {
                if co[a][k] && co[k][b] {
                    co[a][b] = true;
                }
            }
        }
    }
    if model != Pram && (0..n).any(|a| co[a][a]) {
        return false;
    }
    let writes: Vec<usize> = (0..n).filter(|&a| accs[a].write).collect();
    let reads: Vec<usize> = (0..n).filter(|&a| !accs[a].write).collect();
    match model {
        Causal => reads.iter().all(|&r| {
            let past: Vec<usize> = writes.iter().copied().filter(|&w| co[w][r]).collect();
            let mut items = past.clone();
            items.push(r);
            orders(&items, &|a, b| co[a][b], &mut |seq| {
                *seq.last().unwrap() == r && legal_read(accs, seq, r)
            })
        }),
        CausalConvergence => orders(&writes, &|a, b| co[a][b], &mut |arb| {
            reads.iter().all(|&r| {
                let last = arb
                    .iter()
                    .rev()
                    .find(|&&w| co[w][r] && accs[w].key == accs[r].key);
                last.map(|&w| accs[w].value).unwrap_or(None) == accs[r].value
            })
        }),
        CausalMemory | Pram => {
            let procs: Vec<u64> = accs.iter().map(|a| a.process).collect();
            procs.iter().all(|&p| {
                let mut items = writes.clone();
                items.extend(reads.iter().copied().filter(|&r| accs[r].process == p));
                items.sort_unstable();
                let before = |a: usize, b: usize| if model == Pram { po(a, b) } else { co[a][b] };
                orders(&items, &before, &mut |seq| {
                    seq.iter()
                        .filter(|&&r| !accs[r].write)
                        .all(|&r| legal_read(accs, seq, r))
                })
            })
        }
        _ => unreachable!(),
    }
}

/// Changes one read's value to another written value of its key or the initial one.
fn mutate(ops: &mut [RwOp], rng: &mut Rng) {
    let reads: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].write).collect();
    if reads.is_empty() {
        return;
    }
    let r = reads[rng.below(reads.len() as u64) as usize];
    let mut choices: Vec<Option<i64>> = ops
        .iter()
        .filter(|o| o.write && o.key == ops[r].key)
        .map(|o| o.value)
        .collect();
    choices.push(None);
    ops[r].value = choices[rng.below(choices.len() as u64) as usize];
}

/// Makes the last write of a random process indeterminate, when it is its last op.
fn make_info(ops: &mut [RwOp], rng: &mut Rng) {
    let p = rng.below(3) + 1;
    if let Some(i) = ops.iter().rposition(|o| o.process == p) {
        if ops[i].write {
            ops[i].outcome = checkers::EventKind::Info;
        }
    }
}

const STORES: [Store; 5] = [
    Store::Atomic,
    Store::Stale,
    Store::Causal,
    Store::Fifo,
    Store::Any,
];
const MODELS: [Consistency; 4] = [Causal, CausalMemory, CausalConvergence, Pram];

fn agree(seed: u64, store: Store, mutations: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let procs = 2 + rng.below(2);
    let n = 4 + rng.below(4) as usize;
    let mut ops = simulate(seed, store, procs, 2, n);
    for _ in 0..mutations {
        mutate(&mut ops, &mut rng);
    }
    if rng.below(3) == 0 {
        make_info(&mut ops, &mut rng);
    }
    let h = history(&ops);
    let mut verdicts = Vec::new();
    for m in MODELS {
        let got = verdict(m, &h);
        let want = if oracle(m, &ops) {
            Verdict::Valid
        } else {
            Verdict::Invalid
        };
        assert_eq!(
            got,
            want,
            "{m} on {store:?} seed {seed}: {ops:#?}\n{}",
            check(m, &h).summary
        );
        verdicts.push((m, got));
    }
    // What the lattice says must hold: a model that held implies the weaker ones,
    // the session guarantees and the existing sequential checker included.
    let mut all = verdicts.clone();
    for m in [
        Sequential,
        ReadYourWrites,
        MonotonicReads,
        MonotonicWrites,
        WritesFollowReads,
    ] {
        all.push((m, verdict(m, &h)));
    }
    for &(a, va) in &all {
        for &(b, vb) in &all {
            if implies(a, b) && va == Verdict::Valid {
                assert_ne!(vb, Verdict::Invalid, "{a} held but {b} broke: {ops:#?}");
            }
        }
    }
    if store != Store::Any && mutations == 0 {
        let strongest = match store {
            Store::Atomic | Store::Stale => Sequential,
            Store::Causal => CausalMemory,
            _ => Pram,
        };
        assert_eq!(
            verdict(strongest, &h),
            Verdict::Valid,
            "{store:?} store broke {strongest}: {ops:#?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_checker_agrees_with_the_oracle_on_simulated_stores(seed in any::<u64>(), s in 0usize..5) {
        agree(seed, STORES[s], 0);
    }

    #[test]
    fn every_checker_agrees_with_the_oracle_on_mutated_histories(seed in any::<u64>(), s in 0usize..5, m in 1u64..3) {
        agree(seed, STORES[s], m);
    }
}

#[test]
fn the_oracle_itself_tells_the_bad_patterns_apart() {
    let cf = [
        op(1, "w x 1"),
        op(2, "w x 2"),
        op(3, "r x 1"),
        op(3, "r x 2"),
        op(4, "r x 2"),
        op(4, "r x 1"),
    ];
    assert!(oracle(Causal, &cf));
    assert!(!oracle(CausalConvergence, &cf));
    let init = [
        op(1, "w x 1"),
        op(1, "w y 2"),
        op(2, "r y 2"),
        op(2, "r x _"),
    ];
    assert!(!oracle(Causal, &init));
    assert!(!oracle(Pram, &init));
}

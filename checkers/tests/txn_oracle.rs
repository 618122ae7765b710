//! The list-append checker against a brute-force oracle on small histories (≤ 7
//! txns, with `info` and `fail` txns): serializable (some total order of the
//! committed txns, and any subset of the indeterminate ones, explains every read),
//! strict serializable (one that also respects real time) and snapshot isolation
//! (some commit order and, per txn, a snapshot point before its commit that
//! explains its reads, with first-committer-wins) decided by exhaustive search.
//!
//! Histories are simulated from a serial store — valid by construction, executed in
//! completion order (strict serializable) or in a random order (serializable) —
//! and then, half the time, mutated (a read truncated, extended, reordered or
//! emptied; a committed txn turned failed). The checker must agree with the oracle
//! both ways: never valid where the oracle finds no explanation, never invalid
//! where it finds one.

mod txn_support;

use std::collections::HashMap;

use checkers::{Consistency, Verdict};
use proptest::prelude::*;
use serde_json::json;
use txn_support::{check, Builder};

#[derive(Clone, Debug)]
enum OMop {
    Append(usize, u32),
    Read(usize, Option<Vec<u32>>),
}

#[derive(Clone, Debug, PartialEq, Eq, Copy)]
enum Out {
    Ok,
    Info,
    Fail,
}

#[derive(Clone, Debug)]
struct OTxn {
    out: Out,
    mops: Vec<OMop>,
    process: u64,
    invoke: usize,
    complete: usize,
}

const KEYS: [&str; 3] = ["x", "y", "z"];

/// A tiny deterministic generator (xorshift), seeded by proptest.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

type State = HashMap<usize, Vec<u32>>;

/// Runs `t` on `state`; for ok reads, checks them (when `check_reads`) or fills
/// them in. Returns false if a read disagrees.
fn run(state: &mut State, t: &mut OTxn, fill: bool) -> bool {
    let mut ok = true;
    for m in &mut t.mops {
        match m {
            OMop::Append(k, v) => state.entry(*k).or_default().push(*v),
            OMop::Read(k, r) => {
                let now = state.get(k).cloned().unwrap_or_default();
                if fill {
                    *r = Some(now);
                } else if let Some(r) = r {
                    if *r != now {
                        ok = false;
                    }
                }
            }
        }
    }
    ok
}

fn generate(seed: u64) -> Vec<OTxn> {
    let mut rng = Rng(seed | 1);
    let n = 2 + rng.below(6);
    let mut counters = [0u32; 3];
    let mut txns: Vec<OTxn> = (0..n)
        .map(|_| {
            let len = 1 + rng.below(3);
            let mops = (0..len)
                .map(|_| {
                    let k = rng.below(3);
                    if rng.below(2) == 0 {
                        counters[k] += 1;
                        OMop::Append(k, counters[k])
                    } else {
                        OMop::Read(k, None)
                    }
                })
                .collect();
            OTxn {
                out: Out::Ok,
                mops,
                process: 0,
                invoke: 0,
                complete: 0,
            }
        })
        .collect();
    // Timeline: up to three concurrent processes.
    let mut slots: Vec<(u64, Option<usize>)> = (0..3).map(|p| (p, None)).collect();
    let mut next_pid = 3u64;
    let mut next_txn = 0;
    let mut clock = 0;
    let mut done = 0;
    while done < n {
        let s = rng.below(slots.len());
        match slots[s].1 {
            None if next_txn < n => {
                txns[next_txn].process = slots[s].0;
                txns[next_txn].invoke = clock;
                slots[s].1 = Some(next_txn);
                next_txn += 1;
                clock += 1;
            }
            Some(t) => {
                txns[t].complete = clock;
                txns[t].out = match rng.below(10) {
                    0 | 1 => Out::Info,
                    2 => Out::Fail,
                    _ => Out::Ok,
                };
                clock += 1;
                done += 1;
                slots[s].1 = None;
                if txns[t].out == Out::Info {
                    slots[s].0 = next_pid;
                    next_pid += 1;
                }
            }
            None => {}
        }
    }
    // The serial order: completion order, or a random one.
    let mut order: Vec<usize> = (0..n).collect();
    if rng.below(2) == 0 {
        order.sort_by_key(|&t| txns[t].complete);
    } else {
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
    }
    let mut state = State::new();
    for &t in &order {
        let applied = match txns[t].out {
            Out::Ok => true,
            Out::Fail => false,
            Out::Info => rng.below(2) == 0,
        };
        let mut scratch = state.clone();
        run(&mut scratch, &mut txns[t], true);
        if applied {
            state = scratch;
        }
        if txns[t].out != Out::Ok {
            for m in &mut txns[t].mops {
                if let OMop::Read(_, r) = m {
                    *r = None;
                }
            }
        }
    }
    // Mutations, half the time.
    if rng.below(2) == 0 {
        let t = rng.below(n);
        match rng.below(5) {
            0 if txns[t].out == Out::Ok => txns[t].out = Out::Fail,
            kind => {
                if let Some(OMop::Read(_, Some(r))) = txns[t]
                    .mops
                    .iter_mut()
                    .find(|m| matches!(m, OMop::Read(_, Some(_))))
                {
                    match kind {
                        1 => {
                            r.pop();
                        }
                        2 => r.push(1 + rng.below(3) as u32),
                        3 if r.len() >= 2 => r.swap(0, 1),
                        _ => r.clear(),
                    }
                }
            }
        }
    }
    for t in &mut txns {
        if t.out != Out::Ok {
            for m in &mut t.mops {
                if let OMop::Read(_, r) = m {
                    *r = None;
                }
            }
        }
    }
    txns
}

fn json_of(t: &OTxn) -> serde_json::Value {
    serde_json::Value::Array(
        t.mops
            .iter()
            .map(|m| match m {
                OMop::Append(k, v) => json!(["append", KEYS[*k], v]),
                OMop::Read(k, r) => json!(["r", KEYS[*k], r]),
            })
            .collect(),
    )
}

fn history(txns: &[OTxn]) -> checkers::History {
    let mut events: Vec<(usize, bool, usize)> = Vec::new();
    for (i, t) in txns.iter().enumerate() {
        events.push((t.invoke, false, i));
        events.push((t.complete, true, i));
    }
    events.sort();
    let mut b = Builder::default();
    for (_, completion, i) in events {
        let t = &txns[i];
        let v = json_of(t);
        if !completion {
            b.invoke(t.process, v);
        } else {
            match t.out {
                Out::Ok => b.ok(t.process, v),
                Out::Info => b.info(t.process, v),
                Out::Fail => b.fail(t.process, v),
            };
        }
    }
    b.history()
}

/// Some order of the committed txns and a subset of the info ones explains every
/// read (respecting real time if asked).
fn serializable(txns: &[OTxn], realtime: bool) -> bool {
    let infos: Vec<usize> = (0..txns.len())
        .filter(|&i| txns[i].out == Out::Info)
        .collect();
    (0..1u32 << infos.len()).any(|mask| {
        let included: Vec<usize> = (0..txns.len())
            .filter(|&i| {
                txns[i].out == Out::Ok
                    || infos
                        .iter()
                        .position(|&j| j == i)
                        .is_some_and(|b| mask & (1 << b) != 0)
            })
            .collect();
        serial(txns, &included, &mut Vec::new(), &State::new(), realtime)
    })
}

fn serial(
    txns: &[OTxn],
    included: &[usize],
    placed: &mut Vec<usize>,
    state: &State,
    rt: bool,
) -> bool {
    if placed.len() == included.len() {
        return true;
    }
    for &t in included {
        if placed.contains(&t) {
            continue;
        }
        // Real time: every included ok txn that completed before t began is placed.
        if rt
            && included.iter().any(|&u| {
                u != t
                    && !placed.contains(&u)
                    && txns[u].out == Out::Ok
                    && txns[u].complete < txns[t].invoke
            })
        {
            continue;
        }
        let mut s = state.clone();
        let mut tx = txns[t].clone();
        if run(&mut s, &mut tx, false) {
            placed.push(t);
            if serial(txns, included, placed, &s, rt) {
                return true;
            }
            placed.pop();
        }
    }
    false
}

/// Some commit order, with each txn reading a snapshot of a prefix of it before its
/// own commit, explains every read, and no txn commits a write to a key that
/// another txn wrote between its snapshot and its commit.
fn snapshot_isolation(txns: &[OTxn]) -> bool {
    let infos: Vec<usize> = (0..txns.len())
        .filter(|&i| txns[i].out == Out::Info)
        .collect();
    (0..1u32 << infos.len()).any(|mask| {
        let included: Vec<usize> = (0..txns.len())
            .filter(|&i| {
                txns[i].out == Out::Ok
                    || infos
                        .iter()
                        .position(|&j| j == i)
                        .is_some_and(|b| mask & (1 << b) != 0)
            })
            .collect();
        si(txns, &included, &mut Vec::new(), &mut vec![State::new()])
    })
}

fn writes(t: &OTxn) -> Vec<usize> {
    t.mops
        .iter()
        .filter_map(|m| match m {
            OMop::Append(k, _) => Some(*k),
            _ => None,
        })
        .collect()
}

fn si(
    txns: &[OTxn],
    included: &[usize],
    placed: &mut Vec<usize>,
    prefixes: &mut Vec<State>,
) -> bool {
    if placed.len() == included.len() {
        return true;
    }
    let p = placed.len();
    for &t in included {
        if placed.contains(&t) {
            continue;
        }
        // The latest snapshot that explains t's reads.
        let Some(snap) = (0..=p).rev().find(|&s| {
            let mut st = prefixes[s].clone();
            let mut tx = txns[t].clone();
            run(&mut st, &mut tx, false)
        }) else {
            continue;
        };
        let w = writes(&txns[t]);
        if placed[snap..p]
            .iter()
            .any(|&u| writes(&txns[u]).iter().any(|k| w.contains(k)))
        {
            continue;
        }
        let mut next = prefixes[p].clone();
        let mut tx = txns[t].clone();
        run(&mut next, &mut tx, true);
        placed.push(t);
        prefixes.push(next);
        if si(txns, included, placed, prefixes) {
            return true;
        }
        prefixes.pop();
        placed.pop();
    }
    false
}

/// Checks one generated history against the oracle; returns how many of the three
/// verdicts were `unknown` (allowed only where the checker says why).
fn agree(seed: u64) -> Result<usize, TestCaseError> {
    let txns = generate(seed);
    let h = history(&txns);
    let mut unknown = 0;
    for (c, oracle) in [
        (Consistency::Serializable, serializable(&txns, false)),
        (Consistency::StrictSerializable, serializable(&txns, true)),
        (Consistency::SnapshotIsolation, snapshot_isolation(&txns)),
    ] {
        let r = check(&h, c);
        if r.verdict == Verdict::Unknown {
            prop_assert!(
                c == Consistency::SnapshotIsolation || txns.iter().all(|t| t.out != Out::Ok),
                "{c} undecided: {}",
                r.summary
            );
            let committed = txns.iter().any(|t| t.out == Out::Ok);
            let said_why = r.evidence["undecided"]
                .as_array()
                .is_some_and(|u| u.iter().any(|u| u["consistency"] == c.as_str()));
            prop_assert!(
                !committed || said_why,
                "{c}: unknown without a reason: {}",
                r.summary
            );
            unknown += 1;
            continue;
        }
        let checker = r.verdict == Verdict::Valid;
        prop_assert_eq!(
            checker,
            oracle,
            "{}: checker says {} ({}), the oracle says {}; txns {:?}",
            c,
            r.verdict,
            r.summary,
            oracle,
            txns
        );
    }
    Ok(unknown)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn the_checker_agrees_with_the_brute_force_oracle(seed in any::<u64>()) {
        agree(seed)?;
    }
}

#[test]
fn the_checker_is_rarely_undecided_on_small_histories() {
    let (mut unknown, mut invalid, n) = (0, 0, 3000u64);
    for seed in 1..=n {
        let s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        unknown += agree(s).expect("agrees with the oracle");
        let txns = generate(s);
        invalid += usize::from(!serializable(&txns, false));
    }
    println!(
        "{n} histories x 3 models: {unknown} verdicts unknown; {invalid} histories not serializable"
    );
    // Precision: serializable and strict serializable are always decided (the
    // unknown order of unread appends cannot change them); snapshot isolation is
    // undecided when two unread appends to one key lie on a common cycle — about
    // 9% of these small histories, most of which end without a final read.
    assert!(unknown * 100 <= 12 * n as usize, "{unknown} unknown");
    assert!(
        invalid * 20 >= n as usize,
        "only {invalid} invalid histories"
    );
}

#[test]
fn the_oracle_itself_tells_write_skew_from_read_skew() {
    // Write skew: SI yes, serializable no.
    let t = |out, mops, process, invoke, complete| OTxn {
        out,
        mops,
        process,
        invoke,
        complete,
    };
    let skew = vec![
        t(
            Out::Ok,
            vec![OMop::Read(0, Some(vec![])), OMop::Append(1, 1)],
            0,
            0,
            2,
        ),
        t(
            Out::Ok,
            vec![OMop::Read(1, Some(vec![])), OMop::Append(0, 1)],
            1,
            1,
            3,
        ),
    ];
    assert!(snapshot_isolation(&skew));
    assert!(!serializable(&skew, false));
    // Read skew: neither.
    let read_skew = vec![
        t(
            Out::Ok,
            vec![OMop::Append(0, 1), OMop::Append(1, 1)],
            0,
            1,
            2,
        ),
        t(
            Out::Ok,
            vec![OMop::Read(0, Some(vec![])), OMop::Read(1, Some(vec![1]))],
            1,
            0,
            3,
        ),
    ];
    assert!(!snapshot_isolation(&read_skew));
    assert!(!serializable(&read_skew, false));
}

//! The list-append inference as it was before it was made faster (hash maps keyed
//! by (key, element), reads copied, every element of every read looked up for an
//! aborted append), kept unchanged as the reference that [`super::append::infer`]
//! is checked against on random histories, valid and invalid: the same findings,
//! in the same order and words, the same graph nodes, edges and unordered groups.

use rustc_hash::FxHashMap;

use super::anomaly::Anomaly;
use super::append::{KeyOrder, NotUnique};
use super::finding::{list, name, Finding, Inferred};
use super::graph::label;
use super::parse::{Mop, Txns};
use crate::history::Outcome;

/// What list-append inference learned, kept for explaining edges.
#[derive(Debug, Default)]
pub struct ListAppend {
    /// Per key, its version order.
    pub orders: FxHashMap<u32, KeyOrder>,
    /// Who appended each (key, element): the txn.
    pub writer: FxHashMap<(u32, u32), u32>,
    /// Each (key, element)'s rank among its writer's appends to that key (0 first).
    pub rank: FxHashMap<(u32, u32), u32>,
}

/// Infers version orders, dependencies and the direct anomalies.
pub fn infer(txns: &Txns) -> Result<(Inferred, ListAppend), NotUnique> {
    let n = txns.txns.len();
    let mut out = Inferred {
        in_graph: txns.txns.iter().map(|t| t.outcome == Outcome::Ok).collect(),
        ..Inferred::default()
    };
    let mut la = ListAppend::default();
    // Who appended what, and each txn's last append per key.
    let mut last_append: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut own_count: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut appenders: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, t) in txns.txns.iter().enumerate() {
        for m in &t.mops {
            if let Mop::Append { key, value } = *m {
                if let Some(&other) = la.writer.get(&(key, value)) {
                    return Err(NotUnique(format!(
                        "{} and {} both appended {} to key {}; list-append inference needs every appended value to be unique per key",
                        name(txns, other),
                        name(txns, i as u32),
                        txns.values.label(value),
                        txns.keys.label(key)
                    )));
                }
                la.writer.insert((key, value), i as u32);
                let rank = own_count.entry((i as u32, key)).or_insert(0);
                la.rank.insert((key, value), *rank);
                *rank += 1;
                last_append.insert((i as u32, key), value);
                let a = appenders.entry(key).or_default();
                if a.last() != Some(&(i as u32)) {
                    a.push(i as u32);
                }
            }
        }
    }

    // Internal consistency and external reads, per committed txn.
    let mut reads: FxHashMap<u32, Vec<(u32, Vec<u32>)>> = FxHashMap::default();
    // Per key, within one txn: the last read (its mop index) and how many of the
    // txn's own appends to the key came before it; and the own appends so far.
    let mut known: FxHashMap<u32, (usize, usize)> = FxHashMap::default();
    let mut own: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, t) in txns.txns.iter().enumerate() {
        if t.outcome != Outcome::Ok {
            continue;
        }
        let ti = i as u32;
        known.clear();
        own.clear();
        for (mi, m) in t.mops.iter().enumerate() {
            match m {
                Mop::Append { key, value } => own.entry(*key).or_default().push(*value),
                Mop::ReadList {
                    key,
                    value: Some(r),
                } => {
                    let mine = own.get(key).map_or(&[][..], |v| &v[..]);
                    if let Some(&(last, appended)) = known.get(key) {
                        let Mop::ReadList {
                            value: Some(prev), ..
                        } = &t.mops[last]
                        else {
                            unreachable!("known holds reads only")
                        };
                        let since = &mine[appended..];
                        let same = r.len() == prev.len() + since.len()
                            && r.starts_with(prev)
                            && r.ends_with(since);
                        if !same {
                            let mut expected = prev.clone();
                            expected.extend_from_slice(since);
                            out.findings.push(Finding {
                                anomaly: Anomaly::Internal,
                                txns: vec![ti],
                                explanation: format!(
                                    "{} read {} = {}, but its own earlier reads and appends say it should have been {}",
                                    name(txns, ti),
                                    txns.keys.label(*key),
                                    list(txns, r),
                                    list(txns, &expected)
                                ),
                            });
                        }
                    } else if !r.ends_with(mine) {
                        out.findings.push(Finding {
                            anomaly: Anomaly::Internal,
                            txns: vec![ti],
                            explanation: format!(
                                "{} appended {} to {} and then read {} = {}, which does not end with its own appends",
                                name(txns, ti),
                                list(txns, mine),
                                txns.keys.label(*key),
                                txns.keys.label(*key),
                                list(txns, r)
                            ),
                        });
                    } else {
                        let ext = &r[..r.len() - mine.len()];
                        // Its own later appends to this key, seen already?
                        let future = t.mops[mi + 1..].iter().find_map(|m| match *m {
                            Mop::Append { key: k, value } if k == *key && ext.contains(&value) => {
                                Some(value)
                            }
                            _ => None,
                        });
                        if let Some(&e) = mine.iter().find(|v| ext.contains(v)) {
                            out.findings.push(Finding {
                                anomaly: Anomaly::DuplicateElements,
                                txns: vec![ti],
                                explanation: format!(
                                    "{} read {} = {}, in which its own append of {} appears more than once",
                                    name(txns, ti),
                                    txns.keys.label(*key),
                                    list(txns, r),
                                    txns.values.label(e)
                                ),
                            });
                        } else if let Some(e) = future {
                            out.findings.push(Finding {
                                anomaly: Anomaly::FutureRead,
                                txns: vec![ti],
                                explanation: format!(
                                    "{} read {} = {}, which holds {}, an element it only appended later in the same txn",
                                    name(txns, ti),
                                    txns.keys.label(*key),
                                    list(txns, r),
                                    txns.values.label(e)
                                ),
                            });
                        } else {
                            reads.entry(*key).or_default().push((ti, ext.to_vec()));
                        }
                    }
                    known.insert(*key, (mi, mine.len()));
                }
                _ => {}
            }
        }
    }

    let mut keys: Vec<u32> = reads
        .keys()
        .copied()
        .chain(appenders.keys().copied())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    // First every key's order (an info txn whose append anyone observed is in the
    // graph, whichever key it was observed on), then the edges.
    for &key in &keys {
        let key_reads = reads.get(&key).map_or(&[][..], |v| &v[..]);
        let order = key_order(txns, key, key_reads, &la, &mut out);
        for e in &order.observed {
            if let Some(&w) = la.writer.get(&(key, *e)) {
                if txns.txns[w as usize].outcome == Outcome::Info {
                    out.in_graph[w as usize] = true;
                }
            }
        }
        la.orders.insert(key, order);
    }
    for &key in &keys {
        let key_reads = reads.get(&key).map_or(&[][..], |v| &v[..]);
        edges_for_key(
            txns,
            key,
            key_reads,
            &last_append,
            &appenders,
            &mut la,
            &mut out,
        );
    }
    debug_assert_eq!(out.in_graph.len(), n);
    Ok((out, la))
}

/// The version order of `key` from its reads, with duplicate, incompatible and
/// unwritten reads reported.
fn key_order(
    txns: &Txns,
    key: u32,
    reads: &[(u32, Vec<u32>)],
    la: &ListAppend,
    out: &mut Inferred,
) -> KeyOrder {
    let k = txns.keys.label(key);
    let has_dup = |l: &[u32]| -> Option<u32> {
        let mut seen = rustc_hash::FxHashSet::default();
        l.iter().find(|e| !seen.insert(**e)).copied()
    };
    let dup = |r: &(u32, Vec<u32>), d: u32, out: &mut Inferred| {
        out.findings.push(Finding {
            anomaly: Anomaly::DuplicateElements,
            txns: vec![r.0],
            explanation: format!(
                "{} read {k} = {}, in which {} appears more than once",
                name(txns, r.0),
                list(txns, &r.1),
                txns.values.label(d)
            ),
        });
    };
    // The longest read without duplicates (reads with duplicates are reported and
    // left out; a prefix of a duplicate-free read has none).
    let mut by_len: Vec<&(u32, Vec<u32>)> = reads.iter().collect();
    by_len.sort_by_key(|r| std::cmp::Reverse(r.1.len()));
    let mut longest: Option<&(u32, Vec<u32>)> = None;
    let mut reported: rustc_hash::FxHashSet<u32> = rustc_hash::FxHashSet::default();
    for r in &by_len {
        match has_dup(&r.1) {
            Some(d) => {
                dup(r, d, out);
                reported.insert(r.0);
            }
            None => {
                longest = Some(r);
                break;
            }
        }
    }
    let observed = longest.map(|l| l.1.clone()).unwrap_or_default();
    if let Some(l) = longest {
        for r in reads {
            if reported.contains(&r.0) || observed.starts_with(&r.1) {
                continue;
            }
            if let Some(d) = has_dup(&r.1) {
                dup(r, d, out);
            } else {
                out.findings.push(Finding {
                    anomaly: Anomaly::IncompatibleOrder,
                    txns: vec![l.0, r.0],
                    explanation: format!(
                        "{} read {k} = {} but {} read {k} = {}: neither is a prefix of the other, so no single order of appends explains both",
                        name(txns, l.0),
                        list(txns, &l.1),
                        name(txns, r.0),
                        list(txns, &r.1)
                    ),
                });
            }
        }
    }
    // Each writer's appends must appear in the order it made them, none skipped.
    let mut next_rank: FxHashMap<u32, u32> = FxHashMap::default();
    for e in &observed {
        let (Some(&w), Some(&r)) = (la.writer.get(&(key, *e)), la.rank.get(&(key, *e))) else {
            continue;
        };
        let expected = next_rank.entry(w).or_insert(0);
        if r != *expected {
            let reader = longest.map_or(0, |l| l.0);
            out.findings.push(Finding {
                anomaly: Anomaly::IncompatibleOrder,
                txns: vec![reader, w],
                explanation: format!(
                    "{} read {k} = {}, but {} appended its elements to {k} in a different order (or one of them is missing before {})",
                    name(txns, reader),
                    list(txns, &observed),
                    name(txns, w),
                    txns.values.label(*e)
                ),
            });
            break;
        }
        *expected = r + 1;
    }
    let mut pos = FxHashMap::default();
    let mut unwritten_reported = false;
    let mut failed_before: Option<u32> = None;
    for (i, e) in observed.iter().enumerate() {
        pos.insert(*e, i as u32);
        match la.writer.get(&(key, *e)) {
            None if !unwritten_reported => {
                unwritten_reported = true;
                let reader = longest.map_or(0, |l| l.0);
                out.findings.push(Finding {
                    anomaly: Anomaly::UnwrittenRead,
                    txns: vec![reader],
                    explanation: format!(
                        "{} read {k} = {}, but no txn appended {} to {k}",
                        name(txns, reader),
                        list(txns, &observed),
                        txns.values.label(*e)
                    ),
                });
            }
            Some(&w) if txns.txns[w as usize].outcome == Outcome::Fail => {
                failed_before.get_or_insert(w);
            }
            Some(&w) => {
                if let Some(f) = failed_before.take() {
                    out.findings.push(Finding {
                        anomaly: Anomaly::DirtyUpdate,
                        txns: vec![f, w],
                        explanation: format!(
                            "{} appended {} to {k} after an append by {}, which failed (the order read is {})",
                            name(txns, w),
                            txns.values.label(*e),
                            name(txns, f),
                            list(txns, &observed)
                        ),
                    });
                }
            }
            None => {}
        }
    }
    KeyOrder {
        observed,
        pos,
        unobserved: Vec::new(),
    }
}

/// ww, wr and rw edges of one key; aborted, intermediate and lost-update reads.
fn edges_for_key(
    txns: &Txns,
    key: u32,
    reads: &[(u32, Vec<u32>)],
    last_append: &FxHashMap<(u32, u32), u32>,
    appenders: &FxHashMap<u32, Vec<u32>>,
    la: &mut ListAppend,
    out: &mut Inferred,
) {
    let k = txns.keys.label(key);
    let writer_of = |e: u32| la.writer.get(&(key, e)).copied();
    let order = la.orders.get(&(key)).expect("inserted by the caller");
    // In-graph writers of observed positions.
    let observed_writers: Vec<Option<u32>> = order
        .observed
        .iter()
        .map(|&e| writer_of(e).filter(|&w| out.in_graph[w as usize]))
        .collect();
    // Committed appenders nobody observed.
    let mut unobserved_txns: Vec<u32> = Vec::new();
    let mut unobserved_elems: Vec<u32> = Vec::new();
    for &w in appenders.get(&key).map_or(&[][..], |v| &v[..]) {
        if !out.in_graph[w as usize] {
            continue;
        }
        let mut any = false;
        for m in &txns.txns[w as usize].mops {
            if let Mop::Append { key: kk, value } = *m {
                if kk == key && !order.pos.contains_key(&value) {
                    unobserved_elems.push(value);
                    any = true;
                }
            }
        }
        if any {
            unobserved_txns.push(w);
        }
    }
    if unobserved_txns.len() > 1 {
        out.unordered.push(unobserved_txns.clone());
    }
    // ww along the observed order, then to every unobserved appender.
    let mut prev: Option<u32> = None;
    for w in observed_writers.iter().flatten() {
        if let Some(p) = prev {
            out.edges.add(p, *w, label::WW);
        }
        prev = Some(*w);
    }
    if let Some(p) = prev {
        for &u in &unobserved_txns {
            out.edges.add(p, u, label::WW);
        }
    }
    let order_len = order.observed.len();
    let mut version_readers: FxHashMap<usize, Vec<u32>> = FxHashMap::default();
    for (reader, ext) in reads {
        let reader = *reader;
        if !order.observed.starts_with(ext) {
            continue; // incompatible or duplicate: reported already
        }
        if let Some(&last) = ext.last() {
            match writer_of(last) {
                Some(w) if txns.txns[w as usize].outcome == Outcome::Fail => {
                    out.findings.push(Finding {
                        anomaly: Anomaly::G1a,
                        txns: vec![w, reader],
                        explanation: format!(
                            "{} read {k} = {}, which holds {}'s append of {}, but {} failed",
                            name(txns, reader),
                            list(txns, ext),
                            name(txns, w),
                            txns.values.label(last),
                            name(txns, w)
                        ),
                    });
                }
                Some(w) => {
                    out.edges.add(w, reader, label::WR);
                    if last_append.get(&(w, key)) != Some(&last) && w != reader {
                        out.findings.push(Finding {
                            anomaly: Anomaly::G1b,
                            txns: vec![w, reader],
                            explanation: format!(
                                "{} read {k} = {}, ending in {}'s append of {}, but {} appended {} to {k} later in the same txn: an intermediate state",
                                name(txns, reader),
                                list(txns, ext),
                                name(txns, w),
                                txns.values.label(last),
                                name(txns, w),
                                txns.values.label(last_append[&(w, key)])
                            ),
                        });
                    }
                }
                None => {}
            }
            // Aborted elements earlier in the read are aborted reads too.
            for &e in &ext[..ext.len() - 1] {
                if let Some(w) = writer_of(e) {
                    if txns.txns[w as usize].outcome == Outcome::Fail {
                        out.findings.push(Finding {
                            anomaly: Anomaly::G1a,
                            txns: vec![w, reader],
                            explanation: format!(
                                "{} read {k} = {}, which holds {}'s append of {}, but {} failed",
                                name(txns, reader),
                                list(txns, ext),
                                name(txns, w),
                                txns.values.label(e),
                                name(txns, w)
                            ),
                        });
                        break;
                    }
                }
            }
        }
        // rw: to the writer of the next version.
        if ext.len() < order_len {
            if let Some(w) = observed_writers[ext.len()..].iter().flatten().next() {
                out.edges.add(reader, *w, label::RW);
            }
        } else {
            for &u in &unobserved_txns {
                out.edges.add(reader, u, label::RW);
            }
        }
        if txns.txns[reader as usize]
            .mops
            .iter()
            .any(|m| matches!(m, Mop::Append { key: kk, .. } if *kk == key))
        {
            version_readers.entry(ext.len()).or_default().push(reader);
        }
    }
    let mut lost: Vec<(usize, Vec<u32>)> = version_readers
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .collect();
    lost.sort_unstable();
    for (len, ts) in lost {
        let names: Vec<String> = ts.iter().map(|&t| name(txns, t)).collect();
        out.findings.push(Finding {
            anomaly: Anomaly::LostUpdate,
            txns: ts.clone(),
            explanation: format!(
                "{} all read {k} = {} and each appended to {k}: all but one of those appends was made without seeing the others",
                names.join(", "),
                list(txns, &order.observed[..len])
            ),
        });
    }
    la.orders
        .get_mut(&key)
        .expect("inserted by the caller")
        .unobserved = unobserved_elems;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::append;
    use super::super::parse::{Mop, Txn, Txns};
    use crate::history::Outcome;

    /// A random list-append history over 3 keys: appends of the next element of
    /// their key (1, 2, 3, …; one in twenty repeats the previous one, so some
    /// histories are refused), reads mostly of a prefix of that order and otherwise
    /// of an arbitrary list (so many histories are invalid), any outcome.
    fn txns() -> impl Strategy<Value = Txns> {
        // (key, is a read, length or repeat, arbitrary list)
        let mop = (
            0u32..3,
            proptest::bool::ANY,
            0u32..6,
            proptest::option::weighted(0.3, proptest::collection::vec(1u32..7, 0..6)),
        );
        let outcome = prop_oneof![
            6 => Just(Outcome::Ok),
            1 => Just(Outcome::Info),
            1 => Just(Outcome::Fail),
        ];
        proptest::collection::vec((proptest::collection::vec(mop, 1..5), outcome), 1..9).prop_map(
            |ts| {
                let mut next = [1u32; 3];
                let mut txns = Txns::default();
                for (i, (mops, outcome)) in ts.into_iter().enumerate() {
                    let mops = mops
                        .into_iter()
                        .map(|(key, read, n, list)| {
                            let k = key as usize;
                            if !read {
                                let value = if n == 5 && list.is_some() && next[k] > 1 {
                                    next[k] - 1
                                } else {
                                    next[k] += 1;
                                    next[k] - 1
                                };
                                return Mop::Append { key, value };
                            }
                            let value = (outcome == Outcome::Ok)
                                .then(|| list.unwrap_or_else(|| (1..=n).collect()));
                            Mop::ReadList { key, value }
                        })
                        .collect();
                    txns.txns.push(Txn {
                        op: i,
                        process: i as u64 % 3,
                        outcome,
                        mops,
                        invoke_index: 2 * i as u64,
                        complete_index: Some(2 * i as u64 + 1),
                        invoke_time: 2 * i as u64,
                        complete_time: Some(2 * i as u64 + 1),
                    });
                }
                txns
            },
        )
    }

    proptest! {
        #[test]
        fn the_faster_inference_finds_what_the_reference_finds(txns in txns()) {
            let faster = append::infer(&txns);
            let reference = super::infer(&txns);
            match (faster, reference) {
                (Ok((a, la)), Ok((b, lb))) => {
                    prop_assert_eq!(&a.findings, &b.findings);
                    prop_assert_eq!(&a.in_graph, &b.in_graph);
                    prop_assert_eq!(&a.unordered, &b.unordered);
                    let n = txns.txns.len();
                    prop_assert_eq!(a.edges.build(n), b.edges.build(n));
                    for (key, order) in &lb.orders {
                        let mine = &la.orders[key];
                        prop_assert_eq!(&mine.observed, &order.observed);
                        prop_assert_eq!(&mine.unobserved, &order.unobserved);
                        for (&(k, e), &w) in &lb.writer {
                            prop_assert_eq!(la.writer(k, e), Some(w));
                        }
                    }
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "faster {:?} but reference {:?}", a.map(|r| r.0.findings), b.map(|r| r.0.findings)),
            }
        }
    }
}

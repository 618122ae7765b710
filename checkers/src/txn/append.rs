//! List-append inference (Elle's): each key's version order from its longest read,
//! with every other read checked to be a prefix of it; committed appends nobody read
//! after every observed element; ww, wr and rw edges from that order; and the
//! direct detectors: internal, future read, duplicate elements, incompatible order,
//! aborted read (G1a), intermediate read (G1b), dirty update, lost update, and reads
//! of elements nobody appended.
//!
//! A read's *external* part is what it saw of other txns: the read minus the
//! txn's own earlier appends to that key (which must be its tail, or the txn is
//! internally inconsistent).

use rustc_hash::FxHashMap;

use super::anomaly::Anomaly;
use super::finding::{list, name, Finding, Inferred};
use super::graph::label;
use super::parse::{Mop, Txns};
use crate::history::Outcome;

use super::append_tables::last_append;
pub use super::append_tables::{
    external_read, Appended, KeyAppends, KeyOrder, ListAppend, NotUnique,
};

/// A committed txn's consistent read of one key: what it saw of other txns.
#[derive(Clone, Copy, Debug)]
struct ExternalRead<'a> {
    /// The reader.
    txn: u32,
    /// The read minus the reader's own earlier appends to the key.
    ext: &'a [u32],
    /// Whether the reader appended to the key too (anywhere in the txn).
    appends: bool,
}

/// Infers version orders, dependencies and the direct anomalies.
pub fn infer(txns: &Txns) -> Result<(Inferred, ListAppend), NotUnique> {
    let n = txns.txns.len();
    let mut out = Inferred {
        in_graph: txns.txns.iter().map(|t| t.outcome == Outcome::Ok).collect(),
        ..Inferred::default()
    };
    let mut la = ListAppend::default();
    // Every txn's outcome, packed (looked up at random, so kept small).
    let outcome: Vec<Outcome> = txns.txns.iter().map(|t| t.outcome).collect();
    // Who appended what; within one txn, its appends so far per key (how many, the
    // last one).
    let mut own_count: FxHashMap<u32, (u32, u32)> = FxHashMap::default();
    let mut appenders: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, t) in txns.txns.iter().enumerate() {
        own_count.clear();
        for m in &t.mops {
            if let Mop::Append { key, value } = *m {
                let appended = la.appended.entry(key).or_default();
                if let Some(other) = appended.get(&value) {
                    return Err(NotUnique(format!(
                        "{} and {} both appended {} to key {}; list-append inference needs every appended value to be unique per key",
                        name(txns, other.txn),
                        name(txns, i as u32),
                        txns.values.label(value),
                        txns.keys.label(key)
                    )));
                }
                let (rank, previous) = own_count.get(&key).copied().unwrap_or((0, value));
                if rank > 0 {
                    if let Some(p) = appended.get_mut(&previous) {
                        p.last = false;
                    }
                }
                appended.insert(
                    value,
                    Appended {
                        txn: i as u32,
                        rank,
                        last: true,
                    },
                );
                own_count.insert(key, (rank + 1, value));
                let a = appenders.entry(key).or_default();
                if a.last() != Some(&(i as u32)) {
                    a.push(i as u32);
                }
            }
        }
    }

    // Internal consistency and external reads, per committed txn.
    // Each read's external part borrows from its micro-op (no copy).
    let mut reads: FxHashMap<u32, Vec<ExternalRead>> = FxHashMap::default();
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
                            let appends = t
                                .mops
                                .iter()
                                .any(|m| matches!(m, Mop::Append { key: k, .. } if k == key));
                            reads.entry(*key).or_default().push(ExternalRead {
                                txn: ti,
                                ext,
                                appends,
                            });
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
        let order = key_order(txns, key, key_reads, &la, &outcome, &mut out);
        for e in &order.observed {
            if let Some(w) = la.writer(key, *e) {
                if outcome[w as usize] == Outcome::Info {
                    out.in_graph[w as usize] = true;
                }
            }
        }
        la.orders.insert(key, order);
    }
    for &key in &keys {
        let key_reads = reads.get(&key).map_or(&[][..], |v| &v[..]);
        edges_for_key(
            txns, key, key_reads, &outcome, &appenders, &mut la, &mut out,
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
    reads: &[ExternalRead<'_>],
    la: &ListAppend,
    outcome: &[Outcome],
    out: &mut Inferred,
) -> KeyOrder {
    let k = txns.keys.label(key);
    let no_appends = KeyAppends::default();
    let appended = la.appended.get(&key).unwrap_or(&no_appends);
    let has_dup = |l: &[u32]| -> Option<u32> {
        let mut seen = rustc_hash::FxHashSet::default();
        l.iter().find(|e| !seen.insert(**e)).copied()
    };
    let dup = |r: &ExternalRead<'_>, d: u32, out: &mut Inferred| {
        out.findings.push(Finding {
            anomaly: Anomaly::DuplicateElements,
            txns: vec![r.txn],
            explanation: format!(
                "{} read {k} = {}, in which {} appears more than once",
                name(txns, r.txn),
                list(txns, r.ext),
                txns.values.label(d)
            ),
        });
    };
    // The longest read without duplicates (reads with duplicates are reported and
    // left out; a prefix of a duplicate-free read has none).
    let mut by_len: Vec<&ExternalRead<'_>> = reads.iter().collect();
    by_len.sort_by_key(|r| std::cmp::Reverse(r.ext.len()));
    let mut longest: Option<&ExternalRead<'_>> = None;
    let mut reported: rustc_hash::FxHashSet<u32> = rustc_hash::FxHashSet::default();
    for r in &by_len {
        match has_dup(r.ext) {
            Some(d) => {
                dup(r, d, out);
                reported.insert(r.txn);
            }
            None => {
                longest = Some(r);
                break;
            }
        }
    }
    let observed = longest.map(|l| l.ext.to_vec()).unwrap_or_default();
    if let Some(l) = longest {
        for r in reads {
            if reported.contains(&r.txn) || observed.starts_with(r.ext) {
                continue;
            }
            if let Some(d) = has_dup(r.ext) {
                dup(r, d, out);
            } else {
                out.findings.push(Finding {
                    anomaly: Anomaly::IncompatibleOrder,
                    txns: vec![l.txn, r.txn],
                    explanation: format!(
                        "{} read {k} = {} but {} read {k} = {}: neither is a prefix of the other, so no single order of appends explains both",
                        name(txns, l.txn),
                        list(txns, l.ext),
                        name(txns, r.txn),
                        list(txns, r.ext)
                    ),
                });
            }
        }
    }
    // Each writer's appends must appear in the order it made them, none skipped.
    let mut next_rank: FxHashMap<u32, u32> = FxHashMap::default();
    for e in &observed {
        let Some(&Appended {
            txn: w, rank: r, ..
        }) = appended.get(e)
        else {
            continue;
        };
        let expected = next_rank.entry(w).or_insert(0);
        if r != *expected {
            let reader = longest.map_or(0, |l| l.txn);
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
        match appended.get(e).map(|a| a.txn) {
            None if !unwritten_reported => {
                unwritten_reported = true;
                let reader = longest.map_or(0, |l| l.txn);
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
            Some(w) if outcome[w as usize] == Outcome::Fail => {
                failed_before.get_or_insert(w);
            }
            Some(w) => {
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
    reads: &[ExternalRead<'_>],
    outcome: &[Outcome],
    appenders: &FxHashMap<u32, Vec<u32>>,
    la: &mut ListAppend,
    out: &mut Inferred,
) {
    let k = txns.keys.label(key);
    let no_appends = KeyAppends::default();
    let appended = la.appended.get(&key).unwrap_or(&no_appends);
    let writer_of = |e: u32| appended.get(&e).map(|a| a.txn);
    let order = la.orders.get(&(key)).expect("inserted by the caller");
    // The first observed element a failed txn appended (every read is a prefix of
    // the observed order, so this is the first aborted element of any read).
    let first_aborted: Option<(usize, u32)> =
        order.observed.iter().enumerate().find_map(|(i, &e)| {
            writer_of(e)
                .filter(|&w| outcome[w as usize] == Outcome::Fail)
                .map(|w| (i, w))
        });
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
    for &ExternalRead {
        txn: reader,
        ext,
        appends,
    } in reads
    {
        if !order.observed.starts_with(ext) {
            continue; // incompatible or duplicate: reported already
        }
        if let Some(&last) = ext.last() {
            match writer_of(last) {
                Some(w) if outcome[w as usize] == Outcome::Fail => {
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
                    if !appended[&last].last && w != reader {
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
                                last_append(txns, w, key).map_or_else(String::new, |v| txns.values.label(v))
                            ),
                        });
                    }
                }
                None => {}
            }
            // Aborted elements earlier in the read are aborted reads too (the
            // first one is reported).
            if let Some((i, w)) = first_aborted.filter(|&(i, _)| i + 1 < ext.len()) {
                out.findings.push(Finding {
                    anomaly: Anomaly::G1a,
                    txns: vec![w, reader],
                    explanation: format!(
                        "{} read {k} = {}, which holds {}'s append of {}, but {} failed",
                        name(txns, reader),
                        list(txns, ext),
                        name(txns, w),
                        txns.values.label(ext[i]),
                        name(txns, w)
                    ),
                });
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
        if appends {
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

//! rw-register inference (Elle's, which infers far less than list-append): a read
//! is traced to its writer by the value (written values must be unique per key);
//! the initial, absent state precedes every write; and, when switched on, a
//! version order from writes-follow-reads inside a txn (a txn that read v1 and then
//! wrote v2 ordered v1 before v2) and from process order (one process's writes to a
//! key, in the order it made them). Direct detectors: internal, future read,
//! aborted (G1a) and intermediate (G1b) reads, lost update, reads of values nobody
//! wrote.

use rustc_hash::FxHashMap;

use super::anomaly::Anomaly;
use super::append::NotUnique;
use super::finding::order_why;
use super::finding::{name, EdgeWhy, Finding, Inferred};
use super::graph::label;
use super::parse::{Mop, Txns};
use crate::history::Outcome;

/// Which extra sources of version order rw-register inference uses (all off by
/// default, as in Elle: each is an assumption about the store).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterOrders {
    /// A txn that read v1 of a key and then wrote v2 orders v1 before v2.
    pub writes_follow_reads: bool,
    /// One process's writes to a key take effect in the order it made them.
    pub process: bool,
}

/// What rw-register inference learned, kept for explaining edges.
#[derive(Debug, Default)]
pub struct RwRegister {
    /// Who wrote each (key, value).
    pub writer: FxHashMap<(u32, u32), u32>,
    /// Each committed txn's external read of each key: `None` the initial state.
    pub reads: FxHashMap<(u32, u32), Option<u32>>,
}

/// The known version pairs of one key, to tell whether they form one chain.
#[derive(Default)]
struct Chain {
    pairs: usize,
    out: FxHashMap<u32, usize>,
    into: FxHashMap<u32, usize>,
}

/// Infers dependencies and the direct anomalies.
pub fn infer(txns: &Txns, orders: RegisterOrders) -> Result<(Inferred, RwRegister), NotUnique> {
    let mut out = Inferred {
        in_graph: txns.txns.iter().map(|t| t.outcome == Outcome::Ok).collect(),
        ..Inferred::default()
    };
    let mut rr = RwRegister::default();
    let mut last_write: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut writers: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (i, t) in txns.txns.iter().enumerate() {
        for m in &t.mops {
            if let Mop::Write { key, value } = *m {
                if let Some(&other) = rr.writer.get(&(key, value)) {
                    return Err(NotUnique(format!(
                        "{} and {} both wrote {} to key {}; rw-register inference needs every written value to be unique per key",
                        name(txns, other),
                        name(txns, i as u32),
                        txns.values.label(value),
                        txns.keys.label(key)
                    )));
                }
                rr.writer.insert((key, value), i as u32);
                last_write.insert((i as u32, key), value);
                let w = writers.entry(key).or_default();
                if w.last() != Some(&(i as u32)) {
                    w.push(i as u32);
                }
            }
        }
    }
    // Version pairs (key, earlier value or None for the initial state, later value).
    let mut pairs: Vec<(u32, Option<u32>, u32)> = Vec::new();
    // Readers of each version, and those of them that also wrote the key.
    let mut all_readers: FxHashMap<(u32, Option<u32>), Vec<u32>> = FxHashMap::default();
    let mut readers: FxHashMap<(u32, Option<u32>), Vec<u32>> = FxHashMap::default();
    for (i, t) in txns.txns.iter().enumerate() {
        if t.outcome != Outcome::Ok {
            continue;
        }
        let ti = i as u32;
        let mut known: FxHashMap<u32, Option<u32>> = FxHashMap::default();
        for m in &t.mops {
            match *m {
                Mop::Write { key, value } => {
                    if orders.writes_follow_reads {
                        if let Some(Some(&prev)) = rr.reads.get(&(ti, key)).map(|r| r.as_ref()) {
                            if known.get(&key) == Some(&Some(prev)) {
                                pairs.push((key, Some(prev), value));
                            }
                        }
                    }
                    known.insert(key, Some(value));
                }
                Mop::ReadRegister {
                    key,
                    value: Some(r),
                } => {
                    let k = txns.keys.label(key);
                    if let Some(&expected) = known.get(&key) {
                        if expected != r {
                            let show = |v: Option<u32>| {
                                v.map_or("nil".to_string(), |v| txns.values.label(v))
                            };
                            out.findings.push(Finding {
                                anomaly: Anomaly::Internal,
                                txns: vec![ti],
                                explanation: format!(
                                    "{} read {k} = {}, but its own earlier reads and writes say it should have been {}",
                                    name(txns, ti),
                                    show(r),
                                    show(expected)
                                ),
                            });
                        }
                        continue;
                    }
                    known.insert(key, r);
                    if let Some(v) = r {
                        if rr.writer.get(&(key, v)) == Some(&ti) {
                            out.findings.push(Finding {
                                anomaly: Anomaly::FutureRead,
                                txns: vec![ti],
                                explanation: format!(
                                    "{} read {k} = {}, a value it only wrote later in the same txn",
                                    name(txns, ti),
                                    txns.values.label(v)
                                ),
                            });
                            continue;
                        }
                    }
                    rr.reads.insert((ti, key), r);
                    all_readers.entry((key, r)).or_default().push(ti);
                    if t.mops
                        .iter()
                        .any(|m| matches!(m, Mop::Write { key: kk, .. } if *kk == key))
                    {
                        readers.entry((key, r)).or_default().push(ti);
                    }
                    let Some(v) = r else {
                        continue;
                    };
                    match rr.writer.get(&(key, v)).copied() {
                        None => out.findings.push(Finding {
                            anomaly: Anomaly::UnwrittenRead,
                            txns: vec![ti],
                            explanation: format!(
                                "{} read {k} = {}, but no txn wrote {} to {k}",
                                name(txns, ti),
                                txns.values.label(v),
                                txns.values.label(v)
                            ),
                        }),
                        Some(w) if txns.txns[w as usize].outcome == Outcome::Fail => {
                            out.findings.push(Finding {
                                anomaly: Anomaly::G1a,
                                txns: vec![w, ti],
                                explanation: format!(
                                    "{} read {k} = {}, written by {}, which failed",
                                    name(txns, ti),
                                    txns.values.label(v),
                                    name(txns, w)
                                ),
                            })
                        }
                        Some(w) => {
                            if txns.txns[w as usize].outcome == Outcome::Info {
                                out.in_graph[w as usize] = true;
                            }
                            if last_write.get(&(w, key)) != Some(&v) {
                                out.findings.push(Finding {
                                    anomaly: Anomaly::G1b,
                                    txns: vec![w, ti],
                                    explanation: format!(
                                        "{} read {k} = {}, written by {}, which then overwrote it with {} in the same txn: an intermediate state",
                                        name(txns, ti),
                                        txns.values.label(v),
                                        name(txns, w),
                                        txns.values.label(last_write[&(w, key)])
                                    ),
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if orders.process {
        let mut last: FxHashMap<(u64, u32), u32> = FxHashMap::default();
        for t in txns.txns.iter().filter(|t| t.outcome == Outcome::Ok) {
            for m in &t.mops {
                if let Mop::Write { key, value } = *m {
                    if let Some(prev) = last.insert((t.process, key), value) {
                        pairs.push((key, Some(prev), value));
                    }
                }
            }
        }
    }
    // Edges: wr from each read; rw from each reader of the initial state to every
    // writer; ww and rw along the version pairs.
    for (&(reader, key), &r) in &rr.reads {
        match r {
            Some(v) => {
                if let Some(&w) = rr.writer.get(&(key, v)) {
                    if out.in_graph[w as usize] {
                        out.edges.add(w, reader, label::WR);
                    }
                }
            }
            None => {
                for &w in writers.get(&key).map_or(&[][..], |v| &v[..]) {
                    if txns.txns[w as usize].outcome == Outcome::Ok {
                        out.edges.add(reader, w, label::RW);
                    }
                }
            }
        }
    }
    // Keys whose writes the known pairs do not put in one chain: their order is
    // unknown, and so are edges that would follow from it.
    pairs.sort_unstable();
    pairs.dedup();
    let mut chain: FxHashMap<u32, Chain> = FxHashMap::default();
    for &(key, earlier, later) in &pairs {
        if let Some(e) = earlier {
            let c = chain.entry(key).or_default();
            c.pairs += 1;
            *c.out.entry(e).or_default() += 1;
            *c.into.entry(later).or_default() += 1;
        }
    }
    for (key, ws) in &writers {
        let in_graph: Vec<u32> = ws
            .iter()
            .copied()
            .filter(|&w| out.in_graph[w as usize])
            .collect();
        let values = in_graph
            .iter()
            .map(|&w| {
                txns.txns[w as usize]
                    .mops
                    .iter()
                    .filter(|m| matches!(m, Mop::Write { key: k, .. } if k == key))
                    .count()
            })
            .sum::<usize>();
        let total = chain.get(key).is_some_and(|c| {
            c.pairs + 1 == values
                && c.out.values().all(|&n| n == 1)
                && c.into.values().all(|&n| n == 1)
        });
        if in_graph.len() > 1 && !total {
            out.unordered.push(in_graph);
        }
    }
    for (key, earlier, later) in pairs {
        let Some(&w2) = rr.writer.get(&(key, later)) else {
            continue;
        };
        if let Some(e) = earlier {
            if let Some(&w1) = rr.writer.get(&(key, e)) {
                if out.in_graph[w1 as usize] {
                    out.edges.add(w1, w2, label::WW);
                }
            }
        }
        for &reader in all_readers.get(&(key, earlier)).map_or(&[][..], |v| &v[..]) {
            out.edges.add(reader, w2, label::RW);
        }
    }
    let mut lost: Vec<_> = readers.iter().filter(|(_, v)| v.len() > 1).collect();
    lost.sort_unstable();
    for ((key, r), ts) in lost {
        let names: Vec<String> = ts.iter().map(|&t| name(txns, t)).collect();
        out.findings.push(Finding {
            anomaly: Anomaly::LostUpdate,
            txns: ts.clone(),
            explanation: format!(
                "{} all read {} = {} and each wrote {}: all but one of those writes was made without seeing the others",
                names.join(", "),
                txns.keys.label(*key),
                r.map_or("nil".to_string(), |v| txns.values.label(v)),
                txns.keys.label(*key)
            ),
        });
    }
    Ok((out, rr))
}

impl EdgeWhy for RwRegister {
    fn why(
        &self,
        txns: &Txns,
        from: u32,
        to: u32,
        l: u8,
    ) -> (String, Option<String>, Option<String>) {
        let (a, b) = (name(txns, from), name(txns, to));
        let writes = |t: u32| -> Vec<(u32, u32)> {
            txns.txns[t as usize]
                .mops
                .iter()
                .filter_map(|m| match *m {
                    Mop::Write { key, value } => Some((key, value)),
                    _ => None,
                })
                .collect()
        };
        match l {
            label::WR => {
                for (key, v) in writes(from) {
                    if self.reads.get(&(to, key)) == Some(&Some(v)) {
                        let (k, v) = (txns.keys.label(key), txns.values.label(v));
                        return (
                            format!("{b} read {k} = {v}, written by {a} (wr)"),
                            Some(k),
                            Some(v),
                        );
                    }
                }
            }
            label::RW => {
                for (key, v) in writes(to) {
                    if let Some(r) = self.reads.get(&(from, key)) {
                        let (k, vs) = (txns.keys.label(key), txns.values.label(v));
                        let seen = r.map_or("nil".to_string(), |x| txns.values.label(x));
                        return (
                            format!("{a} read {k} = {seen} and did not see {b}'s write of {vs}, which came after it, so {a} precedes {b} (rw)"),
                            Some(k),
                            Some(vs),
                        );
                    }
                }
            }
            label::WW => {
                for (key, v) in writes(to) {
                    if let Some((_, u)) = writes(from).into_iter().find(|(k, _)| *k == key) {
                        let (k, vs) = (txns.keys.label(key), txns.values.label(v));
                        return (
                            format!(
                                "{b} wrote {k} = {vs} after {a}'s write of {} (ww)",
                                txns.values.label(u)
                            ),
                            Some(k),
                            Some(vs),
                        );
                    }
                }
            }
            _ => {}
        }
        (order_why(txns, from, to, l), None, None)
    }
}

//! The plain words for list-append's dependency edges: which append a txn saw or
//! did not see, and so why one txn precedes another ("T2 did not see T1's append of 3
//! to x (it read x = [1 2]), so T2 precedes T1 (rw)").

use super::append::{external_read, ListAppend};
use super::finding::{list, name, order_why, EdgeWhy};
use super::graph::label;
use super::parse::{Mop, Txns};

impl EdgeWhy for ListAppend {
    fn why(
        &self,
        txns: &Txns,
        from: u32,
        to: u32,
        l: u8,
    ) -> (String, Option<String>, Option<String>) {
        let (a, b) = (name(txns, from), name(txns, to));
        let keys_of = |t: u32| {
            let mut ks: Vec<u32> = txns.txns[t as usize].mops.iter().map(|m| m.key()).collect();
            ks.sort_unstable();
            ks.dedup();
            ks
        };
        let appends = |t: u32, key: u32| -> Vec<u32> {
            txns.txns[t as usize]
                .mops
                .iter()
                .filter_map(|m| match *m {
                    Mop::Append { key: k, value } if k == key => Some(value),
                    _ => None,
                })
                .collect()
        };
        for key in keys_of(from) {
            let Some(order) = self.orders.get(&key) else {
                continue;
            };
            let k = txns.keys.label(key);
            let pos = |e: u32| -> u32 {
                order
                    .pos
                    .get(&e)
                    .copied()
                    .unwrap_or(order.observed.len() as u32)
            };
            match l {
                label::WW => {
                    let (fa, tb) = (appends(from, key), appends(to, key));
                    if let (Some(&x), Some(&y)) = (fa.last(), tb.first()) {
                        if pos(x) < pos(y) {
                            let v = txns.values.label(y);
                            return (
                                format!(
                                    "{b} appended {v} to {k} after {a}'s append of {} (ww)",
                                    txns.values.label(x)
                                ),
                                Some(k),
                                Some(v),
                            );
                        }
                    }
                }
                label::WR => {
                    if let Some(ext) = external_read(txns, to, key) {
                        if let Some(&last) = ext.last() {
                            if self.writer(key, last) == Some(from) {
                                let v = txns.values.label(last);
                                return (
                                    format!("{b} saw {a}'s append of {v} to {k} (it read {k} = {}) (wr)", list(txns, &ext)),
                                    Some(k),
                                    Some(v),
                                );
                            }
                        }
                    }
                }
                label::RW => {
                    if let Some(ext) = external_read(txns, from, key) {
                        if let Some(&y) = appends(to, key)
                            .iter()
                            .find(|e| pos(**e) as usize >= ext.len())
                        {
                            let v = txns.values.label(y);
                            return (
                                format!("{a} did not see {b}'s append of {v} to {k} (it read {k} = {}), so {a} precedes {b} (rw)", list(txns, &ext)),
                                Some(k),
                                Some(v),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        (order_why(txns, from, to, l), None, None)
    }
}

//! Process-order and real-time edges between the txns in the graph.
//!
//! Process order links each process's consecutive txns. Real time is kept as a
//! transitive reduction in one sweep over the events: the frontier is the set of
//! committed txns that no later-completed txn has yet been seen to follow; a txn's
//! invoke links every frontier txn to it, and its completion replaces the frontier
//! txns it followed by itself. A process contributes at most one txn to the
//! frontier, so the sweep is O(n·p) edges for n txns and p processes, and every
//! real-time precedence is a path of these edges.
//!
//! `info` txns never precede anything (they may take effect at any later time) but
//! may follow; `fail` txns are not in the graph.

use rustc_hash::FxHashMap;

use super::graph::{label, GraphBuilder};
use super::parse::Txn;
use crate::history::Outcome;

/// Adds process-order edges between the txns `in_graph` marks.
pub fn process_edges(txns: &[Txn], in_graph: &[bool], g: &mut GraphBuilder) {
    let mut last: FxHashMap<u64, u32> = FxHashMap::default();
    for (i, t) in txns.iter().enumerate() {
        if !in_graph[i] {
            continue;
        }
        if let Some(prev) = last.insert(t.process, i as u32) {
            g.add(prev, i as u32, label::PROCESS);
        }
    }
}

/// Adds the transitive reduction of real-time order between the txns `in_graph`
/// marks.
pub fn realtime_edges(txns: &[Txn], in_graph: &[bool], g: &mut GraphBuilder) {
    // (event index, is completion, txn)
    let mut events: Vec<(u64, bool, u32)> = Vec::with_capacity(txns.len() * 2);
    for (i, t) in txns.iter().enumerate() {
        if !in_graph[i] {
            continue;
        }
        events.push((t.invoke_index, false, i as u32));
        if t.outcome == Outcome::Ok {
            if let Some(c) = t.complete_index {
                events.push((c, true, i as u32));
            }
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<u32> = Vec::new();
    // What the frontier was at each txn's invoke: the txns it follows directly.
    let mut preds: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for (_, completion, t) in events {
        if !completion {
            for &f in &frontier {
                g.add(f, t, label::REALTIME);
            }
            if txns[t as usize].outcome == Outcome::Ok {
                preds.insert(t, frontier.clone());
            }
        } else {
            let before = preds.remove(&t).unwrap_or_default();
            frontier.retain(|f| !before.contains(f));
            frontier.push(t);
        }
    }
}

//! Cycle search per anomaly class, exhaustive, over strongly connected components.
//!
//! A class is a pattern of edge types: G0 uses only ww; G1c ww and wr with at least
//! one wr; G-single exactly one rw, the rest ww/wr; G-nonadjacent two or more rw,
//! no two adjacent (around the cycle); G2-item at least one rw. The `-process`
//! variants also allow process-order edges, the `-realtime` ones process-order and
//! real-time edges.
//!
//! Every cycle lies inside one SCC of the graph restricted to the class's edges, so
//! each class is decided SCC by SCC: for every edge of the class's distinguished
//! type (wr for G1c, rw for the others) inside an SCC, a breadth-first search back
//! from its head to its tail, over states that track the pattern (the last edge was
//! rw; an rw has been seen), finds the shortest cycle through that edge or proves
//! there is none. Nothing is cut off by a timeout: a class reported absent was
//! searched in full. A variant is searched only when its base class is absent (if
//! the base is present it already rules out every model the variant would).

use serde::Serialize;

use super::anomaly::Anomaly::{self, *};
use super::graph::{label, Graph};

/// One step of a cycle: `from -> to`, by an edge of type `label`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Source txn.
    pub from: u32,
    /// Target txn.
    pub to: u32,
    /// The one label this step uses.
    pub label: u8,
}

/// A cycle found, of one class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// Its class.
    pub anomaly: Anomaly,
    /// The steps, each one's `to` the next one's `from`, the last back to the first.
    pub steps: Vec<Step>,
}

/// How the search of one class ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Searched {
    /// At least one cycle of the class was found.
    Found,
    /// Searched in full: the history has no cycle of this class.
    Absent,
    /// Not searched: a class found earlier rules out every model this one would.
    NotNeeded,
}

/// What the cycle search did and found.
#[derive(Clone, Debug, Default)]
pub struct CycleReport {
    /// Example cycles, at most `limit` per class.
    pub cycles: Vec<Cycle>,
    /// Per class, how many SCCs hold one of its cycles.
    pub counts: Vec<(Anomaly, usize)>,
    /// Per class, how the search ended.
    pub searched: Vec<(Anomaly, Searched)>,
}

/// The rw-pattern a class requires.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// No rw edge; at least one edge of the given label.
    Plain(u8),
    /// Exactly one rw.
    Single,
    /// At least two rw, none adjacent.
    Nonadjacent,
    /// At least one rw.
    AnyRw,
}

/// Searches every class, keeping at most `limit` example cycles per class.
pub fn search(g: &Graph, limit: usize) -> CycleReport {
    let mut report = CycleReport::default();
    let mut s = Searcher::new(g.nodes());
    let families: [(u8, [Anomaly; 5]); 3] = [
        (0, [G0, G1c, GSingle, GNonadjacent, G2Item]),
        (
            label::PROCESS,
            [
                G0Process,
                G1cProcess,
                GSingleProcess,
                GNonadjacentProcess,
                G2ItemProcess,
            ],
        ),
        (
            label::PROCESS | label::REALTIME,
            [
                G0Realtime,
                G1cRealtime,
                GSingleRealtime,
                GNonadjacentRealtime,
                G2ItemRealtime,
            ],
        ),
    ];
    // found[i]: class i (0 G0, 1 G1c, 2 G-single, 3 G-nonadjacent, 4 G2-item) was
    // found in this or a weaker family.
    let mut found = [false; 5];
    for (extra, classes) in families {
        let plain_ww = label::WW | extra;
        let plain = label::WW | label::WR | extra;
        for (i, &anomaly) in classes.iter().enumerate() {
            let needed = match i {
                0 => !found[0],
                1 => !found[0] && !found[1],
                2 => !found[2],
                3 => !found[2] && !found[3],
                _ => !found[2] && !found[3] && !found[4],
            };
            if !needed {
                report.searched.push((anomaly, Searched::NotNeeded));
                continue;
            }
            let (mask, pattern) = match i {
                0 => (plain_ww, Pattern::Plain(plain_ww)),
                1 => (plain, Pattern::Plain(label::WR)),
                2 => (plain | label::RW, Pattern::Single),
                3 => (plain | label::RW, Pattern::Nonadjacent),
                _ => (plain | label::RW, Pattern::AnyRw),
            };
            let (count, cycles) = s.class(g, mask, plain_of(mask), pattern, anomaly, limit);
            if count > 0 {
                found[i] = true;
                report.counts.push((anomaly, count));
                report.cycles.extend(cycles);
                report.searched.push((anomaly, Searched::Found));
            } else {
                report.searched.push((anomaly, Searched::Absent));
            }
        }
    }
    report
}

fn plain_of(mask: u8) -> u8 {
    mask & !label::RW
}

/// Strongly connected components of `g` restricted to edges with a label in
/// `mask` (iterative Tarjan). Returns each node's component and the component sizes.
pub fn sccs(g: &Graph, mask: u8) -> (Vec<u32>, Vec<u32>) {
    let n = g.nodes();
    const NONE: u32 = u32::MAX;
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![NONE; n];
    let mut sizes = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    let mut next = 0u32;
    // (node, position of the next edge to look at; MAX before the first)
    let mut call: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != NONE {
            continue;
        }
        call.push((root, usize::MAX));
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            let mut descended = false;
            let end = g.range(v).end;
            if *pos == usize::MAX {
                *pos = g.range(v).start;
            }
            while *pos < end {
                let (w, l) = g.at(*pos);
                *pos += 1;
                if l & mask == 0 {
                    continue;
                }
                if index[w as usize] == NONE {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    call.push((w, usize::MAX));
                    descended = true;
                    break;
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            }
            if descended {
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent as usize] = low[parent as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let id = sizes.len() as u32;
                let mut size = 0;
                loop {
                    let w = stack.pop().expect("v is on the stack");
                    on_stack[w as usize] = false;
                    comp[w as usize] = id;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
    }
    (comp, sizes)
}

/// Scratch space for the searches, reused across them.
struct Searcher {
    /// Epoch marks per (node, state).
    seen: Vec<u32>,
    /// Parent (state index, label) per (node, state).
    parent: Vec<(u32, u8)>,
    epoch: u32,
}

/// States per node: bit 0 "the last edge was rw", bit 1 "an rw has been seen".
const STATES: usize = 4;

impl Searcher {
    fn new(n: usize) -> Searcher {
        Searcher {
            seen: vec![0; n * STATES],
            parent: vec![(0, 0); n * STATES],
            epoch: 0,
        }
    }

    /// Decides one class: how many SCCs hold one of its cycles, and examples.
    fn class(
        &mut self,
        g: &Graph,
        mask: u8,
        plain: u8,
        pattern: Pattern,
        anomaly: Anomaly,
        limit: usize,
    ) -> (usize, Vec<Cycle>) {
        let (comp, sizes) = sccs(g, mask);
        let closing = match pattern {
            Pattern::Plain(l) => l,
            _ => label::RW,
        };
        let mut done = vec![false; sizes.len()];
        let mut count = 0;
        let mut cycles = Vec::new();
        for u in 0..g.nodes() as u32 {
            let c = comp[u as usize];
            if sizes[c as usize] < 2 || done[c as usize] {
                continue;
            }
            for (v, l) in g.out(u) {
                if l & closing == 0 || comp[v as usize] != c {
                    continue;
                }
                if let Some(mut path) = self.back(g, &comp, c, v, u, plain, pattern) {
                    let mut steps = vec![Step {
                        from: u,
                        to: v,
                        label: closing_label(l, closing),
                    }];
                    steps.append(&mut path);
                    done[c as usize] = true;
                    count += 1;
                    if cycles.len() < limit {
                        cycles.push(Cycle { anomaly, steps });
                    }
                    break;
                }
            }
        }
        (count, cycles)
    }

    /// The shortest path from `start` to `goal` inside component `c` that closes a
    /// cycle of `pattern` with the edge `goal -> start` (already taken).
    #[allow(clippy::too_many_arguments)]
    fn back(
        &mut self,
        g: &Graph,
        comp: &[u32],
        c: u32,
        start: u32,
        goal: u32,
        plain: u8,
        pattern: Pattern,
    ) -> Option<Vec<Step>> {
        self.epoch += 1;
        let epoch = self.epoch;
        // Bit 0: the last edge was rw (the closing edge is, for rw patterns, so the
        // first step of a nonadjacent cycle must be plain). Bit 1: the path has
        // taken an rw of its own.
        let start_state = match pattern {
            Pattern::Nonadjacent => 0b01,
            _ => 0,
        };
        let idx = |v: u32, s: usize| v as usize * STATES + s;
        let mut queue = std::collections::VecDeque::new();
        self.seen[idx(start, start_state)] = epoch;
        queue.push_back((start, start_state));
        while let Some((v, s)) = queue.pop_front() {
            for (w, l) in g.out(v) {
                if comp[w as usize] != c {
                    continue;
                }
                let mut moves: [(u8, usize); 2] = [(0, 0); 2];
                let mut k = 0;
                if l & plain != 0 {
                    moves[k] = (plain_label(l & plain), s & 0b10);
                    k += 1;
                }
                let rw_allowed = match pattern {
                    Pattern::Plain(_) | Pattern::Single => false,
                    Pattern::Nonadjacent => s & 0b01 == 0,
                    Pattern::AnyRw => true,
                };
                if l & label::RW != 0 && rw_allowed {
                    moves[k] = (label::RW, 0b11);
                    k += 1;
                }
                for &(used, ns) in &moves[..k] {
                    if self.seen[idx(w, ns)] == epoch {
                        continue;
                    }
                    self.seen[idx(w, ns)] = epoch;
                    self.parent[idx(w, ns)] = (idx(v, s) as u32, used);
                    let accepted = match pattern {
                        // Last step plain (the closing rw follows it), and an rw of
                        // the path's own.
                        Pattern::Nonadjacent => ns == 0b10,
                        _ => true,
                    };
                    if w == goal && accepted {
                        return Some(self.path(idx(w, ns), idx(start, start_state)));
                    }
                    queue.push_back((w, ns));
                }
            }
        }
        None
    }

    fn path(&self, mut at: usize, start: usize) -> Vec<Step> {
        let mut steps = Vec::new();
        while at != start {
            let (p, l) = self.parent[at];
            steps.push(Step {
                from: (p as usize / STATES) as u32,
                to: (at / STATES) as u32,
                label: l,
            });
            at = p as usize;
        }
        steps.reverse();
        steps
    }
}

fn plain_label(l: u8) -> u8 {
    for pref in [label::WR, label::WW, label::PROCESS, label::REALTIME] {
        if l & pref != 0 {
            return pref;
        }
    }
    l
}

fn closing_label(l: u8, closing: u8) -> u8 {
    if closing == label::RW {
        label::RW
    } else {
        plain_label(l & closing)
    }
}

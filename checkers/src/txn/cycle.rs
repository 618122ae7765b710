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
//! searched in full. Classes are disjoint: a `-process` cycle needs an edge that is
//! only process order, a `-realtime` one an edge that is only real time; a G2-item
//! cycle has two adjacent rw edges. The searches run on the subgraph of the
//! nontrivial SCCs of the whole graph (empty for a clean history).

use serde::{Deserialize, Serialize};

use super::anomaly::Anomaly::{self, *};
use super::graph::{label, Graph, GraphBuilder};

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Searched {
    /// At least one cycle of the class was found.
    Found,
    /// Searched in full: the history has no cycle of this class.
    Absent,
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

/// The pattern a class requires.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pattern {
    /// No rw edge; closed by an edge of the given labels.
    Plain(u8),
    /// Exactly one rw.
    Single,
    /// At least two rw, none adjacent.
    Nonadjacent,
    /// At least one pair of adjacent rw.
    AdjacentRw,
}

/// Searches every class, keeping at most `limit` example cycles per class.
pub fn search(g: &Graph, limit: usize) -> CycleReport {
    let mut report = CycleReport::default();
    // Only nodes on some cycle matter: the nontrivial SCCs of the whole graph.
    let (comp, sizes) = sccs(g, 0xff);
    let keep: Vec<u32> = (0..g.nodes() as u32)
        .filter(|&v| sizes[comp[v as usize] as usize] > 1)
        .collect();
    let mut local = vec![u32::MAX; g.nodes()];
    for (i, &v) in keep.iter().enumerate() {
        local[v as usize] = i as u32;
    }
    let mut b = GraphBuilder::default();
    for &v in &keep {
        for (w, l) in g.out(v) {
            if local[w as usize] != u32::MAX {
                b.add(local[v as usize], local[w as usize], l);
            }
        }
    }
    let sub = b.build(keep.len());
    let mut s = Searcher::new(sub.nodes());
    let families: [(u8, u8, [Anomaly; 5]); 3] = [
        (0, 0, [G0, G1c, GSingle, GNonadjacent, G2Item]),
        (
            label::PROCESS,
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
            label::REALTIME,
            [
                G0Realtime,
                G1cRealtime,
                GSingleRealtime,
                GNonadjacentRealtime,
                G2ItemRealtime,
            ],
        ),
    ];
    for (extra, required, classes) in families {
        let mut single_done: Option<Vec<bool>> = None;
        let plain_ww = label::WW | extra;
        let plain = label::WW | label::WR | extra;
        for (i, &anomaly) in classes.iter().enumerate() {
            let (mask, pattern) = match i {
                0 => (plain_ww, Pattern::Plain(plain_ww)),
                1 => (plain, Pattern::Plain(label::WR)),
                2 => (plain | label::RW, Pattern::Single),
                3 => (plain | label::RW, Pattern::Nonadjacent),
                _ => (plain | label::RW, Pattern::AdjacentRw),
            };
            let class = Class {
                plain: mask & !label::RW,
                pattern,
                required,
            };
            // A nonadjacent walk may pass a txn twice; where a G-single cycle of
            // the same family was found it would only be that cycle walked twice,
            // and rules out nothing more, so those components are skipped.
            let skip = if i == 3 { single_done.take() } else { None };
            let (count, mut cycles, done) = s.class(&sub, mask, class, anomaly, limit, skip);
            if i == 2 {
                single_done = Some(done);
            }
            for c in &mut cycles {
                for st in &mut c.steps {
                    st.from = keep[st.from as usize];
                    st.to = keep[st.to as usize];
                }
            }
            if count > 0 {
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

/// What one class's search needs to know.
#[derive(Clone, Copy)]
struct Class {
    /// Labels a non-rw step may use.
    plain: u8,
    pattern: Pattern,
    /// For variants: the label some step must use alone (process order for
    /// `-process`, real time for `-realtime`); 0 for the base classes.
    required: u8,
}

/// The label a plain step over an edge with labels `l` uses, and whether it is
/// the class's required variant edge (a step counts as one only when no data
/// label, nor a weaker variant's, could carry it).
fn plain_step(l: u8, class: Class) -> (u8, bool) {
    let l = l & class.plain;
    for pref in [label::WR, label::WW, label::PROCESS, label::REALTIME] {
        if l & pref != 0 {
            return (pref, pref == class.required);
        }
    }
    (l, false)
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

/// States per node: bit 0 "the last step was rw", bit 1 "the path took an rw",
/// bit 2 "two adjacent rw were taken", bit 3 "the required variant edge was taken".
const STATES: usize = 16;
const LAST_RW: usize = 1;
const SEEN_RW: usize = 2;
const ADJACENT: usize = 4;
const VARIANT: usize = 8;

impl Searcher {
    fn new(n: usize) -> Searcher {
        Searcher {
            seen: vec![0; n * STATES],
            parent: vec![(0, 0); n * STATES],
            epoch: 0,
        }
    }

    /// Decides one class: how many SCCs hold one of its cycles, and examples.
    #[allow(clippy::too_many_arguments)]
    fn class(
        &mut self,
        g: &Graph,
        mask: u8,
        class: Class,
        anomaly: Anomaly,
        limit: usize,
        skip: Option<Vec<bool>>,
    ) -> (usize, Vec<Cycle>, Vec<bool>) {
        let (comp, sizes) = sccs(g, mask);
        let closing = match class.pattern {
            Pattern::Plain(l) => l,
            _ => label::RW,
        };
        let skipped = skip.unwrap_or_else(|| vec![false; sizes.len()]);
        let mut done = vec![false; sizes.len()];
        let mut count = 0;
        let mut cycles = Vec::new();
        for u in 0..g.nodes() as u32 {
            let c = comp[u as usize];
            if sizes[c as usize] < 2 || done[c as usize] || skipped[c as usize] {
                continue;
            }
            for (v, l) in g.out(u) {
                if l & closing == 0 || comp[v as usize] != c {
                    continue;
                }
                let (used, start) = match class.pattern {
                    Pattern::Plain(_) => {
                        let (used, variant) = plain_step(l & closing, class);
                        (used, if variant { VARIANT } else { 0 })
                    }
                    _ => (label::RW, LAST_RW),
                };
                if let Some(mut path) = self.back(g, &comp, c, v, u, class, start) {
                    let mut steps = vec![Step {
                        from: u,
                        to: v,
                        label: used,
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
        (count, cycles, done)
    }

    /// The shortest path from `start` to `goal` inside component `c` that closes a
    /// cycle of `class` with the edge `goal -> start` (already taken, leaving the
    /// search in state `start_state`).
    #[allow(clippy::too_many_arguments)]
    fn back(
        &mut self,
        g: &Graph,
        comp: &[u32],
        c: u32,
        start: u32,
        goal: u32,
        class: Class,
        start_state: usize,
    ) -> Option<Vec<Step>> {
        self.epoch += 1;
        let epoch = self.epoch;
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
                if l & class.plain != 0 {
                    let (used, variant) = plain_step(l, class);
                    let mut ns = s & !LAST_RW;
                    if variant {
                        ns |= VARIANT;
                    }
                    moves[k] = (used, ns);
                    k += 1;
                }
                let rw_allowed = match class.pattern {
                    Pattern::Plain(_) | Pattern::Single => false,
                    Pattern::Nonadjacent => s & LAST_RW == 0,
                    Pattern::AdjacentRw => true,
                };
                if l & label::RW != 0 && rw_allowed {
                    let mut ns = s | LAST_RW | SEEN_RW;
                    if s & LAST_RW != 0 {
                        ns |= ADJACENT;
                    }
                    moves[k] = (label::RW, ns);
                    k += 1;
                }
                for &(used, ns) in &moves[..k] {
                    if self.seen[idx(w, ns)] == epoch {
                        continue;
                    }
                    self.seen[idx(w, ns)] = epoch;
                    self.parent[idx(w, ns)] = (idx(v, s) as u32, used);
                    if w == goal && accepts(class, ns) {
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

/// Whether arriving at the goal in state `s` closes a cycle of `class` (the
/// closing edge follows the path's last step).
fn accepts(class: Class, s: usize) -> bool {
    let variant = class.required == 0 || s & VARIANT != 0;
    let shape = match class.pattern {
        Pattern::Plain(_) | Pattern::Single => true,
        Pattern::Nonadjacent => s & LAST_RW == 0 && s & SEEN_RW != 0,
        // The closing rw is adjacent to a final rw step, or two were adjacent.
        Pattern::AdjacentRw => s & ADJACENT != 0 || s & LAST_RW != 0,
    };
    variant && shape
}

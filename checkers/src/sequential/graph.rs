//! Ordering constraints that every legal order of a register-like component obeys,
//! derived before the search from reads of values with a single source (reads
//! pinned to unique writes), as a graph over the component's ops.
//!
//! Edges (each holds in *every* legal order, so the search may refuse to place an op
//! before its predecessors, and a cycle proves there is no legal order):
//! - **program order**: each process's ops in order;
//! - **reads-from**: the single source `w` of a value a required op `r` observes
//!   comes before `r` (and a required observer of a value nobody writes, that is not
//!   the initial value, can never be placed);
//! - **write before the source**: a required write `w'` of the same key that must
//!   come before `r` must also come before `w` (else `r` would observe `w'`'s value
//!   or a later one, never `w`'s again; if `w` is the initial value, that is a
//!   contradiction);
//! - **read before the next write**: a required write `w'` of the same key that must
//!   come after `w` (any write, for the initial value) must also come after `r`.
//!
//! The last two are applied until nothing new follows (at most a few dozen rounds).
//! Reachability is kept as vector clocks: for each op and each process, the last
//! position of that process that must come before the op; so a round costs
//! O((ops + edges) × processes) and a rule's candidate writes are found by binary
//! search per process.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use super::search::{Component, Source};

/// Most rounds of inference (stopping early only loses pruning, never soundness).
const MAX_ROUNDS: usize = 32;

/// The derived order of a component.
#[derive(Debug)]
pub struct Order {
    /// How many processes.
    procs: usize,
    /// Per process: the node id of its first op.
    offsets: Vec<usize>,
    /// `vc[node * procs + q]`: the last position of process `q` that must come
    /// before the node (-1: none).
    vc: Vec<i32>,
    /// Per node: its place in one linear extension of the graph (ties broken by
    /// invoke order), the order in which the search tries ops.
    rank: Vec<u32>,
}

impl Order {
    /// Whether op `i` of process `p` may be placed when every process `q` has
    /// placed (or skipped) its first `pos[q]` ops.
    pub fn ready(&self, p: usize, i: usize, pos: &[u32]) -> bool {
        let base = (self.offsets[p] + i) * self.procs;
        (0..self.procs).all(|q| q == p || self.vc[base + q] < pos[q] as i32)
    }

    /// The rank of op `i` of process `p` in the graph's linear extension.
    pub fn rank(&self, p: usize, i: usize) -> u32 {
        self.rank[self.offsets[p] + i]
    }
}

/// What the graph says.
#[derive(Debug)]
pub enum Derived {
    /// Constraints to search with.
    Order(Order),
    /// A contradiction: no legal order exists.
    Impossible,
}

/// The graph being built.
struct Graph<'c, 'a> {
    c: &'c Component<'a>,
    procs: usize,
    offsets: Vec<usize>,
    /// Per node: predecessors besides program order.
    preds: Vec<Vec<u32>>,
    vc: Vec<i32>,
}

impl Graph<'_, '_> {
    fn node(&self, p: usize, i: usize) -> usize {
        self.offsets[p] + i
    }

    /// Whether `(p, i)` must come before `(q, j)` (strictly), by the current clocks.
    fn reaches(&self, (p, i): (usize, usize), (q, j): (usize, usize)) -> bool {
        if p == q {
            i < j
        } else {
            self.vc[self.node(q, j) * self.procs + p] >= i as i32
        }
    }

    /// Recomputes the clocks in a topological order; `None` on a cycle.
    fn clocks(&mut self) -> Option<Vec<u32>> {
        let n = self.preds.len();
        let mut succs: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut indegree = vec![0u32; n];
        for (x, ps) in self.preds.iter().enumerate() {
            for &y in ps {
                succs[y as usize].push(x as u32);
                indegree[x] += 1;
            }
        }
        let mut owner = vec![(0usize, 0usize); n];
        for p in 0..self.procs {
            for i in 0..self.c.processes[p].len() {
                let x = self.node(p, i);
                owner[x] = (p, i);
                if i > 0 {
                    indegree[x] += 1;
                }
            }
        }
        // Kahn's algorithm, earliest invoke first among the ready ops.
        let invoke = |x: usize| {
            let (p, i) = owner[x];
            self.c.processes[p][i].op.invoke_index
        };
        let mut ready: BinaryHeap<Reverse<(u64, usize)>> = (0..n)
            .filter(|&x| indegree[x] == 0)
            .map(|x| Reverse((invoke(x), x)))
            .collect();
        let mut rank = vec![0u32; n];
        let mut done = 0u32;
        self.vc = vec![-1; n * self.procs];
        while let Some(Reverse((_, x))) = ready.pop() {
            rank[x] = done;
            done += 1;
            let (p, i) = owner[x];
            let base = x * self.procs;
            if i > 0 {
                let prev = (x - 1) * self.procs;
                for q in 0..self.procs {
                    self.vc[base + q] = self.vc[base + q].max(self.vc[prev + q]);
                }
            }
            self.vc[base + p] = i as i32 - 1;
            for &y in &self.preds[x] {
                let (q, j) = owner[y as usize];
                let from = y as usize * self.procs;
                for r in 0..self.procs {
                    self.vc[base + r] = self.vc[base + r].max(self.vc[from + r]);
                }
                self.vc[base + q] = self.vc[base + q].max(j as i32);
            }
            let mut next = succs[x].clone();
            if i + 1 < self.c.processes[p].len() {
                next.push(x as u32 + 1);
            }
            for y in next {
                indegree[y as usize] -= 1;
                if indegree[y as usize] == 0 {
                    ready.push(Reverse((invoke(y as usize), y as usize)));
                }
            }
        }
        (done as usize == n).then_some(rank)
    }
}

/// Derives the order of a register-like component (`None` for others).
pub fn derive(c: &Component<'_>) -> Option<Derived> {
    let values = c.values.as_ref()?;
    let procs = c.processes.len();
    let mut offsets = Vec::with_capacity(procs);
    let mut n = 0;
    for steps in &c.processes {
        offsets.push(n);
        n += steps.len();
    }
    let mut g = Graph {
        c,
        procs,
        offsets,
        preds: vec![Vec::new(); n],
        vc: Vec::new(),
    };
    // Required observers of unique values, with their sources; reads-from edges.
    let mut observers: Vec<((usize, usize), Source)> = Vec::new();
    for (p, steps) in c.processes.iter().enumerate() {
        for (i, s) in steps.iter().enumerate() {
            let Some(v) = s.observes.filter(|&v| values.unique[v as usize]) else {
                continue;
            };
            match values.source[v as usize] {
                Source::Nowhere => return Some(Derived::Impossible),
                Source::Op(q, j) if (q, j) == (p, i) => continue,
                Source::Op(q, j) => {
                    let (x, y) = (g.node(q, j), g.node(p, i));
                    g.preds[y].push(x as u32);
                }
                Source::Initial => {}
            }
            observers.push(((p, i), values.source[v as usize]));
        }
    }
    // Per process, per key slot: positions of its required writes (and cas).
    let mut writes: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); c.keys]; procs];
    for (p, steps) in c.processes.iter().enumerate() {
        for (i, s) in steps.iter().enumerate() {
            if s.required && s.writes.is_some() {
                writes[p][s.slot].push(i);
            }
        }
    }
    let mut rank = None;
    for _ in 0..MAX_ROUNDS {
        let Some(r) = g.clocks() else {
            return Some(Derived::Impossible);
        };
        rank = Some(r);
        let mut added: HashSet<(usize, usize)> = HashSet::new();
        for &((p, i), src) in &observers {
            let slot = c.processes[p][i].slot;
            let r = (p, i);
            for (q, list) in writes.iter().enumerate() {
                let list = &list[slot];
                if list.is_empty() {
                    continue;
                }
                // The last write of q that must come before r.
                let limit = if q == p {
                    i as i32 - 1
                } else {
                    g.vc[g.node(p, i) * procs + q]
                };
                let before = list.partition_point(|&j| j as i32 <= limit);
                if before > 0 {
                    let w = (q, list[before - 1]);
                    match src {
                        Source::Initial => return Some(Derived::Impossible),
                        Source::Op(sq, sj) if w != (sq, sj) && !g.reaches(w, (sq, sj)) => {
                            added.insert((g.node(w.0, w.1), g.node(sq, sj)));
                        }
                        _ => {}
                    }
                }
                // The first write of q that must come after the source.
                let after = match src {
                    Source::Initial => 0,
                    Source::Op(sq, sj) if sq == q => list.partition_point(|&j| j <= sj),
                    Source::Op(sq, sj) => {
                        list.partition_point(|&j| g.vc[g.node(q, j) * procs + sq] < sj as i32)
                    }
                    Source::Nowhere => continue,
                };
                if let Some(&j) = list.get(after) {
                    let w = (q, j);
                    if w != r && !g.reaches(r, w) {
                        added.insert((g.node(p, i), g.node(q, j)));
                    }
                }
            }
        }
        if added.is_empty() {
            break;
        }
        for (x, y) in added {
            g.preds[y].push(x as u32);
        }
        rank = None;
    }
    let rank = match rank {
        Some(r) => r,
        None => match g.clocks() {
            Some(r) => r,
            None => return Some(Derived::Impossible),
        },
    };
    Some(Derived::Order(Order {
        procs,
        offsets: g.offsets,
        vc: g.vc,
        rank,
    }))
}

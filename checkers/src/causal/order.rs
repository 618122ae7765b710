//! Orders over accesses: program order, reads-from and derived edges as one graph,
//! its topological order with vector clocks (which accesses of each process precede
//! an access), and, when there is no topological order, a cycle as evidence.
//!
//! Ancestor sets are vector clocks because every graph here contains program order:
//! the ancestors of an access among one process's accesses are always a prefix of
//! that process's program order, so one count per process says which they are.

use serde::{Deserialize, Serialize};

use super::observation::{AccessId, Kind, Observed};

/// Why one access must precede another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Why {
    /// The same process did the first before the second.
    ProgramOrder,
    /// The second read the value the first wrote.
    ReadsFrom,
    /// Two writes of one key: the second was read by `read`, whose past already held
    /// the first, so the first must be ordered before it.
    Overwritten {
        /// The read that forces the order.
        read: AccessId,
    },
    /// The first is a read of a write (or of the initial value) that the second, a
    /// write of the same key, overwrites: in one total order the read must come first.
    ReadBeforeOverwrite,
}

/// An edge `from -> to` with its reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The earlier access.
    pub from: AccessId,
    /// The later access.
    pub to: AccessId,
    /// Why.
    pub why: Why,
}

/// Which reads-from edges a graph has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadsFrom {
    /// Into every read (causal order).
    All,
    /// Only into the reads of this process (one process's PRAM view).
    Of(u32),
}

/// Vector clocks: for access `a` and process `q`, how many of `q`'s accesses are `a`
/// or precede it.
pub struct Clocks {
    width: usize,
    counts: Vec<u32>,
}

impl Clocks {
    /// The clock of `a`.
    pub fn of(&self, a: AccessId) -> &[u32] {
        let i = a as usize * self.width;
        &self.counts[i..i + self.width]
    }

    /// Whether `a` is `b` or precedes it (`a` is the `pos`-th access of process `q`).
    pub fn reaches(&self, obs: &Observed, a: AccessId, b: AccessId) -> bool {
        let acc = &obs.accesses[a as usize];
        self.of(b)[acc.process as usize] > acc.pos
    }
}

/// A cycle of accesses, each step with its reason (the last step returns to the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle(pub Vec<Edge>);

/// One step of a cycle in words, for evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The earlier op's id in the history.
    pub from_op: usize,
    /// The later op's id.
    pub to_op: usize,
    /// Why the earlier precedes the later.
    pub why: String,
}

impl Cycle {
    /// The cycle's steps in words.
    pub fn steps(&self, obs: &Observed) -> Vec<Step> {
        self.0
            .iter()
            .map(|e| Step {
                from_op: obs.accesses[e.from as usize].op,
                to_op: obs.accesses[e.to as usize].op,
                why: match e.why {
                    Why::ProgramOrder => format!(
                        "{} before {} (program order)",
                        obs.describe(e.from),
                        obs.describe(e.to)
                    ),
                    Why::ReadsFrom => {
                        format!("{} read by {}", obs.describe(e.from), obs.describe(e.to))
                    }
                    Why::Overwritten { read } => format!(
                        "{} before {}, since {} with the former already in its past",
                        obs.describe(e.from),
                        obs.describe(e.to),
                        obs.describe(read)
                    ),
                    Why::ReadBeforeOverwrite => format!(
                        "{} before {}, which overwrites what the read returned",
                        obs.describe(e.from),
                        obs.describe(e.to)
                    ),
                },
            })
            .collect()
    }

    /// The cycle as one sentence: `p1 wrote x=1 -> p2 read x=1 -> ...`.
    pub fn sentence(&self, obs: &Observed) -> String {
        let mut s: Vec<String> = self.0.iter().map(|e| obs.describe(e.from)).collect();
        if let Some(first) = self.0.first() {
            s.push(obs.describe(first.from));
        }
        s.join(" -> ")
    }
}

/// The graph of program order, the chosen reads-from edges and `extra` edges, in
/// topological order with vector clocks; or a cycle.
pub fn clocks(obs: &Observed, reads_from: ReadsFrom, extra: &[Edge]) -> Result<Clocks, Cycle> {
    topological(obs, reads_from, extra, true)
}

/// Whether the graph of [`clocks`] has no cycle (`Err` with one if it has), without
/// computing the clocks: the same topological sort, without the joins.
pub fn acyclic(obs: &Observed, reads_from: ReadsFrom, extra: &[Edge]) -> Result<(), Cycle> {
    topological(obs, reads_from, extra, false).map(|_| ())
}

/// Kahn's algorithm over the graph of [`clocks`]; the clocks only `with_clocks`
/// (otherwise an empty [`Clocks`]).
fn topological(
    obs: &Observed,
    reads_from: ReadsFrom,
    extra: &[Edge],
    with_clocks: bool,
) -> Result<Clocks, Cycle> {
    let n = obs.accesses.len();
    let width = if with_clocks { obs.processes.len() } else { 0 };
    // In-edges per access, as a compact list (program order is implicit).
    let mut in_start = vec![0u32; n + 1];
    let wr_in = |a: AccessId| -> Option<AccessId> {
        let acc = &obs.accesses[a as usize];
        match (acc.kind, reads_from) {
            (Kind::Read { from: Some(w) }, ReadsFrom::All) => Some(w),
            (Kind::Read { from: Some(w) }, ReadsFrom::Of(p)) if acc.process == p => Some(w),
            _ => None,
        }
    };
    for a in 0..n {
        in_start[a + 1] += u32::from(wr_in(a as AccessId).is_some());
    }
    for e in extra {
        in_start[e.to as usize + 1] += 1;
    }
    for a in 0..n {
        in_start[a + 1] += in_start[a];
    }
    let mut fill = in_start.clone();
    let mut in_edges = vec![(0 as AccessId, Why::ProgramOrder); in_start[n] as usize];
    for a in 0..n {
        if let Some(w) = wr_in(a as AccessId) {
            in_edges[fill[a] as usize] = (w, Why::ReadsFrom);
            fill[a] += 1;
        }
    }
    for e in extra {
        in_edges[fill[e.to as usize] as usize] = (e.from, e.why);
        fill[e.to as usize] += 1;
    }
    // Out-edges (non-program-order) for Kahn's algorithm.
    let mut out_start = vec![0u32; n + 1];
    for &(from, _) in &in_edges {
        out_start[from as usize + 1] += 1;
    }
    for a in 0..n {
        out_start[a + 1] += out_start[a];
    }
    let mut ofill = out_start.clone();
    let mut out_edges = vec![0 as AccessId; in_edges.len()];
    for to in 0..n {
        for &(from, _) in &in_edges[in_start[to] as usize..in_start[to + 1] as usize] {
            out_edges[ofill[from as usize] as usize] = to as AccessId;
            ofill[from as usize] += 1;
        }
    }
    let mut indegree: Vec<u32> = (0..n)
        .map(|a| in_start[a + 1] - in_start[a] + u32::from(obs.accesses[a].pos > 0))
        .collect();
    let mut counts = vec![0u32; n * width];
    let mut ready: Vec<AccessId> = (0..n as AccessId)
        .filter(|&a| indegree[a as usize] == 0)
        .collect();
    let mut done = 0usize;
    while let Some(a) = ready.pop() {
        done += 1;
        let acc = &obs.accesses[a as usize];
        let base = a as usize * width;
        if with_clocks && acc.pos > 0 {
            let prev = obs.by_process[acc.process as usize][acc.pos as usize - 1] as usize;
            counts.copy_within(prev * width..prev * width + width, base);
        }
        if with_clocks {
            for &(from, _) in
                &in_edges[in_start[a as usize] as usize..in_start[a as usize + 1] as usize]
            {
                let f = from as usize * width;
                for q in 0..width {
                    counts[base + q] = counts[base + q].max(counts[f + q]);
                }
            }
            counts[base + acc.process as usize] = acc.pos + 1;
        }
        let mut release = |b: AccessId, ready: &mut Vec<AccessId>| {
            indegree[b as usize] -= 1;
            if indegree[b as usize] == 0 {
                ready.push(b);
            }
        };
        if let Some(&next) = obs.by_process[acc.process as usize].get(acc.pos as usize + 1) {
            release(next, &mut ready);
        }
        for &b in &out_edges[out_start[a as usize] as usize..out_start[a as usize + 1] as usize] {
            release(b, &mut ready);
        }
    }
    if done == n {
        return Ok(Clocks { width, counts });
    }
    // Walk back along in-edges among the accesses left until one repeats.
    let left = |a: AccessId| indegree[a as usize] > 0;
    let pred = |a: AccessId| -> Edge {
        let acc = &obs.accesses[a as usize];
        if acc.pos > 0 {
            let prev = obs.by_process[acc.process as usize][acc.pos as usize - 1];
            if left(prev) {
                return Edge {
                    from: prev,
                    to: a,
                    why: Why::ProgramOrder,
                };
            }
        }
        let &(from, why) = in_edges
            [in_start[a as usize] as usize..in_start[a as usize + 1] as usize]
            .iter()
            .find(|&&(from, _)| left(from))
            .expect("an access left by Kahn's algorithm has a predecessor left");
        Edge { from, to: a, why }
    };
    let start = (0..n as AccessId)
        .find(|&a| left(a))
        .expect("some access is left");
    let mut seen = std::collections::HashMap::new();
    let mut path: Vec<Edge> = Vec::new();
    let mut at = start;
    loop {
        if let Some(&i) = seen.get(&at) {
            let mut cycle: Vec<Edge> = path[i..].to_vec();
            cycle.reverse();
            return Err(Cycle(cycle));
        }
        seen.insert(at, path.len());
        let e = pred(at);
        path.push(e);
        at = e.from;
    }
}

/// A causal path from `from` to `to` (which `from` must reach in `vc`, computed over
/// program order and every reads-from edge), keeping only the accesses where it
/// changes process, and both ends.
pub fn causal_path(obs: &Observed, vc: &Clocks, from: AccessId, to: AccessId) -> Vec<AccessId> {
    let mut path = vec![to];
    let mut at = to;
    while at != from {
        let acc = &obs.accesses[at as usize];
        let prev = (acc.pos > 0)
            .then(|| obs.by_process[acc.process as usize][acc.pos as usize - 1])
            .filter(|&prev| vc.reaches(obs, from, prev));
        at = match (prev, acc.kind) {
            (Some(prev), _) => prev,
            (None, Kind::Read { from: Some(w) }) => {
                if path.last() != Some(&at) {
                    path.push(at);
                }
                path.push(w);
                w
            }
            _ => break,
        };
    }
    if path.last() != Some(&from) {
        path.push(from);
    }
    path.dedup();
    path.reverse();
    path
}

//! The dependency graph: transactions as nodes, edges labelled with why one txn must
//! precede another (ww, wr, rw, process order, real time). Stored compactly (CSR)
//! with the labels of parallel edges merged into one bit set.

/// Edge labels, as bits.
pub mod label {
    /// Write-write: the target overwrote (appended after) the source's write.
    pub const WW: u8 = 1;
    /// Write-read: the target read the source's write.
    pub const WR: u8 = 2;
    /// Read-write (anti-dependency): the target overwrote what the source read.
    pub const RW: u8 = 4;
    /// Process order: the same process ran the source first.
    pub const PROCESS: u8 = 8;
    /// Real time: the source completed before the target began.
    pub const REALTIME: u8 = 16;
    /// The data dependencies.
    pub const DATA: u8 = WW | WR | RW;

    /// The names of the bits set in `l`, for evidence.
    pub fn names(l: u8) -> &'static str {
        match l {
            WW => "ww",
            WR => "wr",
            RW => "rw",
            PROCESS => "process",
            REALTIME => "realtime",
            _ => "mixed",
        }
    }
}

/// Collects edges before the graph is frozen.
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    edges: Vec<(u32, u32, u8)>,
}

impl GraphBuilder {
    /// Adds `from -> to` with `label` (self-edges are dropped: a txn never precedes
    /// itself; what a self-edge would mean is found by the direct detectors).
    pub fn add(&mut self, from: u32, to: u32, label: u8) {
        if from != to {
            self.edges.push((from, to, label));
        }
    }

    /// Freezes the graph over `nodes` nodes: the edges are bucketed by source (a
    /// counting sort, linear in the edges), then each source's edges are sorted by
    /// target and parallel ones merged.
    pub fn build(self, nodes: usize) -> Graph {
        let mut start = vec![0u32; nodes + 1];
        for &(a, _, _) in &self.edges {
            start[a as usize + 1] += 1;
        }
        for i in 0..nodes {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut slots: Vec<(u32, u8)> = vec![(0, 0); self.edges.len()];
        for &(a, b, l) in &self.edges {
            let at = &mut fill[a as usize];
            slots[*at as usize] = (b, l);
            *at += 1;
        }
        drop(self.edges);
        let mut offsets = vec![0u32; nodes + 1];
        let mut targets = Vec::with_capacity(slots.len());
        let mut labels: Vec<u8> = Vec::with_capacity(slots.len());
        for v in 0..nodes {
            let bucket = &mut slots[start[v] as usize..start[v + 1] as usize];
            bucket.sort_unstable_by_key(|&(b, _)| b);
            let first = targets.len();
            for &(b, l) in bucket.iter() {
                if targets.len() > first && targets.last() == Some(&b) {
                    *labels.last_mut().expect("an edge was pushed") |= l;
                } else {
                    targets.push(b);
                    labels.push(l);
                }
            }
            offsets[v + 1] = targets.len() as u32;
        }
        Graph {
            offsets,
            targets,
            labels,
        }
    }

    /// The graph as the sort-everything build made it (the reference
    /// [`GraphBuilder::build`] is tested against).
    #[cfg(test)]
    fn build_by_sorting(mut self, nodes: usize) -> Graph {
        self.edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        let mut offsets = vec![0u32; nodes + 1];
        let mut targets = Vec::with_capacity(self.edges.len());
        let mut labels: Vec<u8> = Vec::with_capacity(self.edges.len());
        let mut last: Option<(u32, u32)> = None;
        for &(a, b, l) in &self.edges {
            if last == Some((a, b)) {
                *labels.last_mut().expect("an edge was pushed") |= l;
                continue;
            }
            last = Some((a, b));
            targets.push(b);
            labels.push(l);
            offsets[a as usize + 1] += 1;
        }
        for i in 0..nodes {
            offsets[i + 1] += offsets[i];
        }
        Graph {
            offsets,
            targets,
            labels,
        }
    }
}

/// A frozen dependency graph.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Graph {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    labels: Vec<u8>,
}

impl Graph {
    /// How many nodes.
    pub fn nodes(&self) -> usize {
        self.offsets.len() - 1
    }

    /// How many distinct (source, target) edges.
    pub fn edges(&self) -> usize {
        self.targets.len()
    }

    /// The edges out of `v`: (target, labels).
    pub fn out(&self, v: u32) -> impl Iterator<Item = (u32, u8)> + '_ {
        let (a, b) = (
            self.offsets[v as usize] as usize,
            self.offsets[v as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.labels[a..b].iter().copied())
    }

    /// The positions of `v`'s out-edges, for [`Graph::at`].
    pub fn range(&self, v: u32) -> std::ops::Range<usize> {
        self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize
    }

    /// The edge at position `i`: (target, labels).
    pub fn at(&self, i: usize) -> (u32, u8) {
        (self.targets[i], self.labels[i])
    }

    /// The labels of the edge `a -> b` (0 if none).
    pub fn labels(&self, a: u32, b: u32) -> u8 {
        self.out(a).find(|&(t, _)| t == b).map_or(0, |(_, l)| l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_edges_merge_their_labels_and_self_edges_are_dropped() {
        let mut b = GraphBuilder::default();
        b.add(0, 1, label::WW);
        b.add(0, 1, label::RW);
        b.add(1, 1, label::WR);
        b.add(1, 0, label::WR);
        let g = b.build(2);
        assert_eq!(g.edges(), 2);
        assert_eq!(g.labels(0, 1), label::WW | label::RW);
        assert_eq!(g.labels(1, 0), label::WR);
        assert_eq!(g.labels(1, 1), 0);
    }

    proptest::proptest! {
        #[test]
        fn the_bucketed_build_equals_the_sorted_build(
            nodes in 1usize..12,
            edges in proptest::collection::vec((0u32..12, 0u32..12, 0u8..5), 0..80),
        ) {
            let mut b = GraphBuilder::default();
            for (from, to, l) in edges {
                b.add(from % nodes as u32, to % nodes as u32, 1 << l);
            }
            proptest::prop_assert_eq!(b.clone().build(nodes), b.build_by_sorting(nodes));
        }
    }
}

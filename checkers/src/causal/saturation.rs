//! One process's view (PRAM, causal memory) saturated incrementally: the fast path
//! of [`super::view`].
//!
//! The saturation rule is that of [`super::view`]: for each read `r` of process `p`
//! of key `x` from write `w`, every other write of `x` that precedes `r` must precede
//! `w`. [`super::view`]'s reference algorithm recomputes a clock per access after
//! each round of new orders; here the clocks are kept only for *events*, the accesses
//! an edge from another chain can land on. Rounds (every event's clock in a
//! topological order, then every read of `p` looked at) run while a round finds
//! many new orders; once one finds few, each new order is propagated from where it
//! lands to what depends on it, and a read is looked at again only when its own past
//! grew.
//!
//! The events are fixed in advance: the reads whose reads-from edge is in the graph
//! (only `p`'s for PRAM, every read for causal memory), all of `p`'s reads, and every
//! write `p` read (the only writes a forced order lands on: its target is always the
//! write some read of `p` returned). Along a chain, an access's ancestors are those of
//! the last event at or before it plus the chain's own prefix, so these clocks say
//! what precedes every access.
//!
//! The clocks only ever grow, and only by what an edge implies, so when nothing is
//! left to propagate they are exactly the ancestors in the graph saturated by the
//! rule: the same closure the reference reaches. This path only ever answers *holds*;
//! when it meets a cycle or a read of the initial value after a write, it says so
//! and the reference algorithm decides and names the evidence.

use super::observation::{last_before, AccessId, KeyWrites, Kind, Observed};
use super::order::ReadsFrom;
use crate::verdict::Budget;

/// What the fast path found for one process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fast {
    /// The process has a view.
    Holds,
    /// A cycle or an initial read after a write may be there: the reference decides.
    Suspect,
    /// The budget ran out.
    OutOfTime,
}

const NONE: u32 = u32::MAX;

struct Events<'a> {
    obs: &'a Observed,
    width: usize,
    /// Per process: positions of its events, ascending, with each event's index.
    of: Vec<Vec<(u32, u32)>>,
    /// Per event: its access.
    access: Vec<AccessId>,
    /// Per event: the next event of its chain.
    next: Vec<u32>,
    /// Per event: `width` counts.
    clocks: Vec<u32>,
    /// Per event: the edges whose source it covers, as (target event, source).
    dependents: Vec<Vec<(u32, AccessId)>>,
    /// The edges whose source no event covers (a constant contribution).
    fixed: Vec<(u32, AccessId)>,
}

impl Events<'_> {
    fn at(&self, a: AccessId) -> (u32, u32) {
        let acc = &self.obs.accesses[a as usize];
        (acc.process, acc.pos)
    }

    /// The last event of process `q` at a position ≤ `pos`.
    fn cover(&self, q: u32, pos: u32) -> u32 {
        let list = &self.of[q as usize];
        let n = list.partition_point(|&(p, _)| p <= pos);
        n.checked_sub(1).map_or(NONE, |i| list[i].1)
    }

    fn clock(&self, e: u32) -> &[u32] {
        let i = e as usize * self.width;
        &self.clocks[i..i + self.width]
    }

    /// The clock of any access, into `out`.
    fn clock_of(&self, a: AccessId, out: &mut [u32]) {
        let (q, pos) = self.at(a);
        match self.cover(q, pos) {
            NONE => out.fill(0),
            e => out.copy_from_slice(self.clock(e)),
        }
        out[q as usize] = out[q as usize].max(pos + 1);
    }

    /// Adds the edge `src -> d` (event `d`).
    fn add_edge(&mut self, d: u32, src: AccessId) {
        let (s, spos) = self.at(src);
        match self.cover(s, spos) {
            NONE => self.fixed.push((d, src)),
            c => self.dependents[c as usize].push((d, src)),
        }
    }

    /// Every clock from scratch, in a topological order of the events (Kahn);
    /// `Err` on a cycle.
    fn topological(&mut self) -> Result<(), ()> {
        let m = self.access.len();
        let width = self.width;
        self.clocks.fill(0);
        let mut indegree = vec![0u32; m];
        for e in 0..m {
            let (q, pos) = self.at(self.access[e]);
            self.clocks[e * width + q as usize] = pos + 1;
            if self.next[e] != NONE {
                indegree[self.next[e] as usize] += 1;
            }
            for &(d, _) in &self.dependents[e] {
                indegree[d as usize] += 1;
            }
        }
        let mut contribution = vec![0u32; width];
        for i in 0..self.fixed.len() {
            let (d, src) = self.fixed[i];
            let (s, spos) = self.at(src);
            contribution.fill(0);
            contribution[s as usize] = spos + 1;
            self.join(d, &contribution)?;
        }
        let mut ready: Vec<u32> = (0..m as u32)
            .filter(|&e| indegree[e as usize] == 0)
            .collect();
        let mut done = 0usize;
        while let Some(e) = ready.pop() {
            done += 1;
            let n = self.next[e as usize];
            if n != NONE {
                contribution.copy_from_slice(self.clock(e));
                self.join(n, &contribution)?;
                indegree[n as usize] -= 1;
                if indegree[n as usize] == 0 {
                    ready.push(n);
                }
            }
            for i in 0..self.dependents[e as usize].len() {
                let (d, src) = self.dependents[e as usize][i];
                self.clock_of(src, &mut contribution);
                self.join(d, &contribution)?;
                indegree[d as usize] -= 1;
                if indegree[d as usize] == 0 {
                    ready.push(d);
                }
            }
        }
        if done < m {
            return Err(());
        }
        Ok(())
    }

    /// The forced orders read event `r` (a read of `p`) needs and its past does not
    /// have yet, as (target event, source); `Err` for a read of the initial value
    /// with a write of its key in its past.
    fn needed(&self, r: u32, writes: &KeyWrites, out: &mut Vec<(u32, AccessId)>) -> Result<(), ()> {
        let a = self.access[r as usize];
        let acc = &self.obs.accesses[a as usize];
        let Kind::Read { from } = acc.kind else {
            return Ok(());
        };
        let clock = self.clock(r);
        let Some(w) = from else {
            for (q, list) in writes.of(acc.key) {
                if last_before(list, clock[*q as usize]).is_some() {
                    return Err(());
                }
            }
            return Ok(());
        };
        let (wq, wpos) = self.at(w);
        let w_ev = self.cover(wq, wpos);
        let w_clock = self.clock(w_ev);
        for (q, list) in writes.of(acc.key) {
            let Some((pos2, w2)) = last_before(list, clock[*q as usize]) else {
                continue;
            };
            // `w2` is `w` or precedes it already.
            if pos2 >= w_clock[*q as usize] {
                out.push((w_ev, w2));
            }
        }
        Ok(())
    }

    /// Joins `contribution` into event `d`'s clock; whether it grew. `Err` when the
    /// contribution puts a later access of `d`'s own chain before `d` (a cycle).
    fn join(&mut self, d: u32, contribution: &[u32]) -> Result<bool, ()> {
        let (q, pos) = self.at(self.access[d as usize]);
        // `d` itself in the past of what precedes it: a cycle.
        if contribution[q as usize] > pos {
            return Err(());
        }
        let base = d as usize * self.width;
        let mut grew = false;
        for (c, &x) in self.clocks[base..base + self.width]
            .iter_mut()
            .zip(contribution)
        {
            if x > *c {
                *c = x;
                grew = true;
            }
        }
        Ok(grew)
    }
}

/// Decides whether process `p` has a view over program order plus `reads_from`
/// (see the module doc for what each answer means).
pub fn view_of(
    obs: &Observed,
    p: u32,
    reads_from: ReadsFrom,
    writes: &KeyWrites,
    budget: &Budget,
) -> Fast {
    let width = obs.processes.len();
    let mine = &obs.by_process[p as usize];
    // The events.
    let mut chosen: Vec<AccessId> = Vec::new();
    let is_edge_read = |a: AccessId| match obs.accesses[a as usize].kind {
        Kind::Read { from: Some(_) } => match reads_from {
            ReadsFrom::All => true,
            ReadsFrom::Of(q) => obs.accesses[a as usize].process == q,
        },
        _ => false,
    };
    match reads_from {
        ReadsFrom::All => {
            for list in &obs.by_process {
                chosen.extend(list.iter().copied().filter(|&a| is_edge_read(a)));
            }
        }
        ReadsFrom::Of(_) => {}
    }
    for &a in mine {
        if let Kind::Read { from } = obs.accesses[a as usize].kind {
            chosen.push(a);
            chosen.extend(from);
        }
    }
    let key = |a: AccessId| {
        let acc = &obs.accesses[a as usize];
        (acc.process, acc.pos)
    };
    chosen.sort_unstable_by_key(|&a| key(a));
    chosen.dedup();
    let m = chosen.len();
    let mut ev = Events {
        obs,
        width,
        of: vec![Vec::new(); width],
        access: chosen,
        next: vec![NONE; m],
        clocks: vec![0u32; m * width],
        dependents: vec![Vec::new(); m],
        fixed: Vec::new(),
    };
    for e in 0..m {
        let (q, pos) = key(ev.access[e]);
        if let Some(&(_, prev)) = ev.of[q as usize].last() {
            ev.next[prev as usize] = e as u32;
        }
        ev.of[q as usize].push((pos, e as u32));
    }
    // Reads-from into the chosen reads.
    for e in 0..m {
        let a = ev.access[e];
        if !is_edge_read(a) {
            continue;
        }
        if let Kind::Read { from: Some(w) } = obs.accesses[a as usize].kind {
            ev.add_edge(e as u32, w);
        }
    }
    // Rounds while they find many new orders: the clocks of the whole graph in
    // topological order, then every read of `p` looked at.
    let mut edges: Vec<(u32, AccessId)> = Vec::new();
    loop {
        if budget.expired() {
            return Fast::OutOfTime;
        }
        if ev.topological().is_err() {
            return Fast::Suspect;
        }
        edges.clear();
        for &r in mine {
            if !matches!(obs.accesses[r as usize].kind, Kind::Read { .. }) {
                continue;
            }
            let (q, pos) = key(r);
            if ev.needed(ev.cover(q, pos), writes, &mut edges).is_err() {
                return Fast::Suspect;
            }
        }
        if edges.is_empty() {
            return Fast::Holds;
        }
        let few = edges.len() <= 16 + m / 64;
        for &(d, src) in &edges {
            ev.add_edge(d, src);
        }
        if few {
            break;
        }
    }
    if ev.topological().is_err() {
        return Fast::Suspect;
    }
    // Then incrementally: every read of `p` is looked at again, and again whenever
    // its past grew; each new order is propagated from where it lands.
    let mut queued = vec![false; m];
    let mut recheck: Vec<u32> = Vec::new();
    for &a in mine.iter().rev() {
        if matches!(obs.accesses[a as usize].kind, Kind::Read { .. }) {
            let (q, pos) = key(a);
            let e = ev.cover(q, pos);
            queued[e as usize] = true;
            recheck.push(e);
        }
    }
    let mut work: Vec<u32> = Vec::new();
    let mut grown: Vec<u32> = Vec::new();
    let mut contribution = vec![0u32; width];
    let mut steps = 0u32;
    loop {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(4096) && budget.expired() {
            return Fast::OutOfTime;
        }
        if let Some(e) = work.pop() {
            // Event `e`'s clock grew: so may its dependents'.
            grown.clear();
            let n = ev.next[e as usize];
            if n != NONE {
                contribution.copy_from_slice(ev.clock(e));
                match ev.join(n, &contribution) {
                    Err(()) => return Fast::Suspect,
                    Ok(true) => grown.push(n),
                    Ok(false) => {}
                }
            }
            for i in 0..ev.dependents[e as usize].len() {
                let (d, src) = ev.dependents[e as usize][i];
                ev.clock_of(src, &mut contribution);
                match ev.join(d, &contribution) {
                    Err(()) => return Fast::Suspect,
                    Ok(true) => grown.push(d),
                    Ok(false) => {}
                }
            }
            for &d in &grown {
                work.push(d);
                let a = ev.access[d as usize];
                if obs.accesses[a as usize].process == p
                    && matches!(obs.accesses[a as usize].kind, Kind::Read { .. })
                    && !queued[d as usize]
                {
                    queued[d as usize] = true;
                    recheck.push(d);
                }
            }
            continue;
        }
        let Some(r_ev) = recheck.pop() else { break };
        queued[r_ev as usize] = false;
        edges.clear();
        if ev.needed(r_ev, writes, &mut edges).is_err() {
            return Fast::Suspect;
        }
        for &(d, src) in &edges {
            ev.add_edge(d, src);
            ev.clock_of(src, &mut contribution);
            match ev.join(d, &contribution) {
                Err(()) => return Fast::Suspect,
                Ok(true) => work.push(d),
                Ok(false) => {}
            }
        }
    }
    Fast::Holds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, EventKind, History, Process, Value, F};

    /// Ops `(process, "w x 1" | "r x 1" | "r x _")`, each done before the next.
    fn history(ops: &[(u64, &str)]) -> History {
        let mut events = Vec::new();
        for &(process, s) in ops {
            let parts: Vec<&str> = s.split(' ').collect();
            let write = parts[0] == "w";
            let v = parts[2].parse().map_or(Value::Null, Value::Int);
            for kind in [EventKind::Invoke, EventKind::Ok] {
                let index = events.len() as u64;
                events.push(Event {
                    index,
                    time: index * 10,
                    process: Process::Client(process),
                    kind,
                    f: if write { F::Write } else { F::Read },
                    key: Some(Value::str(parts[1])),
                    value: if kind == EventKind::Invoke && !write {
                        Value::Null
                    } else {
                        v.clone()
                    },
                    node: None,
                    error: None,
                    latency: None,
                });
            }
        }
        History::from_events(events).expect("a well-formed history")
    }

    /// The fast path's answer for each process, PRAM-style.
    fn answers(ops: &[(u64, &str)]) -> Vec<Fast> {
        let h = history(ops);
        let obs = Observed::from_history(&h, &Value::Null).expect("judgeable");
        let writes = obs.key_writes();
        (0..obs.processes.len() as u32)
            .map(|p| view_of(&obs, p, ReadsFrom::Of(p), &writes, &Budget::unlimited()))
            .collect()
    }

    #[test]
    fn a_reader_that_sees_writes_in_their_program_order_holds_on_the_fast_path() {
        let got = answers(&[(1, "w x 1"), (2, "r x 1"), (1, "w x 2"), (2, "r x 2")]);
        assert_eq!(got, [Fast::Holds, Fast::Holds]);
    }

    #[test]
    fn a_reader_that_sees_one_writers_writes_out_of_order_is_left_to_the_reference() {
        let got = answers(&[(1, "w x 1"), (1, "w x 2"), (2, "r x 2"), (2, "r x 1")]);
        assert_eq!(got, [Fast::Holds, Fast::Suspect]);
    }

    #[test]
    fn a_read_of_the_initial_value_after_a_write_in_its_past_is_left_to_the_reference() {
        let got = answers(&[(1, "w x 1"), (1, "w y 2"), (2, "r y 2"), (2, "r x _")]);
        assert_eq!(got, [Fast::Holds, Fast::Suspect]);
    }

    #[test]
    fn orders_forced_through_another_writer_are_found_incrementally() {
        // p3 reads x=1 (p1) after y=2 (p2, which wrote x=3 first): x=3 must precede
        // x=1 in p3's view; then reading x=3 again is a cycle.
        let ok = answers(&[
            (1, "w x 1"),
            (2, "w x 3"),
            (2, "w y 2"),
            (3, "r y 2"),
            (3, "r x 1"),
        ]);
        assert_eq!(ok, [Fast::Holds, Fast::Holds, Fast::Holds]);
        let bad = answers(&[
            (1, "w x 1"),
            (2, "w x 3"),
            (2, "w y 2"),
            (3, "r y 2"),
            (3, "r x 1"),
            (3, "r x 3"),
        ]);
        assert_eq!(bad[2], Fast::Suspect);
    }
}

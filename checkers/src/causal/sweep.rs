//! One process's view (PRAM, causal memory) saturated in one sweep of its reads, last
//! to first, over a graph of *events*: the fast path of [`super::view`].
//!
//! The saturation rule is that of [`super::view`]: for each read `r` of process `p`
//! of key `x` from write `w`, every other write of `x` that precedes `r` must precede
//! `w`. **One sweep suffices.** `p`'s reads form one chain `r1 … rn` of the base order,
//! so the past of `ri` is inside the past of `rk` for `i ≤ k`, and an order the rule
//! adds for `ri` joins two accesses of the past of `ri`: it adds nothing to the past
//! of any `rk` with `k ≥ i`. The past of `rn` is therefore final from the start, and
//! the past of `rk` is final once the orders of `rk+1 … rn` are in. Looking at each
//! read once, last to first, each after the orders of the reads after it have been
//! propagated, finds every forced order: the same closure as the reference's rounds.
//!
//! **Events.** The clocks are kept only for `p`'s reads and the writes they read (the
//! only accesses a forced order lands on). The base order is given by its own clocks
//! (the causal order's for causal memory; program order for PRAM, whose reads-from
//! edges into `p`'s reads are added like forced orders at the start). A path into an
//! access either stays in the base order or leaves its last added order at an event
//! that precedes the access in the base; on each process that event is at or before
//! the last event the base puts before the access. So an access's past is its past in
//! the base plus the past of those covering events (one per process), and the events'
//! clocks follow from the events alone: event `c` joins into event `d` when `c` covers
//! `d` in the base, or covers the source of an order added into `d`.
//!
//! **Only the pasts still to be read.** Once read `rk` has been looked at, an event
//! outside its past is in the past of no read still to come (theirs are inside it,
//! and every order still to come joins two accesses inside them, so nothing enters
//! it), and its clock is never consulted again: propagation stops at `rk`'s past. Every
//! cycle a later order closes runs through accesses of that past too, whose clocks stay
//! exact (an access's ancestors are inside every past it is in), so none is missed.
//!
//! The clocks only ever grow, and only by what an edge implies; after each order is
//! propagated to a fixed point they are exactly the pasts in the graph so far. A cycle
//! shows as an event whose own position reaches it from a predecessor. This path only
//! ever answers *holds*; on a cycle or a read of the initial value after a write it
//! says so, and the reference algorithm decides and names the evidence.

use super::observation::{last_before, AccessId, Cursors, KeyWrites, Kind, Observed};
use super::order::Clocks;
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

/// The order a view keeps besides the forced ones.
#[derive(Clone, Copy)]
pub enum Order<'a> {
    /// Program order, plus reads-from into the process's own reads (PRAM).
    Program,
    /// The causal order, by its clocks (causal memory).
    Causal(&'a Clocks),
}

/// A cycle, or a read of the initial value after a write: the reference decides.
struct Suspect;

/// A write that must precede the write a read read: the access, its process and its
/// position there.
struct Source {
    access: AccessId,
    process: u32,
    pos: u32,
}

struct Events<'a> {
    obs: &'a Observed,
    order: Order<'a>,
    width: usize,
    /// Per process: positions of its events, ascending, with each event's index.
    of: Vec<Vec<(u32, u32)>>,
    /// Per event: its access.
    access: Vec<AccessId>,
    /// Per access: its event, or `NONE`.
    event_of: Vec<u32>,
    /// Per event: `width` counts (how many of each process's accesses precede it or
    /// are it).
    clocks: Vec<u32>,
    /// Per event: the events whose clock it joins into.
    out: Vec<Vec<u32>>,
    /// Events whose clock grew and is not yet joined into its successors.
    work: Vec<u32>,
    /// A clock's worth of scratch.
    scratch: Vec<u32>,
}

impl Events<'_> {
    fn at(&self, a: AccessId) -> (u32, u32) {
        let acc = &self.obs.accesses[a as usize];
        (acc.process, acc.pos)
    }

    /// The last event of process `q` at a position below `bound`.
    fn cover_below(&self, q: u32, bound: u32) -> u32 {
        let list = &self.of[q as usize];
        let n = list.partition_point(|&(p, _)| p < bound);
        n.checked_sub(1).map_or(NONE, |i| list[i].1)
    }

    /// The event that is access `a` (which must be one).
    fn event(&self, a: AccessId) -> u32 {
        self.event_of[a as usize]
    }

    fn clock(&self, e: u32) -> &[u32] {
        let i = e as usize * self.width;
        &self.clocks[i..i + self.width]
    }

    /// How many of process `q`'s accesses are `a` or precede it in the base order.
    fn base_bound(&self, a: AccessId, q: usize) -> u32 {
        match self.order {
            Order::Causal(co) => co.of(a)[q],
            Order::Program => {
                let (p, pos) = self.at(a);
                if p as usize == q {
                    pos + 1
                } else {
                    0
                }
            }
        }
    }

    /// The events covering `a`'s past in the base order (at most one per process,
    /// `a` itself if it is an event), into `out`.
    fn covers(&self, a: AccessId, out: &mut Vec<u32>) {
        out.clear();
        match self.order {
            Order::Causal(co) => {
                for (q, &bound) in co.of(a).iter().enumerate() {
                    let c = self.cover_below(q as u32, bound);
                    if c != NONE {
                        out.push(c);
                    }
                }
            }
            Order::Program => {
                let (q, pos) = self.at(a);
                let c = self.cover_below(q, pos + 1);
                if c != NONE {
                    out.push(c);
                }
            }
        }
    }

    /// Joins `contribution` into event `d`'s clock; whether it grew. `Err` when the
    /// contribution has `d` itself in the past of what precedes it (a cycle).
    fn join(&mut self, d: u32, contribution: &[u32]) -> Result<bool, Suspect> {
        let (q, pos) = self.at(self.access[d as usize]);
        if contribution[q as usize] > pos {
            return Err(Suspect);
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

    /// Joins the base past of access `src` into event `d`.
    fn join_base(&mut self, d: u32, src: AccessId) -> Result<bool, Suspect> {
        let mut contribution = std::mem::take(&mut self.scratch);
        for (q, slot) in contribution.iter_mut().enumerate() {
            *slot = self.base_bound(src, q);
        }
        let grew = self.join(d, &contribution);
        self.scratch = contribution;
        grew
    }

    /// Joins event `c`'s clock into event `d`'s (another event).
    fn join_event(&mut self, d: u32, c: u32) -> Result<bool, Suspect> {
        let (q, pos) = self.at(self.access[d as usize]);
        let w = self.width;
        let (d, c) = (d as usize, c as usize);
        let (into, from) = if d < c {
            let (low, high) = self.clocks.split_at_mut(c * w);
            (&mut low[d * w..d * w + w], &high[..w])
        } else if d > c {
            let (low, high) = self.clocks.split_at_mut(d * w);
            (&mut high[..w], &low[c * w..c * w + w])
        } else {
            return Err(Suspect);
        };
        if from[q as usize] > pos {
            return Err(Suspect);
        }
        let mut grew = false;
        for (x, &y) in into.iter_mut().zip(from) {
            if y > *x {
                *x = y;
                grew = true;
            }
        }
        Ok(grew)
    }

    /// Adds the order `src -> d` (event `d`) after the start: joined now, and queued
    /// for propagation if `d` grew.
    fn add_order(&mut self, src: AccessId, d: u32, covers: &mut Vec<u32>) -> Result<(), Suspect> {
        // The events covering `src`'s base past, but for those already in `d`'s past
        // (whose past is, for good): judged before anything of this order is joined.
        covers.clear();
        let chains = match self.order {
            Order::Causal(_) => 0..self.width,
            Order::Program => {
                let q = self.at(src).0 as usize;
                q..q + 1
            }
        };
        for q in chains {
            let bound = self.base_bound(src, q);
            let known = self.clock(d)[q];
            if bound <= known {
                continue;
            }
            let c = self.cover_below(q as u32, bound);
            if c != NONE && known <= self.at(self.access[c as usize]).1 {
                covers.push(c);
            }
        }
        let mut grew = self.join_base(d, src)?;
        for &c in covers.iter() {
            self.out[c as usize].push(d);
            grew |= self.join_event(d, c)?;
        }
        if grew {
            self.work.push(d);
        }
        Ok(())
    }

    /// Joins every grown clock into its successors inside `limit` (a past: per
    /// process, how many of its accesses are in it) until none grows.
    fn propagate(
        &mut self,
        limit: &[u32],
        budget: &Budget,
        steps: &mut u32,
    ) -> Result<bool, Suspect> {
        while let Some(e) = self.work.pop() {
            *steps = steps.wrapping_add(1);
            if steps.is_multiple_of(4096) && budget.expired() {
                return Ok(false);
            }
            for i in 0..self.out[e as usize].len() {
                let d = self.out[e as usize][i];
                let (q, pos) = self.at(self.access[d as usize]);
                if limit[q as usize] <= pos {
                    continue;
                }
                if self.join_event(d, e)? {
                    self.work.push(d);
                }
            }
        }
        Ok(true)
    }

    /// Every event's predecessors' clocks joined into it, in a topological order of
    /// the events (Kahn); `Err` on a cycle.
    fn topological(&mut self) -> Result<(), Suspect> {
        let m = self.access.len();
        let mut indegree = vec![0u32; m];
        for list in &self.out {
            for &d in list {
                indegree[d as usize] += 1;
            }
        }
        let mut ready: Vec<u32> = (0..m as u32)
            .filter(|&e| indegree[e as usize] == 0)
            .collect();
        let mut done = 0usize;
        while let Some(e) = ready.pop() {
            done += 1;
            for i in 0..self.out[e as usize].len() {
                let d = self.out[e as usize][i];
                self.join_event(d, e)?;
                indegree[d as usize] -= 1;
                if indegree[d as usize] == 0 {
                    ready.push(d);
                }
            }
        }
        if done < m {
            return Err(Suspect);
        }
        Ok(())
    }

    /// The orders read `r` (an access of the process) needs that its past does not
    /// have yet, as sources into the event of the write it read, into `out`.
    fn needed(
        &self,
        r: AccessId,
        writes: &KeyWrites,
        cursors: &mut Cursors,
        out: &mut Vec<Source>,
    ) -> Result<u32, Suspect> {
        out.clear();
        let acc = &self.obs.accesses[r as usize];
        let Kind::Read { from } = acc.kind else {
            return Ok(NONE);
        };
        let clock = self.clock(self.event(r));
        let Some(w) = from else {
            for (q, list) in writes.of(acc.key) {
                if last_before(list, clock[*q as usize]).is_some() {
                    return Err(Suspect);
                }
            }
            return Ok(NONE);
        };
        let w_ev = self.event(w);
        let w_clock = self.clock(w_ev);
        let first = writes.first_slot(acc.key);
        for (i, (q, list)) in writes.of(acc.key).iter().enumerate() {
            let q = *q as usize;
            // Where `r`'s past holds no more of `q` than `w`'s, the last write of `q`
            // there is in `w`'s past already: no search needed.
            if clock[q] <= w_clock[q] {
                continue;
            }
            let Some((pos2, w2)) = cursors.last_before(first + i, list, clock[q]) else {
                continue;
            };
            // Unless `w2` is `w` or precedes it already.
            if pos2 >= w_clock[q] {
                out.push(Source {
                    access: w2,
                    process: q as u32,
                    pos: pos2,
                });
            }
        }
        Ok(w_ev)
    }
}

/// Decides whether process `p` has a view over `order` (see the module doc for what
/// each answer means).
pub fn view_of(obs: &Observed, p: u32, order: Order, writes: &KeyWrites, budget: &Budget) -> Fast {
    match sweep(obs, p, order, writes, budget) {
        Ok(true) => Fast::Holds,
        Ok(false) => Fast::OutOfTime,
        Err(Suspect) => Fast::Suspect,
    }
}

fn sweep(
    obs: &Observed,
    p: u32,
    order: Order,
    writes: &KeyWrites,
    budget: &Budget,
) -> Result<bool, Suspect> {
    let width = obs.processes.len();
    let mine = &obs.by_process[p as usize];
    let mut chosen: Vec<AccessId> = Vec::new();
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
        order,
        width,
        of: vec![Vec::new(); width],
        access: chosen,
        event_of: vec![NONE; obs.accesses.len()],
        clocks: vec![0u32; m * width],
        out: vec![Vec::new(); m],
        work: Vec::new(),
        scratch: vec![0u32; width],
    };
    for e in 0..m {
        let (q, pos) = key(ev.access[e]);
        ev.of[q as usize].push((pos, e as u32));
        ev.event_of[ev.access[e] as usize] = e as u32;
    }
    // The base: each event's base past, the previous event of its chain, and (causal
    // memory) the events of other chains covering it, leaving out those that cover
    // the previous event too (already in that one's past). Along a chain the base
    // past only grows, so on each other chain the cover only moves forward.
    let mut reached: Vec<usize> = vec![0; width];
    for q in 0..width {
        reached.fill(0);
        for i in 0..ev.of[q].len() {
            let e = ev.of[q][i].1;
            let a = ev.access[e as usize];
            for r in 0..width {
                ev.clocks[e as usize * width + r] = ev.base_bound(a, r);
            }
            if i > 0 {
                let prev = ev.of[q][i - 1].1;
                ev.out[prev as usize].push(e);
            }
            let Order::Causal(co) = order else { continue };
            for (r, &bound) in co.of(a).iter().enumerate() {
                if r == q {
                    continue;
                }
                let list = &ev.of[r];
                let mut n = reached[r];
                while n < list.len() && list[n].0 < bound {
                    n += 1;
                }
                if n != reached[r] {
                    reached[r] = n;
                    ev.out[list[n - 1].1 as usize].push(e);
                }
            }
        }
    }
    let mut covers: Vec<u32> = Vec::new();
    // PRAM: reads-from into the process's reads.
    if let Order::Program = order {
        for &a in mine {
            if let Kind::Read { from: Some(w) } = obs.accesses[a as usize].kind {
                let d = ev.event(a);
                ev.join_base(d, w)?;
                ev.covers(w, &mut covers);
                for &c in &covers {
                    ev.out[c as usize].push(d);
                }
            }
        }
    }
    if budget.expired() {
        return Ok(false);
    }
    ev.topological()?;
    // The sweep: each read, last to first, once the orders of the reads after it
    // are propagated.
    // Propagation stops at the past of the read last looked at (see the module doc).
    let mut limit: Vec<u32> = vec![u32::MAX; width];
    let mut sources: Vec<Source> = Vec::new();
    let mut cursors = writes.cursors();
    let mut steps = 0u32;
    for &r in mine.iter().rev() {
        if !ev.propagate(&limit, budget, &mut steps)? {
            return Ok(false);
        }
        let w_ev = ev.needed(r, writes, &mut cursors, &mut sources)?;
        if w_ev == NONE {
            continue;
        }
        limit.copy_from_slice(ev.clock(ev.event(r)));
        for src in &sources {
            // An order added just before may imply this one.
            if ev.clock(w_ev)[src.process as usize] <= src.pos {
                ev.add_order(src.access, w_ev, &mut covers)?;
            }
        }
    }
    ev.propagate(&limit, budget, &mut steps)
}

#[cfg(test)]
mod tests;

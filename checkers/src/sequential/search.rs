//! The search for a sequentially consistent order of one component (a set of
//! processes and the keys they touch): depth-first over which process goes next,
//! each process's ops in program order, with a memo of (positions of every process,
//! state of every key) already explored. The memo only prunes repeated work; when it
//! outgrows its budget it is cleared, so the answer stays exact.

use std::collections::HashSet;

use crate::history::Op;
use crate::model::Model;
use crate::verdict::Budget;

/// One component's ops: per process, in program order, with each op's key slot.
pub struct Component<'a> {
    /// Per process: its ops (failed ops and indeterminate reads already removed).
    pub processes: Vec<Vec<&'a Op>>,
    /// Per process: how many of its ops must be placed (`ok` ops; an indeterminate op
    /// is always a process's last and may be left out).
    pub required: Vec<usize>,
    /// Per process, per op: the index of the op's key in the state vector.
    pub slots: Vec<Vec<usize>>,
    /// How many keys.
    pub keys: usize,
}

/// What the search found.
pub enum Found<S> {
    /// A legal order exists.
    Consistent,
    /// No legal order exists; with tracking, the deepest attempt.
    Inconsistent(Option<Deepest<S>>),
    /// The budget ran out.
    Unknown,
}

/// The deepest point a failed search reached.
pub struct Deepest<S> {
    /// The longest legal order found, as (process, position) pairs.
    pub prefix: Vec<(usize, usize)>,
    /// The next op of each unfinished process at that point: (process, position).
    pub blocked: Vec<(usize, usize)>,
    /// The key states after the prefix.
    pub states: Vec<S>,
}

/// One level of the depth-first search.
struct Frame<S> {
    /// Processes to try at this level, best first.
    candidates: Vec<usize>,
    /// The next candidate to try.
    next: usize,
    /// The move that led here: (process, key slot, state before), to undo.
    undo: Option<(usize, usize, S)>,
}

/// Searches for a sequentially consistent order of `c` from `init` (every key).
pub fn search<M: Model>(
    model: &M,
    c: &Component<'_>,
    budget: &Budget,
    track: bool,
) -> Found<M::State> {
    let procs = c.processes.len();
    let mut pos = vec![0u32; procs];
    let mut states: Vec<M::State> = vec![model.init(); c.keys];
    let mut memo: HashSet<(Vec<u32>, Vec<M::State>)> = HashSet::new();
    let memo_limit = budget.memory_bytes.unwrap_or(512 << 20);
    let entry_bytes = 64 + procs * 4 + c.keys * std::mem::size_of::<M::State>();
    let mut steps: u64 = 0;
    let mut placed: Vec<(usize, usize)> = Vec::new();
    let mut deepest: Option<Deepest<M::State>> = None;
    let done = |pos: &[u32]| pos.iter().zip(&c.required).all(|(&p, &r)| p as usize >= r);
    let candidates = |pos: &[u32]| {
        let mut v: Vec<usize> = (0..procs)
            .filter(|&p| (pos[p] as usize) < c.processes[p].len())
            .collect();
        v.sort_by_key(|&p| c.processes[p][pos[p] as usize].invoke_index);
        v
    };
    let mut stack = vec![Frame {
        candidates: candidates(&pos),
        next: 0,
        undo: None,
    }];
    while let Some(frame) = stack.last_mut() {
        if done(&pos) {
            return Found::Consistent;
        }
        steps += 1;
        if steps & 0x3ff == 0 && budget.expired() {
            return Found::Unknown;
        }
        if frame.next < frame.candidates.len() {
            let p = frame.candidates[frame.next];
            frame.next += 1;
            let i = pos[p] as usize;
            let op = c.processes[p][i];
            let slot = c.slots[p][i];
            let Some(new_state) = model.step(&states[slot], op) else {
                continue;
            };
            let old = std::mem::replace(&mut states[slot], new_state);
            pos[p] += 1;
            if memo.len() * entry_bytes > memo_limit {
                memo.clear();
            }
            if memo.insert((pos.clone(), states.clone())) {
                placed.push((p, i));
                stack.push(Frame {
                    candidates: candidates(&pos),
                    next: 0,
                    undo: Some((p, slot, old)),
                });
            } else {
                pos[p] -= 1;
                states[slot] = old;
            }
        } else {
            if track
                && deepest
                    .as_ref()
                    .is_none_or(|d| placed.len() > d.prefix.len())
            {
                deepest = Some(Deepest {
                    prefix: placed.clone(),
                    blocked: (0..procs)
                        .filter(|&q| (pos[q] as usize) < c.processes[q].len())
                        .map(|q| (q, pos[q] as usize))
                        .collect(),
                    states: states.clone(),
                });
            }
            let frame = stack.pop().expect("a frame");
            if let Some((p, slot, old)) = frame.undo {
                pos[p] -= 1;
                states[slot] = old;
                placed.pop();
            }
        }
    }
    Found::Inconsistent(deepest)
}

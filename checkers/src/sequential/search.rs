//! The search for a sequentially consistent order of one component (a set of
//! processes and the keys they touch).
//!
//! Depth-first over which process moves next: each process's ops are taken in program
//! order; a required op must be placed, an optional op (indeterminate, or relaxed
//! while shrinking a window) is either placed or skipped. A memo of (position of every
//! process, state of every key) already explored turns repeated work into a lookup:
//! a node in the memo has no legal completion.
//!
//! Three reductions keep it small, each sound (it never removes the last legal
//! completion of a node):
//! - **A legal read goes first.** If a process's next op is a required read that is
//!   legal now, it is placed at once and nothing else is tried at that node: in any
//!   legal completion the read can be moved to the front (it changes no state and
//!   nothing of its own process comes before it).
//! - **A private key's op goes first.** If a process's next op is a required op on a
//!   key no other process of the component touches, it is placed at once (or the node
//!   is a dead end if it is illegal): that key's state when the op runs does not
//!   depend on the interleaving.
//! - **Reads pinned to unique writes** (register-like components): a value with a
//!   single source (one write or cas, or only the initial value) cannot come back
//!   once overwritten, so an op that would overwrite it while a required op still has
//!   to observe it is not tried.
//!
//! Budget: the deadline turns an unfinished search into [`Found::Unknown`]; so does a
//! memo that outgrows an explicit memory budget. Without one, a memo past 512 MiB is
//! cleared instead (it only prunes repeated work, so the answer stays exact).

use std::collections::{HashMap, HashSet};

use super::graph::{derive, Derived, Order};
use crate::history::{Op, F};
use crate::model::{cas_pair, Model};
use crate::value::Value;
use crate::verdict::Budget;

/// Memo size at which, without an explicit memory budget, the memo is cleared.
const DEFAULT_MEMO_BYTES: usize = 512 << 20;

/// One op as the search sees it.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// The history's op.
    pub op: &'a Op,
    /// Whether every legal order must include it.
    pub required: bool,
    /// The index of its key in the state vector.
    pub slot: usize,
    /// Register-like components: the id of the value it leaves in its key.
    pub(super) writes: Option<u32>,
    /// Register-like components, required ops: the id of the value it observes.
    pub(super) observes: Option<u32>,
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// Nowhere (no op writes it, and it is not the initial value).
    Nowhere,
    /// The initial value of the key.
    Initial,
    /// An op: (process, position); for a value with several sources, the last seen.
    Op(usize, usize),
}

/// Value ids of a register-like component: which have a single source.
#[derive(Debug)]
pub(super) struct Values {
    /// Per value id: at most one source.
    pub(super) unique: Vec<bool>,
    /// Per value id: its source (the only one, for unique values).
    pub(super) source: Vec<Source>,
    /// Per key slot: the id of the initial value.
    pub(super) initial: Vec<u32>,
}

/// One component's ops, ready to search.
#[derive(Debug)]
pub struct Component<'a> {
    /// Per process: its ops in program order (failed ops and indeterminate reads are
    /// never given to a component).
    pub processes: Vec<Vec<Step<'a>>>,
    /// How many keys.
    pub keys: usize,
    /// Per key slot: the only process that touches it, if just one does.
    owner: Vec<Option<usize>>,
    /// Per process: the position just after its last required op.
    need: Vec<usize>,
    /// Value ids, for register-like components.
    pub(super) values: Option<Values>,
    /// Ordering constraints derived from the values (register-like components).
    order: Option<Order>,
    /// Whether the derived constraints already contradict each other.
    impossible: bool,
}

impl<'a> Component<'a> {
    /// A component of `ops` (each with whether it is required), whose keys are
    /// `keys` (every op's key must be among them). Process order is the order of
    /// first appearance in `ops`; each process's ops are put in invoke order. With
    /// `register_initial` (register-like models: read, write and cas only, with exact
    /// value equality), the unique-value reduction is on, from that initial value.
    pub fn new(
        ops: &[(&'a Op, bool)],
        keys: &[Option<Value>],
        register_initial: Option<&Value>,
    ) -> Component<'a> {
        let mut order: Vec<u64> = Vec::new();
        let mut processes: Vec<Vec<Step<'a>>> = Vec::new();
        for &(op, required) in ops {
            let p = match order.iter().position(|&q| q == op.process) {
                Some(p) => p,
                None => {
                    order.push(op.process);
                    processes.push(Vec::new());
                    processes.len() - 1
                }
            };
            let slot = keys
                .iter()
                .position(|k| *k == op.key)
                .expect("the op's key is one of the component's");
            processes[p].push(Step {
                op,
                required,
                slot,
                writes: None,
                observes: None,
            });
        }
        for steps in &mut processes {
            steps.sort_by_key(|s| s.op.invoke_index);
        }
        let mut owner: Vec<Option<Option<usize>>> = vec![None; keys.len()];
        for (p, steps) in processes.iter().enumerate() {
            for s in steps {
                owner[s.slot] = match owner[s.slot] {
                    None => Some(Some(p)),
                    Some(Some(q)) if q == p => Some(Some(p)),
                    _ => Some(None),
                };
            }
        }
        let need = need(&processes);
        let mut c = Component {
            processes,
            keys: keys.len(),
            owner: owner.into_iter().map(Option::flatten).collect(),
            need,
            values: None,
            order: None,
            impossible: false,
        };
        if let Some(initial) = register_initial {
            c.values = c.value_ids(initial);
            match derive(&c) {
                Some(Derived::Order(o)) => c.order = Some(o),
                Some(Derived::Impossible) => c.impossible = true,
                None => {}
            }
        }
        c
    }

    /// Assigns value ids per key and finds the values with a single source (and
    /// where it is); `None` if some op is not a read, write or well-formed cas. An
    /// optional op that is the single source of a value a required op observes is
    /// made required: it must have happened.
    fn value_ids(&mut self, initial: &Value) -> Option<Values> {
        let mut ids: HashMap<(usize, Value), u32> = HashMap::new();
        let mut count: Vec<u32> = Vec::new();
        let mut source: Vec<Source> = Vec::new();
        let mut id = |slot: usize, v: &Value, count: &mut Vec<u32>, source: &mut Vec<Source>| {
            let n = ids.len() as u32;
            let id = *ids.entry((slot, v.clone())).or_insert(n);
            if id as usize == count.len() {
                count.push(0);
                source.push(Source::Nowhere);
            }
            id
        };
        let initial: Vec<u32> = (0..self.keys)
            .map(|slot| {
                let i = id(slot, initial, &mut count, &mut source);
                count[i as usize] += 1;
                source[i as usize] = Source::Initial;
                i
            })
            .collect();
        // Per op: the value id it observes, if any (whether required or not).
        let mut seen: Vec<Vec<Option<u32>>> = Vec::new();
        for (p, steps) in self.processes.iter_mut().enumerate() {
            let mut row = Vec::with_capacity(steps.len());
            for (i, s) in steps.iter_mut().enumerate() {
                let (writes, observes) = match s.op.f {
                    F::Read => (None, Some(&s.op.value)),
                    F::Write => (Some(&s.op.value), None),
                    F::Cas => {
                        let (e, n) = cas_pair(&s.op.value)?;
                        (Some(n), Some(e))
                    }
                    _ => return None,
                };
                if let Some(w) = writes {
                    let w = id(s.slot, w, &mut count, &mut source);
                    count[w as usize] += 1;
                    source[w as usize] = Source::Op(p, i);
                    s.writes = Some(w);
                }
                row.push(observes.map(|v| id(s.slot, v, &mut count, &mut source)));
            }
            seen.push(row);
        }
        let unique: Vec<bool> = count.iter().map(|&n| n <= 1).collect();
        // Required observers make their unique optional sources required. (Indexes,
        // not iterators: the loop body writes to other processes' steps.)
        #[allow(clippy::needless_range_loop)]
        loop {
            let mut changed = false;
            for p in 0..self.processes.len() {
                for i in 0..self.processes[p].len() {
                    let Some(v) = seen[p][i].filter(|_| self.processes[p][i].required) else {
                        continue;
                    };
                    if let (true, Source::Op(q, j)) = (unique[v as usize], source[v as usize]) {
                        if !self.processes[q][j].required {
                            self.processes[q][j].required = true;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for (p, steps) in self.processes.iter_mut().enumerate() {
            for (i, s) in steps.iter_mut().enumerate() {
                s.observes = seen[p][i].filter(|_| s.required);
            }
        }
        self.need = need(&self.processes);
        Some(Values {
            unique,
            source,
            initial,
        })
    }

    /// How many ops in all.
    pub fn len(&self) -> usize {
        self.processes.iter().map(Vec::len).sum()
    }

    /// Whether there are no ops.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per process: the position just after its last required op.
fn need(processes: &[Vec<Step<'_>>]) -> Vec<usize> {
    processes
        .iter()
        .map(|steps| steps.iter().rposition(|s| s.required).map_or(0, |i| i + 1))
        .collect()
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
#[derive(Debug)]
pub struct Deepest<S> {
    /// The longest legal order found, as (process, position) pairs (skipped optional
    /// ops are not in it).
    pub prefix: Vec<(usize, usize)>,
    /// The next op of each unfinished process at that point: (process, position).
    pub blocked: Vec<(usize, usize)>,
    /// The key states after the prefix.
    pub states: Vec<S>,
}

/// A move: a process places its next op, or skips it (optional ops only).
#[derive(Clone, Copy)]
struct Move {
    process: usize,
    skip: bool,
}

/// One level of the depth-first search.
struct Frame<S> {
    /// Moves to try at this level, best first.
    moves: Vec<Move>,
    /// The next move to try.
    next: usize,
    /// The move that led here and the state it replaced, to undo.
    undo: Option<Undo<S>>,
}

/// The search's mutable position: where each process is, every key's state, and
/// (register-like) every key's value id and how many observers each value awaits.
struct Position<S> {
    pos: Vec<u32>,
    states: Vec<S>,
    current: Vec<u32>,
    pending: Vec<u32>,
}

/// Searches for a sequentially consistent order of `c`, every key starting from the
/// model's initial state. `track` records the deepest attempt (for evidence).
pub fn search<M: Model>(
    model: &M,
    c: &Component<'_>,
    budget: &Budget,
    track: bool,
) -> Found<M::State> {
    let procs = c.processes.len();
    if c.impossible {
        return Found::Inconsistent(track.then(|| {
            Deepest {
                prefix: Vec::new(),
                blocked: (0..procs)
                    .filter(|&p| !c.processes[p].is_empty())
                    .map(|p| (p, 0))
                    .collect(),
                states: vec![model.init(); c.keys],
            }
        }));
    }
    let mut at = Position {
        pos: vec![0u32; procs],
        states: vec![model.init(); c.keys],
        current: c.values.as_ref().map_or(Vec::new(), |v| v.initial.clone()),
        pending: Vec::new(),
    };
    if let Some(v) = &c.values {
        at.pending = vec![0; v.unique.len()];
        for s in c.processes.iter().flatten() {
            if let Some(o) = s.observes {
                at.pending[o as usize] += 1;
            }
        }
    }
    let memo_limit = budget.memory_bytes.unwrap_or(DEFAULT_MEMO_BYTES);
    let entry_bytes = 64 + procs * 4 + c.keys * (16 + std::mem::size_of::<M::State>());
    let mut memo: HashSet<(Vec<u32>, Vec<M::State>)> = HashSet::new();
    let mut steps: u64 = 0;
    let mut placed: Vec<(usize, usize)> = Vec::new();
    let mut deepest: Option<Deepest<M::State>> = None;
    let done = |pos: &[u32]| pos.iter().zip(&c.need).all(|(&p, &n)| p as usize >= n);
    let mut stack = vec![Frame {
        moves: moves(model, c, &at),
        next: 0,
        undo: None,
    }];
    while let Some(frame) = stack.last_mut() {
        if done(&at.pos) {
            return Found::Consistent;
        }
        steps += 1;
        if steps & 0x3ff == 0 && budget.expired() {
            return Found::Unknown;
        }
        if frame.next < frame.moves.len() {
            let m = frame.moves[frame.next];
            frame.next += 1;
            let Some(u) = apply(model, c, &mut at, m) else {
                continue;
            };
            if memo.len() * entry_bytes > memo_limit {
                if budget.memory_bytes.is_some() {
                    return Found::Unknown;
                }
                memo.clear();
            }
            if memo.insert((at.pos.clone(), at.states.clone())) {
                if !m.skip {
                    placed.push((m.process, at.pos[m.process] as usize - 1));
                }
                stack.push(Frame {
                    moves: moves(model, c, &at),
                    next: 0,
                    undo: Some(u),
                });
            } else {
                undo(c, &mut at, u);
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
                        .filter(|&q| (at.pos[q] as usize) < c.processes[q].len())
                        .map(|q| (q, at.pos[q] as usize))
                        .collect(),
                    states: at.states.clone(),
                });
            }
            let frame = stack.pop().expect("a frame");
            if let Some(u) = frame.undo {
                if !u.m.skip {
                    placed.pop();
                }
                undo(c, &mut at, u);
            }
        }
    }
    Found::Inconsistent(deepest)
}

/// The moves worth trying at `at`, best first: a forced move alone if there is one
/// (see the module doc), else every process's next op in invoke order, then the
/// skips of optional ops.
fn moves<M: Model>(model: &M, c: &Component<'_>, at: &Position<M::State>) -> Vec<Move> {
    let mut places: Vec<(u64, usize)> = Vec::new();
    let mut skips: Vec<Move> = Vec::new();
    for (p, steps) in c.processes.iter().enumerate() {
        let i = at.pos[p] as usize;
        let Some(s) = steps.get(i) else {
            continue;
        };
        if c.order.as_ref().is_some_and(|o| !o.ready(p, i, &at.pos)) {
            continue;
        }
        if s.required {
            let private = c.owner[s.slot] == Some(p);
            if private || s.op.f == F::Read {
                let legal = model.step(&at.states[s.slot], s.op).is_some();
                if legal {
                    return vec![Move {
                        process: p,
                        skip: false,
                    }];
                }
                if private {
                    return Vec::new();
                }
            }
        } else {
            skips.push(Move {
                process: p,
                skip: true,
            });
        }
        let rank = match &c.order {
            Some(o) => u64::from(o.rank(p, i)),
            None => s.op.invoke_index,
        };
        places.push((rank, p));
    }
    places.sort_unstable();
    let mut out: Vec<Move> = places
        .into_iter()
        .map(|(_, p)| Move {
            process: p,
            skip: false,
        })
        .collect();
    out.extend(skips);
    out
}

/// What undoes a move: the move, the replaced state of the op's key and (register-like)
/// the key's replaced value id; `None`s for a skip.
struct Undo<S> {
    m: Move,
    state: Option<S>,
    value: Option<u32>,
}

/// Makes move `m` if it is legal (and not pruned); returns how to undo it.
fn apply<M: Model>(
    model: &M,
    c: &Component<'_>,
    at: &mut Position<M::State>,
    m: Move,
) -> Option<Undo<M::State>> {
    let p = m.process;
    let s = &c.processes[p][at.pos[p] as usize];
    if m.skip {
        at.pos[p] += 1;
        return Some(Undo {
            m,
            state: None,
            value: None,
        });
    }
    let new = model.step(&at.states[s.slot], s.op)?;
    let mut value = None;
    if let Some(values) = &c.values {
        let cur = at.current[s.slot];
        if let Some(w) = s.writes.filter(|&w| w != cur) {
            let own = u32::from(s.observes == Some(cur));
            if values.unique[cur as usize] && at.pending[cur as usize] > own {
                return None;
            }
            at.current[s.slot] = w;
            value = Some(cur);
        }
        if let Some(o) = s.observes {
            at.pending[o as usize] -= 1;
        }
    }
    at.pos[p] += 1;
    Some(Undo {
        m,
        state: Some(std::mem::replace(&mut at.states[s.slot], new)),
        value,
    })
}

/// Takes back a move made by [`apply`].
fn undo<S>(c: &Component<'_>, at: &mut Position<S>, u: Undo<S>) {
    let p = u.m.process;
    at.pos[p] -= 1;
    let Some(old) = u.state else { return };
    let s = &c.processes[p][at.pos[p] as usize];
    at.states[s.slot] = old;
    if let Some(v) = u.value {
        at.current[s.slot] = v;
    }
    if c.values.is_some() {
        if let Some(o) = s.observes {
            at.pending[o as usize] += 1;
        }
    }
}

//! The search for a linearization of one key's operations: the Wing–Gong–Lowe
//! algorithm as Porcupine runs it (a list of call and return entries; linearize calls
//! in order, lift them out of the list, backtrack at a return), with a memo of
//! (linearized set, model state) pairs already explored.
//!
//! Two things keep it small on long histories:
//! - the linearized set is keyed compactly: the number of leading words of the bitset
//!   that are full, then only the words after them (a run advances a frontier with a
//!   few dozen ops beyond it, so keys stay a few words long);
//! - the memo only prunes repeated work, so when it grows past its budget it is
//!   cleared rather than allowed to exhaust memory: the answer stays exact.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use std::collections::HashMap;

use crate::history::{Op, Outcome, F};
use crate::model::{cas_pair, Model};
use crate::value::Value;
use crate::verdict::Budget;

/// One operation as the search sees it.
#[derive(Clone, Copy, Debug)]
pub struct SearchOp<'a> {
    /// The history's op.
    pub op: &'a Op,
    /// Order key of its call entry.
    pub call: u64,
    /// Order key of its return entry (`u64::MAX`: never returns, may be omitted).
    pub ret: u64,
    /// Whether a linearization must include it (false for indeterminate ops).
    pub required: bool,
    /// Register-like keys: the id of the value this op leaves in the register.
    pub writes: Option<u32>,
    /// Register-like keys: the id of the value this required op observes (a read's
    /// result, an `ok` cas's expected value).
    pub observes: Option<u32>,
}

/// What the search knows about values (register-like keys only): which value ids
/// have a single source, and the id of the initial value.
#[derive(Clone, Debug, Default)]
pub struct Values {
    /// Per value id: written by exactly one op (or only the initial value).
    pub unique: Vec<bool>,
    /// The initial value's id.
    pub initial: u32,
}

/// What a search found.
#[derive(Debug)]
pub enum Found<S> {
    /// A legal order exists.
    Linearizable,
    /// No legal order exists. With tracking on, the deepest attempt.
    NotLinearizable(Option<Deepest<S>>),
    /// The budget ran out first.
    Unknown,
}

/// The deepest point a failed search reached.
#[derive(Debug, Clone)]
pub struct Deepest<S> {
    /// Positions (into the search's op list) of the longest legal prefix, in order.
    pub prefix: Vec<usize>,
    /// Position of the op that could not be placed after that prefix.
    pub culprit: usize,
    /// The model state after the prefix.
    pub state: S,
}

/// Entries of the call/return list.
#[derive(Clone, Copy)]
struct Entry {
    op: u32,
    is_call: bool,
    /// For calls, the index of the matching return entry.
    partner: u32,
}

/// Memo key: the linearized set (compact) and the state.
#[derive(PartialEq, Eq)]
struct Key<S> {
    full_words: u32,
    rest: Box<[u64]>,
    state: S,
}

impl<S: Hash> Hash for Key<S> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.full_words.hash(h);
        self.rest.hash(h);
        self.state.hash(h);
    }
}

/// Approximate bytes a memo entry costs, for the memory budget.
fn entry_bytes<S>(rest_words: usize) -> usize {
    48 + std::mem::size_of::<S>() + rest_words * 8
}

/// Searches for a linearization of `ops` (in call order) from `init`.
/// `track` records the deepest attempt for evidence (slower).
///
/// With `values` (register-like keys), one more sound pruning: a value with a single
/// source can never come back once overwritten, so an op that would overwrite it while
/// a required op still has to observe it is not tried.
pub fn search<M: Model>(
    model: &M,
    ops: &[SearchOp<'_>],
    init: M::State,
    values: Option<&Values>,
    budget: &Budget,
    track: bool,
) -> Found<M::State> {
    let n = ops.len();
    let mut required_left = ops.iter().filter(|o| o.required).count();
    if required_left == 0 {
        return Found::Linearizable;
    }
    // Entries sorted by order key; a sentinel head at index n*2.
    let mut order: Vec<(u64, bool, u32)> = Vec::with_capacity(2 * n);
    for (i, o) in ops.iter().enumerate() {
        order.push((o.call, true, i as u32));
        order.push((o.ret, false, i as u32));
    }
    // Calls before returns at equal keys (only +inf returns can tie).
    order.sort_unstable_by_key(|&(k, is_call, i)| (k, !is_call, i));
    let head = 2 * n;
    let mut entries: Vec<Entry> = Vec::with_capacity(2 * n + 1);
    let mut ret_at = vec![0u32; n];
    for (pos, &(_, is_call, i)) in order.iter().enumerate() {
        entries.push(Entry {
            op: i,
            is_call,
            partner: 0,
        });
        if !is_call {
            ret_at[i as usize] = pos as u32;
        }
    }
    for e in entries.iter_mut() {
        if e.is_call {
            e.partner = ret_at[e.op as usize];
        }
    }
    entries.push(Entry {
        op: u32::MAX,
        is_call: false,
        partner: 0,
    });
    const NIL: usize = usize::MAX;
    let mut next: Vec<usize> = (1..=2 * n).collect();
    next[2 * n - 1] = NIL;
    next.push(if n > 0 { 0 } else { NIL });
    let mut prev: Vec<usize> = Vec::with_capacity(2 * n + 1);
    prev.push(head);
    prev.extend(0..2 * n - 1);
    prev.push(NIL);

    let words = n.div_ceil(64);
    let mut bits = vec![0u64; words];
    let mut full_words = 0usize;
    let mut memo: HashSet<Key<M::State>> = HashSet::new();
    let mut memo_bytes = 0usize;
    let memo_limit = budget.memory_bytes.unwrap_or(512 << 20);
    // Stack of (call entry, state before it, max word used before it).
    let mut stack: Vec<(usize, M::State, usize)> = Vec::new();
    let mut hi_word = 0usize;
    let mut state = init;
    let mut deepest: Option<Deepest<M::State>> = None;
    let mut steps: u64 = 0;
    // Register-like pruning: pending required observers per value id; current value.
    let mut pending_obs: Vec<u32> = vec![0; values.map_or(0, |v| v.unique.len())];
    for o in ops {
        if let (Some(v), true) = (o.observes, values.is_some()) {
            pending_obs[v as usize] += 1;
        }
    }
    let mut cur = values.map_or(0, |v| v.initial);
    let mut cur_stack: Vec<u32> = Vec::new();

    let mut entry = next[head];
    loop {
        if required_left == 0 {
            return Found::Linearizable;
        }
        steps += 1;
        if steps & 0x3ff == 0 && budget.expired() {
            return Found::Unknown;
        }
        let e = entries[entry];
        if e.is_call {
            let i = e.op as usize;
            let futile = values.is_some_and(|vals| {
                // Other required observers of the current value still to place (a cas
                // that expects it observes it itself).
                let others = pending_obs[cur as usize] - u32::from(ops[i].observes == Some(cur));
                ops[i]
                    .writes
                    .is_some_and(|w| w != cur && vals.unique[cur as usize] && others > 0)
            });
            let stepped = if futile {
                None
            } else {
                model.step(&state, ops[i].op)
            };
            if let Some(new_state) = stepped {
                let (w, b) = (i / 64, 1u64 << (i % 64));
                bits[w] |= b;
                while full_words < words && bits[full_words] == u64::MAX {
                    full_words += 1;
                }
                let new_hi = hi_word.max(w);
                let rest: Box<[u64]> = if full_words > new_hi {
                    Box::new([])
                } else {
                    bits[full_words..=new_hi].into()
                };
                let key = Key {
                    full_words: full_words as u32,
                    rest,
                    state: new_state.clone(),
                };
                let rest_len = key.rest.len();
                if memo.insert(key) {
                    memo_bytes += entry_bytes::<M::State>(rest_len);
                    if memo_bytes > memo_limit {
                        memo.clear();
                        memo_bytes = 0;
                    }
                    stack.push((entry, std::mem::replace(&mut state, new_state), hi_word));
                    hi_word = new_hi;
                    if values.is_some() {
                        cur_stack.push(cur);
                        if let Some(w) = ops[i].writes {
                            cur = w;
                        }
                        if let Some(v) = ops[i].observes {
                            pending_obs[v as usize] -= 1;
                        }
                    }
                    if ops[i].required {
                        required_left -= 1;
                    }
                    // Lift the call and its return out of the list.
                    let r = e.partner as usize;
                    for x in [entry, r] {
                        let (p, nx) = (prev[x], next[x]);
                        next[p] = nx;
                        if nx != NIL {
                            prev[nx] = p;
                        }
                    }
                    entry = next[head];
                    continue;
                }
                bits[w] &= !b;
                if full_words > w {
                    full_words = w;
                }
            }
            entry = next[entry];
        } else {
            // A return whose op is not linearized: backtrack.
            if track
                && deepest
                    .as_ref()
                    .is_none_or(|d| stack.len() > d.prefix.len())
            {
                deepest = Some(Deepest {
                    prefix: stack
                        .iter()
                        .map(|&(c, _, _)| entries[c].op as usize)
                        .collect(),
                    culprit: e.op as usize,
                    state: state.clone(),
                });
            }
            let Some((call, old_state, old_hi)) = stack.pop() else {
                return Found::NotLinearizable(deepest);
            };
            let i = entries[call].op as usize;
            state = old_state;
            hi_word = old_hi;
            if values.is_some() {
                cur = cur_stack.pop().unwrap_or(cur);
                if let Some(v) = ops[i].observes {
                    pending_obs[v as usize] += 1;
                }
            }
            if ops[i].required {
                required_left += 1;
            }
            let (w, b) = (i / 64, 1u64 << (i % 64));
            bits[w] &= !b;
            if full_words > w {
                full_words = w;
            }
            // Put the call and its return back (reverse order of lifting).
            let r = entries[call].partner as usize;
            for x in [r, call] {
                let (p, nx) = (prev[x], next[x]);
                next[p] = x;
                if nx != NIL {
                    prev[nx] = x;
                }
            }
            entry = next[call];
        }
    }
}

/// Builds the search's view of `ops` (one key's ops in invoke order).
///
/// Failed ops and indeterminate reads are dropped (they had no effect). Every other op
/// calls at its invoke and returns at its completion; an indeterminate op never
/// returns and may be left out. With `register_like` (only read, write and cas on the
/// key), two sound reductions use what the history reveals:
/// - an indeterminate write or cas whose new value no op ever observes (no read
///   returns it, no cas expects it) is dropped: in any legal order that includes it,
///   nothing between it and the next change looks at the state, so leaving it out
///   keeps the order legal;
/// - an indeterminate write or cas whose new value is written by no other op, is not
///   the initial value, and is observed by an `ok` op, certainly happened, before the
///   earliest such observer completed: it becomes a required op returning there.
pub fn prepare<'a>(
    ops: &[&'a Op],
    register_like: bool,
    initial: &Value,
) -> (Vec<SearchOp<'a>>, Option<Values>) {
    let kept = ops.iter().filter(|o| match o.outcome {
        Outcome::Fail => false,
        Outcome::Info => o.f != F::Read,
        Outcome::Ok => true,
    });
    let mut pins: HashMap<&Value, Pin> = HashMap::new();
    if register_like {
        for o in ops.iter().filter(|o| o.outcome != Outcome::Fail) {
            if let Some(v) = written(o) {
                pins.entry(v).or_default().writers += 1;
            }
            let observed = match (&o.f, o.outcome) {
                (F::Read, Outcome::Ok) => Some(&o.value),
                (F::Cas, _) => cas_pair(&o.value).map(|(e, _)| e),
                _ => None,
            };
            if let Some(v) = observed {
                let pin = pins.entry(v).or_default();
                pin.observed = true;
                if o.outcome == Outcome::Ok {
                    let c = o.complete_index.unwrap_or(u64::MAX);
                    pin.first_ok_observer = pin.first_ok_observer.min(c);
                }
            }
        }
    }
    let mut ids: HashMap<Value, u32> = HashMap::new();
    let mut id = |v: &Value| -> u32 {
        let n = ids.len() as u32;
        *ids.entry(if is_absent(v) { Value::Null } else { v.clone() })
            .or_insert(n)
    };
    let initial_id = id(initial);
    let mut sources: HashMap<u32, u32> = HashMap::from([(initial_id, 1)]);
    let mut search_ops = Vec::new();
    for &o in kept {
        let ok = o.outcome == Outcome::Ok;
        let mut s = SearchOp {
            op: o,
            call: o.invoke_index,
            ret: if ok {
                o.complete_index.unwrap_or(u64::MAX)
            } else {
                u64::MAX
            },
            required: ok,
            writes: None,
            observes: None,
        };
        if register_like && !ok {
            if let Some(v) = written(o).filter(|v| !is_absent(v)) {
                let pin = pins.get(v).copied().unwrap_or_default();
                if !pin.observed {
                    continue;
                }
                if pin.writers == 1
                    && v != initial
                    && pin.first_ok_observer > o.invoke_index
                    && pin.first_ok_observer != u64::MAX
                {
                    s.ret = pin.first_ok_observer;
                    s.required = true;
                }
            }
        }
        if register_like {
            if let Some(w) = written(o) {
                let w = id(w);
                *sources.entry(w).or_default() += 1;
                s.writes = Some(w);
            }
            if ok {
                s.observes = match o.f {
                    F::Read => Some(id(&o.value)),
                    F::Cas => cas_pair(&o.value).map(|(e, _)| id(e)),
                    _ => None,
                };
            }
        }
        search_ops.push(s);
    }
    if !register_like {
        return (search_ops, None);
    }
    // Only the ops kept matter: the search places nothing else.
    let mut unique = vec![false; ids.len()];
    for (v, n) in sources {
        unique[v as usize] = n == 1;
    }
    (
        search_ops,
        Some(Values {
            unique,
            initial: initial_id,
        }),
    )
}

/// What the history reveals about one value (register-like keys).
#[derive(Clone, Copy, Debug)]
struct Pin {
    writers: u32,
    observed: bool,
    first_ok_observer: u64,
}

impl Default for Pin {
    fn default() -> Pin {
        Pin {
            writers: 0,
            observed: false,
            first_ok_observer: u64::MAX,
        }
    }
}

/// The value a write or cas would leave in the register.
fn written(o: &Op) -> Option<&Value> {
    match o.f {
        F::Write => Some(&o.value),
        F::Cas => cas_pair(&o.value).map(|(_, n)| n),
        _ => None,
    }
}

/// `null` and `""` both mean "absent" for kv keys: one value id, never pinned or dropped.
fn is_absent(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

//! What a read/write history shows, as the causal, PRAM and session checkers need it:
//! every access that happened, each process's accesses in its program order, and for
//! every read the one write it read from (reads-from).
//!
//! **Assumption: unique writes.** Every value written to a key is written once, and
//! never equals the key's initial value (faultline's workloads make them so). Then a
//! read names exactly one write, or the initial value. Where the history breaks the
//! assumption (two writes of one value to one key, a write of the initial value) the
//! checkers answer `unknown` and say why: with ambiguous reads-from, a verdict could
//! be false.
//!
//! **Outcomes.** `fail` ops never happened: left out (a read of a value only a failed
//! write wrote is a read of a value nobody wrote). `info` reads constrain nothing: left
//! out. An `info` write may or may not have happened: if some read returned its value it
//! happened (it is kept, as its process's last op, which an `info` op always is); if
//! no read returned it, it is left out, which is exact: such a write has no op after
//! it in program order and none reading from it, so it is in no causal chain, no
//! bad pattern and no forced order (leaving it out can only remove constraints, and
//! none of the models here needs a write to be seen).
//!
//! `read`, `write` and `cas` ops are understood. A `cas` `[expected, new]` that
//! happened is a read of `expected` followed, in its process's order, by a write of
//! `new` (the atomicity of a read-modify-write is no part of these models; the
//! linearizable and sequential checkers judge it). A failed `cas` never happened; an
//! `info` one happened if its new value was read, and is left out otherwise. A history
//! with any other op that may have happened (`append`, ...) is refused (`unknown`).

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::history::{key_label, History, Op, Outcome, F};
use crate::value::Value;

/// Index of an [`Access`] in [`Observed::accesses`].
pub type AccessId = u32;

/// One read or write that happened.
#[derive(Clone, Debug)]
pub struct Access {
    /// The op's id in the history ([`Op::id`]).
    pub op: usize,
    /// Index of the process in [`Observed::processes`].
    pub process: u32,
    /// Position in its process's program order (0-based, among kept accesses).
    pub pos: u32,
    /// Index of the key in [`Observed::keys`].
    pub key: u32,
    /// Write, or read and what it read from.
    pub kind: Kind,
    /// Whether it is half of a cas.
    pub cas: bool,
}

/// A write, or a read and the write it read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A write.
    Write,
    /// A read of the write `from`, or of the initial value (`None`).
    Read {
        /// The write read from; `None` for the initial value.
        from: Option<AccessId>,
    },
}

/// A history as accesses, program order and reads-from.
#[derive(Clone, Debug)]
pub struct Observed {
    /// Every kept access, in history (invoke) order.
    pub accesses: Vec<Access>,
    /// Process ids, by process index.
    pub processes: Vec<u64>,
    /// Each process's accesses in program order.
    pub by_process: Vec<Vec<AccessId>>,
    /// Keys, by key index.
    pub keys: Vec<Option<Value>>,
    /// The value each access wrote or read (for messages).
    pub values: Vec<Value>,
}

/// Why a history cannot be judged, or is already judged.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// The assumptions do not hold: the checkers cannot decide (`unknown`).
    Undecidable(String),
    /// A read returned a value no write that happened wrote: invalid in every model.
    ThinAir(ThinAirRead),
}

/// A read of a value that no write (that happened) wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThinAirRead {
    /// The read's op id.
    pub read: usize,
    /// The process.
    pub process: u64,
    /// The key.
    pub key: String,
    /// The value read.
    pub value: String,
    /// A failed write of that value, if one was recorded.
    pub failed_write: Option<usize>,
    /// In words.
    pub explanation: String,
}

/// What an op reads and writes: the value it read (first) and the value it wrote
/// (second), each if any. `None` for an op these checkers do not understand (or a
/// malformed cas).
#[derive(Clone, Copy)]
struct Parts<'a> {
    read: Option<&'a Value>,
    write: Option<&'a Value>,
}

fn parts(op: &Op) -> Option<Parts<'_>> {
    match op.f {
        F::Read => Some(Parts {
            read: Some(&op.value),
            write: None,
        }),
        F::Write => Some(Parts {
            read: None,
            write: Some(&op.invoke_value),
        }),
        F::Cas => match op.invoke_value.as_list() {
            Some([expected, new]) => Some(Parts {
                read: Some(expected),
                write: Some(new),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `v` reads as the initial value `initial` (`null` and `""` are both absent,
/// as in the kv model).
fn is_initial(v: &Value, initial: &Value) -> bool {
    let absent = |v: &Value| matches!(v, Value::Null) || matches!(v, Value::Str(s) if s.is_empty());
    v == initial || (absent(v) && absent(initial))
}

/// What an op's read part returned: the initial value, the value of the op (index
/// into the ops) that wrote it, or a value no op that happened wrote.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Initial,
    Write(u32),
    Missing,
}

const NO_KEY: u32 = u32::MAX;

impl Observed {
    /// Builds the accesses of `history`, with `initial` the value of every key before
    /// any write.
    pub fn from_history(history: &History, initial: &Value) -> Result<Observed, Refusal> {
        let ops: Vec<&Op> = history.ops.iter().collect();
        Observed::from_ops(&ops, initial)
    }

    /// As [`Observed::from_history`], for some of a history's ops (in invoke order).
    pub fn from_ops(ops: &[&Op], initial: &Value) -> Result<Observed, Refusal> {
        let n = ops.len();
        let mut key_ids: HashMap<&Option<Value>, u32> = HashMap::default();
        let mut keys: Vec<Option<Value>> = Vec::new();
        // Per op: its key's index (NO_KEY for a failed op these checkers do not
        // understand) and its parts.
        let mut op_key: Vec<u32> = Vec::with_capacity(n);
        let mut op_parts: Vec<Option<Parts>> = Vec::with_capacity(n);
        // (key, value) -> the op (index) that wrote it (non-failed writes only).
        let mut writer: HashMap<(u32, &Value), u32> = HashMap::default();
        let mut failed: HashMap<(u32, &Value), usize> = HashMap::default();
        for (i, &op) in ops.iter().enumerate() {
            let Some(pp) = parts(op) else {
                if op.outcome == Outcome::Fail {
                    op_key.push(NO_KEY);
                    op_parts.push(None);
                    continue;
                }
                return Err(Refusal::Undecidable(format!(
                    "op {} is a {} (process {}); these checkers judge histories of reads, writes and cas only",
                    op.invoke_index, op.f, op.process
                )));
            };
            let k = key_id(&mut key_ids, &mut keys, &op.key);
            op_key.push(k);
            op_parts.push(Some(pp));
            let Some(v) = pp.write else { continue };
            if op.outcome == Outcome::Fail {
                failed.entry((k, v)).or_insert(op.id);
                continue;
            }
            if is_initial(v, initial) {
                return Err(Refusal::Undecidable(format!(
                    "op {} (process {}) writes {}={}, the initial value, so a read of it names no single write",
                    op.invoke_index, op.process, op.key_label(), v
                )));
            }
            if let Some(&other) = writer.get(&(k, v)) {
                return Err(Refusal::Undecidable(format!(
                    "ops {} and {} both write {}={}: these checkers need every value written to a key once",
                    ops[other as usize].invoke_index, op.invoke_index, op.key_label(), v
                )));
            }
            writer.insert((k, v), i as u32);
        }
        // What each read part returned, and which writes some ok read returned.
        let mut source: Vec<Source> = Vec::with_capacity(n);
        let mut read_by: Vec<bool> = vec![false; n];
        let mut cas_ops: Vec<u32> = Vec::new();
        for (i, &op) in ops.iter().enumerate() {
            let src = match (op_parts[i], op.outcome) {
                (Some(Parts { read: Some(v), .. }), Outcome::Ok | Outcome::Info) => {
                    if is_initial(v, initial) {
                        Source::Initial
                    } else if let Some(&w) = writer.get(&(op_key[i], v)) {
                        Source::Write(w)
                    } else {
                        Source::Missing
                    }
                }
                _ => Source::Missing,
            };
            source.push(src);
            if op.outcome == Outcome::Fail {
                continue;
            }
            match (&op.f, op.outcome, src) {
                (F::Read, Outcome::Ok, Source::Write(w)) => read_by[w as usize] = true,
                (F::Cas, _, _) => cas_ops.push(i as u32),
                _ => {}
            }
        }
        // An ok cas read its expected value; an info cas did if its write was read. That
        // read may in turn be all that shows another info write took effect, so this runs
        // to a fixed point: every write a kept access reads from is itself kept.
        loop {
            let mut changed = false;
            for &i in &cas_ops {
                let i = i as usize;
                let took_effect = ops[i].outcome == Outcome::Ok || read_by[i];
                if let (true, Source::Write(w)) = (took_effect, source[i]) {
                    if !read_by[w as usize] {
                        read_by[w as usize] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let mut out = Observed {
            accesses: Vec::with_capacity(n + cas_ops.len()),
            processes: Vec::new(),
            by_process: Vec::new(),
            keys,
            values: Vec::with_capacity(n + cas_ops.len()),
        };
        let mut proc_ids: HashMap<u64, u32> = HashMap::default();
        // Per op: the access of its write part, once built.
        let mut write_access: Vec<AccessId> = vec![AccessId::MAX; n];
        let mut pending: Vec<(AccessId, u32)> = Vec::new();
        for (i, &op) in ops.iter().enumerate() {
            let Some(pp) = op_parts[i] else { continue };
            let keep = match (op.outcome, &op.f) {
                (Outcome::Fail, _) => false,
                (Outcome::Info, F::Read) => false,
                (Outcome::Info, _) => read_by[i],
                (Outcome::Ok, _) => true,
            };
            if !keep {
                continue;
            }
            let p = match proc_ids.get(&op.process) {
                Some(&p) => p,
                None => {
                    out.processes.push(op.process);
                    out.by_process.push(Vec::new());
                    let p = (out.processes.len() - 1) as u32;
                    proc_ids.insert(op.process, p);
                    p
                }
            };
            let k = op_key[i];
            let push = |out: &mut Observed, v: &Value, kind: Kind| -> AccessId {
                let id = out.accesses.len() as AccessId;
                let list = &mut out.by_process[p as usize];
                let pos = list.len() as u32;
                list.push(id);
                out.values.push(v.clone());
                out.accesses.push(Access {
                    op: op.id,
                    process: p,
                    pos,
                    key: k,
                    kind,
                    cas: op.f == F::Cas,
                });
                id
            };
            if let Some(v) = pp.read {
                match source[i] {
                    Source::Initial => {
                        push(&mut out, v, Kind::Read { from: None });
                    }
                    Source::Write(w) => {
                        let from = write_access[w as usize];
                        if from == AccessId::MAX {
                            let id = push(&mut out, v, Kind::Read { from: None });
                            pending.push((id, w));
                        } else {
                            push(&mut out, v, Kind::Read { from: Some(from) });
                        }
                    }
                    Source::Missing => return Err(Refusal::ThinAir(thin_air(op, v, &failed, k))),
                }
            }
            if let Some(v) = pp.write {
                write_access[i] = push(&mut out, v, Kind::Write);
            }
        }
        for (read, w) in pending {
            let from = write_access[w as usize];
            if from == AccessId::MAX {
                // Cannot happen: a kept read marks its write kept above. Should it
                // ever, the answer is `unknown`, never a false verdict or a panic.
                return Err(Refusal::Undecidable(format!(
                    "op {} reads a write left out of the history's accesses",
                    out.accesses[read as usize].op
                )));
            }
            out.accesses[read as usize].kind = Kind::Read { from: Some(from) };
        }
        Ok(out)
    }

    /// The access's process id.
    pub fn process_of(&self, a: AccessId) -> u64 {
        self.processes[self.accesses[a as usize].process as usize]
    }

    /// The access in words: `p1 wrote x=1`, `p2 read y=⊥`.
    pub fn describe(&self, a: AccessId) -> String {
        let acc = &self.accesses[a as usize];
        let key = key_label(self.keys[acc.key as usize].as_ref());
        let process = self.processes[acc.process as usize];
        let cas = if acc.cas { " (cas)" } else { "" };
        match acc.kind {
            Kind::Write => format!("p{process} wrote {key}={}{cas}", self.values[a as usize]),
            Kind::Read { from: None } => format!("p{process} read {key}=⊥{cas}"),
            Kind::Read { from: Some(_) } => {
                format!("p{process} read {key}={}{cas}", self.values[a as usize])
            }
        }
    }

    /// Each key's writes, per process that wrote it, in program order.
    pub fn key_writes(&self) -> KeyWrites {
        let mut per_key: Vec<Vec<Writer>> = vec![Vec::new(); self.keys.len()];
        let mut slot: HashMap<(u32, u32), usize> = HashMap::default();
        for (id, a) in self.accesses.iter().enumerate() {
            if a.kind == Kind::Write {
                let list = &mut per_key[a.key as usize];
                let i = *slot.entry((a.process, a.key)).or_insert_with(|| {
                    list.push((a.process, Vec::new()));
                    list.len() - 1
                });
                list[i].1.push((a.pos, id as AccessId));
            }
        }
        let mut first_slot = Vec::with_capacity(per_key.len() + 1);
        let mut total = 0u32;
        for writers in &per_key {
            first_slot.push(total);
            total += writers.len() as u32;
        }
        first_slot.push(total);
        KeyWrites {
            per_key,
            first_slot,
        }
    }
}

/// A process (index) that wrote a key, and the positions and ids of its writes of it.
pub type Writer = (u32, Vec<(u32, AccessId)>);

/// Each key's writes: for each process that wrote the key, the positions and ids of
/// its writes of the key, in program order.
pub struct KeyWrites {
    per_key: Vec<Vec<Writer>>,
    /// Per key: the index of its first writer among all keys' writers (a slot per
    /// key and writer, for [`Cursors`]); one more entry at the end, the total.
    first_slot: Vec<u32>,
}

impl KeyWrites {
    /// The writers of `key` and their writes of it.
    pub fn of(&self, key: u32) -> &[Writer] {
        &self.per_key[key as usize]
    }

    /// The slot of `key`'s first writer; its `i`-th writer's is this plus `i`.
    pub fn first_slot(&self, key: u32) -> usize {
        self.first_slot[key as usize] as usize
    }

    /// Cursors for [`Cursors::last_before`], one per key and writer, none placed.
    pub fn cursors(&self) -> Cursors {
        Cursors(vec![
            UNPLACED;
            self.first_slot.last().copied().unwrap_or(0) as usize
        ])
    }
}

const UNPLACED: u32 = u32::MAX;

/// Per key and writer, how many of its writes of the key lay below the last bound
/// asked about: [`last_before`] in amortized constant time when the bounds asked
/// about one slot move little (as they do in a sweep of one process's reads).
pub struct Cursors(Vec<u32>);

impl Cursors {
    /// As [`last_before`], for `writes`, the writes of slot `slot`.
    pub fn last_before(
        &mut self,
        slot: usize,
        writes: &[(u32, AccessId)],
        bound: u32,
    ) -> Option<(u32, AccessId)> {
        let cursor = &mut self.0[slot];
        let mut n = if *cursor == UNPLACED {
            writes.partition_point(|&(pos, _)| pos < bound)
        } else {
            *cursor as usize
        };
        while n > 0 && writes[n - 1].0 >= bound {
            n -= 1;
        }
        while n < writes.len() && writes[n].0 < bound {
            n += 1;
        }
        *cursor = n as u32;
        n.checked_sub(1).map(|i| writes[i])
    }
}

/// The last of `writes` (sorted by position) at a position below `bound`.
pub fn last_before(writes: &[(u32, AccessId)], bound: u32) -> Option<(u32, AccessId)> {
    let n = writes.partition_point(|&(pos, _)| pos < bound);
    n.checked_sub(1).map(|i| writes[i])
}

fn key_id<'a>(
    ids: &mut HashMap<&'a Option<Value>, u32>,
    keys: &mut Vec<Option<Value>>,
    key: &'a Option<Value>,
) -> u32 {
    *ids.entry(key).or_insert_with(|| {
        keys.push(key.clone());
        (keys.len() - 1) as u32
    })
}

fn thin_air(op: &Op, value: &Value, failed: &HashMap<(u32, &Value), usize>, k: u32) -> ThinAirRead {
    let failed_write = failed.get(&(k, value)).copied();
    let why = match failed_write {
        Some(w) => format!(", which only failed op {w} wrote (a failed write never happened)"),
        None => ", which no op wrote".to_string(),
    };
    ThinAirRead {
        read: op.id,
        process: op.process,
        key: op.key_label(),
        value: value.to_string(),
        failed_write,
        explanation: format!(
            "ThinAirRead: p{} read {}={}{why}",
            op.process,
            op.key_label(),
            value
        ),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn a_cursor_finds_the_same_write_as_the_binary_search_for_any_bounds(
            gaps in proptest::collection::vec(1u32..4, 0..20),
            bounds in proptest::collection::vec(0u32..70, 1..30),
        ) {
            let mut pos = 0;
            let writes: Vec<(u32, AccessId)> = gaps
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    pos += g;
                    (pos, i as AccessId)
                })
                .collect();
            let mut cursors = Cursors(vec![UNPLACED; 1]);
            for &b in &bounds {
                prop_assert_eq!(cursors.last_before(0, &writes, b), last_before(&writes, b));
            }
        }
    }
}

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

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use serde::Serialize;

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
#[derive(Clone, Debug, PartialEq, Serialize)]
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

/// What an op reads and writes, in order: `(is_write, value)`; `None` for an op these
/// checkers do not understand (or a malformed cas).
fn parts(op: &Op) -> Option<Vec<(bool, &Value)>> {
    match op.f {
        F::Read => Some(vec![(false, &op.value)]),
        F::Write => Some(vec![(true, &op.invoke_value)]),
        F::Cas => match op.invoke_value.as_list() {
            Some([expected, new]) => Some(vec![(false, expected), (true, new)]),
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

impl Observed {
    /// Builds the accesses of `history`, with `initial` the value of every key before
    /// any write.
    pub fn from_history(history: &History, initial: &Value) -> Result<Observed, Refusal> {
        let ops: Vec<&Op> = history.ops.iter().collect();
        Observed::from_ops(&ops, initial)
    }

    /// As [`Observed::from_history`], for some of a history's ops (in invoke order).
    pub fn from_ops(ops: &[&Op], initial: &Value) -> Result<Observed, Refusal> {
        let mut key_ids: HashMap<&Option<Value>, u32> = HashMap::default();
        let mut keys: Vec<Option<Value>> = Vec::new();
        // (key, value) -> the op that wrote it (non-failed writes only).
        let mut writer: HashMap<(u32, &Value), &Op> = HashMap::default();
        let mut failed: HashMap<(u32, &Value), usize> = HashMap::default();
        let mut read_values: HashSet<(u32, &Value)> = Default::default();
        for &op in ops {
            let Some(op_parts) = parts(op) else {
                if op.outcome == Outcome::Fail {
                    continue;
                }
                return Err(Refusal::Undecidable(format!(
                    "op {} is a {} (process {}); these checkers judge histories of reads, writes and cas only",
                    op.invoke_index, op.f, op.process
                )));
            };
            let k = key_id(&mut key_ids, &mut keys, &op.key);
            for (is_write, v) in op_parts {
                if op.outcome == Outcome::Fail {
                    if is_write {
                        failed.entry((k, v)).or_insert(op.id);
                    }
                    continue;
                }
                if is_write {
                    if is_initial(v, initial) {
                        return Err(Refusal::Undecidable(format!(
                            "op {} (process {}) writes {}={}, the initial value, so a read of it names no single write",
                            op.invoke_index, op.process, op.key_label(), v
                        )));
                    }
                    if let Some(&other) = writer.get(&(k, v)) {
                        return Err(Refusal::Undecidable(format!(
                            "ops {} and {} both write {}={}: these checkers need every value written to a key once",
                            other.invoke_index, op.invoke_index, op.key_label(), v
                        )));
                    }
                    writer.insert((k, v), op);
                } else if op.outcome == Outcome::Ok && op.f == F::Read {
                    read_values.insert((k, v));
                }
            }
        }
        // An ok cas read its expected value; an info cas did if its write was read. That
        // read may in turn be all that shows another info write took effect, so this runs
        // to a fixed point: every write a kept access reads from is itself kept.
        loop {
            let before = read_values.len();
            for &op in ops {
                if op.f != F::Cas || op.outcome == Outcome::Fail {
                    continue;
                }
                let Some([expected, new]) = op.invoke_value.as_list() else {
                    continue;
                };
                let k = key_ids[&op.key];
                let took_effect = op.outcome == Outcome::Ok || read_values.contains(&(k, new));
                if took_effect {
                    read_values.insert((k, expected));
                }
            }
            if read_values.len() == before {
                break;
            }
        }
        let mut out = Observed {
            accesses: Vec::new(),
            processes: Vec::new(),
            by_process: Vec::new(),
            keys,
            values: Vec::new(),
        };
        let mut proc_ids: HashMap<u64, u32> = HashMap::default();
        let mut access_of_write: HashMap<usize, AccessId> = HashMap::default();
        let mut pending: Vec<(AccessId, usize)> = Vec::new();
        for &op in ops {
            let Some(op_parts) = parts(op) else { continue };
            let k = key_ids[&op.key];
            let keep = match (op.outcome, &op.f) {
                (Outcome::Fail, _) => false,
                (Outcome::Info, F::Read) => false,
                (Outcome::Info, _) => op_parts
                    .iter()
                    .any(|&(w, v)| w && read_values.contains(&(k, v))),
                (Outcome::Ok, _) => true,
            };
            if !keep {
                continue;
            }
            let p = *proc_ids.entry(op.process).or_insert_with(|| {
                out.processes.push(op.process);
                out.by_process.push(Vec::new());
                (out.processes.len() - 1) as u32
            });
            for (is_write, v) in op_parts {
                let id = out.accesses.len() as AccessId;
                let pos = out.by_process[p as usize].len() as u32;
                out.by_process[p as usize].push(id);
                out.values.push(v.clone());
                let kind = if is_write {
                    access_of_write.insert(op.id, id);
                    Kind::Write
                } else if is_initial(v, initial) {
                    Kind::Read { from: None }
                } else if let Some(&w) = writer.get(&(k, v)) {
                    pending.push((id, w.id));
                    Kind::Read { from: None }
                } else {
                    return Err(Refusal::ThinAir(thin_air(op, v, &failed, k)));
                };
                out.accesses.push(Access {
                    op: op.id,
                    process: p,
                    pos,
                    key: k,
                    kind,
                    cas: op.f == F::Cas,
                });
            }
        }
        for (read, w) in pending {
            let from = access_of_write[&w];
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
        KeyWrites { per_key }
    }
}

/// A process (index) that wrote a key, and the positions and ids of its writes of it.
pub type Writer = (u32, Vec<(u32, AccessId)>);

/// Each key's writes: for each process that wrote the key, the positions and ids of
/// its writes of the key, in program order.
pub struct KeyWrites {
    per_key: Vec<Vec<Writer>>,
}

impl KeyWrites {
    /// The writers of `key` and their writes of it.
    pub fn of(&self, key: u32) -> &[Writer] {
        &self.per_key[key as usize]
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

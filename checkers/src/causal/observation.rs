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
//! Only `read` and `write` ops are understood; a history with any other op that may
//! have happened (`cas`, `append`, ...) is refused (`unknown`).

use std::collections::HashMap;

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
        let mut key_ids: HashMap<&Option<Value>, u32> = HashMap::new();
        let mut keys: Vec<Option<Value>> = Vec::new();
        // (key, value) -> the op that wrote it (non-failed writes only).
        let mut writer: HashMap<(u32, &Value), usize> = HashMap::new();
        let mut failed: HashMap<(u32, &Value), usize> = HashMap::new();
        let mut read_values: std::collections::HashSet<(u32, &Value)> = Default::default();
        for op in &history.ops {
            if op.outcome == Outcome::Fail {
                if op.f == F::Write {
                    let k = key_id(&mut key_ids, &mut keys, &op.key);
                    failed.entry((k, &op.invoke_value)).or_insert(op.id);
                }
                continue;
            }
            match op.f {
                F::Read | F::Write => {}
                _ => {
                    return Err(Refusal::Undecidable(format!(
                        "op {} is a {} (process {}); these checkers judge histories of reads and writes only",
                        op.invoke_index, op.f, op.process
                    )))
                }
            }
            let k = key_id(&mut key_ids, &mut keys, &op.key);
            if op.f == F::Write {
                let v = &op.invoke_value;
                if is_initial(v, initial) {
                    return Err(Refusal::Undecidable(format!(
                        "op {} (process {}) writes {}={}, the initial value, so a read of it names no single write",
                        op.invoke_index, op.process, op.key_label(), v
                    )));
                }
                if let Some(&other) = writer.get(&(k, v)) {
                    return Err(Refusal::Undecidable(format!(
                        "ops {} and {} both write {}={}: these checkers need every value written to a key once",
                        history.ops[other].invoke_index, op.invoke_index, op.key_label(), v
                    )));
                }
                writer.insert((k, v), op.id);
            } else if op.outcome == Outcome::Ok {
                read_values.insert((k, &op.value));
            }
        }
        let mut out = Observed {
            accesses: Vec::new(),
            processes: Vec::new(),
            by_process: Vec::new(),
            keys,
            values: Vec::new(),
        };
        let mut proc_ids: HashMap<u64, u32> = HashMap::new();
        let mut access_of_op: HashMap<usize, AccessId> = HashMap::new();
        let mut pending: Vec<(AccessId, usize)> = Vec::new();
        for op in &history.ops {
            let keep = match (op.outcome, &op.f) {
                (Outcome::Fail, _) => false,
                (Outcome::Info, F::Read) => false,
                (Outcome::Info, _) => {
                    let k = key_ids[&op.key];
                    read_values.contains(&(k, &op.invoke_value))
                }
                (Outcome::Ok, _) => true,
            };
            if !keep {
                continue;
            }
            let k = key_ids[&op.key];
            let p = *proc_ids.entry(op.process).or_insert_with(|| {
                out.processes.push(op.process);
                out.by_process.push(Vec::new());
                (out.processes.len() - 1) as u32
            });
            let id = out.accesses.len() as AccessId;
            let pos = out.by_process[p as usize].len() as u32;
            out.by_process[p as usize].push(id);
            let kind = if op.f == F::Write {
                access_of_op.insert(op.id, id);
                out.values.push(op.invoke_value.clone());
                Kind::Write
            } else {
                out.values.push(op.value.clone());
                if is_initial(&op.value, initial) {
                    Kind::Read { from: None }
                } else if let Some(&w) = writer.get(&(k, &op.value)) {
                    pending.push((id, w));
                    Kind::Read { from: None }
                } else {
                    return Err(Refusal::ThinAir(thin_air(op, &failed, k)));
                }
            };
            out.accesses.push(Access {
                op: op.id,
                process: p,
                pos,
                key: k,
                kind,
            });
        }
        for (read, w) in pending {
            let from = access_of_op[&w];
            out.accesses[read as usize].kind = Kind::Read { from: Some(from) };
        }
        Ok(out)
    }

    /// The access's process id.
    pub fn process_of(&self, a: AccessId) -> u64 {
        self.processes[self.accesses[a as usize].process as usize]
    }

    /// The access in words: `p1 wrote x=1`, `p2 read y=⊥`.
    pub fn describe(&self, history: &History, a: AccessId) -> String {
        let acc = &self.accesses[a as usize];
        let key = key_label(self.keys[acc.key as usize].as_ref());
        let op = &history.ops[acc.op];
        match acc.kind {
            Kind::Write => format!("p{} wrote {key}={}", op.process, self.values[a as usize]),
            Kind::Read { from: None } => format!("p{} read {key}=⊥", op.process),
            Kind::Read { from: Some(_) } => {
                format!("p{} read {key}={}", op.process, self.values[a as usize])
            }
        }
    }

    /// For each (process, key): the positions and ids of that process's writes to the
    /// key, in program order.
    pub fn writes_by_process_key(&self) -> HashMap<(u32, u32), Vec<(u32, AccessId)>> {
        let mut m: HashMap<(u32, u32), Vec<(u32, AccessId)>> = HashMap::new();
        for (id, a) in self.accesses.iter().enumerate() {
            if a.kind == Kind::Write {
                m.entry((a.process, a.key))
                    .or_default()
                    .push((a.pos, id as AccessId));
            }
        }
        m
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

fn thin_air(op: &Op, failed: &HashMap<(u32, &Value), usize>, k: u32) -> ThinAirRead {
    let failed_write = failed.get(&(k, &op.value)).copied();
    let why = match failed_write {
        Some(w) => format!(", which only failed op {w} wrote (a failed write never happened)"),
        None => ", which no op wrote".to_string(),
    };
    ThinAirRead {
        read: op.id,
        process: op.process,
        key: op.key_label(),
        value: op.value.to_string(),
        failed_write,
        explanation: format!(
            "ThinAirRead: p{} read {}={}{why}",
            op.process,
            op.key_label(),
            op.value
        ),
    }
}

//! Transactions as the checker sees them: every `txn` op of a [`History`] turned into
//! a [`Txn`] of micro-ops over interned keys and values.
//!
//! Accepted shapes (DESIGN.md and Elle's EDN, which the EDN reader hands over with
//! keywords as plain strings): a txn's value is a list of micro-ops, each a list
//! `[f, key, value]` with `f` one of `append`, `r` / `read`, `w` / `write`. Keys and
//! values may be any JSON value (integers, strings, keywords). A read's value is
//! `null` on the invoke (and on `info` / `fail` completions, which carry the invoke's
//! value); on an `ok` completion a list-append read is a list and an rw-register read
//! is a value or `null` (the initial, absent state).
//!
//! `ok` txns happened; `fail` txns did not (kept only to recognise aborted reads);
//! `info` txns may have happened: they enter the dependency graph only where one of
//! their writes was observed.

use rustc_hash::FxHashMap;

use crate::history::{History, Op, Outcome, F};
use crate::value::Value;

/// One micro-op, with interned key and values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    /// Append `value` to the list at `key`.
    Append { key: u32, value: u32 },
    /// Read the list at `key`; `None` when not known (an invoke, an `info` txn).
    ReadList { key: u32, value: Option<Vec<u32>> },
    /// Write `value` to the register `key`.
    Write { key: u32, value: u32 },
    /// Read the register `key`: `Some(None)` read the initial absent value, `None`
    /// when not known.
    ReadRegister {
        key: u32,
        value: Option<Option<u32>>,
    },
}

impl Mop {
    /// The key the micro-op touches.
    pub fn key(&self) -> u32 {
        match self {
            Mop::Append { key, .. }
            | Mop::ReadList { key, .. }
            | Mop::Write { key, .. }
            | Mop::ReadRegister { key, .. } => *key,
        }
    }
}

/// One transaction of the history.
#[derive(Clone, Debug)]
pub struct Txn {
    /// The op's position in [`History::ops`] (also its name in evidence: `T<op>`).
    pub op: usize,
    /// The logical client that ran it.
    pub process: u64,
    /// How it ended.
    pub outcome: Outcome,
    /// The micro-ops, in order.
    pub mops: Vec<Mop>,
    /// Index of the invoke event.
    pub invoke_index: u64,
    /// Index of the completion event, if any.
    pub complete_index: Option<u64>,
    /// Time of the invoke (ns).
    pub invoke_time: u64,
    /// Time of the completion (ns), if any.
    pub complete_time: Option<u64>,
}

/// Which data model the micro-ops follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataModel {
    /// Appends to lists, reads of whole lists.
    ListAppend,
    /// Writes and reads of registers.
    RwRegister,
}

/// Integers below this are their own ids; other values get `SMALL + n`.
const SMALL: u32 = 1 << 31;

/// Interned keys and values: `u32` ids for speed, the original [`Value`]s for words.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: FxHashMap<Value, u32>,
    values: Vec<Value>,
}

impl Interner {
    /// The id of `v`, assigning one on first sight. Small non-negative integers
    /// (the usual keys and values) are their own ids, with no table look-up.
    pub fn id(&mut self, v: &Value) -> u32 {
        if let Value::Int(i) = v {
            if (0..SMALL as i64).contains(i) {
                return *i as u32;
            }
        }
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = SMALL + self.values.len() as u32;
        self.values.push(v.clone());
        self.ids.insert(v.clone(), id);
        id
    }

    /// The value of `id`.
    pub fn value(&self, id: u32) -> Value {
        if id < SMALL {
            Value::Int(i64::from(id))
        } else {
            self.values[(id - SMALL) as usize].clone()
        }
    }

    /// The value of `id` as a person reads it (strings bare).
    pub fn label(&self, id: u32) -> String {
        match self.value(id) {
            Value::Str(s) => s.to_string(),
            v => v.to_string(),
        }
    }
}

/// The transactions of a history, with the interned keys and values.
#[derive(Clone, Debug, Default)]
pub struct Txns {
    /// Every `txn` op, in invoke order.
    pub txns: Vec<Txn>,
    /// Keys.
    pub keys: Interner,
    /// Values (appended elements, written values).
    pub values: Interner,
    /// How many ops were not `txn` ops (ignored).
    pub ignored_ops: usize,
}

/// A txn op whose value is not a list of micro-ops the data model understands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("op {op} (invoke at event index {index}): {reason}")]
pub struct ParseError {
    /// The op's position in the history.
    pub op: usize,
    /// The invoke's event index.
    pub index: u64,
    /// What is wrong and what was expected.
    pub reason: String,
}

/// Parses every `txn` op of `history` for `model`.
pub fn parse(history: &History, model: DataModel) -> Result<Txns, ParseError> {
    let mut out = Txns::default();
    for op in &history.ops {
        if op.f != F::Txn {
            out.ignored_ops += 1;
            continue;
        }
        let source = if op.outcome == Outcome::Ok {
            &op.value
        } else {
            &op.invoke_value
        };
        let err = |reason: String| ParseError {
            op: op.id,
            index: op.invoke_index,
            reason,
        };
        let Some(list) = source.as_list() else {
            return Err(err(format!(
                "a txn's value must be a list of micro-ops such as [[\"append\",\"x\",1],[\"r\",\"x\",null]], got {source}"
            )));
        };
        let mut mops = Vec::with_capacity(list.len());
        for (i, m) in list.iter().enumerate() {
            let mop =
                parse_mop(m, op, model, &mut out).map_err(|r| err(format!("micro-op {i}: {r}")))?;
            mops.push(mop);
        }
        out.txns.push(Txn {
            op: op.id,
            process: op.process,
            outcome: op.outcome,
            mops,
            invoke_index: op.invoke_index,
            complete_index: op.complete_index,
            invoke_time: op.invoke_time,
            complete_time: op.complete_time,
        });
    }
    Ok(out)
}

fn parse_mop(m: &Value, op: &Op, model: DataModel, out: &mut Txns) -> Result<Mop, String> {
    let parts = match m.as_list() {
        Some(p) if p.len() == 3 => p,
        _ => return Err(format!("expected [f, key, value], got {m}")),
    };
    let f = parts[0].as_str().ok_or_else(|| {
        format!(
            "the function must be a name such as \"append\", got {}",
            parts[0]
        )
    })?;
    let key = out.keys.id(&parts[1]);
    let value = &parts[2];
    let known = op.outcome == Outcome::Ok;
    match (model, f) {
        (DataModel::ListAppend, "append") => Ok(Mop::Append {
            key,
            value: out.values.id(value),
        }),
        (DataModel::ListAppend, "r" | "read") => {
            if !known {
                return Ok(Mop::ReadList { key, value: None });
            }
            match value {
                Value::List(elems) => Ok(Mop::ReadList {
                    key,
                    value: Some(elems.iter().map(|e| out.values.id(e)).collect()),
                }),
                // A read of a key never written may come back as nil.
                Value::Null => Ok(Mop::ReadList {
                    key,
                    value: Some(Vec::new()),
                }),
                other => Err(format!(
                    "a list-append read must return a list (or null for an empty key), got {other}"
                )),
            }
        }
        (DataModel::RwRegister, "w" | "write") => {
            if value.is_null() {
                return Err("an rw-register write of null cannot be told from the initial state; write unique non-null values".into());
            }
            Ok(Mop::Write {
                key,
                value: out.values.id(value),
            })
        }
        (DataModel::RwRegister, "r" | "read") => Ok(Mop::ReadRegister {
            key,
            value: if !known {
                None
            } else if value.is_null() {
                Some(None)
            } else {
                Some(Some(out.values.id(value)))
            },
        }),
        (DataModel::ListAppend, other) => Err(format!(
            "\"{other}\" is not a list-append micro-op; expected \"append\" or \"r\""
        )),
        (DataModel::RwRegister, other) => Err(format!(
            "\"{other}\" is not an rw-register micro-op; expected \"w\" or \"r\""
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Event, EventKind, Process};

    fn ev(index: u64, kind: EventKind, value: serde_json::Value) -> Event {
        Event {
            index,
            time: index,
            process: Process::Client(0),
            kind,
            f: F::Txn,
            key: None,
            value: Value::from_json(&value),
            node: None,
            error: None,
            latency: None,
        }
    }

    #[test]
    fn an_ok_txn_takes_its_reads_from_the_completion() {
        let h = History::from_events([
            ev(
                0,
                EventKind::Invoke,
                serde_json::json!([["append", "x", 1], ["r", "x", null]]),
            ),
            ev(
                1,
                EventKind::Ok,
                serde_json::json!([["append", "x", 1], ["r", "x", [1]]]),
            ),
        ])
        .unwrap();
        let t = parse(&h, DataModel::ListAppend).unwrap();
        assert_eq!(t.txns.len(), 1);
        assert_eq!(
            t.txns[0].mops[1],
            Mop::ReadList {
                key: SMALL,
                value: Some(vec![1])
            }
        );
    }

    #[test]
    fn a_micro_op_of_the_wrong_shape_is_an_error_naming_the_op() {
        let h = History::from_events([
            ev(0, EventKind::Invoke, serde_json::json!([["append", "x"]])),
            ev(1, EventKind::Ok, serde_json::json!([["append", "x"]])),
        ])
        .unwrap();
        let e = parse(&h, DataModel::ListAppend).unwrap_err();
        assert!(e.to_string().contains("micro-op 0"), "{e}");
    }
}

//! Jepsen's `history.edn` (and Porcupine's kv logs, which are EDN maps one per line).
//!
//! The file is a vector of op maps, or a bare sequence of them;
//! `#jepsen.history.Op{...}` records are maps with a tag. Keys read: `:process` (an
//! integer, or `:nemesis`), `:type`, `:f`, `:value`, `:key`, `:index`, `:time`,
//! `:error`, `:node`; others are ignored. Missing `:index` is assigned densely, missing
//! `:time` becomes the index. Keywords become strings without the colon, sets become
//! lists, `nil` is `null` (the full mapping is in `edn_syntax`). Anything after the
//! closing `]` of a vector is an error.
//!
//! Jepsen's `jepsen.independent` histories carry `:value [k v]` tuples; those are not
//! split (a cas value is a pair too, so it would be a guess): multi-key histories give
//! the key in `:key`.

use std::sync::Arc;

use crate::history::{Event, EventKind, History, HistoryBuilder, HistoryError, Process, F};
use crate::value::Value;

use super::edn_syntax::Parser;
use super::ReadError;

/// Reads an EDN history from `text`; errors name `file`.
pub fn read(text: &str, file: &str) -> Result<History, ReadError> {
    let mut builder = HistoryBuilder::new(file);
    let mut p = Parser::new(text, 1);
    let at = |p: &Parser, m: String| {
        ReadError::from(HistoryError {
            file: file.to_string(),
            line: p.line,
            message: m,
        })
    };
    // A vector of ops, or a bare sequence.
    let in_vector = p.peek_form().map_err(|m| at(&p, m))? == Some(b'[');
    if in_vector {
        p.bump();
    }
    let mut index = 0u64;
    loop {
        match p.peek_form().map_err(|m| at(&p, m))? {
            None if in_vector => {
                return Err(at(
                    &p,
                    "the vector of operations is not closed; expected `]`".into(),
                ))
            }
            None => break,
            Some(b']') if in_vector => {
                p.bump();
                if let Some(c) = p.peek_form().map_err(|m| at(&p, m))? {
                    return Err(at(
                        &p,
                        format!(
                            "`{}` after the closing `]` of the vector of operations; expected the end of the file",
                            c as char
                        ),
                    ));
                }
                break;
            }
            _ => {}
        }
        let line = p.line;
        let form = p.form().map_err(|m| at(&p, m))?;
        let event = event_from(form, index).map_err(|m| builder.error(line, m))?;
        index += 1;
        builder.push(event, line)?;
    }
    Ok(builder.finish())
}

/// Builds an event from one EDN op map.
pub(super) fn event_from(form: Value, index: u64) -> Result<Event, String> {
    let Value::Map(fields) = form else {
        return Err(format!("expected an operation map like {{:process 0, :type :invoke, :f :read, :value nil}}, found {form}"));
    };
    let get = |name: &str| fields.iter().find(|(k, _)| &**k == name).map(|(_, v)| v);
    let process = match get("process") {
        Some(Value::Int(p)) if *p >= 0 => Process::Client(*p as u64),
        Some(Value::Str(s)) if &**s == "nemesis" => Process::Nemesis,
        Some(other) => {
            return Err(format!(
                ":process {other} is not understood; expected a non-negative integer or :nemesis"
            ))
        }
        None => return Err("missing :process; expected a non-negative integer or :nemesis".into()),
    };
    let kind = match get("type") {
        Some(Value::Str(t)) => EventKind::parse(t).ok_or_else(|| {
            format!(":type :{t} is unknown; expected one of :invoke, :ok, :fail, :info")
        })?,
        Some(other) => {
            return Err(format!(
                ":type {other} is not understood; expected one of :invoke, :ok, :fail, :info"
            ))
        }
        None => return Err("missing :type; expected one of :invoke, :ok, :fail, :info".into()),
    };
    let f = match get("f") {
        Some(Value::Str(f)) => F::parse(f),
        Some(other) if process == Process::Nemesis => {
            F::Other(Arc::from(other.to_string().as_str()))
        }
        Some(other) => {
            return Err(format!(
                ":f {other} is not understood; expected a keyword such as :read"
            ))
        }
        None => return Err("missing :f; expected a keyword such as :read".into()),
    };
    let int = |name: &str| -> Result<Option<u64>, String> {
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Int(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(other) => Err(format!(
                ":{name} {other} is not understood; expected a non-negative integer"
            )),
        }
    };
    let index = int("index")?.unwrap_or(index);
    let time = int("time")?.unwrap_or(index);
    Ok(Event {
        index,
        time,
        process,
        kind,
        f,
        key: get("key").cloned(),
        value: get("value").cloned().unwrap_or(Value::Null),
        node: match get("node") {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        },
        error: get("error").cloned(),
        latency: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    #[test]
    fn a_jepsen_vector_with_records_and_nemesis_reads() {
        let h = read(
            "[#jepsen.history.Op{:index 0, :time 5, :type :invoke, :process 0, :f :write, :value 3}\n\
             {:type :info, :process :nemesis, :f :start-partition, :value [:isolated #{:n1}]}\n\
             #jepsen.history.Op{:index 2, :time 9, :type :ok, :process 0, :f :write, :value 3}]",
            "h.edn",
        )
        .unwrap();
        assert_eq!(h.ops.len(), 1);
        assert_eq!(h.ops[0].outcome, Outcome::Ok);
        assert_eq!(h.nemesis.len(), 1);
    }

    #[test]
    fn a_porcupine_kv_line_reads() {
        let h = read("{:process 0, :type :invoke, :f :get, :key \"7\", :value nil}\n{:process 0, :type :ok, :f :get, :key \"7\", :value \"\"}\n", "c.txt").unwrap();
        assert_eq!(h.ops[0].f, F::Read);
        assert_eq!(h.ops[0].value, Value::str(""));
    }

    #[test]
    fn an_unknown_type_names_its_line() {
        let e = read(
            "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :maybe, :f :read}",
            "x.edn",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("x.edn:2: :type :maybe is unknown"),
            "{e}"
        );
    }

    #[test]
    fn an_unclosed_map_is_an_error() {
        let e = read("{:process 0, :type :invoke", "x.edn").unwrap_err();
        assert!(
            e.to_string().contains("x.edn:1: unexpected end of input"),
            "{e}"
        );
    }
}

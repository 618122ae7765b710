//! Jepsen's `history.edn` (and Porcupine's kv logs, which are EDN maps one per line).
//!
//! The file is a vector `[…]` or a list `(…)` of op maps (Knossos's data files are
//! lists with `;` comments), or a bare sequence of them; `#jepsen.history.Op{...}`
//! records are maps with a tag. Keys read: `:process` (an integer, or `:nemesis`),
//! `:type`, `:f`, `:value`, `:key`, `:index`, `:time`, `:error`, `:node`; others are
//! ignored. Missing `:index` is assigned densely, missing `:time` becomes the index.
//! Keywords become strings without the colon, sets become lists, `nil` is `null` (the
//! full mapping is in `edn_syntax`). Anything after the closing bracket is an error.
//!
//! Jepsen's `jepsen.independent` histories carry `:value [k v]` tuples. They are split
//! into `key` k and value v when every client op is such a tuple, none has a `:key`,
//! and every cas's v is itself a pair (`[k [expected new]]`); a plain history always
//! has a read invoke whose value is `nil`, so it is never mistaken for one.
//! [`Independent::Always`] splits regardless, and names the first op that is no tuple.

use std::sync::Arc;

use crate::history::{Event, EventKind, History, HistoryError, Process, F};
use crate::value::Value;

use super::edn_syntax::Parser;
use super::{Independent, Parsed, ReadError, ReadOptions};

/// Reads an EDN history from `text`; errors name `file`.
pub fn read(text: &str, file: &str) -> Result<History, ReadError> {
    read_options(text, file, &ReadOptions::default()).map(|p| p.history)
}

/// [`read`] with `options` (model admission, nil reads, independent tuples).
pub(crate) fn read_options(
    text: &str,
    file: &str,
    options: &ReadOptions,
) -> Result<Parsed, ReadError> {
    let mut builder = options.builder(file);
    let mut p = Parser::new(text, 1);
    let at = |p: &Parser, m: String| {
        ReadError::from(HistoryError {
            file: file.to_string(),
            line: p.line,
            message: m,
        })
    };
    // A vector or a list of ops, or a bare sequence.
    let close = match p.peek_form().map_err(|m| at(&p, m))? {
        Some(b'[') => Some(b']'),
        Some(b'(') => Some(b')'),
        _ => None,
    };
    if close.is_some() {
        p.bump();
    }
    let what = if close == Some(b')') {
        "list"
    } else {
        "vector"
    };
    let mut forms = Vec::new();
    loop {
        match p.peek_form().map_err(|m| at(&p, m))? {
            None if close.is_some() => {
                return Err(at(
                    &p,
                    format!(
                        "the {what} of operations is not closed; expected `{}`",
                        close.unwrap_or(b']') as char
                    ),
                ))
            }
            None => break,
            Some(c) if Some(c) == close => {
                p.bump();
                if let Some(c) = p.peek_form().map_err(|m| at(&p, m))? {
                    return Err(at(
                        &p,
                        format!(
                            "`{}` after the closing `{}` of the {what} of operations; expected the end of the file",
                            c as char,
                            close.unwrap_or(b']') as char
                        ),
                    ));
                }
                break;
            }
            _ => {}
        }
        let line = p.line;
        let form = p.form().map_err(|m| at(&p, m))?;
        forms.push((line, form));
    }
    let split = match options.independent {
        Independent::Always => true,
        Independent::Auto => is_independent(&forms),
    };
    builder.set_untimed(
        forms
            .iter()
            .any(|(_, f)| f.get("time").is_none_or(Value::is_null)),
    );
    for (index, (line, form)) in forms.into_iter().enumerate() {
        let mut event = event_from(form, index as u64).map_err(|m| builder.error(line, m))?;
        if split && event.process != Process::Nemesis {
            split_tuple(&mut event).map_err(|m| builder.error(line, m))?;
        }
        builder.push(event, line)?;
    }
    let mut parsed = Parsed::of(builder);
    parsed.independent = split;
    Ok(parsed)
}

/// Whether every client op map is a Jepsen `independent` tuple (see the module doc).
fn is_independent(forms: &[(usize, Value)]) -> bool {
    let mut clients = 0;
    for (_, form) in forms {
        if matches!(form.get("process"), Some(Value::Str(s)) if &**s == "nemesis") {
            continue;
        }
        clients += 1;
        if form.get("key").is_some() {
            return false;
        }
        let Some([_, v]) = form.get("value").and_then(Value::as_list) else {
            return false;
        };
        let cas = matches!(form.get("f"), Some(Value::Str(f)) if &**f == "cas");
        if cas && !matches!(v.as_list(), Some([_, _])) && !v.is_null() {
            return false;
        }
    }
    clients > 0
}

/// Splits a `[k v]` tuple value into the event's key and value.
fn split_tuple(event: &mut Event) -> Result<(), String> {
    match std::mem::take(&mut event.value) {
        Value::List(mut kv) if kv.len() == 2 && event.key.is_none() => {
            let v = kv.pop().unwrap_or_default();
            event.key = kv.pop();
            event.value = v;
            Ok(())
        }
        other => Err(format!(
            ":value {other} is not a Jepsen independent tuple; expected [key value] (and no :key), as --independent says every op is"
        )),
    }
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

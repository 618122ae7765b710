//! Jepsen's `history.edn` (and Porcupine's kv logs, which are EDN maps one per line).
//!
//! The file is a vector of op maps, or a bare sequence of them;
//! `#jepsen.history.Op{...}` records are maps with a tag. Keys read: `:process` (an
//! integer, or `:nemesis`), `:type`, `:f`, `:value`, `:key`, `:index`, `:time`,
//! `:error`, `:node`; others are ignored. Missing `:index` is assigned densely, missing
//! `:time` becomes the index. Keywords become strings without the colon, sets become
//! lists, `nil` is `null`.

use std::sync::Arc;

use crate::history::{Event, EventKind, History, HistoryBuilder, Process, F};
use crate::value::Value;

use super::ReadError;

/// Reads an EDN history from `text`; errors name `file`.
pub fn read(text: &str, file: &str) -> Result<History, ReadError> {
    let mut builder = HistoryBuilder::new(file);
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut index = 0u64;
    p.skip_ws();
    // A vector of ops, or a bare sequence.
    let in_vector = p.peek() == Some(b'[');
    if in_vector {
        p.pos += 1;
    }
    loop {
        p.skip_ws();
        match p.peek() {
            None if in_vector => {
                return Err(builder
                    .error(
                        p.line,
                        "the vector of operations is not closed; expected `]`",
                    )
                    .into())
            }
            None => break,
            Some(b']') if in_vector => break,
            _ => {}
        }
        let line = p.line;
        let form = p.value().map_err(|m| builder.error(p.line, m))?;
        let event = event_from(form, index).map_err(|m| builder.error(line, m))?;
        index += 1;
        builder.push(event, line)?;
    }
    Ok(builder.finish())
}

/// Builds an event from one EDN op map.
fn event_from(form: Value, index: u64) -> Result<Event, String> {
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

/// A small EDN reader with line tracking.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while self.peek().is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        let Some(c) = self.peek() else {
            return Err("unexpected end of file; expected a value".into());
        };
        match c {
            b'{' => {
                self.pos += 1;
                let items = self.items(b'}')?;
                if items.len() % 2 != 0 {
                    return Err("a map has an odd number of forms; expected key value pairs".into());
                }
                let mut fields = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    let k = match k {
                        Value::Str(s) => s,
                        other => Arc::from(other.to_string().as_str()),
                    };
                    fields.push((k, v));
                }
                Ok(Value::Map(fields))
            }
            b'[' | b'(' => {
                self.pos += 1;
                Ok(Value::List(self.items(if c == b'[' {
                    b']'
                } else {
                    b')'
                })?))
            }
            b'#' => {
                self.pos += 1;
                match self.peek() {
                    Some(b'{') => {
                        self.pos += 1;
                        Ok(Value::List(self.items(b'}')?))
                    }
                    Some(b'_') => {
                        self.pos += 1;
                        self.value()?;
                        self.value()
                    }
                    _ => {
                        // A tagged literal: `#tag form`; records are their map.
                        self.token();
                        self.value()
                    }
                }
            }
            b'"' => self.string(),
            b':' => {
                self.pos += 1;
                Ok(Value::str(self.token()))
            }
            b']' | b'}' | b')' => Err(format!("unexpected `{}`", c as char)),
            _ => {
                let t = self.token();
                Ok(match t {
                    "nil" => Value::Null,
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => number(t).unwrap_or_else(|| Value::str(t)),
                })
            }
        }
    }

    fn items(&mut self, close: u8) -> Result<Vec<Value>, String> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(format!(
                        "unexpected end of file; expected `{}`",
                        close as char
                    ))
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => items.push(self.value()?),
            }
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() || b",()[]{}\";".contains(&c) {
                break;
            }
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn string(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("a string is not closed; expected `\"`".into());
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or("a string ends in `\\`")?;
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        other => other,
                    });
                }
                b'\n' => {
                    self.line += 1;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out)
            .map(|s| Value::str(&s))
            .map_err(|_| "a string is not valid UTF-8".into())
    }
}

/// An EDN number (`42`, `-3`, `42N`, `1.5`), if `t` is one.
fn number(t: &str) -> Option<Value> {
    let t = t.strip_suffix('N').unwrap_or(t);
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::Int(i));
    }
    if t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        return t
            .strip_suffix('M')
            .unwrap_or(t)
            .parse::<f64>()
            .ok()
            .map(Value::Float);
    }
    None
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
        assert!(e.to_string().contains("unexpected end of file"), "{e}");
    }
}

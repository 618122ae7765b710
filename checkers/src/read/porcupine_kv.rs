//! Porcupine's kv logs: one EDN map per line,
//! `{:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}`.
//!
//! Stricter than the general EDN reader: each non-blank line must be exactly one map
//! with `:process` (a non-negative integer), `:type` (`:invoke`, `:ok`, `:fail`,
//! `:info`), `:f` (`:get`, `:put` or `:append`, read as `read`, `write`, `append`),
//! `:key` (a string or an integer) and `:value` (a string, or `nil`); other keys are
//! ignored. A `get` of a missing key returns `""`. The log carries no times: the line
//! order is the real-time order and an event's `time` is its index.

use crate::history::{Event, EventKind, History, Process, F};
use crate::value::Value;

use super::edn_syntax::Parser;
use super::{Parsed, ReadError, ReadOptions};

/// The shape of a line, for error messages.
const EXAMPLE: &str = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}";

/// Reads a Porcupine kv log from `text`; errors name `file`.
pub fn read(text: &str, file: &str) -> Result<History, ReadError> {
    read_options(text, file, &ReadOptions::default()).map(|p| p.history)
}

/// [`read`] with `options` (model admission, the meaning of nil reads).
pub(crate) fn read_options(
    text: &str,
    file: &str,
    options: &ReadOptions,
) -> Result<Parsed, ReadError> {
    let mut builder = options.builder(file);
    builder.set_untimed(true);
    let mut index = 0u64;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let event = parse_line(raw, index).map_err(|m| builder.error(line, m))?;
        index += 1;
        builder.push(event, line)?;
    }
    Ok(Parsed::of(builder))
}

/// Parses one line into an event, or says what is wrong with it.
fn parse_line(raw: &str, index: u64) -> Result<Event, String> {
    let mut p = Parser::new(raw, 1);
    if p.peek_form()? != Some(b'{') {
        return Err(format!("expected one EDN map per line, like {EXAMPLE}"));
    }
    let form = p.form()?;
    if let Some(c) = p.peek_form()? {
        return Err(format!(
            "`{}` after the map; expected one map per line, like {EXAMPLE}",
            c as char
        ));
    }
    let get = |name: &str| form.get(name);
    let process = match get("process") {
        Some(Value::Int(p)) if *p >= 0 => *p as u64,
        Some(other) => {
            return Err(format!(
                ":process {other} is not understood; expected a non-negative integer"
            ))
        }
        None => return Err(format!("missing :process; expected a line like {EXAMPLE}")),
    };
    let kind = match get("type") {
        Some(Value::Str(t)) => EventKind::parse(t),
        _ => None,
    }
    .ok_or_else(|| {
        format!(
            ":type {} is not understood; expected one of :invoke, :ok, :fail, :info",
            shown(get("type"))
        )
    })?;
    let f = match get("f").and_then(Value::as_str) {
        Some("get") => F::Read,
        Some("put") => F::Write,
        Some("append") => F::Append,
        _ => {
            return Err(format!(
                ":f {} is not understood; expected one of :get, :put, :append",
                shown(get("f"))
            ))
        }
    };
    let key = match get("key") {
        Some(k @ (Value::Str(_) | Value::Int(_))) => k.clone(),
        other => {
            return Err(format!(
                ":key {} is not understood; expected a string such as \"1\"",
                shown(other)
            ))
        }
    };
    let value = match get("value") {
        None | Some(Value::Null) => Value::Null,
        Some(v @ Value::Str(_)) => v.clone(),
        Some(other) => {
            return Err(format!(
                ":value {other} is not understood; expected a string or nil"
            ))
        }
    };
    Ok(Event {
        index,
        time: index,
        process: Process::Client(process),
        kind,
        f,
        key: Some(key),
        value,
        node: None,
        error: get("error").cloned(),
        latency: None,
    })
}

/// A field's value for a message, or "(missing)".
fn shown(v: Option<&Value>) -> String {
    v.map_or_else(|| "(missing)".to_string(), Value::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    #[test]
    fn gets_puts_and_appends_read_as_read_write_append() {
        let h = read(
            "{:process 0, :type :invoke, :f :get, :key \"7\", :value nil}\n\
             {:process 0, :type :ok, :f :get, :key \"7\", :value \"\"}\n\
             \n\
             {:process 1, :type :invoke, :f :put, :key \"7\", :value \"x\"}\n\
             {:process 1, :type :ok, :f :put, :key \"7\", :value \"x\"}\n\
             {:process 1, :type :invoke, :f :append, :key \"7\", :value \"y\"}\n",
            "c.txt",
        )
        .unwrap();
        assert_eq!(h.ops.len(), 3);
        assert_eq!(h.ops[0].f, F::Read);
        assert_eq!(h.ops[0].value, Value::str(""));
        assert_eq!(h.ops[1].f, F::Write);
        assert_eq!(h.ops[2].f, F::Append);
        assert_eq!(h.ops[2].outcome, Outcome::Info);
        assert_eq!(h.ops[2].key, Some(Value::str("7")));
    }

    #[test]
    fn an_unknown_function_names_its_line() {
        let e = read(
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 1, :type :invoke, :f :delete, :key \"1\"}\n",
            "c.txt",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("c.txt:2: :f \"delete\" is not understood; expected one of :get"),
            "{e}"
        );
    }

    #[test]
    fn two_maps_on_a_line_or_a_missing_key_are_errors() {
        let two = "{:process 0, :type :invoke, :f :get, :key \"1\"} {:process 1}";
        let e = read(two, "c.txt").unwrap_err().to_string();
        assert!(e.contains("c.txt:1: `{` after the map"), "{e}");
        let e = read("{:process 0, :type :invoke, :f :get}", "c.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":key (missing) is not understood"), "{e}");
        let e = read("[:process 0]", "c.txt").unwrap_err().to_string();
        assert!(e.contains("expected one EDN map per line"), "{e}");
    }
}

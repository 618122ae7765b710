//! Porcupine's etcd Jepsen logs: `INFO  jepsen.util - 2 :invoke :cas [2 4]` (tab-separated), the
//! fields (process, type, f, value) separated by tabs or runs of spaces; the value is
//! EDN (`nil`, an integer, `[2 4]`, `:timed-out`). Lines without `jepsen.util -` are
//! other log output and are skipped. Times are not in the log: the line order is the
//! real-time order, and `time` is the event's index.

use crate::history::{Event, EventKind, History, Process, F};
use crate::value::Value;

use super::{Parsed, ReadError, ReadOptions};

const MARK: &str = "jepsen.util - ";

/// Reads a Porcupine etcd log from `text`; errors name `file`.
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
        let Some(at) = raw.find(MARK) else { continue };
        let event = parse(&raw[at + MARK.len()..], index).map_err(|m| builder.error(line, m))?;
        index += 1;
        builder.push(event, line)?;
    }
    Ok(Parsed::of(builder))
}

fn parse(rest: &str, index: u64) -> Result<Event, String> {
    let mut fields = rest.split(['\t', ' ']).filter(|s| !s.is_empty());
    let expected = "expected `PROCESS :TYPE :F VALUE`, e.g. `2 :invoke :cas [2 4]`";
    let process = fields
        .next()
        .ok_or_else(|| format!("empty entry; {expected}"))?;
    let process = match process.parse::<u64>() {
        Ok(p) => Process::Client(p),
        Err(_) if process == ":nemesis" => Process::Nemesis,
        Err(_) => return Err(format!("process `{process}` is not a number; {expected}")),
    };
    let kind = fields
        .next()
        .ok_or_else(|| format!("missing type; {expected}"))?;
    let kind = kind
        .strip_prefix(':')
        .and_then(EventKind::parse)
        .ok_or_else(|| {
            format!("type `{kind}` is unknown; expected one of :invoke, :ok, :fail, :info")
        })?;
    let f = fields
        .next()
        .ok_or_else(|| format!("missing f; {expected}"))?;
    let f = F::parse(f.strip_prefix(':').unwrap_or(f));
    let value_text: Vec<&str> = fields.collect();
    let value_text = value_text.join(" ");
    let value = parse_value(&value_text).ok_or_else(|| {
        format!(
            "value `{value_text}` is not understood; expected nil, an integer, [a b] or a keyword"
        )
    })?;
    Ok(Event {
        index,
        time: index,
        process,
        kind,
        f,
        key: None,
        value,
        node: None,
        error: None,
        latency: None,
    })
}

/// `nil`, integers, `[a b ...]` of those, and keywords (kept as strings).
fn parse_value(t: &str) -> Option<Value> {
    let t = t.trim();
    if t.is_empty() || t == "nil" {
        return Some(Value::Null);
    }
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return inner
            .split_whitespace()
            .map(parse_value)
            .collect::<Option<Vec<_>>>()
            .map(Value::List);
    }
    if let Some(k) = t.strip_prefix(':') {
        return Some(Value::str(k));
    }
    t.parse::<i64>().ok().map(Value::Int)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    #[test]
    fn an_etcd_log_reads_with_tabs_or_spaces() {
        let h = read(
            "INFO  jepsen.util - 2\t:invoke\t:cas\t[2 4]\nINFO  jepsen.util - 2   :fail   :cas    [2 4]\nsome other line\nINFO  jepsen.util - 3\t:invoke\t:read\tnil\nINFO  jepsen.util - 3\t:ok\t:read\t4\n",
            "etcd.log",
        )
        .unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].outcome, Outcome::Fail);
        assert_eq!(
            h.ops[0].value,
            Value::List(vec![Value::Int(2), Value::Int(4)])
        );
        assert_eq!(h.ops[1].value, Value::Int(4));
    }

    #[test]
    fn a_bad_type_names_the_line() {
        let e = read("INFO  jepsen.util - 2\t:maybe\t:read\tnil\n", "etcd.log").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("etcd.log:1: type `:maybe` is unknown"),
            "{e}"
        );
    }
}

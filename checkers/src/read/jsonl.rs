//! faultline's own history format: JSON Lines, one [`Event`] per line (DESIGN.md).
//!
//! Each line is parsed straight into a typed [`Event`] (no `serde_json::Value`),
//! validated (dense `index`, known `type`, required fields) and pushed through the
//! [`HistoryBuilder`]. Blank lines are allowed and skipped.

use std::io::BufRead;

use crate::history::{Event, History, HistoryBuilder};

use super::ReadError;

/// Reads a JSONL history from `reader`; errors name `file`.
pub fn read(mut reader: impl BufRead, file: &str) -> Result<History, ReadError> {
    let mut builder = HistoryBuilder::new(file);
    let mut line = String::new();
    let mut number = 0usize;
    let mut next_index = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|source| ReadError::Io {
                file: file.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let event = parse_line(text).map_err(|m| builder.error(number, m))?;
        if event.index != next_index {
            return Err(builder
                .error(
                    number,
                    format!(
                        "index {} out of order: indices are 0-based and dense (expected {next_index})",
                        event.index
                    ),
                )
                .into());
        }
        next_index += 1;
        builder.push(event, number)?;
    }
    Ok(builder.finish())
}

/// Parses one line into an event, or says what is wrong with it.
pub fn parse_line(text: &str) -> Result<Event, String> {
    serde_json::from_str::<Event>(text).map_err(|e| {
        let what = e.to_string();
        if e.is_syntax() || e.is_eof() {
            format!("malformed JSON ({what}); expected one JSON object per line")
        } else if what.contains("unknown variant") {
            format!("{what}; `type` must be one of invoke, ok, fail, info")
        } else {
            format!(
                "{what}; expected an event like {{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}}"
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Outcome, Process, Value};

    fn read_str(s: &str) -> Result<History, ReadError> {
        read(s.as_bytes(), "h.jsonl")
    }

    #[test]
    fn a_design_md_history_reads() {
        let h = read_str(concat!(
            r#"{"index":0,"time":1520334,"process":3,"type":"invoke","f":"write","key":"k7","value":42}"#,
            "\n",
            r#"{"index":1,"time":1893002,"process":3,"type":"ok","f":"write","key":"k7","value":42,"node":"n2"}"#,
            "\n",
            r#"{"index":2,"time":2001200,"process":"nemesis","type":"info","f":"start-partition","value":{"kind":"majorities-ring","groups":[["n1","n2"],["n3"]]}}"#,
            "\n"
        ))
        .unwrap();
        assert_eq!(h.ops.len(), 1);
        assert_eq!(h.ops[0].outcome, Outcome::Ok);
        assert_eq!(h.ops[0].key, Some(Value::str("k7")));
        assert_eq!(h.nemesis[0].process, Process::Nemesis);
        assert_eq!(h.event_count, 3);
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let e = read_str(
            "{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n{oops\n",
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("h.jsonl:2: malformed JSON"), "{m}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let m = read_str(r#"{"index":0,"process":1,"type":"invoke","f":"read"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("h.jsonl:1:") && m.contains("missing field `time`"),
            "{m}"
        );
    }

    #[test]
    fn a_mistyped_field_is_named() {
        let m = read_str(r#"{"index":0,"time":"soon","process":1,"type":"invoke","f":"read"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("h.jsonl:1:") && m.contains("invalid type"),
            "{m}"
        );
    }

    #[test]
    fn an_unknown_type_is_named() {
        let m = read_str(r#"{"index":0,"time":0,"process":1,"type":"maybe","f":"read"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            m.contains("h.jsonl:1:") && m.contains("invoke, ok, fail, info"),
            "{m}"
        );
    }

    #[test]
    fn a_gap_in_the_index_is_an_error() {
        let m = read_str(r#"{"index":1,"time":0,"process":1,"type":"invoke","f":"read"}"#)
            .unwrap_err()
            .to_string();
        assert!(m.contains("expected 0"), "{m}");
    }
}

//! faultline's own history format: JSON Lines, one [`Event`] per line (DESIGN.md).
//!
//! Each line is parsed straight into a typed [`Event`] (no `serde_json::Value`),
//! validated (dense `index`, known `type`, required fields) and pushed through the
//! [`HistoryBuilder`]. Blank lines are allowed and skipped.
//!
//! Large files are parsed on several threads: the file is read in chunks of about
//! 1 MiB cut at line ends, worker threads parse chunks into events, and this thread
//! pushes them through the builder strictly in file order, so errors are the same
//! (the first bad line, by line number) as a line-by-line read. Keys and node names
//! are shared: within a chunk, every op on key `k7` holds one `Arc<str>`.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::sync::{mpsc, Arc, Mutex};

use crate::history::{Event, History, HistoryBuilder};

use super::jsonl_raw::{Names, RawEvent};
use super::{Parsed as ReadHistory, ReadError, ReadOptions};

/// Bytes per chunk handed to a parsing thread.
const CHUNK: u64 = 1 << 20;

/// A chunk's bytes and a vector for its events, reused from chunk to chunk.
type Buffers = (Vec<u8>, Vec<(usize, Event)>);

/// A chunk's parsed lines.
struct Parsed {
    /// Events with their line number relative to the chunk (1-based).
    events: Vec<(usize, Event)>,
    /// Lines in the chunk.
    lines: usize,
    /// The first bad line (relative) and what is wrong with it.
    error: Option<(usize, String)>,
    /// The chunk's bytes, handed back for reuse.
    bytes: Vec<u8>,
}

/// Reads a JSONL history from `reader`; errors name `file`.
pub fn read(reader: impl BufRead, file: &str) -> Result<History, ReadError> {
    let threads = threads();
    read_with(reader, file, threads, &ReadOptions::default()).map(|p| p.history)
}

/// [`read`] with `options` (model admission, the meaning of nil reads).
pub(crate) fn read_options(
    reader: impl BufRead,
    file: &str,
    options: &ReadOptions,
) -> Result<ReadHistory, ReadError> {
    read_with(reader, file, threads(), options)
}

/// How many parsing threads to use (`FL_THREADS`, else up to 4).
fn threads() -> usize {
    std::env::var("FL_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)))
}

/// [`read`] with `threads` parsing threads (1: everything on this thread).
fn read_with(
    mut reader: impl BufRead,
    file: &str,
    threads: usize,
    options: &ReadOptions,
) -> Result<ReadHistory, ReadError> {
    let io = |source| ReadError::Io {
        file: file.to_string(),
        source,
    };
    let mut state = Pusher {
        builder: options.builder(file),
        line_base: 0,
        next_index: 0,
    };
    let mut first = Vec::new();
    next_chunk(&mut reader, &mut first).map_err(io)?;
    if threads == 1 || (first.len() as u64) < CHUNK {
        // One thread: parse each chunk and push its events as they come.
        let mut chunk = first;
        while !chunk.is_empty() {
            state.parse_and_push(&chunk)?;
            next_chunk(&mut reader, &mut chunk).map_err(io)?;
        }
        return Ok(ReadHistory::of(state.builder));
    }
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = mpsc::channel::<(usize, Buffers)>();
        let (done_tx, done_rx) = mpsc::channel::<(usize, Parsed)>();
        let work_rx = Arc::new(Mutex::new(work_rx));
        for _ in 0..threads {
            let work_rx = Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            scope.spawn(move || loop {
                let next = work_rx.lock().map(|rx| rx.recv());
                let Ok(Ok((id, (bytes, events)))) = next else {
                    break;
                };
                if done_tx.send((id, parse_chunk(bytes, events))).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // At most 2 chunks per thread in flight; results are pushed in file order;
        // byte buffers and event vectors go round again.
        let run = || -> Result<(), ReadError> {
            let mut pending: BTreeMap<usize, Parsed> = BTreeMap::new();
            let mut spare: Vec<Buffers> = Vec::new();
            let (mut sent, mut pushed) = (0usize, 0usize);
            let mut first = Some(first);
            let mut eof = false;
            loop {
                while !eof && sent - pushed < 2 * threads {
                    let (mut bytes, events) = spare.pop().unwrap_or_default();
                    match first.take() {
                        Some(c) => bytes = c,
                        None => next_chunk(&mut reader, &mut bytes).map_err(io)?,
                    }
                    if bytes.is_empty() {
                        eof = true;
                    } else if work_tx.send((sent, (bytes, events))).is_ok() {
                        sent += 1;
                    }
                }
                if pushed == sent {
                    return Ok(());
                }
                let (id, parsed) = done_rx.recv().map_err(|_| {
                    io(std::io::Error::other(
                        "a parsing thread stopped unexpectedly",
                    ))
                })?;
                pending.insert(id, parsed);
                while let Some(mut parsed) = pending.remove(&pushed) {
                    pushed += 1;
                    state.take(&mut parsed)?;
                    spare.push((parsed.bytes, parsed.events));
                }
            }
        };
        let result = run();
        drop(work_tx);
        result
    })?;
    Ok(ReadHistory::of(state.builder))
}

/// Fills `buf` with the next chunk of about [`CHUNK`] bytes, ending at a line end (or
/// the file's end); leaves it empty at the end of the file.
fn next_chunk(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    buf.reserve(CHUNK as usize + 4096);
    reader.by_ref().take(CHUNK).read_to_end(buf)?;
    if !buf.is_empty() && buf.last() != Some(&b'\n') {
        reader.read_until(b'\n', buf)?;
    }
    Ok(())
}

/// A chunk as text: the longest prefix of whole lines that is UTF-8, and the line
/// (1-based, within the chunk) that is not, if any.
fn chunk_text(bytes: &[u8]) -> (&str, Option<usize>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            // The prefix ends at a line end, so it is valid UTF-8.
            (
                std::str::from_utf8(&bytes[..start]).unwrap_or(""),
                Some(line),
            )
        }
    }
}

/// The lines of a chunk's text: (1-based line number within the chunk, trimmed
/// text), blank lines left out.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n')
        .map(str::trim_ascii)
        .enumerate()
        .map(|(i, text)| (i + 1, text))
        .filter(|(_, text)| !text.is_empty())
}

/// How many lines a chunk holds.
fn line_count(bytes: &[u8]) -> usize {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count();
    newlines + usize::from(bytes.last().is_some_and(|&b| b != b'\n'))
}

/// What is wrong with a line that is not UTF-8.
const NOT_UTF8: &str = "the line is not valid UTF-8 text; expected one JSON object per line";

/// Parses the lines of a chunk into `events`, up to the first bad one.
fn parse_chunk(bytes: Vec<u8>, mut events: Vec<(usize, Event)>) -> Parsed {
    events.clear();
    let mut error = None;
    {
        let (text, bad) = chunk_text(&bytes);
        let mut names = Names::default();
        for (line, text) in lines(text) {
            match parse_raw(text) {
                Ok(event) => events.push((line, event.into_event(&mut names))),
                Err(m) => {
                    error = Some((line, m));
                    break;
                }
            }
        }
        if error.is_none() {
            error = bad.map(|line| (line, NOT_UTF8.to_string()));
        }
    }
    Parsed {
        events,
        lines: line_count(&bytes),
        error,
        bytes,
    }
}

/// Pushes parsed chunks through the builder, in order.
struct Pusher {
    builder: HistoryBuilder,
    /// Lines before the current chunk.
    line_base: usize,
    next_index: u64,
}

impl Pusher {
    /// Pushes a chunk parsed on another thread (draining its events).
    fn take(&mut self, parsed: &mut Parsed) -> Result<(), ReadError> {
        for (rel, event) in parsed.events.drain(..) {
            self.push(event, self.line_base + rel)?;
        }
        if let Some((rel, m)) = parsed.error.take() {
            return Err(self.builder.error(self.line_base + rel, m).into());
        }
        self.line_base += parsed.lines;
        Ok(())
    }

    /// Parses a chunk here and pushes its events one by one.
    fn parse_and_push(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        let (text, bad) = chunk_text(bytes);
        let mut names = Names::default();
        for (rel, text) in lines(text) {
            let number = self.line_base + rel;
            let event = parse_raw(text).map_err(|m| self.builder.error(number, m))?;
            self.push(event.into_event(&mut names), number)?;
        }
        if let Some(rel) = bad {
            return Err(self.builder.error(self.line_base + rel, NOT_UTF8).into());
        }
        self.line_base += line_count(bytes);
        Ok(())
    }

    /// Checks the index is the next one and pushes the event through the builder.
    fn push(&mut self, event: Event, number: usize) -> Result<(), ReadError> {
        if event.index != self.next_index {
            return Err(self
                .builder
                .error(
                    number,
                    format!(
                        "index {} out of order: indices are 0-based and dense (expected {})",
                        event.index, self.next_index
                    ),
                )
                .into());
        }
        self.next_index += 1;
        self.builder.push(event, number)?;
        Ok(())
    }
}

/// Parses one line into an event, or says what is wrong with it.
pub fn parse_line(text: &str) -> Result<Event, String> {
    parse_raw(text).map(|raw| raw.into_event(&mut Names::default()))
}

/// Parses one line, borrowing from it, or says what is wrong with it.
fn parse_raw(text: &str) -> Result<RawEvent<'_>, String> {
    serde_json::from_str::<RawEvent>(text).map_err(|e| {
        // serde_json says "at line 1 column N" of the line it was given: the line
        // number is the file's (in the prefix of the message), so say only the column.
        let full = e.to_string();
        let what = match full.rfind(" at line ") {
            Some(at) => format!("{} (at column {})", &full[..at], e.column()),
            None => full,
        };
        let found = match text.as_bytes().first() {
            Some(b'[') => Some("a JSON array"),
            Some(b'"') => Some("a JSON string"),
            Some(b'0'..=b'9' | b'-') => Some("a JSON number"),
            Some(b't' | b'f') if serde_json::from_str::<bool>(text).is_ok() => Some("a JSON boolean"),
            Some(b'n') if text == "null" => Some("JSON null"),
            _ => None,
        };
        if let Some(found) = found.filter(|_| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()) {
            format!(
                "found {found}, not an object; expected one JSON object per line, like {{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}}"
            )
        } else if e.is_syntax() || e.is_eof() {
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
    use std::sync::Arc;

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
    fn a_line_that_is_not_utf8_is_named() {
        let mut bytes =
            b"{\"index\":0,\"time\":0,\"process\":1,\"type\":\"invoke\",\"f\":\"read\"}\n".to_vec();
        bytes.extend_from_slice(b"{\"index\":1,\"f\":\"\xff\"}\n");
        let m = read(&bytes[..], "h.jsonl").unwrap_err().to_string();
        assert!(
            m.starts_with("h.jsonl:2: the line is not valid UTF-8"),
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

    /// A history of `n` register ops as JSONL (2n lines), one process per 8 ops.
    fn big(n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            let p = i % 8;
            s.push_str(&format!("{{\"index\":{},\"time\":{},\"process\":{p},\"type\":\"invoke\",\"f\":\"write\",\"key\":\"k{}\",\"value\":{i}}}\n", 2 * i, 2 * i, i % 100));
            s.push_str(&format!("{{\"index\":{},\"time\":{},\"process\":{p},\"type\":\"ok\",\"f\":\"write\",\"key\":\"k{}\",\"value\":{i},\"node\":\"n1\"}}\n", 2 * i + 1, 2 * i + 1, i % 100));
        }
        s
    }

    #[test]
    fn a_multi_chunk_file_reads_the_same_on_one_thread_or_several() {
        let text = big(20_000);
        assert!(
            text.len() as u64 > 2 * CHUNK,
            "the input spans several chunks"
        );
        let o = ReadOptions::default();
        let one = read_with(text.as_bytes(), "h.jsonl", 1, &o)
            .unwrap()
            .history;
        let h = read_with(text.as_bytes(), "h.jsonl", 3, &o)
            .unwrap()
            .history;
        assert_eq!(one.ops, h.ops);
        assert_eq!(h.event_count, 40_000);
        assert_eq!(h.ops.len(), 20_000);
        for (i, op) in h.ops.iter().enumerate() {
            assert_eq!(op.value, Value::Int(i as i64));
            assert_eq!(op.invoke_index, 2 * i as u64);
        }
        // Keys are interned: ops on one key share the string.
        let (a, b) = (&h.ops[0].key, &h.ops[100].key);
        match (a, b) {
            (Some(Value::Str(a)), Some(Value::Str(b))) => assert!(Arc::ptr_eq(a, b)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_error_in_a_later_chunk_names_its_line() {
        let mut text = big(20_000);
        text.push_str("{\"index\":40000,\"time\":1,\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n");
        text.push_str("not json\n");
        text.push_str(&big(1_000));
        for threads in [1, 2] {
            let m = read_with(text.as_bytes(), "h.jsonl", threads, &ReadOptions::default())
                .unwrap_err()
                .to_string();
            assert!(m.starts_with("h.jsonl:40002: malformed JSON"), "{m}");
        }
        // A rule broken late (process 1 invokes twice) is found at its line too.
        let mut text = big(20_000);
        for i in 0..2 {
            text.push_str(&format!("{{\"index\":{},\"time\":1,\"process\":99,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}}\n", 40_000 + i));
        }
        let m = read_str(&text).unwrap_err().to_string();
        assert!(
            m.starts_with("h.jsonl:40002: process 99 invokes again"),
            "{m}"
        );
    }
}

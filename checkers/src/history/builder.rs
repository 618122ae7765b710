//! [`HistoryBuilder`]: validates events in order and pairs invokes with completions.
//!
//! The rules (DESIGN.md, "History"): a client process has at most one outstanding
//! invoke; a completion needs an invoke on the same process with the same `f`; after
//! an `info` completion the process id is never used again; an invoke still open when
//! the history ends counts as `info`; a completion is never earlier than its invoke.
//! Nemesis events are kept as notes.
//!
//! Options a reader sets: [`HistoryBuilder::admitting`] refuses operations the model
//! being checked does not know ([`super::admit`]); [`HistoryBuilder::nil_reads_match_any`]
//! reads an `ok` read of `nil` as Knossos does (value unknown).

use std::collections::HashMap;

use super::{Event, EventKind, History, Op, Outcome, Process};

/// A history that breaks the rules, located as `FILE:LINE`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct HistoryError {
    /// The file (or a description of the source).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// State of one client process while building.
#[derive(Clone, Copy, Debug)]
enum ProcessState {
    /// Invoked; the op sits at this position in `ops`, invoked on this line.
    Open { op: usize, line: usize },
    /// Its last op completed ok or fail.
    Idle,
    /// Its last op completed `info` on this line: the id is retired.
    Retired { line: usize },
}

/// Builds a [`History`] from events pushed in order.
#[derive(Debug)]
pub struct HistoryBuilder {
    file: String,
    ops: Vec<Op>,
    nemesis: Vec<Event>,
    processes: HashMap<u64, ProcessState>,
    events: u64,
    /// The model whose operations are admitted (`None`: any).
    admit: Option<String>,
    /// Whether an `ok` read of `nil` means "value unknown" (Knossos) rather than
    /// "the register held nil".
    nil_read_any: bool,
    /// How many `ok` reads returned `nil`.
    nil_reads: usize,
    /// Whether the source had no clock.
    untimed: bool,
}

impl HistoryBuilder {
    /// A builder whose errors name `file`.
    pub fn new(file: impl Into<String>) -> HistoryBuilder {
        HistoryBuilder {
            file: file.into(),
            ops: Vec::new(),
            nemesis: Vec::new(),
            processes: HashMap::new(),
            events: 0,
            admit: None,
            nil_read_any: false,
            nil_reads: 0,
            untimed: false,
        }
    }

    /// Marks the history as having no clock: event times are indices.
    pub fn set_untimed(&mut self, untimed: bool) {
        self.untimed = untimed;
    }

    /// Refuses client events that `model` (its command-line name, e.g. `kv`) does not
    /// know, or whose value has the wrong shape ([`super::admit::check`]).
    pub fn admitting(mut self, model: Option<&str>) -> HistoryBuilder {
        self.admit = model.map(str::to_string);
        self
    }

    /// With `any`, an `ok` read that returned `nil` is read as Knossos reads it: its
    /// value is unknown, so it constrains nothing (it becomes an `info` read).
    pub fn nil_reads_match_any(mut self, any: bool) -> HistoryBuilder {
        self.nil_read_any = any;
        self
    }

    /// How many `ok` reads so far returned `nil` (`null`).
    pub fn nil_reads(&self) -> usize {
        self.nil_reads
    }

    /// The error for `line` with `message`.
    pub fn error(&self, line: usize, message: impl Into<String>) -> HistoryError {
        HistoryError {
            file: self.file.clone(),
            line,
            message: message.into(),
        }
    }

    /// Adds the next event, read from `line` (1-based) of the source.
    pub fn push(&mut self, event: Event, line: usize) -> Result<(), HistoryError> {
        self.events += 1;
        let p = match event.process {
            Process::Nemesis => {
                self.nemesis.push(event);
                return Ok(());
            }
            Process::Client(p) => p,
        };
        if let Some(model) = &self.admit {
            super::admit::check(model, &event).map_err(|m| self.error(line, m))?;
        }
        let state = self.processes.get(&p).copied();
        match (event.kind, state) {
            (EventKind::Invoke, None | Some(ProcessState::Idle)) => {
                let id = self.ops.len();
                self.ops.push(Op {
                    id,
                    process: p,
                    f: event.f,
                    key: event.key,
                    invoke_value: event.value.clone(),
                    value: event.value,
                    outcome: Outcome::Info,
                    invoke_index: event.index,
                    complete_index: None,
                    invoke_time: event.time,
                    complete_time: None,
                    node: None,
                    error: None,
                });
                self.processes.insert(p, ProcessState::Open { op: id, line });
                Ok(())
            }
            (EventKind::Invoke, Some(ProcessState::Open { line: open, .. })) => Err(self.error(
                line,
                format!(
                    "process {p} invokes again while its invoke on line {open} is still outstanding; \
                     a process runs one operation at a time (expected a completion for it first)"
                ),
            )),
            (_, Some(ProcessState::Retired { line: retired })) => Err(self.error(
                line,
                format!(
                    "process {p} is used again after its info completion on line {retired}; \
                     a process that crashed must not be reused (expected a fresh process id)"
                ),
            )),
            (_, None | Some(ProcessState::Idle)) => Err(self.error(
                line,
                format!(
                    "an `{}` completion for process {p} with no outstanding invoke (expected an invoke first)",
                    event.kind.as_str()
                ),
            )),
            (kind, Some(ProcessState::Open { op, line: open })) => {
                if self.ops[op].f != event.f {
                    return Err(self.error(
                        line,
                        format!(
                            "completion f \"{}\" does not match the invoke on line {open}, f \"{}\"",
                            event.f, self.ops[op].f
                        ),
                    ));
                }
                if event.time < self.ops[op].invoke_time {
                    return Err(self.error(
                        line,
                        format!(
                            "the {} completion's time {} is earlier than its invoke's time {} (line {open}); \
                             expected time never to go backwards within an operation",
                            kind.as_str(),
                            event.time,
                            self.ops[op].invoke_time
                        ),
                    ));
                }
                let nil_read = kind == EventKind::Ok && event.f == super::F::Read && event.value.is_null();
                if nil_read {
                    self.nil_reads += 1;
                }
                let nil_read_any = self.nil_read_any;
                let o = &mut self.ops[op];
                o.outcome = match kind {
                    EventKind::Ok => Outcome::Ok,
                    EventKind::Fail => Outcome::Fail,
                    _ => Outcome::Info,
                };
                if o.outcome == Outcome::Ok && !event.value.is_null() {
                    o.value = event.value;
                }
                o.complete_index = Some(event.index);
                o.complete_time = Some(event.time);
                o.node = event.node;
                o.error = event.error;
                if nil_read && nil_read_any {
                    // Knossos: a read of nil returned no information.
                    o.outcome = Outcome::Info;
                }
                let next = if o.outcome == Outcome::Info && !(nil_read && nil_read_any) {
                    ProcessState::Retired { line }
                } else {
                    ProcessState::Idle
                };
                self.processes.insert(p, next);
                Ok(())
            }
        }
    }

    /// Ends the history: open invokes count as `info`.
    pub fn finish(self) -> History {
        History {
            ops: self.ops,
            nemesis: self.nemesis,
            event_count: self.events,
            untimed: self.untimed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Value, F};

    fn ev(index: u64, process: u64, kind: EventKind, f: &str, value: Value) -> Event {
        Event {
            index,
            time: index * 10,
            process: Process::Client(process),
            kind,
            f: F::parse(f),
            key: None,
            value,
            node: None,
            error: None,
            latency: None,
        }
    }

    #[test]
    fn invokes_are_paired_with_their_completions() {
        let h = History::from_events([
            ev(0, 1, EventKind::Invoke, "read", Value::Null),
            ev(1, 2, EventKind::Invoke, "write", Value::Int(3)),
            ev(2, 1, EventKind::Ok, "read", Value::Int(3)),
            ev(3, 2, EventKind::Fail, "write", Value::Int(3)),
        ])
        .unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].value, Value::Int(3));
        assert_eq!(h.ops[0].outcome, Outcome::Ok);
        assert_eq!(h.ops[1].outcome, Outcome::Fail);
        assert!(h.ops[0].complete_index == Some(2));
    }

    #[test]
    fn an_invoke_without_completion_counts_as_info() {
        let h =
            History::from_events([ev(0, 1, EventKind::Invoke, "write", Value::Int(1))]).unwrap();
        assert_eq!(h.ops[0].outcome, Outcome::Info);
        assert_eq!(h.ops[0].complete_index, None);
    }

    #[test]
    fn a_completion_without_invoke_is_an_error_with_its_line() {
        let e = History::from_events([ev(0, 1, EventKind::Ok, "read", Value::Null)]).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().contains("no outstanding invoke"), "{e}");
    }

    #[test]
    fn a_second_invoke_while_one_is_outstanding_is_an_error() {
        let e = History::from_events([
            ev(0, 1, EventKind::Invoke, "read", Value::Null),
            ev(1, 1, EventKind::Invoke, "read", Value::Null),
        ])
        .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("still outstanding"), "{e}");
    }

    #[test]
    fn a_process_used_again_after_info_is_an_error() {
        let e = History::from_events([
            ev(0, 1, EventKind::Invoke, "write", Value::Int(1)),
            ev(1, 1, EventKind::Info, "write", Value::Int(1)),
            ev(2, 1, EventKind::Invoke, "read", Value::Null),
        ])
        .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string()
                .contains("after its info completion on line 2"),
            "{e}"
        );
    }

    #[test]
    fn a_completion_with_another_f_is_an_error() {
        let e = History::from_events([
            ev(0, 1, EventKind::Invoke, "write", Value::Int(1)),
            ev(1, 1, EventKind::Ok, "read", Value::Int(1)),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("does not match"), "{e}");
    }
}

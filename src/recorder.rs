//! The history recorder: appends every invoke, completion and nemesis note to
//! `history.jsonl` as the run goes (DESIGN.md, "History").
//!
//! Recording is cheap: an event is serialized straight into an in-memory buffer under
//! a short lock that also assigns its dense `index` and its `time` (so both orders
//! agree); a background thread writes the buffer out at least every 100 ms. At every
//! phase change [`Recorder::sync`] writes and fsyncs, so a crash loses at most the
//! last 100 ms, and nothing recorded before the last phase change.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use checkers::{EventKind, Process, Value, F};
use serde::Serialize;

/// How often the background thread writes the buffer out.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);

/// Counts of what was recorded (client operations only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OpCounts {
    /// Invokes.
    pub total: u64,
    /// `ok` completions.
    pub ok: u64,
    /// `fail` completions.
    pub fail: u64,
    /// `info` completions (invokes never completed are counted at the end).
    pub info: u64,
}

/// One line, borrowed: serialized without cloning values.
#[derive(Serialize)]
struct Line<'a> {
    index: u64,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventKind,
    f: &'a F,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a Value>,
    value: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency: Option<u64>,
}

/// An event to record (index and time are assigned by the recorder).
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// Who.
    pub process: Process,
    /// invoke / ok / fail / info.
    pub kind: EventKind,
    /// The function.
    pub f: &'a F,
    /// The key, if any.
    pub key: Option<&'a Value>,
    /// The value.
    pub value: &'a Value,
    /// The node that served it (completions).
    pub node: Option<&'a str>,
    /// Why it failed or is indeterminate (completions).
    pub error: Option<&'a str>,
    /// Nanoseconds since the invoke (completions): the recorder computes the latency
    /// from it; `None` for invokes and notes.
    pub invoked_at: Option<u64>,
}

struct State {
    next_index: u64,
    buf: Vec<u8>,
}

struct Shared {
    start: Instant,
    serialize: bool,
    state: Mutex<State>,
    file: Mutex<Option<File>>,
    error: Mutex<Option<std::io::Error>>,
    stop: AtomicBool,
    total: AtomicU64,
    ok: AtomicU64,
    fail: AtomicU64,
    info: AtomicU64,
}

/// A handle to the recorder; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Recorder {
    shared: Arc<Shared>,
    flusher: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("counts", &self.counts())
            .finish()
    }
}

impl Recorder {
    /// A recorder appending to a new file at `path`; `start` is time zero.
    pub fn create(path: &Path, start: Instant) -> std::io::Result<Recorder> {
        let file = File::create(path)?;
        Ok(Recorder::with_sink(Some(file), start, true))
    }

    /// A recorder that serializes every event and throws it away (for measuring).
    pub fn discard(start: Instant) -> Recorder {
        Recorder::with_sink(None, start, true)
    }

    /// A recorder that only counts and numbers events: the baseline for measuring
    /// what recording costs.
    pub fn off(start: Instant) -> Recorder {
        Recorder::with_sink(None, start, false)
    }

    fn with_sink(file: Option<File>, start: Instant, serialize: bool) -> Recorder {
        let shared = Arc::new(Shared {
            start,
            serialize,
            state: Mutex::new(State {
                next_index: 0,
                buf: Vec::with_capacity(1 << 16),
            }),
            file: Mutex::new(file),
            error: Mutex::new(None),
            stop: AtomicBool::new(false),
            total: AtomicU64::new(0),
            ok: AtomicU64::new(0),
            fail: AtomicU64::new(0),
            info: AtomicU64::new(0),
        });
        let s = shared.clone();
        let flusher = std::thread::Builder::new()
            .name("history-flush".into())
            .spawn(move || {
                let mut spare = Vec::with_capacity(1 << 16);
                while !s.stop.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_INTERVAL);
                    s.write_out(&mut spare, false);
                }
            })
            .ok();
        Recorder {
            shared,
            flusher: Arc::new(Mutex::new(flusher)),
        }
    }

    /// Nanoseconds since time zero.
    pub fn now(&self) -> u64 {
        self.shared.start.elapsed().as_nanos() as u64
    }

    /// Records `entry`; returns its time (ns since time zero).
    pub fn record(&self, entry: Entry<'_>) -> u64 {
        let s = &self.shared;
        if let Process::Client(_) = entry.process {
            let counter = match entry.kind {
                EventKind::Invoke => &s.total,
                EventKind::Ok => &s.ok,
                EventKind::Fail => &s.fail,
                EventKind::Info => &s.info,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        let mut st = s.state.lock().unwrap_or_else(|e| e.into_inner());
        let time = s.start.elapsed().as_nanos() as u64;
        let line = Line {
            index: st.next_index,
            time,
            process: entry.process,
            kind: entry.kind,
            f: entry.f,
            key: entry.key,
            value: entry.value,
            node: entry.node,
            error: entry.error,
            latency: entry.invoked_at.map(|t| time.saturating_sub(t)),
        };
        st.next_index += 1;
        if !s.serialize {
            return time;
        }
        // Serializing our own types into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut st.buf, &line);
        st.buf.push(b'\n');
        time
    }

    /// Records a nemesis note `{"process":"nemesis","type":"info","f":f,"value":value}`.
    pub fn nemesis(&self, f: &str, value: &Value) -> u64 {
        self.record(Entry {
            process: Process::Nemesis,
            kind: EventKind::Info,
            f: &F::parse(f),
            key: None,
            value,
            node: None,
            error: None,
            invoked_at: None,
        })
    }

    /// How many events were recorded.
    pub fn events(&self) -> u64 {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_index
    }

    /// What was recorded so far. Invokes never completed count as `info`.
    pub fn counts(&self) -> OpCounts {
        let s = &self.shared;
        let total = s.total.load(Ordering::Relaxed);
        let ok = s.ok.load(Ordering::Relaxed);
        let fail = s.fail.load(Ordering::Relaxed);
        OpCounts {
            total,
            ok,
            fail,
            info: total.saturating_sub(ok + fail),
        }
    }

    /// Writes everything recorded so far and fsyncs the file (phase changes).
    pub fn sync(&self) -> std::io::Result<()> {
        let mut spare = Vec::new();
        self.shared.write_out(&mut spare, true);
        match self
            .shared
            .error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Stops the background writer, writes and fsyncs everything. Idempotent.
    pub fn finish(&self) -> std::io::Result<()> {
        self.shared.stop.store(true, Ordering::Release);
        let handle = self
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(h) = handle {
            h.thread().unpark();
            let _ = h.join();
        }
        self.sync()
    }
}

impl Shared {
    /// Moves the buffer out under the lock, writes it without holding the lock.
    fn write_out(&self, spare: &mut Vec<u8>, fsync: bool) {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            spare.clear();
            std::mem::swap(&mut st.buf, spare);
        }
        let Some(f) = file.as_mut() else {
            return;
        };
        let mut result = f.write_all(spare);
        if fsync && result.is_ok() {
            result = f.sync_data();
        }
        if let Err(e) = result {
            let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
            slot.get_or_insert(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(p: u64, kind: EventKind, f: &'a F, v: &'a Value) -> Entry<'a> {
        Entry {
            process: Process::Client(p),
            kind,
            f,
            key: None,
            value: v,
            node: Some("n1"),
            error: None,
            invoked_at: None,
        }
    }

    #[test]
    fn recorded_events_read_back_as_a_valid_history() {
        let dir = std::env::temp_dir().join(format!("faultline-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let r = Recorder::create(&path, Instant::now()).unwrap();
        let (read, write) = (F::Read, F::Write);
        let t = r.record(entry(0, EventKind::Invoke, &write, &Value::Int(1)));
        r.record(Entry {
            invoked_at: Some(t),
            ..entry(0, EventKind::Ok, &write, &Value::Int(1))
        });
        r.nemesis(checkers::history::FINAL_READS, &Value::Null);
        r.record(entry(1, EventKind::Invoke, &read, &Value::Null));
        r.record(entry(1, EventKind::Ok, &read, &Value::Int(1)));
        r.finish().unwrap();
        let h = checkers::read::jsonl::read(
            std::io::BufReader::new(File::open(&path).unwrap()),
            "history.jsonl",
        )
        .unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.nemesis.len(), 1);
        assert_eq!(h.ops[1].value, Value::Int(1));
        assert_eq!(
            r.counts(),
            OpCounts {
                total: 2,
                ok: 2,
                fail: 0,
                info: 0
            }
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#"{"index":2,"#), "{text}");
        assert!(
            text.contains(r#""process":"nemesis","type":"info","f":"final-reads","value":null"#)
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_history_reaches_the_file_within_the_flush_interval() {
        let dir = std::env::temp_dir().join(format!("faultline-rec2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("history.jsonl");
        let r = Recorder::create(&path, Instant::now()).unwrap();
        r.nemesis("start", &Value::Null);
        std::thread::sleep(FLUSH_INTERVAL * 3);
        assert!(std::fs::read_to_string(&path).unwrap().contains("start"));
        r.finish().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

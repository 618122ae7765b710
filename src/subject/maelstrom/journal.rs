//! The message journal: every message the routed network carries — client to node,
//! node to node, node to service and back — as one line of `nodes/messages.jsonl`,
//! for the report's message-sequence diagram.
//!
//! A line is `{"from": "n1", "to": "n2", "type": "broadcast", "sent": NS, "received":
//! NS}`, times in nanoseconds on the history's clock; `received` is `null` for a
//! message that was dropped (a partition, loss, or nobody to receive it). Messages
//! are journaled once the network records to a history (before that there is no
//! clock to put them on), and at most [`MAX_MESSAGES`] of them: the rest are counted
//! in `nodes/network.json` but not written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value as Json};

use crate::recorder::Recorder;

/// The journal's file name, in the nodes directory.
pub const FILE: &str = "messages.jsonl";

/// How many messages are journaled at most.
pub const MAX_MESSAGES: u64 = 200_000;

/// Where messages are journaled.
#[derive(Debug)]
pub struct Journal {
    out: Mutex<Option<BufWriter<File>>>,
    clock: Mutex<Option<Recorder>>,
    written: AtomicU64,
    /// Messages not written because the journal was full.
    pub left_out: AtomicU64,
}

impl Journal {
    /// A journal writing to `dir/messages.jsonl`; one that writes nothing if the file
    /// cannot be created (the run goes on without a diagram).
    pub fn create(dir: &Path) -> Journal {
        let out = match File::create(dir.join(FILE)) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                tracing::warn!("cannot journal messages in {}: {e}", dir.display());
                None
            }
        };
        Journal {
            out: Mutex::new(out),
            clock: Mutex::new(None),
            written: AtomicU64::new(0),
            left_out: AtomicU64::new(0),
        }
    }

    /// Puts messages on `recorder`'s clock from now on.
    pub fn use_clock(&self, recorder: Recorder) {
        *self.clock.lock().unwrap_or_else(|e| e.into_inner()) = Some(recorder);
    }

    /// Now on the history's clock (ns), if the journal has one.
    pub fn now(&self) -> Option<u64> {
        self.clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(Recorder::now)
    }

    /// Journals a message `from` → `to` with `body`, sent at `sent` and received at
    /// `received` (`None`: dropped). Does nothing before the journal has a clock.
    pub fn record(
        &self,
        from: &str,
        to: &str,
        body: &Json,
        sent: Option<u64>,
        received: Option<u64>,
    ) {
        let Some(sent) = sent else {
            return;
        };
        if self.written.fetch_add(1, Ordering::Relaxed) >= MAX_MESSAGES {
            self.left_out.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let kind = body.get("type").cloned().unwrap_or(Json::Null);
        let line =
            json!({"from": from, "to": to, "type": kind, "sent": sent, "received": received});
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = out.as_mut() {
            if writeln!(w, "{line}").is_err() {
                *out = None;
            }
        }
    }

    /// Writes out what is buffered.
    pub fn flush(&self) {
        if let Some(w) = self.out.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            let _ = w.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_journaled_on_the_history_clock_and_not_before_it() {
        let dir = std::env::temp_dir().join(format!("faultline-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let j = Journal::create(&dir);
        j.record("c1", "n0", &json!({"type": "echo"}), j.now(), j.now());
        j.use_clock(Recorder::off(std::time::Instant::now()));
        let t = j.now();
        j.record("n0", "n1", &json!({"type": "gossip"}), t, None);
        j.flush();
        let text = std::fs::read_to_string(dir.join(FILE)).unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["type"], "gossip");
        assert_eq!(lines[0]["received"], Json::Null);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

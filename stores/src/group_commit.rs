//! Group commit for `--fsync always`: a log-writer thread writes every record queued
//! since its last round in one `write` and covers them all with one fsync, so
//! concurrent writers share the disk's slow part instead of queueing for it one by one.
//!
//! Writers queue their record (memory only, numbered), then wait until that number is
//! durable. Only the log-writer thread touches the file: a `write` that stalls behind
//! an ext4 journal commit stalls it, not the node's request handlers.

use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Records in one round that count as "under load" (and open the window).
const BUSY: u64 = 4;

/// What the log writer has made durable so far.
#[derive(Clone, Debug, Default)]
struct Synced {
    upto: u64,
    failed: Option<String>,
}

#[derive(Default)]
struct Queue {
    /// Records not yet written, as log lines back to back.
    bytes: Vec<u8>,
    /// Records queued so far (a record's number is the count after it).
    queued: u64,
    stop: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// The log-writer thread of one log file. Dropping it writes and syncs what is queued,
/// then stops the thread.
pub struct GroupCommit {
    shared: Arc<Shared>,
    synced: watch::Receiver<Synced>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GroupCommit {
    /// Starts the log writer for `file` (opened for appending). `window`: under load,
    /// the least time from the start of one round to the next.
    pub fn start(file: File, window: Duration) -> GroupCommit {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let (tx, synced) = watch::channel(Synced::default());
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || write_loop(file, &s, &tx, window))
            .expect("spawning the log-writer thread");
        GroupCommit {
            shared,
            synced,
            thread: Some(thread),
        }
    }

    /// Queues one log line; returns its record number.
    pub fn queue(&self, line: &[u8]) -> u64 {
        let mut q = lock(&self.shared.queue);
        if q.bytes.is_empty() {
            self.shared.wake.notify_one();
        }
        q.bytes.extend_from_slice(line);
        q.queued += 1;
        q.queued
    }

    /// Waits until record number `seq` (and so every earlier one) is on disk.
    pub async fn durable(&self, seq: u64) -> Result<(), String> {
        let mut rx = self.synced.clone();
        let s = rx
            .wait_for(|s| s.upto >= seq || s.failed.is_some())
            .await
            .map_err(|_| "the log writer stopped".to_string())?;
        match &s.failed {
            Some(e) if s.upto < seq => Err(e.clone()),
            _ => Ok(()),
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        lock(&self.shared.queue).stop = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Rounds until stopped (and the queue is empty): take the queue, write it, fsync,
/// announce. Fails every waiter, now and later, once the disk fails.
fn write_loop(mut file: File, shared: &Shared, synced: &watch::Sender<Synced>, window: Duration) {
    let mut batch = Vec::new();
    let (mut rounds, mut records, mut busy, mut slowest) =
        (0u64, 0u64, Duration::ZERO, Duration::ZERO);
    let mut last = Instant::now();
    let mut last_batch = 0;
    loop {
        // Under load (the last round covered several writers), let the window since
        // the last round fill up: fewer, larger fsyncs leave the CPU to the writers.
        // A lone writer never waits.
        if last_batch >= BUSY {
            let wait = (last + window).saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        }
        let upto = {
            let mut q = lock(&shared.queue);
            while q.bytes.is_empty() && !q.stop {
                q = shared.wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.bytes.is_empty() {
                break;
            }
            std::mem::swap(&mut batch, &mut q.bytes);
            q.queued
        };
        let start = Instant::now();
        last = start;
        let result = file.write_all(&batch).and_then(|()| file.sync_data());
        let took = start.elapsed();
        batch.clear();
        match result {
            Ok(()) => {
                rounds += 1;
                busy += took;
                slowest = slowest.max(took);
                last_batch = upto - records;
                records = upto;
                synced.send_modify(|s| s.upto = upto);
            }
            Err(e) => {
                tracing::error!(error = %e, "writing the log failed; writes will fail");
                synced.send_modify(|s| s.failed = Some(format!("log write or fsync failed: {e}")));
                return;
            }
        }
    }
    tracing::info!(
        rounds,
        records,
        mean_us = busy.as_micros() as u64 / rounds.max(1),
        max_us = slowest.as_micros() as u64,
        "group commit: log writer stopped"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_waiter_returns_once_its_record_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let gc = Arc::new(GroupCommit::start(
            File::create(&path).unwrap(),
            Duration::from_millis(1),
        ));
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let gc = gc.clone();
            tasks.push(tokio::spawn(async move {
                let seq = gc.queue(format!("{i}\n").as_bytes());
                gc.durable(seq).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().count(),
            200,
            "every acknowledged record is in the file"
        );
        // An already covered number returns at once.
        gc.durable(5).await.unwrap();
    }
}

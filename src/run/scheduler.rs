//! The process pool: `C` worker slots, each running one logical process at a time
//! against its node (slot `s` talks to node `s mod nodes`), one operation outstanding.
//!
//! Each slot draws operations from its own deterministic generator, waits for the
//! global rate limit, records the invoke, performs the operation with a timeout and
//! records the completion. After an `info` completion the process id is retired and
//! the slot continues as process `id + C` (Jepsen's rule), with a fresh client.
//! A timed-out read is recorded as `fail` (a read has no effect); anything else that
//! times out is `info`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkers::{EventKind, Process, Value, F};
use tokio::sync::{watch, RwLock};
use workloads::{DataKind, OpSpec, Workload};

use crate::client::{Client, Completion, Ending, Invocation};
use crate::recorder::{Entry, Recorder};
use crate::subject::Subject;

use super::rate::RateLimit;

/// What the workers share.
#[derive(Clone)]
pub struct Pool {
    /// The subject, to make clients.
    pub subject: Arc<RwLock<Box<dyn Subject>>>,
    /// The workload (generators, data kind).
    pub workload: Arc<dyn Workload>,
    /// The recorder.
    pub recorder: Recorder,
    /// How many slots.
    pub concurrency: usize,
    /// How many nodes (slot `s` uses node `s mod nodes`).
    pub nodes: usize,
    /// The run's seed.
    pub seed: u64,
    /// Per-operation timeout.
    pub op_timeout: Duration,
    /// The global rate limit.
    pub rate: Arc<RateLimit>,
    /// The highest process id used so far.
    pub max_process: Arc<AtomicU64>,
    /// Why the run must stop as unable to run (an unsupported operation), if so.
    pub abort: Arc<Mutex<Option<String>>>,
}

impl Pool {
    /// Performs `spec` as `process` with `client`, recording invoke and completion.
    pub async fn perform(
        &self,
        client: &mut dyn Client,
        process: u64,
        data: DataKind,
        spec: OpSpec,
    ) -> Completion {
        self.max_process.fetch_max(process, Ordering::Relaxed);
        let op = Invocation {
            process,
            data,
            f: spec.f,
            key: spec.key,
            value: spec.value,
        };
        let invoked = self.recorder.record(Entry {
            process: Process::Client(process),
            kind: EventKind::Invoke,
            f: &op.f,
            key: op.key.as_ref(),
            value: &op.value,
            node: None,
            error: None,
            invoked_at: None,
        });
        let c = match tokio::time::timeout(self.op_timeout, client.invoke(&op)).await {
            Ok(c) => c,
            Err(_) => timed_out(&op, self.op_timeout),
        };
        if c.is_unsupported() {
            let mut a = self.abort.lock().unwrap_or_else(|e| e.into_inner());
            a.get_or_insert_with(|| {
                format!(
                    "the store does not support {} ({}): this workload cannot run against it",
                    op.f,
                    c.error.as_deref().unwrap_or("unsupported")
                )
            });
        }
        let kind = match c.ending {
            Ending::Ok => EventKind::Ok,
            Ending::Fail => EventKind::Fail,
            Ending::Info => EventKind::Info,
        };
        let value = if c.ending == Ending::Ok {
            &c.value
        } else {
            &op.value
        };
        self.recorder.record(Entry {
            process: Process::Client(process),
            kind,
            f: &op.f,
            key: op.key.as_ref(),
            value,
            node: c.node.as_deref(),
            error: c.error.as_deref(),
            invoked_at: Some(invoked),
        });
        c
    }

    async fn client(&self, node: usize, process: u64) -> Box<dyn Client> {
        self.subject.read().await.client(node, process)
    }

    /// Runs every slot until `stop` turns true; returns when all have finished their
    /// outstanding operation.
    pub async fn run_main(&self, stop: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        for slot in 0..self.concurrency {
            let pool = self.clone();
            let stop = stop.clone();
            tasks.spawn(async move { pool.slot(slot, stop).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn slot(&self, slot: usize, stop: watch::Receiver<bool>) {
        let data = self.workload.data();
        let mut generator = self.workload.generator(slot, self.concurrency, self.seed);
        let node = slot % self.nodes.max(1);
        let mut process = slot as u64;
        let mut client = self.client(node, process).await;
        let limited = self.rate.is_limited();
        loop {
            if *stop.borrow() {
                break;
            }
            if limited {
                let mut s = stop.clone();
                tokio::select! {
                    _ = self.rate.wait() => {}
                    _ = s.wait_for(|v| *v) => break,
                }
            }
            let spec = generator.next();
            let c = self.perform(&mut *client, process, data, spec).await;
            if c.ending == Ending::Info {
                process += self.concurrency as u64;
                client = self.client(node, process).await;
            }
            if !limited {
                // Let other tasks (the recorder's peers, the nemesis) in even when the
                // client answers at once.
                tokio::task::yield_now().await;
            }
        }
    }

    /// The final reads: every key on every node, each on a fresh process id. A read
    /// that does not succeed is retried (on another fresh id) a few times.
    pub async fn final_reads(&self, keys: &[Value], retries: usize) {
        let next = Arc::new(AtomicU64::new(self.max_process.load(Ordering::Relaxed) + 1));
        let mut tasks = tokio::task::JoinSet::new();
        for node in 0..self.nodes {
            let pool = self.clone();
            let keys = keys.to_vec();
            let next = next.clone();
            tasks.spawn(async move {
                for key in keys {
                    for attempt in 0..=retries {
                        let process = next.fetch_add(1, Ordering::Relaxed);
                        let mut client = pool.client(node, process).await;
                        let spec = pool.workload.final_read(&key);
                        let c = pool
                            .perform(&mut *client, process, pool.workload.data(), spec)
                            .await;
                        if c.ending == Ending::Ok || attempt == retries {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// The completion of an operation that did not answer within `timeout`.
fn timed_out(op: &Invocation, timeout: Duration) -> Completion {
    let why = format!("timeout after {timeout:?}");
    if op.f == F::Read {
        Completion::fail(op.value.clone(), why)
    } else {
        Completion::info(op.value.clone(), why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;
    use crate::subject::SubjectError;
    use checkers::{History, Outcome};
    use std::time::Instant;
    use workloads::WorkloadConfig;

    /// Answers every third write `info` and everything else `ok`, echoing the node.
    struct Flaky {
        node: usize,
        n: u64,
    }

    #[async_trait::async_trait]
    impl Client for Flaky {
        async fn invoke(&mut self, op: &Invocation) -> Completion {
            let node = format!("n{}", self.node + 1);
            if op.f == F::Write {
                self.n += 1;
            }
            if op.f == F::Write && self.n == 3 {
                self.n = 0;
                return Completion::info(op.value.clone(), "lost").on(node);
            }
            let value = if op.f == F::Read {
                Value::Null
            } else {
                op.value.clone()
            };
            Completion::ok(value).on(node)
        }
    }

    struct FlakySubject;

    #[async_trait::async_trait]
    impl Subject for FlakySubject {
        fn name(&self) -> &str {
            "flaky"
        }
        async fn start(&mut self) -> Result<(), SubjectError> {
            Ok(())
        }
        fn nodes(&self) -> Vec<String> {
            vec!["n1".into(), "n2".into(), "n3".into()]
        }
        fn client(&self, node: usize, _process: u64) -> Box<dyn Client> {
            Box::new(Flaky { node, n: 0 })
        }
        fn cluster(&self) -> Option<&Cluster> {
            None
        }
        async fn stop(&mut self) {}
        fn describe(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
    }

    async fn run_pool(path: &std::path::Path, seed: u64) -> History {
        let recorder = Recorder::create(path, Instant::now()).unwrap();
        let pool = Pool {
            subject: Arc::new(RwLock::new(Box::new(FlakySubject))),
            workload: Arc::from(workloads::by_name("kv", &WorkloadConfig::default()).unwrap()),
            recorder: recorder.clone(),
            concurrency: 4,
            nodes: 3,
            seed,
            op_timeout: Duration::from_secs(1),
            rate: Arc::new(RateLimit::new(0.0)),
            max_process: Arc::new(AtomicU64::new(0)),
            abort: Arc::new(Mutex::new(None)),
        };
        let (tx, rx) = watch::channel(false);
        let stopper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = tx.send(true);
        });
        pool.run_main(rx).await;
        stopper.await.unwrap();
        recorder.nemesis("final-reads", &Value::Null);
        pool.final_reads(pool.workload.keys(), 0).await;
        recorder.finish().unwrap();
        let f = std::fs::File::open(path).unwrap();
        checkers::read::jsonl::read(std::io::BufReader::new(f), "h").unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_process_is_retired_after_info_and_replaced_by_id_plus_concurrency() {
        let dir = std::env::temp_dir().join(format!("faultline-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // The reader enforces the rules: never reused after info, one op at a time.
        let h = run_pool(&dir.join("a.jsonl"), 1).await;
        assert!(h.ops.iter().any(|o| o.outcome == Outcome::Info));
        for o in &h.ops {
            if o.invoke_index < h.nemesis[0].index {
                // Slot s always talks to node s mod 3 and runs processes s, s+4, ...
                let slot = o.process % 4;
                assert_eq!(
                    o.node.as_deref(),
                    Some(format!("n{}", slot % 3 + 1).as_str())
                );
            }
        }
        // Final reads: one per key per node, each on a process never used before.
        let finals: Vec<_> = h
            .ops
            .iter()
            .filter(|o| o.invoke_index > h.nemesis[0].index)
            .collect();
        assert_eq!(finals.len(), 5 * 3);
        let before: std::collections::HashSet<u64> = h
            .ops
            .iter()
            .filter(|o| o.invoke_index < h.nemesis[0].index)
            .map(|o| o.process)
            .collect();
        let mut seen = std::collections::HashSet::new();
        for o in finals {
            assert!(!before.contains(&o.process) && seen.insert(o.process));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_seed_gives_each_slot_the_same_operations() {
        let dir = std::env::temp_dir().join(format!("faultline-pool-seed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let slot0 = |h: &History| -> Vec<(F, Option<Value>, Value)> {
            let marker = h.nemesis[0].index;
            h.ops
                .iter()
                .filter(|o| o.process % 4 == 0 && o.invoke_index < marker)
                .map(|o| (o.f.clone(), o.key.clone(), o.invoke_value.clone()))
                .collect()
        };
        let a = slot0(&run_pool(&dir.join("a.jsonl"), 9).await);
        let b = slot0(&run_pool(&dir.join("b.jsonl"), 9).await);
        let n = a.len().min(b.len());
        assert!(n > 50, "only {n} ops");
        assert!(
            a[..n] == b[..n],
            "slot 0 did other operations with the same seed"
        );
        let c = slot0(&run_pool(&dir.join("c.jsonl"), 10).await);
        let m = n.min(c.len());
        assert!(a[..m] != c[..m], "another seed gave the same operations");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

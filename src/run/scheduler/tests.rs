//! The pool's tests: flaky clients of three nodes, process retirement after `info`,
//! per-slot determinism under a seed, and final reads retried until their deadline.

use super::*;
use checkers::{History, Value};
use std::time::Instant;
use workloads::WorkloadConfig;

/// Answers every third write `info` and everything else `ok`, echoing the node.
struct Flaky {
    node: usize,
    n: u64,
    reads_fail: bool,
}

#[async_trait::async_trait]
impl Client for Flaky {
    async fn invoke(&mut self, op: &Invocation) -> Completion {
        let node = format!("n{}", self.node + 1);
        if self.reads_fail && op.f == F::Read {
            return Completion::fail(Value::Null, "no quorum").on(node);
        }
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

/// Clients of three nodes of [`Flaky`]; reads on `failing_node` always fail.
fn flaky_clients(failing_node: Option<usize>) -> Arc<dyn ClientFactory> {
    Arc::new(move |node, _process| {
        Box::new(Flaky {
            node,
            n: 0,
            reads_fail: failing_node == Some(node),
        }) as Box<dyn Client>
    })
}

fn pool(recorder: &Recorder, seed: u64, failing_node: Option<usize>) -> Pool {
    Pool {
        clients: flaky_clients(failing_node),
        workload: Arc::from(workloads::by_name("kv", &WorkloadConfig::default()).unwrap()),
        recorder: recorder.clone(),
        concurrency: 4,
        nodes: 3,
        seed,
        op_timeout: Duration::from_secs(1),
        rate: Arc::new(RateLimit::new(0.0)),
        max_process: Arc::new(AtomicU64::new(0)),
        abort: Arc::new(Mutex::new(None)),
    }
}

fn read_history(path: &std::path::Path) -> History {
    let f = std::fs::File::open(path).unwrap();
    checkers::read::jsonl::read(std::io::BufReader::new(f), "h").unwrap()
}

async fn run_pool(path: &std::path::Path, seed: u64) -> History {
    let recorder = Recorder::create(path, Instant::now()).unwrap();
    let pool = pool(&recorder, seed, None);
    let (tx, rx) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = tx.send(true);
    });
    pool.run_main(rx, None).await;
    stopper.await.unwrap();
    recorder.nemesis(checkers::history::FINAL_READS, &Value::Null);
    pool.final_reads(Duration::ZERO).await;
    recorder.finish().unwrap();
    read_history(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_reads_that_fail_are_retried_on_fresh_processes_until_the_deadline_only() {
    let dir = std::env::temp_dir().join(format!("faultline-finals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.jsonl");
    let recorder = Recorder::create(&path, Instant::now()).unwrap();
    let pool = pool(&recorder, 1, Some(1));
    let began = Instant::now();
    pool.final_reads(Duration::from_millis(500)).await;
    let took = began.elapsed();
    recorder.finish().unwrap();
    let h = read_history(&path);
    let on = |n: &str| {
        h.ops
            .iter()
            .filter(|o| o.node.as_deref() == Some(n))
            .count()
    };
    // Healthy nodes: each key once. n2: the first key every 200 ms until 500 ms
    // (at 0, 200, 400), then every other key once, past the deadline.
    assert_eq!((on("n1"), on("n3")), (5, 5));
    assert_eq!(on("n2"), 3 + 4, "{:?}", h.ops);
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let ids: std::collections::HashSet<u64> = h.ops.iter().map(|o| o.process).collect();
    assert_eq!(ids.len(), h.ops.len(), "a process id used twice");
    std::fs::remove_dir_all(&dir).unwrap();
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
            .map(|o| {
                // What a cas expects feeds back from completions; the rest not.
                let v = match o.f {
                    F::Cas => o.invoke_value.as_list().unwrap()[1].clone(),
                    _ => o.invoke_value.clone(),
                };
                (o.f.clone(), o.key.clone(), v)
            })
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

/// Performs fault operations by recording them as nemesis events, as a nemesis does;
/// fails every start of `failing` (a fault name).
struct RecordingNemesis {
    recorder: Recorder,
    failing: &'static str,
    finished: AtomicU64,
}

impl NemesisClient for RecordingNemesis {
    fn perform(&self, op: &OpSpec) -> Result<(), String> {
        if op.f.as_str() == format!("start-{}", self.failing) {
            return Err("cannot".into());
        }
        self.recorder.nemesis(op.f.as_str(), &op.value);
        Ok(())
    }

    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// A start every 20 ms, then its stop 20 ms after the start ended — unless the start
/// failed; remembers which starts it was told failed.
struct Faulty {
    next: Duration,
    active: Option<&'static str>,
    n: usize,
    failed: Arc<Mutex<Vec<String>>>,
}

impl Generator for Faulty {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        if ctx.time < self.next {
            return Next::pending_until(self.next);
        }
        let f = match self.active.take() {
            Some(fault) => format!("stop-{fault}"),
            None => {
                self.n += 1;
                let fault = if self.n.is_multiple_of(2) {
                    "kill"
                } else {
                    "pause"
                };
                self.active = Some(fault);
                format!("start-{fault}")
            }
        };
        Next::Op(OpSpec {
            f: F::parse(&f),
            key: None,
            value: Value::Int(self.n as i64),
        })
    }

    fn update(&mut self, _ctx: &Context<'_>, c: &generator::Completion) {
        assert_eq!(c.process, NEMESIS_PROCESS);
        self.next = c.time + Duration::from_millis(20);
        if c.outcome != Outcome::Ok && c.op.f.as_str().starts_with("start-") {
            self.active = None;
            self.failed
                .lock()
                .unwrap()
                .push(c.op.f.as_str().to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nemesis_slot_runs_beside_the_clients_in_one_drive_and_hears_how_its_faults_ended() {
    let dir = std::env::temp_dir().join(format!("faultline-pool-nem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("n.jsonl");
    let recorder = Recorder::create(&path, Instant::now()).unwrap();
    let pool = pool(&recorder, 3, None);
    let client = Arc::new(RecordingNemesis {
        recorder: recorder.clone(),
        failing: "kill",
        finished: AtomicU64::new(0),
    });
    let failed = Arc::new(Mutex::new(Vec::new()));
    let slot = NemesisSlot {
        generator: Box::new(Faulty {
            next: Duration::from_millis(20),
            active: None,
            n: 0,
            failed: failed.clone(),
        }),
        client: client.clone(),
    };
    let (tx, rx) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tx.send(true);
    });
    pool.run_main(rx, Some(slot)).await;
    stopper.await.unwrap();
    recorder.finish().unwrap();
    assert_eq!(
        client.finished.load(Ordering::Relaxed),
        1,
        "healed once at the end"
    );
    let h = read_history(&path);
    // Clients as without a nemesis: processes of 4 slots, never the nemesis's.
    assert!(h.ops.len() > 50, "{} client ops", h.ops.len());
    assert!(h.ops.iter().all(|o| o.process != NEMESIS_PROCESS));
    assert!(h.ops.iter().any(|o| o.process % 4 == 3));
    // Nemesis events only as info events: pauses start and stop; kills never start,
    // so none is stopped.
    let fs: Vec<&str> = h.nemesis.iter().map(|e| e.f.as_str()).collect();
    assert!(fs.len() >= 4, "{fs:?}");
    assert!(
        fs.iter().all(|f| *f == "start-pause" || *f == "stop-pause"),
        "{fs:?}"
    );
    assert!(fs
        .chunks(2)
        .all(|p| p[0] == "start-pause" && p.get(1).is_none_or(|f| *f == "stop-pause")));
    let failed = failed.lock().unwrap();
    assert!(!failed.is_empty() && failed.iter().all(|f| f == "start-kill"));
    std::fs::remove_dir_all(&dir).unwrap();
}

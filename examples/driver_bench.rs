//! Measures the driver: throughput to a no-op client and to the reference store over
//! loopback, with history recording on (to a file) and off, and the cost of recording
//! one event. Numbers go to BENCHMARKS.md (`## Driver`).
//!
//! ```text
//! cargo build --release --workspace
//! cargo run --release --example driver_bench            # no-op client + recording cost
//! cargo run --release --example driver_bench -- store   # also the reference store (3 nodes)
//! cargo run --release --example driver_bench -- canned  # HTTP client vs a canned loopback server
//! ```

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use checkers::{EventKind, Process, Value, F};
use faultline::recorder::{Entry, Recorder};
use faultline::run::rate::RateLimit;
use faultline::run::scheduler::Pool;
use faultline::subject::{self, Subject, SubjectConfig};
use tokio::sync::watch;
use workloads::WorkloadConfig;

/// Starts `subject`, runs the kv workload at full speed for `secs` against it, then
/// stops it; returns operations per second.
async fn measure(
    mut subject: Box<dyn Subject>,
    recorder: Recorder,
    concurrency: usize,
    secs: u64,
) -> f64 {
    let workload = Arc::from(workloads::by_name("kv", &WorkloadConfig::default()).unwrap());
    let started = subject.start(recorder.clone()).await.unwrap();
    let nodes = started.nodes.len().max(1);
    let pool = Pool {
        clients: started.clients.clone(),
        workload,
        recorder: recorder.clone(),
        concurrency,
        nodes,
        seed: 1,
        op_timeout: Duration::from_secs(5),
        rate: Arc::new(RateLimit::new(0.0)),
        max_process: Arc::new(AtomicU64::new(0)),
        abort: Arc::new(Mutex::new(None)),
    };
    let (tx, rx) = watch::channel(false);
    let start = Instant::now();
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        let _ = tx.send(true);
    });
    pool.run_main(rx, None).await;
    let _ = stopper.await;
    let took = start.elapsed().as_secs_f64();
    recorder.finish().unwrap();
    subject.stop().await;
    recorder.counts().total as f64 / took
}

fn record_cost(n: u64) -> (f64, f64, f64) {
    let dir = std::env::temp_dir().join(format!("faultline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = Vec::new();
    for r in [
        Recorder::off(Instant::now()),
        Recorder::discard(Instant::now()),
        Recorder::create(&dir.join("h.jsonl"), Instant::now()).unwrap(),
    ] {
        let (f, key, v) = (F::Write, Value::str("k3"), Value::Int(123456));
        let start = Instant::now();
        for i in 0..n {
            let t = r.record(Entry {
                process: Process::Client(i % 8),
                kind: EventKind::Invoke,
                f: &f,
                key: Some(&key),
                value: &v,
                node: None,
                error: None,
                invoked_at: None,
            });
            r.record(Entry {
                process: Process::Client(i % 8),
                kind: EventKind::Ok,
                f: &f,
                key: Some(&key),
                value: &v,
                node: Some("n1"),
                error: None,
                invoked_at: Some(t),
            });
        }
        r.finish().unwrap();
        out.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    let _ = std::fs::remove_dir_all(&dir);
    (out[0], out[1], out[2])
}

fn main() {
    let with_store = std::env::args().any(|a| a == "store");
    // `-- store 16,64`: the concurrencies to measure the store at.
    let store_concurrency: Vec<usize> = std::env::args()
        .skip_while(|a| a != "store")
        .nth(1)
        .map(|list| {
            list.split(',')
                .map(|c| c.parse().expect("a concurrency"))
                .collect()
        })
        .unwrap_or_else(|| vec![16, 32]);
    let secs = 5;
    let concurrency = 8;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("faultline-bench-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let (off, serialize, on) = record_cost(1_000_000);
    println!(
        "recording one op (invoke + ok), single thread: {on:.0} ns to a file, {serialize:.0} ns serialized only, {off:.0} ns off (ratio file/off {:.2})",
        on / off
    );

    let noop = || Box::new(subject::noop::NoopSubject { nodes: 3 }) as Box<dyn Subject>;
    let base = rt.block_on(measure(
        noop(),
        Recorder::off(Instant::now()),
        concurrency,
        secs,
    ));
    let rec = rt.block_on(measure(
        noop(),
        Recorder::create(&dir.join("noop.jsonl"), Instant::now()).unwrap(),
        concurrency,
        secs,
    ));
    println!("no-op client, concurrency {concurrency}: {rec:.0} ops/s recording, {base:.0} ops/s not recording (ratio {:.2})", rec / base);

    if std::env::args().any(|a| a == "canned") {
        let urls = rt.block_on(canned_servers(3));
        let config = SubjectConfig {
            store: "http".into(),
            cluster_file: None,
            nodes: 3,
            addrs: urls,
            bin: None,
            store_options: vec![],
            base_port: None,
            ready_timeout: Duration::from_secs(5),
            nodes_dir: dir.join("nodes"),
            op_timeout: Duration::from_secs(5),
            network: None,
            hosts: None,
        };
        for c in [8, 32] {
            let s = subject::open(&config).unwrap();
            let rate = rt.block_on(measure(s, Recorder::off(Instant::now()), c, secs));
            println!("HTTP client to a canned loopback server, concurrency {c}: {rate:.0} ops/s");
        }
    }

    if with_store {
        for fsync in ["always", "never"] {
            let config = SubjectConfig {
                store: "leaderless".into(),
                cluster_file: None,
                nodes: 3,
                addrs: vec![],
                bin: None,
                // What `faultline run --workload kv` uses: with siblings, blind writes
                // from 16+ clients pile up concurrent values and the store, not the
                // driver, is what gets measured.
                store_options: vec![
                    ("conflict".into(), "lww".into()),
                    ("fsync".into(), fsync.into()),
                ],
                base_port: None,
                ready_timeout: Duration::from_secs(30),
                nodes_dir: dir.join("nodes"),
                op_timeout: Duration::from_secs(5),
                network: None,
                hosts: None,
            };
            for &c in &store_concurrency {
                let mut rates = Vec::new();
                for recording in [false, true] {
                    let s = subject::open(&config).unwrap();
                    let r = if recording {
                        Recorder::create(&dir.join("store.jsonl"), Instant::now()).unwrap()
                    } else {
                        Recorder::off(Instant::now())
                    };
                    let rate = rt.block_on(measure(s, r, c, secs));
                    rates.push(rate);
                }
                println!(
                    "reference store (3 nodes, loopback, --fsync {fsync}), concurrency {c}: {:.0} ops/s recording, {:.0} ops/s not recording (ratio {:.2})",
                    rates[1], rates[0], rates[1] / rates[0]
                );
            }
        }
    }
    if std::env::var_os("FAULTLINE_BENCH_KEEP").is_some() {
        println!("kept {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `n` loopback HTTP servers that answer every request `200 {"value":1}` at once
/// (keep-alive), to measure the HTTP client alone.
async fn canned_servers(n: usize) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let mut urls = Vec::new();
    for _ in 0..n {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        urls.push(format!("http://{}", l.local_addr().unwrap()));
        tokio::spawn(async move {
            loop {
                let Ok((s, _)) = l.accept().await else { return };
                let _ = s.set_nodelay(true);
                tokio::spawn(async move {
                    let (r, mut w) = s.into_split();
                    let mut r = BufReader::new(r);
                    let mut line = String::new();
                    loop {
                        let mut len = 0usize;
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let l = line.to_ascii_lowercase();
                            if let Some(v) = l.strip_prefix("content-length:") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                            if line == "\r\n" {
                                break;
                            }
                        }
                        let mut body = vec![0u8; len];
                        if r.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"value\":1}";
                        if w.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    }
    urls
}

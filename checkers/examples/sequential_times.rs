//! Times the sequential-consistency checker on generated histories (for BENCHMARKS.md).
//!
//! The histories come from a simulated sequentially consistent store that is not
//! linearizable: one global log of writes; each process reads from its own view of
//! the log, which lags behind and only moves forward (and jumps to the end when the
//! process writes). So reads are stale in real time but one total order exists.
//! A "bad" variant changes one read to a value its process had already seen
//! overwritten (reads going backwards), which is not sequentially consistent.
//!
//! `cargo run --release -p checkers --example sequential_times`
//!
//! With file arguments (faultline JSON Lines, kv model), it times those instead, each
//! against the time to read the file:
//! `cargo run --release -p checkers --example sequential_times -- a.jsonl b.jsonl`

use std::time::{Duration, Instant};

use checkers::model::{ModelKind, ModelSpec};
use checkers::{sequential, Budget, Event, EventKind, History, Process, Value, F};

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `ops` ops of `procs` processes over `keys` registers; with `bad`, one read goes
/// backwards.
fn generate(seed: u64, procs: usize, keys: usize, ops: usize, bad: bool) -> History {
    let mut rng = Rng(seed | 1);
    // The log: (key, value); a view is a log length.
    let mut log: Vec<(usize, i64)> = Vec::new();
    let mut views = vec![0usize; procs];
    let mut clock = vec![0u64; procs];
    // Per key, the value after each log prefix is looked up by a scan back.
    let value_at = |log: &[(usize, i64)], view: usize, key: usize| -> Value {
        log[..view]
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map_or(Value::Null, |&(_, v)| Value::Int(v))
    };
    let mut raw: Vec<(u64, usize, bool, F, usize, Value)> = Vec::new();
    let mut next = 1i64;
    let victim = ops * 3 / 4;
    for i in 0..ops {
        let p = rng.below(procs as u64) as usize;
        let key = rng.below(keys as u64) as usize;
        let start = clock[p] + rng.below(1000);
        let end = start + 1 + rng.below(3000);
        clock[p] = end + 1;
        // The view lags at most 32 log entries behind.
        let lo = views[p].max(log.len().saturating_sub(32));
        views[p] = lo + rng.below((log.len() - lo + 1) as u64) as usize;
        let (f, value) = if rng.below(2) == 0 {
            log.push((key, next));
            views[p] = log.len();
            next += 1;
            (F::Write, Value::Int(next - 1))
        } else {
            let mut v = value_at(&log, views[p], key);
            if bad && i >= victim && views[p] > 0 {
                // An older value of the key than the view shows: one the process
                // has already seen overwritten, if the key was written twice.
                let older: Vec<i64> = log[..views[p]]
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|&(_, v)| v)
                    .collect();
                if older.len() >= 2 {
                    v = Value::Int(older[older.len() - 2]);
                    raw.push((start, p, true, F::Read, key, Value::Null));
                    raw.push((start, p, false, F::Read, key, value_at(&log, views[p], key)));
                    raw.push((end + 2, p, true, F::Read, key, Value::Null));
                    raw.push((end + 3, p, false, F::Read, key, v));
                    clock[p] = end + 4;
                    return finish(raw);
                }
            }
            (F::Read, v)
        };
        raw.push((start, p, true, f.clone(), key, Value::Null));
        raw.push((end, p, false, f, key, value));
    }
    finish(raw)
}

/// Events in time order; write invokes carry their value.
fn finish(mut raw: Vec<(u64, usize, bool, F, usize, Value)>) -> History {
    // Invokes of writes carry the value written: copy it from the completion.
    for i in 0..raw.len() {
        if raw[i].2 && raw[i].3 == F::Write {
            let p = raw[i].1;
            let done = raw[i + 1..]
                .iter()
                .find(|e| e.1 == p && !e.2)
                .map(|e| e.5.clone());
            raw[i].5 = done.unwrap_or(Value::Null);
        }
    }
    raw.sort_by_key(|e| (e.0, !e.2));
    let events = raw
        .into_iter()
        .enumerate()
        .map(|(index, (time, p, invoke, f, key, value))| Event {
            index: index as u64,
            time,
            process: Process::Client(p as u64),
            kind: if invoke {
                EventKind::Invoke
            } else {
                EventKind::Ok
            },
            f,
            key: Some(Value::str(&format!("k{key}"))),
            value,
            node: None,
            error: None,
            latency: None,
        });
    History::from_events(events).expect("a well-formed history")
}

/// Times the check of each run history in `paths` against reading it.
fn files(paths: &[String]) {
    let spec = ModelSpec::new(ModelKind::Kv);
    println!("| history | ops | verdict | read ms | check ms | check/read |");
    println!("|---|---|---|---|---|---|");
    for path in paths {
        let t = Instant::now();
        let h = match checkers::read::read_path(
            std::path::Path::new(path),
            checkers::read::Format::Jsonl,
        ) {
            Ok(h) => h,
            Err(e) => {
                println!("| {path} | - | cannot read: {e} | | | |");
                continue;
            }
        };
        let read = t.elapsed().as_secs_f64() * 1e3;
        let budget = Budget {
            deadline: Some(Instant::now() + Duration::from_secs(60)),
            memory_bytes: None,
        };
        let t = Instant::now();
        let r = sequential::check(&h, &spec, &budget);
        let check = t.elapsed().as_secs_f64() * 1e3;
        eprintln!("{path}: {}", r.summary);
        println!(
            "| {path} | {} | {} | {read:.0} | {check:.0} | {:.1} |",
            h.ops.len(),
            r.verdict,
            check / read
        );
    }
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if !paths.is_empty() {
        return files(&paths);
    }
    let spec = ModelSpec::new(ModelKind::Register);
    println!("| processes | keys | ops | history | verdict | time | window |");
    println!("|---|---|---|---|---|---|---|");
    for &(procs, keys, ops) in &[
        (4, 1, 1_000),
        (4, 4, 1_000),
        (8, 1, 10_000),
        (8, 8, 10_000),
        (16, 4, 10_000),
        (8, 4, 100_000),
    ] {
        for bad in [false, true] {
            let h = generate(7, procs, keys, ops, bad);
            let budget = Budget {
                deadline: Some(Instant::now() + Duration::from_secs(60)),
                memory_bytes: None,
            };
            let t = Instant::now();
            let r = sequential::check(&h, &spec, &budget);
            let took = t.elapsed();
            let window = r.evidence["components"][0]["window"]["ops"]
                .as_array()
                .map_or("-".to_string(), |w| format!("{} ops", w.len()));
            println!(
                "| {procs} | {keys} | {} | {} | {} | {:.3} s | {window} |",
                h.ops.len(),
                if bad {
                    "one read goes back"
                } else {
                    "stale reads"
                },
                r.verdict,
                took.as_secs_f64()
            );
        }
    }
}

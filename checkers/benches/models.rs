//! Benchmarks of the models between linearizable and eventual: causal (CC, CM, CCv),
//! PRAM and the session guarantees, and sequential consistency on real run histories.
//! A bench binary: each figure is one child process (so peak memory is the check's
//! own), best of 3.
//!
//! `cargo bench -p checkers --bench models` generates kv histories of 100,000 and
//! 1,000,000 ops (16 processes, 1,000 keys, unique values; a store with one global
//! order of writes whose replicas lag behind it, so every model here holds and every
//! check runs to the end), and reports per model: read time (the baseline: parsing
//! and pairing the file, what any check pays first), check time, the ratio of the
//! two, and peak memory. `FAULTLINE_HISTORIES=a.jsonl:b.jsonl` adds histories of
//! real runs, with `sequential` and `linearizable` too.
//!
//! `MODELS_BENCH_REPS=1` takes one run per figure instead of the best of 3.
//! `cargo bench -p checkers --bench models -- one MODEL FILE` times one check.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use checkers::consistency::Consistency;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path, Format};
use checkers::{factory, Budget};

const FAST: [Consistency; 8] = [
    Consistency::Causal,
    Consistency::CausalMemory,
    Consistency::CausalConvergence,
    Consistency::Pram,
    Consistency::ReadYourWrites,
    Consistency::MonotonicReads,
    Consistency::MonotonicWrites,
    Consistency::WritesFollowReads,
];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("one") => one(args[1].parse().expect("a model name"), Path::new(&args[2])),
        Some("gen") => generate(Path::new(&args[1]), args[2].parse().expect("ops")),
        _ => run_all(),
    }
}

/// Peak resident memory of this process, MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map_or(0.0, |k| k / 1024.0)
}

fn one(model: Consistency, path: &Path) {
    let t = Instant::now();
    let h = read_path(path, Format::Jsonl).expect("a readable history");
    let read_ms = t.elapsed().as_secs_f64() * 1e3;
    let spec = ModelSpec::new(ModelKind::Kv);
    let budget = Budget {
        deadline: Some(Instant::now() + std::time::Duration::from_secs(60)),
        memory_bytes: None,
    };
    let t = Instant::now();
    let r = factory::check(model, &spec, &h, &budget);
    let check_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}\t{read_ms:.1}\t{check_ms:.1}\t{}\t{:.0}",
        h.ops.len(),
        r.verdict,
        peak_mib()
    );
}

fn run_all() {
    let dir = PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into()))
        .join("models-bench");
    std::fs::create_dir_all(&dir).expect("a bench directory");
    let mut files: Vec<(PathBuf, Vec<Consistency>)> = Vec::new();
    for n in [100_000usize, 1_000_000] {
        let path = dir.join(format!("kv-{n}.jsonl"));
        if !path.exists() {
            generate(&path, n);
        }
        files.push((path, FAST.to_vec()));
    }
    if let Ok(list) = std::env::var("FAULTLINE_HISTORIES") {
        for p in list.split(':').filter(|p| !p.is_empty()) {
            let mut models = vec![Consistency::Sequential, Consistency::Linearizable];
            models.extend(FAST);
            files.push((PathBuf::from(p), models));
        }
    }
    let me = std::env::current_exe().expect("the bench binary");
    println!("history\tops\tmodel\tverdict\tread ms\tcheck ms\tcheck/read\tpeak MiB");
    for (path, models) in files {
        for model in models {
            let mut best: Option<(f64, String)> = None;
            let reps: usize = std::env::var("MODELS_BENCH_REPS")
                .ok()
                .and_then(|r| r.parse().ok())
                .unwrap_or(3);
            for _ in 0..reps {
                let out = Command::new(&me)
                    .args(["one", model.as_str(), path.to_str().expect("a UTF-8 path")])
                    .output()
                    .expect("the child runs");
                let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() < 5 {
                    eprintln!(
                        "{model} on {}: {line} {}",
                        path.display(),
                        String::from_utf8_lossy(&out.stderr)
                    );
                    break;
                }
                let check: f64 = f[2].parse().unwrap_or(f64::MAX);
                if best.as_ref().is_none_or(|b| check < b.0) {
                    let read: f64 = f[1].parse().unwrap_or(1.0);
                    best = Some((
                        check,
                        format!(
                            "{}\t{}\t{model}\t{}\t{}\t{}\t{:.2}\t{}",
                            path.file_name().unwrap_or_default().to_string_lossy(),
                            f[0],
                            f[3],
                            f[1],
                            f[2],
                            check / read.max(0.001),
                            f[4]
                        ),
                    ));
                }
            }
            if let Some((_, line)) = best {
                println!("{line}");
            }
        }
    }
}

/// xorshift.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Writes a kv history of `ops` ops: one global order of writes, each of 16
/// processes reading from its own replica, a prefix of that order that catches up
/// now and then.
fn generate(path: &Path, ops: usize) {
    const PROCS: usize = 16;
    const KEYS: u64 = 1000;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut log: Vec<(u64, u64)> = Vec::new(); // (key, value)
    let mut replicas: Vec<(usize, Vec<u64>)> = vec![(0, vec![0; KEYS as usize]); PROCS];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("a bench file"));
    let mut index = 0u64;
    for i in 0..ops {
        let p = rng.below(PROCS as u64) as usize;
        let key = rng.below(KEYS);
        let (applied, state) = &mut replicas[p];
        if rng.below(4) == 0 || (rng.below(2) == 0 && *applied < log.len()) {
            let upto = if rng.below(4) == 0 {
                log.len()
            } else {
                (*applied + 8).min(log.len())
            };
            for &(k, v) in &log[*applied..upto] {
                state[k as usize] = v;
            }
            *applied = upto;
        }
        let write = rng.below(2) == 0;
        let (f, invoke_v, ok_v) = if write {
            // A write goes to the global order after everything its replica has seen;
            // the writer catches up first.
            for &(k, v) in &log[*applied..] {
                state[k as usize] = v;
            }
            let v = i as u64 + 1;
            log.push((key, v));
            state[key as usize] = v;
            *applied = log.len();
            ("write", v.to_string(), v.to_string())
        } else {
            let v = state[key as usize];
            let v = if v == 0 {
                "null".to_string()
            } else {
                v.to_string()
            };
            ("read", "null".to_string(), v)
        };
        for (kind, v) in [("invoke", &invoke_v), ("ok", &ok_v)] {
            writeln!(
                out,
                "{{\"index\":{index},\"time\":{},\"process\":{p},\"type\":\"{kind}\",\"f\":\"{f}\",\"key\":\"k{key}\",\"value\":{v}}}",
                index * 1000
            )
            .expect("the bench file is writable");
            index += 1;
        }
    }
}

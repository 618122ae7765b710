//! History-reader benchmarks (a bench binary: the figures of interest are whole-file
//! read time and peak memory, each measured in a child process).
//!
//! `cargo bench -p checkers --bench parse` generates a 1,000,000-event cas-register
//! history over 100 keys (16 processes, ~0.2 % crashed ops; a real register per key
//! simulated over real intervals, so the history is linearizable by construction) and
//! reports, best of 3 child processes each:
//! - `jsonl`: `read_path(.., Format::Jsonl)` (parse, validate, pair into ops);
//! - `value`: the baseline, a plain `serde_json::Value` parse of every line of the
//!   same file (what any JSONL consumer pays just to read it);
//! - the Porcupine corpus read with each reader (EDN-family and etcd logs), summed.
//!
//! `cargo bench -p checkers --bench parse -- gen FILE [EVENTS] [KEYS]` only writes a
//! history (e.g. to time `faultline check` on it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use checkers::read::{read_path, Format};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("gen") => {
            let events = args
                .get(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            let keys = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
            generate(Path::new(&args[1]), events, keys);
        }
        Some("jsonl") => child_jsonl(Path::new(&args[1])),
        Some("value") => child_value(Path::new(&args[1])),
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

fn child_jsonl(path: &Path) {
    let t = Instant::now();
    let h = read_path(path, Format::Jsonl).unwrap();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("{}\t{ms:.1}\t{:.0}", h.event_count, peak_mib());
}

fn child_value(path: &Path) {
    let t = Instant::now();
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0usize;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        n += v.is_object() as usize;
    }
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("{n}\t{ms:.1}\t{:.0}", peak_mib());
}

/// Best of 3 runs of `self mode path`: (ms, peak MiB).
fn best_of_3(mode: &str, path: &Path) -> (f64, f64) {
    let mut best = (f64::MAX, 0.0);
    for _ in 0..3 {
        let out = Command::new(std::env::current_exe().unwrap())
            .arg(mode)
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<f64> = text
            .trim()
            .split('\t')
            .filter_map(|s| s.parse().ok())
            .collect();
        assert_eq!(f.len(), 3, "child {mode} failed: {text}");
        if f[1] < best.0 {
            best = (f[1], f[2]);
        }
    }
    best
}

fn run_all() {
    let dir = std::env::temp_dir().join("faultline-parse-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cas-1m-100keys.jsonl");
    generate(&path, 1_000_000, 100);
    let mib = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
    println!("input: 1,000,000 events, 100 keys, {mib:.0} MiB");
    let (value_ms, value_mib) = best_of_3("value", &path);
    let (jsonl_ms, jsonl_mib) = best_of_3("jsonl", &path);
    println!("serde_json::Value baseline\t{value_ms:.0} ms\tpeak {value_mib:.0} MiB");
    println!("jsonl::read (history)    \t{jsonl_ms:.0} ms\tpeak {jsonl_mib:.0} MiB");
    println!("ratio jsonl / baseline   \t{:.2}", jsonl_ms / value_ms);
    corpus();
}

/// Reads every corpus file with its reader, best of 3, summed per format.
fn corpus() {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/porcupine"
    ));
    let tsv = std::fs::read_to_string(root.join("EXPECTED.tsv")).unwrap();
    let mut sums: Vec<(String, f64, u64)> = Vec::new();
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let format: Format = f[1].parse().unwrap();
        let mut best = f64::MAX;
        let mut events = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let h = read_path(&root.join(f[0]), format).unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            events = h.event_count;
        }
        match sums.iter_mut().find(|s| s.0 == f[1]) {
            Some(s) => {
                s.1 += best;
                s.2 += events;
            }
            None => sums.push((f[1].to_string(), best, events)),
        }
        // The same kv files through the general EDN reader.
        if format == Format::PorcupineKv {
            let t = Instant::now();
            let h = read_path(&root.join(f[0]), Format::JepsenEdn).unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            match sums.iter_mut().find(|s| s.0 == "jepsen-edn (kv files)") {
                Some(s) => {
                    s.1 += ms;
                    s.2 += h.event_count;
                }
                None => sums.push(("jepsen-edn (kv files)".into(), ms, h.event_count)),
            }
        }
    }
    for (format, ms, events) in sums {
        println!(
            "corpus {format}\t{events} events\t{ms:.1} ms\t{:.2} M events/s",
            events as f64 / ms / 1e3
        );
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// An open operation of one process.
struct Open {
    f: &'static str,
    key: usize,
    value: String,
}

/// Writes a linearizable cas-register history: each op takes effect at its completion.
fn generate(path: &Path, events: usize, keys: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut regs: Vec<Option<u64>> = vec![None; keys];
    let mut next_value = 1u64;
    let mut procs: Vec<(u64, Option<Open>)> = (0..16).map(|p| (p, None)).collect();
    let mut next_process = 16u64;
    let mut time = 0u64;
    for index in 0..events {
        time += 1 + rng.below(20_000);
        let slot = rng.below(procs.len() as u64) as usize;
        let (p, open) = &mut procs[slot];
        let p = *p;
        let line = match open.take() {
            None => {
                let key = rng.below(keys as u64) as usize;
                let (f, value) = match rng.below(10) {
                    0..=4 => ("read", "null".to_string()),
                    5..=7 => {
                        next_value += 1;
                        ("write", next_value.to_string())
                    }
                    _ => {
                        let expected = match regs[key] {
                            Some(v) if rng.below(3) > 0 => v.to_string(),
                            _ => (next_value + 1_000_000_000).to_string(),
                        };
                        next_value += 1;
                        ("cas", format!("[{expected},{next_value}]"))
                    }
                };
                *open = Some(Open {
                    f,
                    key,
                    value: value.clone(),
                });
                format!("{{\"index\":{index},\"time\":{time},\"process\":{p},\"type\":\"invoke\",\"f\":\"{f}\",\"key\":\"k{key}\",\"value\":{value}}}")
            }
            Some(op) => {
                let crashed = rng.below(1000) < 2;
                let takes_effect = !crashed || rng.below(2) == 0;
                let reg = &mut regs[op.key];
                let (kind, value) = match op.f {
                    "read" => (
                        "ok",
                        reg.map_or_else(|| "null".to_string(), |v| v.to_string()),
                    ),
                    "write" => {
                        if takes_effect {
                            *reg = op.value.parse().ok();
                        }
                        ("ok", op.value.clone())
                    }
                    _ => {
                        let inner = op.value.trim_matches(['[', ']']);
                        let (e, n) = inner.split_once(',').unwrap();
                        if reg.map(|v| v.to_string()).as_deref() == Some(e) {
                            if takes_effect {
                                *reg = n.parse().ok();
                            }
                            ("ok", op.value.clone())
                        } else {
                            ("fail", op.value.clone())
                        }
                    }
                };
                let kind = if crashed && op.f != "read" {
                    "info"
                } else {
                    kind
                };
                if kind == "info" {
                    procs[slot].0 = next_process;
                    next_process += 1;
                }
                format!("{{\"index\":{index},\"time\":{time},\"process\":{p},\"type\":\"{kind}\",\"f\":\"{}\",\"key\":\"k{}\",\"value\":{value},\"node\":\"n{}\"}}", op.f, op.key, 1 + p % 5)
            }
        };
        writeln!(out, "{line}").unwrap();
    }
    out.flush().unwrap();
}

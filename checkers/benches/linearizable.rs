//! Linearizability benchmarks (a bench binary, not criterion: the inputs are large
//! and the figures of interest are whole-process time and peak memory).
//!
//! `cargo bench -p checkers --bench linearizable` runs, each in a child process so
//! that its peak memory is its own:
//! - the Porcupine corpus: parse and check time per file, summed per group;
//! - generated 1,000,000-event cas-register histories (16 processes, ~0.2% crashed
//!   ops, unique values), over 100 keys and over one key: parse, check, peak RSS;
//! - as the in-run baseline for ratios, a plain `serde_json::Value` parse of the
//!   same file (what any JSONL consumer pays just to read it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path, Format};
use checkers::{linearizable, Budget};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("gen") => generate(Path::new(&args[2]), args[3].parse().unwrap(), 1_000_000),
        Some("check") => check_one(Path::new(&args[2]), &args[3], &args[4]),
        Some("baseline") => baseline(Path::new(&args[2])),
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

fn check_one(path: &Path, format: &str, model: &str) {
    let t0 = Instant::now();
    let h = read_path(path, format.parse().unwrap()).unwrap();
    let parse = t0.elapsed();
    let t1 = Instant::now();
    let budget = Budget {
        deadline: Some(Instant::now() + Duration::from_secs(120)),
        memory_bytes: None,
    };
    let r = linearizable::check(
        &h,
        &ModelSpec::new(model.parse::<ModelKind>().unwrap()),
        &budget,
    );
    let check = t1.elapsed();
    println!(
        "{}\t{:.1}\t{:.1}\t{:.0}\t{}",
        r.verdict,
        parse.as_secs_f64() * 1e3,
        check.as_secs_f64() * 1e3,
        peak_mib(),
        r.evidence["decided"]
    );
}

fn baseline(path: &Path) {
    let t0 = Instant::now();
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0usize;
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        n += v.is_object() as usize;
    }
    println!(
        "{n}\t{:.1}\t{:.0}",
        t0.elapsed().as_secs_f64() * 1e3,
        peak_mib()
    );
}

/// Runs `self args` in a child process and returns its stdout line's fields.
fn child(args: &[&str]) -> Vec<String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .split('\t')
        .map(str::to_string)
        .collect()
}

fn run_all() {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/porcupine"
    ));
    let tsv = std::fs::read_to_string(root.join("EXPECTED.tsv")).unwrap();
    let (mut etcd, mut kv) = ((0.0, 0.0), (0.0, 0.0));
    println!("file\tverdict\tparse ms\tcheck ms");
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        // Check-only time in-process, best of 3 (the figure Porcupine's is compared to).
        let h = read_path(&root.join(f[0]), f[1].parse().unwrap()).unwrap();
        let t0 = Instant::now();
        let _ = read_path(&root.join(f[0]), f[1].parse().unwrap()).unwrap();
        let parse = t0.elapsed().as_secs_f64() * 1e3;
        let spec = ModelSpec::new(f[2].parse().unwrap());
        let mut best = f64::MAX;
        let mut verdict = String::new();
        for _ in 0..3 {
            let budget = Budget {
                deadline: Some(Instant::now() + Duration::from_secs(60)),
                memory_bytes: None,
            };
            let t = Instant::now();
            let r = linearizable::check(&h, &spec, &budget);
            best = best.min(t.elapsed().as_secs_f64() * 1e3);
            verdict = format!("{}", r.verdict);
            if best > 5000.0 {
                break;
            }
        }
        let acc = if f[0].starts_with("jepsen") {
            &mut etcd
        } else {
            &mut kv
        };
        acc.0 += parse;
        acc.1 += best;
        if f[0].starts_with("kv") || best > 20.0 {
            println!("{}\t{verdict}\t{parse:.2}\t{best:.2}", f[0]);
        }
    }
    println!(
        "SUM etcd logs (102)\tparse {:.1} ms\tcheck {:.1} ms",
        etcd.0, etcd.1
    );
    println!(
        "SUM kv logs (6)\tparse {:.1} ms\tcheck {:.1} ms",
        kv.0, kv.1
    );

    let dir = std::env::temp_dir().join("faultline-bench");
    std::fs::create_dir_all(&dir).unwrap();
    for keys in [100usize, 1] {
        let file = dir.join(format!("cas-1m-{keys}keys.jsonl"));
        if !file.exists() {
            child(&["gen", file.to_str().unwrap(), &keys.to_string()]);
        }
        let base = child(&["baseline", file.to_str().unwrap()]);
        let t = Instant::now();
        let r = child(&["check", file.to_str().unwrap(), "jsonl", "cas-register"]);
        let whole = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "1M events, {keys} keys: {} (keys decided {}); parse {} ms, check {} ms, whole process {whole:.0} ms, peak {} MiB; baseline serde_json::Value parse {} ms ({} MiB) -> parse ratio {:.2}",
            r[0], r[4], r[1], r[2], r[3], base[1], base[2],
            r[1].parse::<f64>().unwrap_or(0.0) / base[1].parse::<f64>().unwrap_or(1.0)
        );
    }
}

/// Writes a `events`-event cas-register history over `keys` keys: 16 processes, each
/// op taking effect at a random instant inside its interval on a real register, unique
/// written values, ~0.2% of ops crashed (info; half of those take effect).
fn generate(path: &Path, keys: usize, events: usize) {
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    struct Pending {
        process: u64,
        key: usize,
        f: &'static str,
        value: String,
        end: u64,
        effect: u64,
        crashed: bool,
        effective: bool,
    }
    let procs = 16usize;
    let mut regs: Vec<Option<u64>> = vec![None; keys];
    let mut ids: Vec<u64> = (0..procs as u64).collect();
    let mut next_id = procs as u64;
    let mut free_at = vec![0u64; procs];
    let mut pending: Vec<Option<Pending>> = (0..procs).map(|_| None).collect();
    let mut counter = 0u64;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut index = 0usize;
    let mut now = 0u64;
    // Effects pending in time order: (effect time, slot).
    while index < events {
        now += 1;
        // Apply effects whose time has come (only real-register semantics).
        for p in pending.iter_mut().flatten() {
            {
                if p.effective && p.effect == now {
                    let reg = &mut regs[p.key];
                    match p.f {
                        "read" => p.value = reg.map_or("null".into(), |v| v.to_string()),
                        "write" => *reg = Some(p.value.parse().unwrap()),
                        _ => {
                            let (e, n) = p
                                .value
                                .trim_matches(|c| c == '[' || c == ']')
                                .split_once(',')
                                .unwrap();
                            let cur = reg.map_or("null".to_string(), |v| v.to_string());
                            if e == cur {
                                *reg = Some(n.parse().unwrap());
                            } else {
                                p.f = "cas-fail";
                            }
                        }
                    }
                }
            }
        }
        for slot in 0..procs {
            let done = pending[slot].as_ref().is_some_and(|p| p.end == now);
            if done {
                let p = pending[slot].take().unwrap();
                let (t, f, v) = match (p.crashed, p.f) {
                    (true, "cas-fail") => ("info", "cas", p.value.clone()),
                    (true, f) => ("info", f, p.value.clone()),
                    (false, "cas-fail") => ("fail", "cas", p.value.clone()),
                    (false, f) => ("ok", f, p.value.clone()),
                };
                let _ = writeln!(out, "{{\"index\":{index},\"time\":{now},\"process\":{},\"type\":\"{t}\",\"f\":\"{f}\",\"key\":\"k{}\",\"value\":{v}}}", p.process, p.key);
                index += 1;
                if p.crashed {
                    ids[slot] = next_id;
                    next_id += 1;
                }
                free_at[slot] = now + 1 + next() % 3;
            }
            if pending[slot].is_none() && free_at[slot] <= now && index < events {
                let key = (next() % keys as u64) as usize;
                let kind = next() % 4;
                counter += 1;
                let (f, value) = match kind {
                    0 | 1 => ("read", "null".to_string()),
                    2 => ("write", counter.to_string()),
                    _ => {
                        let cur = regs[key].map_or("null".to_string(), |v| v.to_string());
                        ("cas", format!("[{cur},{counter}]"))
                    }
                };
                let len = 2 + next() % 20;
                let crashed = next() % 1000 < 2;
                let effect = now + 1 + next() % len;
                let _ = writeln!(out, "{{\"index\":{index},\"time\":{now},\"process\":{},\"type\":\"invoke\",\"f\":\"{f}\",\"key\":\"k{key}\",\"value\":{}}}", ids[slot], if f == "read" { "null".to_string() } else { value.clone() });
                index += 1;
                pending[slot] = Some(Pending {
                    process: ids[slot],
                    key,
                    f,
                    value,
                    end: now + len + 1,
                    effect,
                    crashed,
                    effective: !crashed || next() % 2 == 0,
                });
            }
        }
    }
    // Invokes still open at the end count as info.
    let _ = Format::Jsonl;
}

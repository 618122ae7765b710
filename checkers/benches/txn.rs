//! Transactional checker benchmark (a bench binary: whole-process time and peak
//! memory, each measured in a child process).
//!
//! `cargo bench -p checkers --bench txn` generates Elle-shaped list-append
//! histories — 16 processes, txns of 1–4 micro-ops mixing appends and reads over a
//! pool of 16 active keys that rotate after 64 appends each, unique values per key,
//! ~1 % indeterminate and ~1 % failed txns, each txn applied atomically to a real
//! serial store at its completion (strict serializable by construction) — of 100 k
//! and 1 M txns, clean and with planted anomalies (G0, G1a, G1b, G1c, G-single,
//! G2-item, lost update, internal, incompatible order, a stale read that is
//! G-single-realtime), and reports, best of 3 child processes each:
//! - `parse`: `read_path(.., Format::Jsonl)` alone (the baseline);
//! - `check`: the same read, then the strict-serializable check (the whole
//!   `faultline check` work), with the check's own time and the peak memory.
//!
//! It also says whether every planted anomaly was found and the clean history is
//! valid. Times are wall clock and CPU (user + system, from `/proc/self/stat`):
//! on a shared machine the CPU time is the steadier figure.
//!
//! `cargo bench -p checkers --bench txn -- gen FILE TXNS [planted]` only writes a
//! history (e.g. to time `faultline check FILE --model list-append` on it).
//! `checkers/benches/txn.sh` times this binary's `parse` and `check` against a
//! baseline commit's binary on the 1M-txn histories, alternately, in one script.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use checkers::read::{read_path, Format};
use checkers::txn::{Analysis, DataModel, RegisterOrders};
use checkers::Consistency;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("gen") => {
            let n = args
                .get(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(1_000_000);
            generate(Path::new(&args[1]), n, args.get(3).is_some());
        }
        Some("parse") => child(Path::new(&args[1]), false),
        Some("check") => child(Path::new(&args[1]), true),
        _ => run_all(),
    }
}

/// The anomalies planted, and the one each must be reported as.
const PLANTED: [&str; 10] = [
    "G0",
    "G1a",
    "G1b",
    "G1c",
    "G-single",
    "G2-item",
    "lost-update",
    "internal",
    "incompatible-order",
    "G-single-realtime",
];

/// A tiny deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Writer {
    out: std::io::BufWriter<std::fs::File>,
    index: u64,
}

impl Writer {
    fn event(&mut self, process: u64, kind: &str, value: &str) {
        writeln!(
            self.out,
            r#"{{"index":{},"time":{},"process":{process},"type":"{kind}","f":"txn","value":{value}}}"#,
            self.index,
            self.index * 1000
        )
        .unwrap();
        self.index += 1;
    }
}

#[derive(Clone)]
enum Mop {
    Append(u64, u64),
    Read(u64),
}

fn render(mops: &[Mop], reads: Option<&[Vec<u64>]>) -> String {
    let mut s = String::from("[");
    let mut r = 0;
    for (i, m) in mops.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match m {
            Mop::Append(k, v) => s.push_str(&format!(r#"["append",{k},{v}]"#)),
            Mop::Read(k) => match reads {
                Some(reads) => {
                    let l: Vec<String> = reads[r].iter().map(|v| v.to_string()).collect();
                    s.push_str(&format!(r#"["r",{k},[{}]]"#, l.join(",")));
                    r += 1;
                }
                None => s.push_str(&format!(r#"["r",{k},null]"#)),
            },
        }
    }
    s.push(']');
    s
}

/// Writes a history of `n` txns (plus the planted patterns if asked).
fn generate(path: &Path, n: usize, planted: bool) {
    let mut rng = Rng(0x5eed_1234_abcd);
    let mut w = Writer {
        out: std::io::BufWriter::new(std::fs::File::create(path).unwrap()),
        index: 0,
    };
    let mut store: HashMap<u64, Vec<u64>> = HashMap::new();
    let mut active: Vec<u64> = (0..16).collect();
    let mut appends: HashMap<u64, u64> = HashMap::new();
    let mut next_key = 16u64;
    let mut procs: Vec<(u64, Option<Vec<Mop>>)> = (0..16).map(|p| (p, None)).collect();
    let mut next_pid = 16u64;
    let (mut started, mut done) = (0usize, 0usize);
    let plant_every = n / (PLANTED.len() + 1);
    let mut planted_so_far = 0;
    while done < n {
        if planted && planted_so_far < PLANTED.len() && done >= plant_every * (planted_so_far + 1) {
            plant(
                &mut w,
                planted_so_far,
                1_000_000 + planted_so_far as u64 * 10,
            );
            planted_so_far += 1;
        }
        let s = rng.below(16) as usize;
        match procs[s].1.take() {
            None if started < n => {
                let len = 1 + rng.below(4);
                let mops: Vec<Mop> = (0..len)
                    .map(|_| {
                        let slot = rng.below(active.len() as u64) as usize;
                        let k = active[slot];
                        if rng.below(2) == 0 {
                            let c = appends.entry(k).or_insert(0);
                            *c += 1;
                            let v = *c;
                            if v >= 64 {
                                active[slot] = next_key;
                                next_key += 1;
                            }
                            Mop::Append(k, v)
                        } else {
                            Mop::Read(k)
                        }
                    })
                    .collect();
                w.event(procs[s].0, "invoke", &render(&mops, None));
                procs[s].1 = Some(mops);
                started += 1;
            }
            None => {}
            Some(mops) => {
                done += 1;
                let outcome = match rng.below(100) {
                    0 => "info",
                    1 => "fail",
                    _ => "ok",
                };
                let apply = outcome == "ok" || (outcome == "info" && rng.below(2) == 0);
                let mut reads = Vec::new();
                let mut scratch: HashMap<u64, Vec<u64>> = HashMap::new();
                for m in &mops {
                    match *m {
                        Mop::Append(k, v) => scratch
                            .entry(k)
                            .or_insert_with(|| store.get(&k).cloned().unwrap_or_default())
                            .push(v),
                        Mop::Read(k) => reads.push(
                            scratch
                                .get(&k)
                                .cloned()
                                .unwrap_or_else(|| store.get(&k).cloned().unwrap_or_default()),
                        ),
                    }
                }
                if apply {
                    store.extend(scratch);
                }
                if outcome == "ok" {
                    w.event(procs[s].0, "ok", &render(&mops, Some(&reads)));
                } else {
                    w.event(procs[s].0, outcome, &render(&mops, None));
                }
                if outcome == "info" {
                    procs[s].0 = next_pid;
                    next_pid += 1;
                }
            }
        }
    }
    w.out.flush().unwrap();
}

/// Writes planted pattern `i` over fresh keys `k`, `k + 1` on fresh processes.
fn plant(w: &mut Writer, i: usize, k: u64) {
    let (x, y) = (k, k + 1);
    let p = 1_000_000 + i as u64 * 10;
    let txn = |w: &mut Writer, p: u64, v: &str| {
        w.event(p, "invoke", v);
        w.event(p, "ok", v);
    };
    match PLANTED[i] {
        "G0" => {
            let (a, b) = (
                format!(r#"[["append",{x},1],["append",{y},1]]"#),
                format!(r#"[["append",{x},2],["append",{y},2]]"#),
            );
            w.event(p, "invoke", &a);
            w.event(p + 1, "invoke", &b);
            w.event(p, "ok", &a);
            w.event(p + 1, "ok", &b);
            txn(w, p + 2, &format!(r#"[["r",{x},[1,2]],["r",{y},[2,1]]]"#));
        }
        "G1a" => {
            let a = format!(r#"[["append",{x},1]]"#);
            w.event(p, "invoke", &a);
            w.event(p, "fail", &a);
            txn(w, p + 1, &format!(r#"[["r",{x},[1]]]"#));
        }
        "G1b" => {
            txn(w, p, &format!(r#"[["append",{x},1],["append",{x},2]]"#));
            txn(w, p + 1, &format!(r#"[["r",{x},[1]]]"#));
        }
        "G1c" => {
            let a = format!(r#"[["append",{x},1],["r",{y},[1]]]"#);
            let b = format!(r#"[["append",{y},1],["r",{x},[1]]]"#);
            w.event(p, "invoke", &a);
            w.event(p + 1, "invoke", &b);
            w.event(p, "ok", &a);
            w.event(p + 1, "ok", &b);
        }
        "G-single" => {
            let r = format!(r#"[["r",{x},[]],["r",{y},[1]]]"#);
            w.event(p + 1, "invoke", &r);
            txn(w, p, &format!(r#"[["append",{x},1],["append",{y},1]]"#));
            w.event(p + 1, "ok", &r);
            txn(w, p + 2, &format!(r#"[["r",{x},[1]]]"#));
        }
        "G2-item" => {
            let a = format!(r#"[["r",{x},[]],["append",{y},1]]"#);
            let b = format!(r#"[["r",{y},[]],["append",{x},1]]"#);
            w.event(p, "invoke", &a);
            w.event(p + 1, "invoke", &b);
            w.event(p, "ok", &a);
            w.event(p + 1, "ok", &b);
            txn(w, p + 2, &format!(r#"[["r",{x},[1]],["r",{y},[1]]]"#));
        }
        "lost-update" => {
            let a = format!(r#"[["r",{x},[]],["append",{x},1]]"#);
            let b = format!(r#"[["r",{x},[]],["append",{x},2]]"#);
            w.event(p, "invoke", &a);
            w.event(p + 1, "invoke", &b);
            w.event(p, "ok", &a);
            w.event(p + 1, "ok", &b);
            txn(w, p + 2, &format!(r#"[["r",{x},[1,2]]]"#));
        }
        "internal" => txn(w, p, &format!(r#"[["append",{x},1],["r",{x},[]]]"#)),
        "incompatible-order" => {
            txn(w, p, &format!(r#"[["append",{x},1]]"#));
            txn(w, p + 1, &format!(r#"[["append",{x},2]]"#));
            txn(w, p + 2, &format!(r#"[["r",{x},[1,2]]]"#));
            txn(w, p + 3, &format!(r#"[["r",{x},[2,1]]]"#));
        }
        _ => {
            // A stale read: x = [] read after the append of 1 completed.
            txn(w, p, &format!(r#"[["append",{x},1]]"#));
            txn(w, p + 1, &format!(r#"[["r",{x},[]]]"#));
            txn(w, p + 2, &format!(r#"[["r",{x},[1]]]"#));
        }
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

/// CPU time (user + system) of this process so far, ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    // `rest` starts at field 3 (the state), so utime (14) and stime (15) are at 11, 12.
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) * 10.0
}

/// Prints `total ms \t check ms \t peak MiB \t found anomalies \t cpu ms`.
fn child(path: &Path, check: bool) {
    let t = Instant::now();
    let h = read_path(path, Format::Jsonl).unwrap();
    let parsed = t.elapsed();
    let mut found = String::from("-");
    if check {
        let a = Analysis::new(&h, DataModel::ListAppend, RegisterOrders::default()).unwrap();
        let r = a.result(&h, Consistency::StrictSerializable, DataModel::ListAppend);
        let counts: BTreeMap<String, usize> =
            serde_json::from_value(r.evidence["anomaly_counts"].clone()).unwrap();
        found = counts.keys().cloned().collect::<Vec<_>>().join(",");
        if found.is_empty() {
            found = format!("none:{}", r.verdict);
        }
    }
    let total = t.elapsed();
    println!(
        "{:.1}\t{:.1}\t{:.0}\t{found}\t{:.0}",
        total.as_secs_f64() * 1e3,
        (total - parsed).as_secs_f64() * 1e3,
        peak_mib(),
        cpu_ms()
    );
}

/// Best of 3 runs of `self mode path`: (total ms, check ms, peak MiB, found, cpu ms).
fn best_of_3(mode: &str, path: &Path) -> (f64, f64, f64, String, f64) {
    let mut best = (f64::MAX, 0.0, 0.0, String::new(), 0.0);
    for _ in 0..3 {
        let out = Command::new(std::env::current_exe().unwrap())
            .arg(mode)
            .arg(path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = text.trim().split('\t').collect();
        assert_eq!(
            f.len(),
            5,
            "child {mode} failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let total: f64 = f[0].parse().unwrap();
        if total < best.0 {
            best = (
                total,
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3].to_string(),
                f[4].parse().unwrap(),
            );
        }
    }
    best
}

fn run_all() {
    let dir = std::env::temp_dir().join("faultline-txn-bench");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, label) in [(100_000usize, "100k"), (1_000_000, "1M")] {
        for planted in [false, true] {
            let name = format!(
                "list-append-{label}-{}.jsonl",
                if planted { "planted" } else { "clean" }
            );
            let path = dir.join(&name);
            generate(&path, n, planted);
            let mib = std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64;
            let (parse_ms, _, parse_mib, _, parse_cpu) = best_of_3("parse", &path);
            let (total_ms, check_ms, peak, found, cpu) = best_of_3("check", &path);
            println!(
                "{name} ({mib:.0} MiB): parse {parse_ms:.0} ms wall / {parse_cpu:.0} ms cpu (peak {parse_mib:.0} MiB); parse+check {total_ms:.0} ms wall / {cpu:.0} ms cpu, of which check {check_ms:.0} ms wall; peak {peak:.0} MiB; ratio total/parse {:.2} wall, {:.2} cpu",
                total_ms / parse_ms,
                cpu / parse_cpu.max(1.0)
            );
            if planted {
                let got: Vec<&str> = found.split(',').collect();
                let missing: Vec<&&str> = PLANTED.iter().filter(|a| !got.contains(a)).collect();
                println!("  planted {PLANTED:?}: found {found}; missing {missing:?}");
            } else {
                println!("  clean: found {found}");
            }
            std::fs::remove_file(&path).ok();
        }
    }
}

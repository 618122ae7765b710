//! Benchmark of the vDSO clock mechanism (BENCHMARKS.md, "Clock (vDSO)"), as root:
//!
//! - the time to patch and to restore a running process (a static C probe and a Go
//!   probe, each looping on the clock), against a bare stop-and-release of all its
//!   threads (the baseline: what ptrace alone costs);
//! - the cost of one clock read, original vs patched, in the same process and run (the
//!   probe's `bench` mode prints ns per call every ~200 ms).
//!
//! `cargo run --release -p nemesis --example vdso_bench`

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nemesis::clock::vdso;

fn build(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probes");
    let mut out = Vec::new();
    let c = dir.join("cprobe");
    if Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&c)
        .arg(src.join("clockprobe.c"))
        .status()
        .is_ok_and(|s| s.success())
    {
        out.push(("static C, clock_gettime(CLOCK_REALTIME)", c));
    }
    let go = dir.join("goprobe");
    let home = dir.join("gohome");
    if Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&go)
        .arg(src.join("clockprobe.go"))
        .env("HOME", &home)
        .env("GOCACHE", home.join("cache"))
        .env("GOFLAGS", "")
        .status()
        .is_ok_and(|s| s.success())
    {
        out.push(("Go, time.Now()", go));
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn ns_per_call(lines: &mut impl Iterator<Item = String>, n: usize) -> f64 {
    let mut v: Vec<f64> = lines
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("ns_per_call="))
                .and_then(|x| x.parse().ok())
        })
        .skip(1) // the first may straddle a change
        .take(n)
        .collect();
    median(&mut v)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("fl-vdso-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("| probe | stop+release (baseline) | patch | restore | patch / baseline | read, original | read, patched | patched / original |");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, program) in build(&dir) {
        let mut child = Command::new(&program)
            .arg("bench")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut lines = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok);
        // Alternate original and patched three times (drift on a shared machine
        // touches both alike), 5 reports each.
        let (mut orig, mut pat) = (Vec::new(), Vec::new());
        let mut fast = false;
        for _ in 0..3 {
            orig.push(ns_per_call(&mut lines, 5));
            let p = vdso::patch(pid, None).unwrap();
            fast = p.entries.iter().any(|e| e.through_original);
            p.set_offset_ns(1_000_000_000).unwrap();
            pat.push(ns_per_call(&mut lines, 5));
            p.restore().unwrap();
        }
        let (original, patched) = (median(&mut orig), median(&mut pat));
        let name = if fast {
            format!("{name} (through the original)")
        } else {
            format!("{name} (through the syscall)")
        };
        // Drain the pipe in the background from here on.
        std::thread::spawn(move || lines.for_each(drop));
        let (mut base, mut pt, mut rt) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..30 {
            let t = Instant::now();
            vdso::tracer::Stopped::all_threads(pid).unwrap().release();
            base.push(t.elapsed().as_secs_f64() * 1e3);
            let t = Instant::now();
            let p = vdso::patch(pid, None).unwrap();
            pt.push(t.elapsed().as_secs_f64() * 1e3);
            std::thread::sleep(Duration::from_millis(5));
            let t = Instant::now();
            p.restore().unwrap();
            rt.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (b, pa, re) = (median(&mut base), median(&mut pt), median(&mut rt));
        println!(
            "| {name} | {b:.2} ms | {pa:.2} ms | {re:.2} ms | {:.1} | {original:.1} ns | {patched:.1} ns | {:.1} |",
            pa / b,
            patched / original
        );
        assert!(child.try_wait().unwrap().is_none(), "{name} died");
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

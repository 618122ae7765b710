//! The clock probes of the vDSO tests, built into a temporary directory and run as real
//! processes: a Go program (Go reads the clock through the vDSO, never libc) and a
//! statically linked C program. Each prints its wall clock and monotonic clock every
//! 10 ms; [`Probe`] collects the lines and compares the wall clock with this process's.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A temporary directory for one test's builds.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fl-vdso-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/probes")
        .join(name)
}

/// Builds the Go probe into `dir` (no network: it uses the standard library only).
pub fn build_go(dir: &Path) -> PathBuf {
    let out = dir.join("goprobe");
    let home = dir.join("gohome");
    let status = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&out)
        .arg(source("clockprobe.go"))
        .env("HOME", &home)
        .env("GOCACHE", home.join("cache"))
        .env("GOPATH", home.join("go"))
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOPROXY", "off")
        .status()
        .unwrap_or_else(|e| panic!("cannot run `go` ({e}): install golang-go (scripts/setup.sh)"));
    assert!(status.success(), "go build of the probe failed");
    out
}

/// Builds the C probe, statically linked, into `dir`.
pub fn build_static_c(dir: &Path) -> PathBuf {
    let out = dir.join("cprobe");
    let status = Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(source("clockprobe.c"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run gcc ({e})"));
    assert!(status.success(), "gcc -static of the probe failed");
    assert!(
        nemesis::clock::vdso::elf::is_static_executable(&out),
        "the C probe is not static"
    );
    out
}

/// Nanoseconds since the epoch, by this process's (unpatched) clock.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

/// One line of a probe.
#[derive(Clone, Copy, Debug)]
pub struct Reading {
    /// When it arrived (our monotonic clock).
    pub at: Instant,
    /// The probe's wall clock minus ours when the line arrived, in ms.
    pub skew_ms: i64,
    /// The probe's monotonic clock (ns).
    pub mono: i64,
    /// Its `gettimeofday` minus our clock, in ms (the C probe prints it).
    pub gtod_skew_ms: Option<i64>,
    /// Its `time()` minus our clock, in whole seconds (the C probe prints it).
    pub time_skew_s: Option<i64>,
}

/// A running probe and the readings it printed so far.
pub struct Probe {
    pub child: Child,
    readings: Arc<Mutex<Vec<Reading>>>,
}

impl Probe {
    /// Starts `program` (with `args`) and waits for its first readings.
    pub fn start(program: &Path, args: &[&str]) -> Probe {
        let mut child = Command::new(program)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let readings = Arc::new(Mutex::new(Vec::new()));
        let r = readings.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let field = |k: &str| -> Option<i64> {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(k))
                        .and_then(|v| v.parse().ok())
                };
                if let (Some(wall), Some(mono)) = (field("wall="), field("mono=")) {
                    let now = now_ns();
                    r.lock().unwrap().push(Reading {
                        at: Instant::now(),
                        skew_ms: (wall - now) / 1_000_000,
                        mono,
                        gtod_skew_ms: field("gtod_us=").map(|us| (us * 1000 - now) / 1_000_000),
                        time_skew_s: field("time_s=").map(|s| s - now / 1_000_000_000),
                    });
                }
            }
        });
        let p = Probe { child, readings };
        p.readings_after(Instant::now(), 5);
        p
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// At least `n` readings that arrived after `t` (panics after 10 s without).
    pub fn readings_after(&self, t: Instant, n: usize) -> Vec<Reading> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got: Vec<Reading> = self
                .readings
                .lock()
                .unwrap()
                .iter()
                .filter(|r| r.at > t)
                .copied()
                .collect();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "the probe printed {} lines in 10 s",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asserts that every reading from 50 ms after now on (5 of them) shows the
    /// probe's clock `expect_ms` ahead of ours, within `tolerance_ms`.
    pub fn assert_skew(&self, expect_ms: i64, tolerance_ms: i64, what: &str) {
        let after = Instant::now() + Duration::from_millis(50);
        std::thread::sleep(Duration::from_millis(50));
        let got = self.readings_after(after, 5);
        for r in &got {
            assert!(
                (r.skew_ms - expect_ms).abs() <= tolerance_ms,
                "{what}: the probe's clock_gettime is {} ms off ours, expected {expect_ms} ± {tolerance_ms}",
                r.skew_ms
            );
            if let Some(g) = r.gtod_skew_ms {
                assert!(
                    (g - expect_ms).abs() <= tolerance_ms,
                    "{what}: the probe's gettimeofday is {g} ms off ours, expected {expect_ms} ± {tolerance_ms}"
                );
            }
            if let Some(t) = r.time_skew_s {
                // Whole seconds on both sides: one more second of slack.
                assert!(
                    (t * 1000 - expect_ms).abs() <= tolerance_ms + 1000,
                    "{what}: the probe's time() is {t} s off ours, expected {expect_ms} ms"
                );
            }
        }
    }

    /// Asserts that the monotonic clock never went backwards and the probe still runs.
    pub fn assert_monotonic_and_alive(&mut self) {
        let all = self.readings.lock().unwrap().clone();
        assert!(all.len() > 20, "only {} readings", all.len());
        for w in all.windows(2) {
            assert!(w[1].mono >= w[0].mono, "monotonic clock went back: {w:?}");
        }
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "the probe died: {:?}",
            self.child.try_wait()
        );
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The report of a 1,000,000-op run: a generator and a measurement, ignored by
//! default (it writes a ~250 MB history). Run it in release mode:
//!
//! ```sh
//! cargo test --release --test report_scale -- --ignored --nocapture
//! ```
//!
//! It prints how long `faultline report` took and how big report.html is
//! (BENCHMARKS.md, "Report"); it fails only if the file reaches 20 MB. With
//! `FAULTLINE_KEEP_SCALE=1` the run directory is kept (for `/usr/bin/time
//! faultline report DIR`).

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use serde_json::json;

const OPS: u64 = 1_000_000;
const CLIENTS: u64 = 50;
const KEYS: u64 = 100;

/// Writes a kv history of `OPS` ops by `CLIENTS` clients over 100 s with a
/// partition every 10 s, a process crash (info) every 997 ops, and returns the
/// invoke indices of the ops of one key between 40 and 41 s (a "window").
fn generate(path: &Path) -> Vec<u64> {
    let mut w = BufWriter::new(std::fs::File::create(path).unwrap());
    let mut index = 0u64;
    let mut process: Vec<u64> = (0..CLIENTS).collect();
    let mut next_process = CLIENTS;
    let mut window = Vec::new();
    let step = 100_000_000_000 / OPS; // ns between op starts: 100 s in all
    let line = |w: &mut BufWriter<std::fs::File>, v: serde_json::Value, index: &mut u64| {
        let mut v = v;
        v["index"] = json!(*index);
        *index += 1;
        writeln!(w, "{v}").unwrap();
    };
    for i in 0..OPS {
        let t = i * step;
        if i % (OPS / 10) == OPS / 20 {
            line(
                &mut w,
                json!({"time": t, "process": "nemesis", "type": "info", "f": "start-partition", "value": {"groups": [["n1", "n2"], ["n3"]], "nodes": ["n1", "n2", "n3"]}}),
                &mut index,
            );
        }
        if i % (OPS / 10) == OPS / 20 + OPS / 40 {
            line(
                &mut w,
                json!({"time": t, "process": "nemesis", "type": "info", "f": "stop-partition", "value": null}),
                &mut index,
            );
        }
        let c = (i % CLIENTS) as usize;
        let p = process[c];
        let key = format!("k{}", (i * 7919) % KEYS);
        let read = i % 2 == 0;
        let (f, v) = if read {
            ("read", json!(null))
        } else {
            ("write", json!(i))
        };
        if (40_000_000_000..41_000_000_000).contains(&t) && key == "k3" {
            window.push(index);
        }
        line(
            &mut w,
            json!({"time": t, "process": p, "type": "invoke", "f": f, "key": key, "value": v}),
            &mut index,
        );
        let latency = 200_000 + (i * 2654435761) % 3_000_000;
        let (kind, value) = if i % 997 == 996 {
            process[c] = next_process;
            next_process += 1;
            ("info", v.clone())
        } else if i % 97 == 0 {
            ("fail", v.clone())
        } else if read {
            ("ok", json!(i.saturating_sub(2)))
        } else {
            ("ok", v.clone())
        };
        line(
            &mut w,
            json!({"time": t + latency.min(step * CLIENTS - 1), "process": p, "type": kind, "f": f, "key": key, "value": value, "node": "n1"}),
            &mut index,
        );
    }
    w.flush().unwrap();
    window
}

#[test]
#[ignore = "writes a 1,000,000-op history (~250 MB); a measurement for BENCHMARKS.md"]
fn the_report_of_a_million_op_run_is_small_and_quick() {
    let dir = std::env::temp_dir().join(format!("faultline-report-scale-{}", std::process::id()));
    let run = dir.join("results/scale/20260101T000000");
    std::fs::create_dir_all(&run).unwrap();
    let started = Instant::now();
    let window = generate(&run.join("history.jsonl"));
    eprintln!(
        "generated {OPS} ops in {:.1} s; the failing window holds {} ops",
        started.elapsed().as_secs_f64(),
        window.len()
    );
    let culprit = *window.last().unwrap();
    // The checker keeps the last 2000 steps of the order with the state after each.
    let prefix = &window[..window.len() - 1];
    let steps: Vec<serde_json::Value> = prefix[prefix.len().saturating_sub(2000)..]
        .iter()
        .map(|i| json!({"op": i, "state": format!("<state after {i}>")}))
        .collect();
    let results = json!({
        "name": "scale", "run_dir": run.display().to_string(), "started": "2026-01-01T00:00:00Z",
        "duration_ms": 100_000, "verdict": "invalid", "store": "leaderless", "workload": "kv",
        "nemesis": ["partition"], "seed": 1, "command": "faultline run --seed 1",
        "ops": {"total": OPS, "ok": OPS - OPS / 97 - OPS / 997, "fail": OPS / 97, "info": OPS / 997},
        "checkers": [{
            "checker": "linearizable", "model": "kv", "verdict": "invalid",
            "summary": "not linearizable: 1 of 100 keys (k3)",
            "evidence": {"kind": "linearizable", "invalid_keys": 1, "total_keys": 100, "decided": 100,
                "undecided": [], "valid_keys_listed": 100, "keys": [{"key": "k3", "verdict": "invalid",
                "window": {"ops": window, "prefix": prefix, "culprit": culprit, "explanation": "a generated window", "verified": true,
                    "linearization": {"skipped": prefix.len().saturating_sub(2000), "start": "null", "steps": steps, "end": "<end>"}}}]},
        }],
    });
    std::fs::write(run.join("results.json"), results.to_string()).unwrap();
    let started = Instant::now();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("report")
        .arg(&run)
        .output()
        .unwrap();
    let took = started.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let size = std::fs::metadata(run.join("report.html")).unwrap().len();
    println!(
        "report of {OPS} ops: {took:.2} s (reading the history included), report.html {:.2} MB",
        size as f64 / 1e6
    );
    assert!(size < 20_000_000, "report.html is {size} bytes");
    // The stepper is drawn, and bounded: at most 120 steps and the culprit.
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let frames = html.matches("class=\"frame frame-").count();
    assert!((2..=122).contains(&frames), "{frames} stepper frames");
    assert!(
        html.contains("&lt;state after"),
        "the states are shown, escaped"
    );
    if std::env::var_os("FAULTLINE_KEEP_SCALE").is_some() {
        println!("kept: {}", run.display());
    } else {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

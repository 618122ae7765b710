//! Reports: `report.html` for people (one self-contained file: inline CSS and SVG, no
//! script, no network fetch), `results/index.html` listing every run, and JUnit XML
//! for CI.
//!
//! Every value that came from a store or a history is escaped by the templating
//! (maud escapes everything it interpolates), so a stored `<script>` renders as text.
//!
//! Parts: [`page`] lays out a report; [`timeline`] draws the whole run (lanes per
//! process, aggregated into time buckets past a few thousand ops, so a 1,000,000-op
//! history stays a small file); [`window`] draws a checker's failing window;
//! [`plots`] draws latency and throughput over time with fault windows shaded;
//! [`index`] lists runs; [`junit`] writes JUnit XML.

pub mod index;
pub mod junit;
pub mod page;
pub mod plots;
pub mod timeline;
pub mod window;

use std::path::{Path, PathBuf};

use anyhow::Context;
use checkers::{CheckResult, History};

use crate::results::{files, RunResults};

/// A nemesis fault window: from a `start-X` event to the next `stop-X` (or the end).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultWindow {
    /// The fault kind (`partition`, `kill`, ...).
    pub kind: String,
    /// Start, ns since the test began.
    pub start: u64,
    /// End, ns.
    pub end: u64,
}

/// The fault windows of a history.
pub fn fault_windows(history: &History) -> Vec<FaultWindow> {
    let end = history.end_time();
    let mut open: Vec<(String, u64)> = Vec::new();
    let mut out = Vec::new();
    for e in &history.nemesis {
        let f = e.f.as_str();
        if let Some(kind) = f.strip_prefix("start-") {
            open.push((kind.to_string(), e.time));
        } else if let Some(kind) = f.strip_prefix("stop-") {
            if let Some(i) = open.iter().position(|(k, _)| k == kind) {
                let (kind, start) = open.remove(i);
                out.push(FaultWindow {
                    kind,
                    start,
                    end: e.time,
                });
            }
        }
    }
    out.extend(
        open.into_iter()
            .map(|(kind, start)| FaultWindow { kind, start, end }),
    );
    out.sort_by_key(|w| w.start);
    out
}

/// Renders `RUN_DIR/report.html` from the run's files; returns its path.
pub fn write_run_report(run_dir: &Path) -> anyhow::Result<PathBuf> {
    let results: RunResults = read_json(&run_dir.join(files::RESULTS))?;
    let test: serde_json::Value =
        read_json(&run_dir.join(files::TEST)).unwrap_or(serde_json::Value::Null);
    let history_path = run_dir.join(files::HISTORY);
    let history = checkers::read::read_path(&history_path, checkers::read::Format::Jsonl)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let html = page::run_report(&results, &test, &history);
    let out = run_dir.join("report.html");
    std::fs::write(&out, html).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}

/// Writes the report of a history checked on its own (`faultline check --report`).
pub fn write_check_report(
    path: &Path,
    source: &Path,
    history: &History,
    results: &[CheckResult],
) -> anyhow::Result<()> {
    let html = page::check_report(source, history, results);
    std::fs::write(path, html).with_context(|| format!("cannot write {}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not what faultline writes", path.display()))
}

/// Seconds with one decimal for labels.
pub(crate) fn secs(ns: u64) -> String {
    format!("{:.1} s", ns as f64 / 1e9)
}

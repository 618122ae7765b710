//! Reports: `report.html` for people (one self-contained file: inline CSS and SVG,
//! no script, no network fetch), `results/index.html` listing every run, JUnit XML
//! and a JSON summary for CI.
//!
//! Every value that came from a store or a history is escaped by the templating
//! (maud escapes everything it interpolates), so a stored `<script>` renders as text;
//! the page's Content-Security-Policy forbids scripts and fetches besides.
//!
//! Parts, one concept each: [`view`] reads a run's files leniently; [`faults`] turns
//! nemesis events into fault windows; [`headline`] puts each verdict in plain words;
//! [`page`] lays out a report; [`timeline`] draws the whole run (aggregated past a
//! few thousand ops); [`window`] draws a checker's failing window and [`stepper`]
//! steps through the legal order found before it; [`accounting`]
//! draws eventual-consistency evidence; [`anomalies`] the transactional checker's
//! anomalies and cycles as tables; [`plots`] draws latency and throughput;
//! [`chart`] holds what the pictures share; [`index`] lists runs; [`junit`] and
//! [`summary`] are for machines, with [`availability`] (the ok fraction overall and
//! per fault window); [`messages`] draws a Maelstrom run's message-sequence diagram
//! and network statistics.

pub mod accounting;
pub mod anomalies;
pub mod availability;
pub mod chart;
pub mod faults;
pub mod headline;
pub mod index;
pub mod junit;
pub mod messages;
pub mod page;
pub mod plots;
pub mod stepper;
pub mod summary;
pub mod timeline;
pub mod view;
pub mod window;

use std::path::{Path, PathBuf};

use anyhow::Context;
use checkers::{CheckResult, History};

use crate::results::{files, RunResults};
use view::RunView;

/// The name of a run's report file.
pub const REPORT: &str = "report.html";
/// The name of a run's JUnit file (written when `--junit` is given).
pub const JUNIT: &str = "junit.xml";

/// A run read back from its directory.
pub struct LoadedRun {
    /// What results.json and test.json say.
    pub view: RunView,
    /// The history.
    pub history: History,
    /// The routed network's message journal, for runs that have one (Maelstrom).
    pub messages: Option<Vec<messages::Sent>>,
}

/// Reads `RUN_DIR/results.json`, `test.json` (optional) and `history.jsonl`.
pub fn load_run(run_dir: &Path) -> anyhow::Result<LoadedRun> {
    let results = read_json(&run_dir.join(files::RESULTS))?;
    let test = read_json(&run_dir.join(files::TEST)).unwrap_or(serde_json::Value::Null);
    let history_path = run_dir.join(files::HISTORY);
    let history = checkers::read::read_path(&history_path, checkers::read::Format::Jsonl)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(LoadedRun {
        view: RunView::from_json(&results, &test),
        history,
        messages: messages::read(run_dir),
    })
}

/// Renders `RUN_DIR/report.html` from the run's files; returns its path.
pub fn write_run_report(run_dir: &Path) -> anyhow::Result<PathBuf> {
    let run = load_run(run_dir)?;
    write_report(run_dir, &run)
}

/// Renders the report of a loaded run into `RUN_DIR/report.html`; returns its path.
pub fn write_report(run_dir: &Path, run: &LoadedRun) -> anyhow::Result<PathBuf> {
    let html = page::run_report(&run.view, &run.history, run.messages.as_deref());
    let out = run_dir.join(REPORT);
    write_file(&out, html.as_bytes())?;
    Ok(out)
}

/// What [`after_run`] wrote, or why not.
pub struct Written {
    /// `report.html`.
    pub report: anyhow::Result<PathBuf>,
    /// `results/index.html`.
    pub index: anyhow::Result<PathBuf>,
    /// Each checker's headline, in the order of the run's checkers.
    pub headlines: Vec<headline::Headline>,
}

/// Everything written after a run besides `results.json`: `report.html`,
/// `results/index.html`, and, when asked, the JUnit file (also kept as
/// `RUN_DIR/junit.xml`) and the JSON summary. Reads the history once. Fails only
/// when a file asked for by `--junit` or `--json` cannot be written.
pub fn after_run(
    run_dir: &Path,
    results: &RunResults,
    json: Option<&Path>,
    junit: Option<&Path>,
) -> anyhow::Result<Written> {
    let test = read_json(&run_dir.join(files::TEST)).unwrap_or(serde_json::Value::Null);
    let view = RunView::from_results(results, &test);
    let history =
        checkers::read::read_path(&run_dir.join(files::HISTORY), checkers::read::Format::Jsonl)
            .map_err(|e| anyhow::anyhow!("{e}"));
    let (history, report) = match history {
        Ok(history) => {
            let run = LoadedRun {
                view: view.clone(),
                history,
                messages: messages::read(run_dir),
            };
            let report = write_report(run_dir, &run);
            (run.history, report)
        }
        Err(e) => (History::default(), Err(e)),
    };
    let fw = faults::windows(&history);
    let headlines = headline::all(&view.checkers, &history, &fw);
    if let Some(path) = junit {
        let xml = junit::render(&suite(&view, &headlines, run_dir));
        write_file(path, xml.as_bytes())?;
        let copy = run_dir.join(JUNIT);
        if path.canonicalize().ok() != copy.canonicalize().ok() {
            write_file(&copy, xml.as_bytes())?;
        }
    }
    if let Some(path) = json {
        let read = !history.ops.is_empty() || history.event_count > 0;
        let a = read.then(|| availability::of(&history, &fw));
        let s = summary::of(&view, &headlines, a, run_dir);
        write_file(path, &serde_json::to_vec_pretty(&s)?)?;
    }
    let index = match run_dir.parent().and_then(Path::parent) {
        Some(root) => index::write(root),
        None => Err(anyhow::anyhow!(
            "{} has no results directory above it",
            run_dir.display()
        )),
    };
    Ok(Written {
        report,
        index,
        headlines,
    })
}

/// The JUnit suite of a run.
pub fn suite<'a>(
    v: &'a RunView,
    headlines: &'a [headline::Headline],
    run_dir: &Path,
) -> junit::Suite<'a> {
    let mut properties = vec![
        ("store", v.store.clone()),
        ("workload", v.workload.clone()),
        ("faults", v.faults()),
        ("command", v.command.clone()),
        ("report", run_dir.join(REPORT).display().to_string()),
    ];
    if let Some(seed) = v.seed {
        properties.push(("seed", seed.to_string()));
    }
    junit::Suite {
        name: &v.name,
        seconds: v.duration_ms.unwrap_or(0) as f64 / 1000.0,
        timestamp: &v.started,
        results: &v.checkers,
        headlines,
        properties,
    }
}

/// Writes the report of a history checked on its own (`faultline check --report`).
pub fn write_check_report(
    path: &Path,
    source: &Path,
    history: &History,
    results: &[CheckResult],
) -> anyhow::Result<()> {
    let html = page::check_report(&source.display().to_string(), history, results);
    write_file(path, html.as_bytes())
}

/// Writes the JUnit XML of a history checked on its own (`faultline check --junit`).
pub fn write_check_junit(
    path: &Path,
    source: &Path,
    history: &History,
    results: &[CheckResult],
    seconds: f64,
) -> anyhow::Result<()> {
    let fw = faults::windows(history);
    let headlines = headline::all(results, history, &fw);
    let name = source.display().to_string();
    let xml = junit::render(&junit::Suite {
        name: &name,
        seconds,
        timestamp: "",
        results,
        headlines: &headlines,
        properties: vec![("history", name.clone())],
    });
    write_file(path, xml.as_bytes())
}

/// Writes `bytes` to `path` via a temporary file and a rename, so a reader (a
/// browser, `faultline serve`) never sees half a file.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not JSON (expected what faultline writes)",
            path.display()
        )
    })
}

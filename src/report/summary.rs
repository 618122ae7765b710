//! The machine summary of a run (`faultline run --json FILE`): the verdict and exit
//! code, each checker's verdict with its plain-words headline and first anomaly,
//! the operation counts, and where the run's files are. Small and stable (its
//! `schema` number changes when a field changes meaning); the full evidence stays in
//! `results.json`.

use std::path::Path;

use checkers::Verdict;
use serde::Serialize;

use super::availability::Availability;
use super::headline::Headline;
use super::view::RunView;

/// The version of this summary's shape.
pub const SCHEMA: u32 = 1;

/// The machine summary of a run.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// This shape's version.
    pub schema: u32,
    /// The ok fraction overall and per fault window (`None`: no history was read).
    pub availability: Option<Availability>,
    /// The faultline that wrote it.
    pub faultline: &'static str,
    /// The run's verdict: valid, invalid or unknown.
    pub verdict: Option<Verdict>,
    /// The exit code `faultline run` returns for it.
    pub exit_code: i32,
    /// The run's verdict in words.
    pub headline: String,
    /// Why the verdict is `unknown` when the history allows no decision ("no
    /// operation succeeded: all 3 nodes had exited — see nodes/*/ (...)").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict_reason: Option<String>,
    /// The test's name.
    pub name: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// How long it took, ms.
    pub duration_ms: Option<u64>,
    /// The store under test.
    pub store: String,
    /// The workload.
    pub workload: String,
    /// The faults asked for.
    pub nemesis: Vec<String>,
    /// The generators' seed.
    pub seed: Option<u64>,
    /// The command that re-runs it.
    pub command: String,
    /// Operation counts.
    pub ops: Option<Ops>,
    /// Each checker.
    pub checkers: Vec<Checker>,
    /// Where the run's files are.
    pub files: Files,
}

/// Operation counts.
#[derive(Debug, Serialize)]
pub struct Ops {
    /// Invokes.
    pub total: u64,
    /// `ok` completions.
    pub ok: u64,
    /// `fail` completions.
    pub fail: u64,
    /// `info` completions and invokes never completed.
    pub info: u64,
}

/// One checker in the summary.
#[derive(Debug, Serialize)]
pub struct Checker {
    /// The checker (`linearizable`, ...).
    pub checker: String,
    /// The model.
    pub model: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// Its verdict in words.
    pub headline: String,
    /// The checker's own summary.
    pub summary: String,
    /// When its first anomaly happened, s since the test began.
    pub first_anomaly_s: Option<f64>,
    /// The faults active then, in words.
    pub during: Option<String>,
    /// Keys (or groups of keys) affected, of how many: `[affected, total]`.
    pub affected: Option<(u64, u64)>,
}

/// Where a run's files are.
#[derive(Debug, Serialize)]
pub struct Files {
    /// The run directory.
    pub run_dir: String,
    /// report.html.
    pub report: String,
    /// results.json (verdicts and full evidence).
    pub results: String,
    /// history.jsonl.
    pub history: String,
}

/// The summary of run `v` in `run_dir`, given its checkers' headlines.
pub fn of(
    v: &RunView,
    headlines: &[Headline],
    availability: Option<Availability>,
    run_dir: &Path,
) -> Summary {
    let lead = headlines
        .iter()
        .find(|h| Some(h.verdict) == v.verdict && h.verdict != Verdict::Valid)
        .map(|h| h.text.clone());
    let file = |f: &str| run_dir.join(f).display().to_string();
    Summary {
        schema: SCHEMA,
        availability,
        faultline: env!("CARGO_PKG_VERSION"),
        verdict: v.verdict,
        exit_code: v.verdict.map(Verdict::exit_code).unwrap_or(2),
        headline: match (&v.verdict_reason, lead) {
            (Some(why), _) => super::headline::run_words(v.verdict, Some(why)),
            (None, Some(lead)) => lead,
            (None, None) => super::headline::run_words(v.verdict, None),
        },
        verdict_reason: v.verdict_reason.clone(),
        name: v.name.clone(),
        started: v.started.clone(),
        duration_ms: v.duration_ms,
        store: v.store.clone(),
        workload: v.workload.clone(),
        nemesis: v.nemesis.clone(),
        seed: v.seed,
        command: v.command.clone(),
        ops: v.ops.map(|o| Ops {
            total: o[0],
            ok: o[1],
            fail: o[2],
            info: o[3],
        }),
        checkers: v
            .checkers
            .iter()
            .zip(headlines)
            .map(|(r, h)| Checker {
                checker: r.checker.clone(),
                model: r.model.clone(),
                verdict: r.verdict,
                headline: h.text.clone(),
                summary: r.summary.clone(),
                first_anomaly_s: h.first_anomaly_s,
                during: h.during.clone(),
                affected: h.affected,
            })
            .collect(),
        files: Files {
            run_dir: run_dir.display().to_string(),
            report: file("report.html"),
            results: file(crate::results::files::RESULTS),
            history: file(crate::results::files::HISTORY),
        },
    }
}

//! `results/index.html`: every run under the results directory, newest first, with
//! its verdict colour and plain-words headline. Rewritten after each run, by
//! `faultline report`, and by `faultline serve` when the index is asked for.

use std::path::{Path, PathBuf};

use maud::{html, PreEscaped, DOCTYPE};

use super::view::{short, RunView};
use crate::results::files;

/// A run found under the results directory.
pub struct Listed {
    /// Its directory.
    pub dir: PathBuf,
    /// What its results.json says.
    pub view: RunView,
}

/// Every run directory under `root` (`root/<test>/<run>/results.json`), newest
/// first. Unreadable runs are skipped; `latest` links are not listed twice.
pub fn runs(root: &Path) -> Vec<Listed> {
    let mut out = Vec::new();
    let Ok(tests) = std::fs::read_dir(root) else {
        return out;
    };
    for test in tests.flatten() {
        let Ok(kind) = test.file_type() else { continue };
        if !kind.is_dir() {
            continue;
        }
        let Ok(dirs) = std::fs::read_dir(test.path()) else {
            continue;
        };
        for run in dirs.flatten() {
            let Ok(kind) = run.file_type() else { continue };
            if !kind.is_dir() {
                continue; // `latest` is a symlink: its run is listed under its own name
            }
            let p = run.path();
            let json = |f: &str| -> Option<serde_json::Value> {
                serde_json::from_str(&std::fs::read_to_string(p.join(f)).ok()?).ok()
            };
            if let Some(results) = json(files::RESULTS) {
                let test = json(files::TEST).unwrap_or(serde_json::Value::Null);
                out.push(Listed {
                    view: RunView::from_json(&results, &test),
                    dir: p,
                });
            }
        }
    }
    out.sort_by(|a, b| (&b.view.started, &b.dir).cmp(&(&a.view.started, &a.dir)));
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}table{border-collapse:collapse}td,th{border:1px solid #d8dee4;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}tr.valid td:first-child{background:#2da44e;color:#fff}tr.invalid td:first-child{background:#cf222e;color:#fff}tr.unknown td:first-child{background:#bf8700;color:#fff}td:first-child{font-weight:700;text-transform:uppercase;font-size:12px}.note{color:#57606a;font-size:12px}a{color:#0969da}";

/// The index page of the runs under `root`.
pub fn render(root: &Path) -> String {
    let runs = runs(root);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(super::page::CSP);
                title { "faultline runs" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "faultline runs" }
                p class="note" { (runs.len()) " runs under " (root.display().to_string()) ", newest first." }
                table {
                    tr { th { "verdict" } th { "test" } th { "started" } th { "store" } th { "workload" } th { "faults" } th { "ops" } th { "checkers" } th { "report" } }
                    @for run in &runs {
                        @let r = &run.view;
                        @let rel = run.dir.strip_prefix(root).unwrap_or(&run.dir).display().to_string();
                        @let verdict = r.verdict.map(|v| v.as_str()).unwrap_or("unknown");
                        tr class=(verdict) {
                            td { (verdict) } td { (r.name) } td { (r.started) } td { (r.store) } td { (r.workload) } td { (r.faults()) }
                            td { @if let Some(o) = r.ops { (o[0]) } }
                            td { @for c in &r.checkers { div { (c.checker) ": " (c.verdict.as_str()) @if c.verdict != checkers::Verdict::Valid { " — " span class="note" { (short(&c.summary, 140)) } } } } }
                            td { a href={ (rel) "/report.html" } { "report" } }
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// Writes `root/index.html`; returns its path.
pub fn write(root: &Path) -> anyhow::Result<PathBuf> {
    let out = root.join("index.html");
    super::write_file(&out, render(root).as_bytes())?;
    Ok(out)
}

//! `results/index.html`: every run under the results directory, newest first, with
//! its verdict colour. Rewritten after each run.

use std::path::{Path, PathBuf};

use maud::{html, PreEscaped, DOCTYPE};

use crate::results::{files, RunResults};

/// Every run directory under `root` that has a `results.json`, newest first.
pub fn runs(root: &Path) -> Vec<(PathBuf, RunResults)> {
    let mut out = Vec::new();
    let Ok(tests) = std::fs::read_dir(root) else {
        return out;
    };
    for test in tests.flatten().filter(|e| e.path().is_dir()) {
        let Ok(dirs) = std::fs::read_dir(test.path()) else {
            continue;
        };
        for run in dirs.flatten() {
            let p = run.path();
            if p.file_name().is_some_and(|n| n == "latest") || !p.is_dir() {
                continue;
            }
            if let Some(r) = std::fs::read_to_string(p.join(files::RESULTS))
                .ok()
                .and_then(|t| serde_json::from_str::<RunResults>(&t).ok())
            {
                out.push((p, r));
            }
        }
    }
    out.sort_by(|a, b| b.1.started.cmp(&a.1.started));
    out
}

/// Writes `root/index.html`; returns its path.
pub fn write(root: &Path) -> anyhow::Result<PathBuf> {
    let runs = runs(root);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "faultline runs" }
                style { (PreEscaped("body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #d8dee4;padding:4px 8px;text-align:left}.valid{background:#dafbe1}.invalid{background:#ffebe9}.unknown{background:#fff8c5}")) }
            }
            body {
                h1 { "faultline runs" }
                p { (runs.len()) " runs, newest first." }
                table {
                    tr { th { "verdict" } th { "test" } th { "started" } th { "store" } th { "workload" } th { "faults" } th { "report" } }
                    @for (dir, r) in &runs {
                        @let rel = dir.strip_prefix(root).unwrap_or(dir).display().to_string();
                        tr class=(r.verdict.as_str()) {
                            td { (r.verdict.as_str()) } td { (r.name) } td { (r.started) } td { (r.store) } td { (r.workload) }
                            td { (if r.nemesis.is_empty() { "none".to_string() } else { r.nemesis.join(", ") }) }
                            td { a href={ (rel) "/report.html" } { "report" } }
                        }
                    }
                }
            }
        }
    };
    let out = root.join("index.html");
    std::fs::write(&out, page.into_string())?;
    Ok(out)
}

//! The layout of a report page: the verdict first, in plain words, then the
//! configuration and how to re-run it, then each checker's evidence, then the
//! pictures of the whole run.

use std::path::Path;

use checkers::{CheckResult, History, Verdict};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{fault_windows, plots, secs, timeline, window};
use crate::results::RunResults;

/// The stylesheet, inline (the report must open from disk with no fetch).
const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.verdict{padding:14px 18px;border-radius:8px;margin:12px 0;font-size:16px}
.valid{background:#dafbe1;border:1px solid #4ac26b}.invalid{background:#ffebe9;border:1px solid #ff8182}.unknown{background:#fff8c5;border:1px solid #d4a72c}
.tag{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;text-transform:uppercase}
.tag.valid{color:#116329}.tag.invalid{color:#a40e26}.tag.unknown{color:#7d4e00}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d8dee4;padding:3px 8px;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}pre{background:#f0f2f4;padding:8px;overflow-x:auto;white-space:pre-wrap}
svg{background:#fff;border:1px solid #d8dee4;border-radius:6px;max-width:100%}
.note{color:#57606a;font-size:12px}
"#;

fn verdict_class(v: Verdict) -> &'static str {
    v.as_str()
}

fn headline(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "Valid: no checker found an anomaly",
        Verdict::Invalid => "Invalid: a consistency violation was found",
        Verdict::Unknown => "Unknown: not every check could be decided",
    }
}

fn shell(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    }
    .into_string()
}

fn checker_sections(history: &History, results: &[CheckResult]) -> Markup {
    html! {
        h2 { "Checkers" }
        table {
            tr { th { "checker" } th { "model" } th { "verdict" } th { "in plain words" } }
            @for r in results {
                tr {
                    td { (r.checker) } td { (r.model) }
                    td { span class={ "tag " (verdict_class(r.verdict)) } { (r.verdict.as_str()) } }
                    td { (r.summary) }
                }
            }
        }
        @for r in results {
            @if r.verdict != Verdict::Valid {
                h3 { "Evidence: " (r.checker) " (" (r.model) ")" }
                p { (r.summary) }
                (window::evidence(history, r))
                details {
                    summary { "The evidence as JSON" }
                    pre { (serde_json::to_string_pretty(&r.evidence).unwrap_or_default()) }
                }
            }
        }
    }
}

fn pictures(history: &History) -> Markup {
    let faults = fault_windows(history);
    html! {
        h2 { "Timeline" }
        (timeline::draw(history, &faults))
        h2 { "Latency" }
        (plots::latency(history, &faults))
        h2 { "Throughput" }
        (plots::throughput(history, &faults))
        @if !faults.is_empty() {
            h2 { "Faults" }
            table {
                tr { th { "fault" } th { "from" } th { "to" } }
                @for f in &faults { tr { td { (f.kind) } td { (secs(f.start)) } td { (secs(f.end)) } } }
            }
        }
    }
}

/// The report of a run.
pub fn run_report(r: &RunResults, test: &serde_json::Value, history: &History) -> String {
    let faults = if r.nemesis.is_empty() {
        "none".to_string()
    } else {
        r.nemesis.join(", ")
    };
    let body = html! {
        h1 { "faultline: " (r.name) }
        div class="note" { "started " (r.started) " · " (format!("{:.1}", r.duration_ms as f64 / 1000.0)) " s · " (r.run_dir) }
        div class={ "verdict " (verdict_class(r.verdict)) } {
            strong { (headline(r.verdict)) }
            ul {
                @for c in &r.checkers { li { strong { (c.checker) " (" (c.model) "): " } (c.summary) } }
            }
        }
        h2 { "Configuration" }
        table {
            tr { th { "store" } td { (r.store) } }
            tr { th { "workload" } td { (r.workload) } }
            tr { th { "faults" } td { (faults) } }
            tr { th { "seed" } td { (r.seed) } }
            tr { th { "operations" } td { (r.ops.total) " (" (r.ops.ok) " ok, " (r.ops.fail) " fail, " (r.ops.info) " info)" } }
            tr { th { "re-run" } td { code { (r.command) } } }
        }
        details {
            summary { "Full configuration (test.json)" }
            pre { (serde_json::to_string_pretty(test).unwrap_or_default()) }
        }
        (checker_sections(history, &r.checkers))
        (pictures(history))
    };
    shell(&format!("faultline: {} — {}", r.name, r.verdict), body)
}

/// The report of a history checked on its own.
pub fn check_report(source: &Path, history: &History, results: &[CheckResult]) -> String {
    let verdict = results
        .iter()
        .fold(Verdict::Valid, |v, r| v.worst(r.verdict));
    let body = html! {
        h1 { "faultline check: " (source.display().to_string()) }
        div class={ "verdict " (verdict_class(verdict)) } {
            strong { (headline(verdict)) }
            ul { @for c in results { li { strong { (c.checker) " (" (c.model) "): " } (c.summary) } } }
        }
        p class="note" { (history.ops.len()) " operations, " (history.event_count) " events." }
        (checker_sections(history, results))
        (pictures(history))
    };
    shell(&format!("faultline check — {verdict}"), body)
}

//! The layout of a report page: the verdict first, in plain words, then the
//! configuration and how to re-run it, then each checker's evidence, then the
//! pictures of the whole run.
//!
//! The page is one file with inline CSS and SVG and no script at all; its
//! Content-Security-Policy forbids every fetch and every script, so even a value
//! that slipped past escaping could neither run nor call out.

use checkers::{CheckResult, Evidence, History, Verdict};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::Value as Json;

use super::chart::secs;
use super::faults::{self, FaultWindow, Marker};
use super::headline::{self, Headline};
use super::view::{short, RunView};
use super::{accounting, anomalies, messages, plots, timeline, window};

/// The page's policy: nothing may be fetched or run; inline styles and data: images only.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// Windows drawn per checker (the JSON has them all).
const MAX_WINDOWS: usize = 5;
/// Evidence JSON shown inline up to this many bytes.
const MAX_JSON: usize = 200_000;

const STYLE: &str = r#"
.step-input{display:none}.frames .frame{display:none}.step-buttons{display:flex;gap:8px;align-items:center;margin:6px 0}
.step-button{border:1px solid #8c959f;border-radius:6px;padding:2px 10px;background:#f6f8fa;cursor:pointer;user-select:none}.step-button.disabled{opacity:.4;cursor:default}
.step-count{font-size:12px;color:#57606a}.step-state.stuck{color:#cf222e}ol li.stuck{color:#cf222e;font-weight:600}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
main{max-width:1060px;margin:0 auto;padding:20px 24px 60px;background:#fff;min-height:100vh}
h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:30px 0 8px;border-bottom:1px solid #d8dee4;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}h4{font-size:14px;margin:14px 0 4px}
nav{margin:8px 0 0;font-size:13px}nav a{margin-right:12px;color:#0969da;text-decoration:none}
.verdict{padding:14px 18px;border-radius:8px;margin:14px 0}.verdict .big{font-size:20px;font-weight:700}
.interrupted{padding:10px 18px;border-radius:8px;margin:14px 0 0;background:#fff8c5;border:1px solid #d4a72c}
.verdict ul{margin:8px 0 0;padding-left:20px}.verdict li{margin:3px 0}
.valid{background:#dafbe1;border:1px solid #4ac26b}.invalid{background:#ffebe9;border:1px solid #ff8182}.unknown{background:#fff8c5;border:1px solid #d4a72c}
.tag{display:inline-block;padding:0 8px;border-radius:10px;font-size:11px;font-weight:700;text-transform:uppercase;border:none;vertical-align:1px}
.tag.valid{background:#2da44e;color:#fff}.tag.invalid{background:#cf222e;color:#fff}.tag.unknown{background:#bf8700;color:#fff}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d8dee4;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa;font-weight:600}
table.config th{width:170px}tr.culprit td{background:#ffebe9;font-weight:600}tr.bad td{background:#fff1f0}tr.warn td{background:#fffbe6}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
pre{background:#f6f8fa;padding:8px;overflow-x:auto;white-space:pre-wrap;max-height:480px;overflow-y:auto}
.rerun{background:#f6f8fa;padding:6px 8px;border-radius:6px;display:block}
svg{background:#fff;border:1px solid #d8dee4;border-radius:6px;max-width:100%;height:auto;display:block}
svg g.op:hover rect,svg rect:hover{stroke:#1b1f24;stroke-width:2}
.note{color:#57606a;font-size:12px;margin:4px 0 10px}.summary{color:#57606a}
.legend{font-size:12px;color:#57606a;margin:4px 0}.legend span{margin-right:14px;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.zoom input{margin:0 2px 0 10px}.msgscroll{max-height:640px;overflow:auto;border:1px solid #d8dee4;border-radius:6px;margin-top:6px}
.msgscroll svg.messages{max-width:none;border:none;height:900px}#msgzoom2:checked~.msgscroll svg.messages{height:1800px}#msgzoom4:checked~.msgscroll svg.messages{height:3600px}
svg g.msg:hover line{stroke-width:3}
details{margin:6px 0}summary{cursor:pointer;color:#0969da}footer{margin-top:40px;color:#57606a;font-size:12px}
"#;

/// What every section needs of the history.
struct Run<'a> {
    history: &'a History,
    faults: Vec<FaultWindow>,
    markers: Vec<Marker>,
    headlines: Vec<Headline>,
}

impl<'a> Run<'a> {
    fn new(history: &'a History, results: &[CheckResult]) -> Run<'a> {
        let faults = faults::windows(history);
        Run {
            headlines: headline::all(results, history, &faults),
            markers: faults::markers(history),
            faults,
            history,
        }
    }
}

fn class(v: Option<Verdict>) -> &'static str {
    v.map(Verdict::as_str).unwrap_or("unknown")
}

fn shell(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { main {
                (body)
                footer { "Written by faultline " (env!("CARGO_PKG_VERSION")) ". This page is self-contained: it fetches nothing and runs no script." }
            } }
        }
    }
    .into_string()
}

/// Above the verdict, when the run did not finish: where it stopped and why, and that
/// the verdict covers only what was recorded until then.
fn interruption(v: &RunView) -> Markup {
    html! {
        @if let Some(i) = &v.interrupted {
            div class="interrupted" id="interrupted" {
                strong { "Interrupted in the " (i.phase) ": " } (i.reason)
                ". The verdict below covers only what was recorded until then."
            }
        }
    }
}

/// The verdict box: the run's verdict in big words, each checker's in a sentence.
fn verdict_box(
    v: Option<Verdict>,
    reason: Option<&str>,
    run: &Run,
    results: &[CheckResult],
) -> Markup {
    let lead = run
        .headlines
        .iter()
        .find(|h| Some(h.verdict) == v && h.verdict != Verdict::Valid);
    html! {
        div class={ "verdict " (class(v)) } id="verdict" {
            div class="big" { (headline::run_words(v, reason)) }
            @if let Some(h) = lead { div { (h.text) } }
            ul {
                @for (h, r) in run.headlines.iter().zip(results) {
                    li { span class={ "tag " (h.verdict.as_str()) } { (h.verdict.as_str()) } " " strong { (r.checker) } " (" (r.model) "): " (h.text) }
                }
            }
        }
    }
}

/// The ok fraction overall and within each fault window, in one paragraph.
fn availability(run: &Run) -> Markup {
    let a = super::availability::of(run.history, &run.faults);
    let pct = |f: Option<f64>| f.map_or("—".to_string(), |f| format!("{:.1}%", f * 100.0));
    html! {
        @if a.ops > 0 {
            p class="availability" {
                strong { "Availability: " } (pct(a.ok_fraction)) " of " (a.ops) " ops succeeded"
                @for f in &a.per_fault {
                    "; during " (f.fault) " (" (format!("{:.1}–{:.1} s", f.from_s, f.to_s)) "): " (pct(f.ok_fraction)) " of " (f.ops)
                }
                "."
            }
        }
    }
}

fn nav(has_faults: bool, has_messages: bool) -> Markup {
    html! {
        nav {
            a href="#configuration" { "Configuration" } a href="#checkers" { "Checkers" }
            a href="#timeline" { "Timeline" } a href="#latency" { "Latency" } a href="#throughput" { "Throughput" }
            @if has_faults { a href="#faults" { "Faults" } }
            @if has_messages { a href="#messages" { "Messages" } }
        }
    }
}

fn evidence_json(e: &Json) -> Markup {
    let text = serde_json::to_string_pretty(e).unwrap_or_default();
    html! {
        details {
            summary { "The evidence as JSON" }
            @if text.len() > MAX_JSON {
                p class="note" { "The first " (MAX_JSON / 1000) " kB of " (text.len() / 1000) " kB; results.json has it all." }
                pre { (short(&text, MAX_JSON)) }
            } @else { pre { (text) } }
        }
    }
}

/// The undecided keys or groups, as labels.
fn undecided(e: &Evidence) -> Vec<String> {
    match e {
        Evidence::Linearizable(l) => l
            .undecided
            .iter()
            .map(|k| k.as_ref().map_or("(no key)".to_string(), super::view::text))
            .collect(),
        Evidence::Sequential(s) => s.undecided.clone(),
        _ => Vec::new(),
    }
}

fn checker_sections(run: &Run, results: &[CheckResult]) -> Markup {
    html! {
        h2 id="checkers" { "Checkers" }
        @if results.is_empty() { p { "No checker results were recorded." } }
        @for (i, (r, h)) in results.iter().zip(&run.headlines).enumerate() {
            @let evidence = r.typed_evidence();
            @let windows = evidence.windows();
            h3 id={ "checker-" (i) } { (r.checker) " (" (r.model) ") " span class={ "tag " (r.verdict.as_str()) } { (r.verdict.as_str()) } }
            p { strong { (h.text) } }
            @if !r.summary.is_empty() { p class="summary" { "In the checker's words: " (r.summary) } }
            @let undecided = undecided(&evidence);
            @if !undecided.is_empty() {
                p class="note" { "Undecided (the budget ran out): " (short(&undecided.join(", "), 400)) }
            }
            @for (j, w) in windows.iter().take(MAX_WINDOWS).enumerate() {
                h4 { "Failing window " (j + 1) @if let Some(k) = &w.key_label { ": key " code { (short(k, 80)) } } }
                (window::draw(run.history, w, i * 100 + j))
            }
            @if windows.len() > MAX_WINDOWS { p class="note" { (windows.len() - MAX_WINDOWS) " more failing windows in the JSON below." } }
            @if let (Evidence::Eventual(e), false) = (&evidence, r.verdict == Verdict::Valid) { (accounting::draw(e)) }
            @if let Evidence::Txn(t) = &evidence { (anomalies::draw(t, run.history)) }
            (evidence_json(&r.evidence))
        }
    }
}

fn pictures(run: &Run, results: &[CheckResult]) -> Markup {
    let (faults, markers, history) = (&run.faults, &run.markers, run.history);
    // The first anomaly of any checker, and the ops of its window.
    let evidence: Vec<Evidence> = results.iter().map(CheckResult::typed_evidence).collect();
    let first = evidence
        .iter()
        .flat_map(Evidence::windows)
        .filter_map(|w| headline::culprit_time(history, w).map(|t| (t, w)))
        .min_by_key(|(t, _)| *t);
    html! {
        h2 id="timeline" { "Timeline" }
        (timeline::draw(history, faults, markers))
        @if let Some((t, w)) = first {
            @if history.ops.len() > timeline::CLOSE_UP_OPS {
                h3 { "Around the first anomaly (" (secs(t)) ")" }
                (timeline::close_up(history, faults, markers, t, &w.ops))
            }
        }
        h2 id="latency" { "Latency" }
        (plots::latency(history, faults, markers))
        h3 { "Latency quantiles" }
        (plots::quantiles(history, faults, markers))
        h2 id="throughput" { "Throughput" }
        (plots::throughput(history, faults, markers))
        @if !faults.is_empty() {
            h2 id="faults" { "Faults" }
            table {
                tr { th { "fault" } th { "what" } th { "from" } th { "to" } th { "lasted" } }
                @for f in faults.iter() {
                    tr {
                        td { (f.kind) } td { (f.describe()) } td { (secs(f.start)) }
                        td { (secs(f.end)) @if !f.stopped { " (end of history: never stopped)" } }
                        td { (secs(f.end - f.start)) }
                    }
                }
            }
        }
    }
}

fn config_table(v: &RunView, history: &History) -> Markup {
    let t = |k: &str| v.test_field(k);
    let nodes: Option<String> = v
        .test
        .pointer("/subject/nodes")
        .and_then(Json::as_array)
        .map(|n| {
            let names: Vec<String> = n
                .iter()
                .filter_map(|x| x.get("name").map(super::view::text))
                .collect();
            format!("{} ({})", names.len(), names.join(", "))
        })
        .or_else(|| t("nodes"));
    let options: Option<String> = v
        .test
        .pointer("/subject/options")
        .and_then(Json::as_object)
        .filter(|o| !o.is_empty())
        .map(|o| {
            o.iter()
                .map(|(k, x)| format!("{k}={}", super::view::text(x)))
                .collect::<Vec<_>>()
                .join(" ")
        });
    let rows: Vec<(&str, Option<String>)> = vec![
        ("store", Some(v.store.clone()).filter(|s| !s.is_empty())),
        ("nodes", nodes),
        ("store options", options),
        (
            "workload",
            Some(v.workload.clone()).filter(|s| !s.is_empty()),
        ),
        ("keys", t("keys")),
        ("clients", t("concurrency")),
        ("rate", t("rate").map(|r| format!("{r} ops/s"))),
        ("time limit", t("time_limit")),
        ("faults", Some(v.faults())),
        (
            "fault interval",
            t("nemesis_interval").filter(|_| !v.nemesis.is_empty()),
        ),
        ("seed", v.seed.map(|s| s.to_string())),
        ("started", Some(v.started.clone()).filter(|s| !s.is_empty())),
        (
            "took",
            v.duration_ms.map(|d| format!("{:.1} s", d as f64 / 1000.0)),
        ),
        (
            "operations",
            v.ops
                .map(|o| format!("{} ({} ok, {} fail, {} info)", o[0], o[1], o[2], o[3]))
                .or_else(|| Some(format!("{} ops", history.ops.len()))),
        ),
        (
            "run directory",
            Some(v.run_dir.clone()).filter(|s| !s.is_empty()),
        ),
    ];
    html! {
        table class="config" {
            @for (k, val) in rows {
                @if let Some(val) = val { tr { th { (k) } td { (val) } } }
            }
        }
        @if !v.command.is_empty() {
            p { "Re-run it (same seed, same operations):" }
            code class="rerun" { (v.command) }
        }
        @if !v.test.is_null() {
            details { summary { "Full configuration (test.json)" } pre { (serde_json::to_string_pretty(&v.test).unwrap_or_default()) } }
        }
    }
}

/// Why an `unknown` verdict is unknown when the history allows no decision: as the
/// results say, else as the history shows (`checkers::factory::unjudgeable`).
fn unknown_reason(v: Option<Verdict>, said: Option<String>, history: &History) -> Option<String> {
    (v == Some(Verdict::Unknown))
        .then(|| said.or_else(|| checkers::factory::unjudgeable(history)))
        .flatten()
}

/// The report of a run.
pub fn run_report(v: &RunView, history: &History, journal: Option<&[messages::Sent]>) -> String {
    let run = Run::new(history, &v.checkers);
    let reason = unknown_reason(v.verdict, v.verdict_reason.clone(), history);
    let body = html! {
        h1 { "faultline report: " (v.name) }
        div class="note" { (v.store) " · " (v.workload) " · faults: " (v.faults()) @if !v.started.is_empty() { " · started " (v.started) } }
        (nav(!run.faults.is_empty(), journal.is_some()))
        (interruption(v))
        (verdict_box(v.verdict, reason.as_deref(), &run, &v.checkers))
        (availability(&run))
        h2 id="configuration" { "Configuration" }
        (config_table(v, history))
        (checker_sections(&run, &v.checkers))
        (pictures(&run, &v.checkers))
        @if let Some(journal) = journal {
            h2 id="messages" { "Messages" }
            (messages::statistics(&v.test))
            (messages::diagram(journal, &run.faults))
        }
    };
    shell(
        &format!("faultline: {} — {}", v.name, class(v.verdict)),
        body,
    )
}

/// The report of a history checked on its own (`faultline check --report`).
pub fn check_report(source: &str, history: &History, results: &[CheckResult]) -> String {
    let verdict = (!results.is_empty()).then(|| {
        results
            .iter()
            .fold(Verdict::Valid, |v, r| v.worst(r.verdict))
    });
    let run = Run::new(history, results);
    let reason = unknown_reason(verdict, None, history);
    let mut command = format!(
        "faultline check {}",
        shlex::try_quote(source).unwrap_or_default()
    );
    if let Some(r) = results.first() {
        command.push_str(&format!(" --model {}", r.model));
    }
    for r in results {
        command.push_str(&format!(" --consistency {}", r.checker));
    }
    let body = html! {
        h1 { "faultline check: " (source) }
        div class="note" { (history.ops.len()) " operations, " (history.event_count) " events, " (run.faults.len()) " fault windows" }
        (nav(!run.faults.is_empty(), false))
        (verdict_box(verdict, reason.as_deref(), &run, results))
        h2 id="configuration" { "Configuration" }
        table class="config" {
            tr { th { "history" } td { (source) } }
            tr { th { "operations" } td { (history.ops.len()) } }
            tr { th { "checkers" } td { (results.iter().map(|r| format!("{} ({})", r.checker, r.model)).collect::<Vec<_>>().join(", ")) } }
        }
        p { "Check it again:" }
        code class="rerun" { (command) }
        (checker_sections(&run, results))
        (pictures(&run, results))
    };
    shell(&format!("faultline check — {}", class(verdict)), body)
}

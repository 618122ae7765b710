//! `matrix.html`: the matrix as one self-contained page (inline CSS, no script, the
//! report's content security policy). The answer at the top (promises broken, cells
//! decided), then the grid: one row per store configuration and workload, one column
//! per fault set, each cell coloured by the strength of the strongest model that held,
//! naming those models, the next ones up that broke and why, the promise standing,
//! and a link to the run's report. Every value is escaped (maud).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::promise::Standing;
use super::{CellState, Matrix, MatrixCell};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}\
h1{margin:0 0 8px}.answer{font-size:18px;font-weight:700;padding:8px 12px;border-radius:6px;display:inline-block}\
.answer.ok{background:#dafbe1;color:#116329}.answer.bad{background:#ffebe9;color:#a40e26}.answer.open{background:#fff8c5;color:#7d4e00}\
table{border-collapse:collapse;margin-top:16px}th,td{border:1px solid #d8dee4;padding:6px 8px;vertical-align:top;text-align:left}\
th{background:#f6f8fa}td.cell{min-width:150px;max-width:240px}.held{font-weight:700}.small{font-size:12px;color:#1b1f24}\
.s5{background:#aceebb}.s4{background:#d2f4c4}.s3{background:#f5efb0}.s2{background:#fbd9a5}.s1{background:#fbc1a8}.s0{background:#ffb3b0}\
.na{background:#f6f8fa;color:#57606a}.failed{background:#eaeef2}.undecided{outline:2px dashed #9a6700;outline-offset:-3px}\
.badge{display:inline-block;font-size:11px;font-weight:700;padding:0 5px;border-radius:8px;margin-top:3px}\
.broken{background:#cf222e;color:#fff}.better{background:#0969da;color:#fff}.kept{background:#1a7f37;color:#fff}.pundecided{background:#9a6700;color:#fff}\
td.cell.promise-broken{box-shadow:inset 0 0 0 3px #cf222e}.legend span{display:inline-block;padding:2px 8px;margin-right:4px;border:1px solid #d8dee4}\
.note{color:#57606a;font-size:12px}a{color:#0969da}code{font-size:12px}";

/// The page for `m`.
pub fn render(m: &Matrix) -> String {
    let s = &m.summary;
    let (class, answer) = if s.broken > 0 {
        (
            "bad",
            format!(
                "{} promise{} broken",
                s.broken,
                if s.broken == 1 { "" } else { "s" }
            ),
        )
    } else if m.exit_code() == 2 {
        (
            "open",
            format!(
                "{} of {} cells decided",
                s.decided,
                s.cells - s.not_applicable
            ),
        )
    } else if !m.promise_files.is_empty() {
        ("ok", "every promise kept".to_string())
    } else {
        ("ok", format!("all {} cells decided", s.decided))
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(crate::report::page::CSP);
                title { "faultline matrix — " (answer) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "faultline matrix" }
                div class={ "answer " (class) } id="answer" { (answer) }
                p { (m.summary_line()) }
                @if m.interrupted {
                    p class="answer open" { "Interrupted: " (s.not_run) " cells did not run; the others are as they finished." }
                }
                p class="note" {
                    "Each cell is a " code { "faultline run" } " of " (m.time_limit_s) " s, seed " (m.seed)
                    ", faults every " (m.nemesis_interval_s) " s, every applicable consistency model checked. Started "
                    (m.started) ", took " (format!("{:.0}", m.duration_ms as f64 / 1000.0)) " s. Again: " code { (m.command) }
                }
                (legend())
                table id="matrix" {
                    tr {
                        th { "store · workload" }
                        @for f in &m.fault_sets { th { (f) } }
                    }
                    @for (i, row) in m.rows.iter().enumerate() {
                        tr {
                            th { (row) }
                            @for c in m.cells.iter().filter(|c| c.row == i) { (cell(c)) }
                        }
                    }
                }
                @if !m.promise_files.is_empty() {
                    p class="note" { "Promises compared: " @for (i, f) in m.promise_files.iter().enumerate() { @if i > 0 { ", " } code { (f) } } }
                }
            }
        }
    }
    .into_string()
}

/// The colour scale, in words.
fn legend() -> Markup {
    html! {
        p class="legend note" {
            "Colour = the strongest model that held: "
            span class="s5" { "linearizable / strict serializable" }
            span class="s4" { "sequential / serializable" }
            span class="s3" { "causal memory, causal convergence / snapshot isolation, repeatable read" }
            span class="s2" { "causal, PRAM / read atomic" }
            span class="s1" { "session guarantees / read committed" }
            span class="s0" { "nothing held" }
            " A dashed border: some model was not decided."
        }
    }
}

/// One cell.
fn cell(c: &MatrixCell) -> Markup {
    let mut class = String::from("cell ");
    match (&c.state, &c.outcome) {
        (CellState::NotApplicable, _) => class.push_str("na"),
        (CellState::Failed | CellState::NotRun, _) | (_, None) => class.push_str("failed"),
        (_, Some(o)) => class.push_str(&format!("s{}", o.strength)),
    }
    if c.state == CellState::Undecided {
        class.push_str(" undecided");
    }
    let standing = c.promise.as_ref().map(|j| j.standing);
    if standing == Some(Standing::Broken) {
        class.push_str(" promise-broken");
    }
    html! {
        td class=(class) id={ "cell-" (c.id) } data-state=(format!("{:?}", c.state)) {
            @match (&c.state, &c.outcome) {
                (CellState::NotApplicable, _) => { "n/a" div class="note" { (c.note.clone().unwrap_or_default()) } }
                (_, Some(o)) => {
                    div class="held" {
                        @if o.held.is_empty() { "nothing held" } @else { (o.held.join(", ")) }
                    }
                    @for b in &o.broke_next {
                        div class="small" { "broke: " b { (b.model) } @if !b.why.is_empty() { " — " (b.why) } }
                    }
                    @if let Some(e) = o.eventual {
                        div class="small" { "eventual: " (e.as_str()) }
                    }
                    @if !o.unknown.is_empty() {
                        div class="small" { "not decided: " (o.unknown.join(", ")) }
                    }
                }
                (_, None) => { (if c.state == CellState::NotRun { "not run" } else { "could not run" }) }
            }
            @if let Some(note) = c.note.as_ref().filter(|_| c.state != CellState::NotApplicable) {
                div class="note" { (note) }
            }
            @if let Some(j) = &c.promise {
                @let promised = if j.promised.is_empty() { "nothing".to_string() } else { j.promised.join(", ") };
                @match j.standing {
                    Standing::Broken => { span class="badge broken" title={ "promised: " (promised) } { "promise broken: " (j.broken.join(", ")) } }
                    Standing::Better => { span class="badge better" title={ "promised: " (promised) } { "better than promised: " (j.beyond.join(", ")) } }
                    Standing::Kept => { span class="badge kept" title={ "promised: " (promised) } { "promise kept" } }
                    Standing::Undecided => { span class="badge pundecided" title={ "promised: " (promised) } { "promise undecided" } }
                }
            }
            @if let Some(dir) = &c.run_dir {
                div class="small" { a href={ (dir) "/" (crate::report::REPORT) } { "report" } " · " (format!("{:.0} s", c.seconds)) }
            }
        }
    }
}

//! Eventual-consistency evidence as tables and a histogram: for sets, what became
//! of every acknowledged element (lost, stale and for how long, never read,
//! unexpected, duplicated, stable); for counters, the bounds the final reads had to
//! fall in; for registers and kv, each key's final values by node.

use checkers::evidence::{
    Accounting, CounterAccounting, EventualEvidence, RegisterConvergence, SetAccounting,
};
use checkers::Verdict;
use maud::{html, Markup};
use serde_json::Value as Json;

use super::view::{short, text};

/// Keys shown per checker (the JSON has them all).
const MAX_KEYS: usize = 10;
/// Elements listed per class.
const MAX_LISTED: usize = 40;

/// The eventual evidence `e`, drawn; empty markup when it has nothing to account.
pub fn draw(e: &EventualEvidence) -> Markup {
    match &e.accounting {
        Accounting::PerKey { keys } => {
            let bad: Vec<_> = keys
                .iter()
                .filter(|(_, v)| v.verdict != Verdict::Valid)
                .collect();
            html! {
                @for (k, v) in bad.iter().take(MAX_KEYS) {
                    h4 { "key " code { (short(k, 80)) } }
                    p { (v.summary) }
                    (draw(&v.evidence))
                }
                @if bad.len() > MAX_KEYS { p class="note" { (bad.len() - MAX_KEYS) " more keys in the JSON below." } }
            }
        }
        Accounting::Registers { keys, .. } => registers(keys),
        Accounting::Set { elements: el, .. } => elements(el),
        Accounting::Counter { counter: c } => counter(c),
        Accounting::Nothing => html! {},
    }
}

fn list(v: &[Json]) -> Vec<String> {
    v.iter().map(|x| short(&text(x), 60)).collect()
}

fn elements(el: &SetAccounting) -> Markup {
    let mut stale: Vec<(String, f64)> = el.stale.iter().map(|x| (text(&x.element), x.ms)).collect();
    stale.sort_by(|a, b| b.1.total_cmp(&a.1));
    let rows = [
        (
            "lost",
            "acknowledged, but missing from the final reads",
            &el.lost,
        ),
        (
            "never read",
            "acknowledged, never seen by any read",
            &el.never_read,
        ),
        ("unexpected", "read, but never added", &el.unexpected),
        ("duplicated", "seen twice in one read", &el.duplicated),
    ];
    html! {
        table class="accounting" {
            tr { th { "what became of the element" } th { "meaning" } th { "count" } th { "elements" } }
            @for (k, meaning, items) in rows {
                @let items = list(items);
                tr class=[(!items.is_empty()).then_some("bad")] {
                    td { (k) } td { (meaning) } td { (items.len()) }
                    td { (items.iter().take(MAX_LISTED).cloned().collect::<Vec<_>>().join(", ")) @if items.len() > MAX_LISTED { " …" } }
                }
            }
            tr class=[(!stale.is_empty()).then_some("warn")] {
                td { "stale" } td { "missing from a read that began after the add was acknowledged, visible later" } td { (stale.len()) }
                td { @if let Some((_, ms)) = stale.first() { "up to " (format!("{ms:.1}")) " ms; see below" } }
            }
            tr { td { "stable" } td { "visible to every read once acknowledged" } td { (el.stable) } td {} }
            tr { td { "acknowledged" } td { "adds that returned ok" } td { (el.acknowledged) } td {} }
        }
        @if !stale.is_empty() {
            (histogram(&stale.iter().map(|s| s.1).collect::<Vec<_>>()))
            details {
                summary { "The stalest elements" }
                table { tr { th { "element" } th { "stale for" } }
                    @for (e, ms) in stale.iter().take(20) { tr { td { code { (short(e, 60)) } } td { (format!("{ms:.1} ms")) } } }
                }
            }
        }
    }
}

fn counter(c: &CounterAccounting) -> Markup {
    let deltas = serde_json::to_string(&c.info_deltas).unwrap_or_default();
    html! {
        table class="accounting" {
            tr { th { "sum of acknowledged increments" } td { (c.ok_sum) } }
            tr { th { "indeterminate increments" } td { code { (short(&deltas, 200)) } } }
            tr { th { "a final read must lie in" } td { "[" (c.lower) ", " (c.upper) "]" } }
            tr { th { "final reads outside those bounds" } td { (c.bad_reads.len()) } }
        }
        @if !c.bad_reads.is_empty() {
            table { tr { th { "value read" } th { "by" } }
                @for b in c.bad_reads.iter().take(20) { tr { td { (text(&b.value)) } td { (b.from) } } }
            }
        }
    }
}

fn registers(keys: &[RegisterConvergence]) -> Markup {
    let bad: Vec<&RegisterConvergence> = keys.iter().filter(|k| k.problem.is_some()).collect();
    html! {
        table class="accounting" {
            tr { th { "key" } th { "final value by node" } th { "problem" } }
            @for k in bad.iter().take(50) {
                tr class="bad" {
                    td { code { (short(&k.key.as_ref().map(text).unwrap_or_default(), 60)) } }
                    td { code { (short(&serde_json::to_string(&k.final_values).unwrap_or_default(), 300)) } }
                    td { (k.problem.as_deref().unwrap_or_default()) }
                }
            }
        }
        @if bad.len() > 50 { p class="note" { (bad.len() - 50) " more keys in the JSON below." } }
    }
}

/// A histogram of stale durations (ms) in 20 buckets, with axes.
fn histogram(ms: &[f64]) -> Markup {
    const N: usize = 20;
    let max = ms.iter().copied().fold(0.0, f64::max).max(1e-3);
    let mut counts = [0u32; N];
    for v in ms {
        counts[(((v / max) * N as f64) as usize).min(N - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let (left, bottom, w, h) = (40.0, 150.0, 24.0, 120.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="560" height="180" viewBox="0 0 560 180" role="img" aria-label="how long elements stayed stale" class="histogram" {
            line x1=(left) y1=(bottom) x2=(left + N as f64 * w) y2=(bottom) stroke="#8c959f" {}
            line x1=(left) y1=(bottom - h) x2=(left) y2=(bottom) stroke="#8c959f" {}
            text x=(left - 4.0) y=(bottom - h + 4.0) text-anchor="end" font-size="10" fill="#57606a" { (top) }
            text x=(left - 4.0) y=(bottom) text-anchor="end" font-size="10" fill="#57606a" { "0" }
            @for (b, n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
                @let hh = *n as f64 / top * h;
                rect x=(left + b as f64 * w + 1.0) y=(bottom - hh) width=(w - 2.0) height=(hh) fill="#d4a72c" {
                    title { (n) " elements stale for " (format!("{:.1}", b as f64 / N as f64 * max)) "–" (format!("{:.1}", (b + 1) as f64 / N as f64 * max)) " ms" }
                }
            }
            @for b in (0..=N).step_by(5) {
                text x=(left + b as f64 * w) y=(bottom + 14.0) text-anchor="middle" font-size="10" fill="#57606a" { (format!("{:.0}", b as f64 / N as f64 * max)) }
            }
            text x=(left + N as f64 * w + 6.0) y=(bottom + 14.0) font-size="10" fill="#57606a" { "ms" }
            text x="4" y="12" font-size="10" fill="#57606a" { "elements" }
        }
        p class="note" { "How long acknowledged elements stayed invisible to reads that began after their add was acknowledged." }
    }
}

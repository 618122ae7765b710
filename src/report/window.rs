//! A checker's evidence as pictures and tables: for linearizability and sequential
//! consistency, the failing window (a lane per process, each op a bar from invoke to
//! completion, the op that cannot be placed in red, the longest legal order as
//! numbers on the bars, details on hover); for eventual consistency, the element and
//! key accounting and a histogram of how long elements stayed stale.

use std::collections::{BTreeMap, HashMap};

use checkers::{CheckResult, History, Op};
use maud::{html, Markup};

use super::timeline::colour;

const W: f64 = 1000.0;
const L: f64 = 70.0;
const LANE: f64 = 26.0;
/// Windows drawn per checker (the JSON has them all).
const MAX_WINDOWS: usize = 5;

/// The evidence of one checker.
pub fn evidence(history: &History, r: &CheckResult) -> Markup {
    let windows: Vec<&serde_json::Value> = ["keys", "components"]
        .iter()
        .filter_map(|k| r.evidence.get(*k).and_then(|v| v.as_array()))
        .flatten()
        .filter_map(|e| e.get("window"))
        .collect();
    html! {
        @for w in windows.iter().take(MAX_WINDOWS) { (draw_window(history, w)) }
        @if windows.len() > MAX_WINDOWS { p class="note" { (windows.len() - MAX_WINDOWS) " more windows in the JSON below." } }
        @if r.checker == "eventual" { (eventual(&r.evidence)) }
    }
}

fn draw_window(history: &History, w: &serde_json::Value) -> Markup {
    let by_index: HashMap<u64, &Op> = history.ops.iter().map(|o| (o.invoke_index, o)).collect();
    let ids = |k: &str| -> Vec<u64> {
        w.get(k)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
            .unwrap_or_default()
    };
    let ops: Vec<&Op> = ids("ops")
        .iter()
        .filter_map(|i| by_index.get(i).copied())
        .collect();
    let culprit = w.get("culprit").and_then(|c| c.as_u64());
    let order: HashMap<u64, usize> = ids("prefix")
        .iter()
        .enumerate()
        .map(|(n, i)| (*i, n + 1))
        .collect();
    let explanation = w.get("explanation").and_then(|e| e.as_str()).unwrap_or("");
    if ops.is_empty() {
        return html! { p { (explanation) } };
    }
    let t0 = ops.iter().map(|o| o.invoke_time).min().unwrap_or(0);
    let t1 = ops
        .iter()
        .map(|o| o.complete_time.unwrap_or(o.invoke_time))
        .max()
        .unwrap_or(t0)
        .max(t0 + 1);
    let mut procs: Vec<u64> = ops.iter().map(|o| o.process).collect();
    procs.sort_unstable();
    procs.dedup();
    let lane = |p: u64| procs.iter().position(|&q| q == p).unwrap_or(0);
    let span = (t1 - t0) as f64;
    let x = |t: u64| L + ((t.saturating_sub(t0)) as f64 / span) * (W - L - 20.0);
    let h = 30.0 + procs.len() as f64 * LANE;
    let verified = w.get("verified").and_then(|v| v.as_bool()).unwrap_or(false);
    let standalone = w
        .get("standalone")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    html! {
        p { strong { "Why: " } (explanation) }
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(h) viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="the failing window" class="window" {
            @for (i, p) in procs.iter().enumerate() {
                text x="4" y=(30.0 + i as f64 * LANE) font-size="11" fill="#57606a" { "process " (p) }
            }
            @for o in &ops {
                @let end = o.complete_time.unwrap_or(t1);
                @let is_culprit = Some(o.invoke_index) == culprit;
                @let y = 16.0 + lane(o.process) as f64 * LANE;
                g {
                    title { (o.f) " " (o.key_label()) " " (o.value.to_string()) " — " (format!("{:?}", o.outcome).to_lowercase()) ", process " (o.process) ", " (format!("{:.3}", o.invoke_time as f64 / 1e9)) " s to " (format!("{:.3}", end as f64 / 1e9)) " s" @if let Some(n) = order.get(&o.invoke_index) { ", number " (n) " in the longest legal order" } }
                    rect x=(x(o.invoke_time)) y=(y) width=((x(end) - x(o.invoke_time)).max(3.0)) height=(LANE - 8.0) rx="3" fill=(colour(o.outcome)) fill-opacity="0.35" stroke=(if is_culprit { "#cf222e" } else { "#57606a" }) stroke-width=(if is_culprit { "3" } else { "1" }) {}
                    text x=(x(o.invoke_time) + 3.0) y=(y + 12.0) font-size="10" fill="#1b1f24" {
                        @if let Some(n) = order.get(&o.invoke_index) { "#" (n) " " }
                        (o.f) " " (o.value.to_string())
                    }
                }
            }
        }
        p class="note" {
            "The failing window: " (ops.len()) " ops. Red outline: the op that cannot be placed. #n: position in the longest legal order found. "
            @if standalone { "Verified: these ops have no legal order, whatever value the key held before them." }
            @else if verified { "Verified: these ops have no legal order from " (w.get("checked_from").and_then(|v| v.as_str()).unwrap_or("the states the search reached")) "." }
            @else { "Not verified as a window: the whole failing prefix is shown." }
        }
    }
}

fn list(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

fn eventual(e: &serde_json::Value) -> Markup {
    // Per-key sets/counters nest their evidence under keys.<key>.evidence.
    if let Some(keys) = e.get("keys").and_then(|k| k.as_object()) {
        return html! {
            @for (k, v) in keys.iter().filter(|(_, v)| v["verdict"] != "valid").take(10) {
                h4 { "key " (k) } p { (v["summary"].as_str().unwrap_or("")) }
                (eventual(&v["evidence"]))
            }
        };
    }
    let Some(el) = e.get("elements") else {
        if let Some(keys) = e.get("keys").and_then(|k| k.as_array()) {
            return html! {
                table {
                    tr { th { "key" } th { "final values by node" } th { "problem" } }
                    @for k in keys.iter().filter(|k| !k["problem"].is_null()).take(50) {
                        tr { td { (k["key"].to_string()) } td { code { (k["final_values"].to_string()) } } td { (k["problem"].as_str().unwrap_or("")) } }
                    }
                }
            };
        }
        return html! {};
    };
    let stale: Vec<f64> = el
        .get("stale")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|x| x["ms"].as_f64()).collect())
        .unwrap_or_default();
    let rows = [
        ("lost", "acknowledged, missing from the final reads"),
        ("unexpected", "read but never added"),
        ("duplicated", "twice in one read"),
        ("never_read", "added, never seen by any read"),
    ];
    html! {
        table {
            tr { th { "class" } th { "meaning" } th { "count" } th { "elements" } }
            @for (k, meaning) in rows {
                @let items = list(el.get(k));
                tr { td { (k) } td { (meaning) } td { (items.len()) } td { (items.iter().take(40).cloned().collect::<Vec<_>>().join(", ")) @if items.len() > 40 { " …" } } }
            }
            tr { td { "stale" } td { "missing from a read that began after the add was acknowledged" } td { (stale.len()) } td { "see the histogram" } }
            tr { td { "stable" } td { "always visible once acknowledged" } td { (el["stable"].to_string()) } td {} }
        }
        @if !stale.is_empty() { (histogram(&stale)) }
    }
}

/// A histogram of stale durations (ms), 20 buckets.
fn histogram(ms: &[f64]) -> Markup {
    let max = ms.iter().cloned().fold(0.0, f64::max).max(1e-3);
    let mut counts: BTreeMap<usize, u32> = BTreeMap::new();
    for v in ms {
        *counts.entry(((v / max) * 19.0) as usize).or_default() += 1;
    }
    let top = *counts.values().max().unwrap_or(&1) as f64;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width="420" height="140" viewBox="0 0 420 140" role="img" aria-label="how long elements stayed stale" {
            @for (b, n) in &counts {
                @let hgt = (*n as f64 / top) * 100.0;
                rect x=(10.0 + *b as f64 * 20.0) y=(110.0 - hgt) width="18" height=(hgt) fill="#d4a72c" { title { (n) " elements stale up to " (format!("{:.1}", (*b as f64 + 1.0) / 20.0 * max)) " ms" } }
            }
            text x="10" y="128" font-size="10" fill="#57606a" { "0 ms" }
            text x="350" y="128" font-size="10" fill="#57606a" { (format!("{max:.0} ms")) }
        }
        p class="note" { "How long acknowledged elements stayed invisible to reads." }
    }
}

//! The failing window of a linearizability or sequential-consistency check, drawn:
//! a lane per process, each op a bar from invoke to completion (coloured by
//! outcome; an op never completed fades out to the right), the op that cannot be
//! placed outlined in red, the legal order the search found before it as numbered
//! badges joined by arrows (1 → 2 → …), every op's value on its bar (beside it when
//! the bar is too narrow, and always on hover), a stepper through that order with
//! the state after each step ([`super::stepper`]), and every op in the table under
//! the drawing.

use std::collections::HashMap;

use checkers::evidence::Window;
use checkers::{History, Op};
use maud::{html, Markup};

use super::chart::{outcome_colour, outcome_word};
use super::stepper::Steps;
use super::timeline::op_title;
use super::view::short;

const W: f64 = 1000.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 120.0;
const TOP: f64 = 18.0;
const LANE: f64 = 30.0;
/// Most ops drawn in one window (those nearest the culprit).
pub const MAX_OPS: usize = 160;
/// Arrows are drawn when the window holds at most this many ordered ops.
const MAX_ARROWS: usize = 80;

fn find(history: &History, invoke_index: u64) -> Option<&Op> {
    history
        .ops
        .binary_search_by_key(&invoke_index, |o| o.invoke_index)
        .ok()
        .map(|i| &history.ops[i])
}

/// A short label for a bar: "w 42", "r → 41", "cas [1,2]".
fn bar_label(op: &Op) -> String {
    let f = op.f.as_str();
    if f == "read" {
        format!("r → {}", op.value)
    } else if op.invoke_value.is_null() {
        format!("{f} {}", op.value)
    } else {
        format!("{f} {}", op.invoke_value)
    }
}

/// Draws one window; `uid` makes the arrowhead and stepper ids unique in the page.
pub fn draw(history: &History, w: &Window, uid: usize) -> Markup {
    let culprit = w.culprit;
    let prefix = &w.prefix;
    // Ops that may or may not have taken effect within the window (still running
    // at its start or at its cut).
    let optional = &w.optional;
    let mut wanted = w.ops.clone();
    if wanted.is_empty() {
        wanted = prefix.iter().copied().chain(culprit).collect();
        wanted.sort_unstable();
        wanted.dedup();
    }
    let explanation = w.explanation.as_str();
    let mut ops: Vec<&Op> = wanted.iter().filter_map(|i| find(history, *i)).collect();
    let missing = wanted.len() - ops.len();
    let cut = ops.len().saturating_sub(MAX_OPS);
    ops.drain(..cut);
    if ops.is_empty() {
        return html! {
            p { strong { "Why: " } (explanation) }
            p class="note" { "The window's ops are not in the history, so there is nothing to draw." }
        };
    }
    // Positions in the legal order, renumbered 1.. within the window.
    let rank: HashMap<u64, usize> = prefix.iter().enumerate().map(|(n, i)| (*i, n)).collect();
    let mut ordered: Vec<&Op> = ops
        .iter()
        .copied()
        .filter(|o| rank.contains_key(&o.invoke_index))
        .collect();
    ordered.sort_by_key(|o| rank[&o.invoke_index]);
    let number: HashMap<u64, usize> = ordered
        .iter()
        .enumerate()
        .map(|(n, o)| (o.invoke_index, n + 1))
        .collect();
    let before = prefix.len().saturating_sub(ordered.len());
    let t0 = ops.iter().map(|o| o.invoke_time).min().unwrap_or(0);
    let t1 = ops
        .iter()
        .map(|o| o.complete_time.unwrap_or(o.invoke_time))
        .max()
        .unwrap_or(t0)
        .max(t0 + 1);
    let t_end = t1 + (t1 - t0) / 20 + 1;
    let mut procs: Vec<u64> = ops.iter().map(|o| o.process).collect();
    procs.sort_unstable();
    procs.dedup();
    let lane = |p: u64| procs.binary_search(&p).unwrap_or(0);
    let x =
        |t: u64| LEFT + (t.saturating_sub(t0)) as f64 / (t_end - t0) as f64 * (W - LEFT - RIGHT);
    let y = |o: &Op| TOP + lane(o.process) as f64 * LANE;
    let h = TOP + procs.len() as f64 * LANE + 26.0;
    let badge = |o: &Op| (x(o.invoke_time) + 8.0, y(o) + 11.0);
    let arrows = ordered.len() <= MAX_ARROWS;
    let arrow_id = format!("arrow-{uid}");
    let span_ms = (t1 - t0) as f64 / 1e6;
    let (verified, standalone) = (w.verified, w.standalone);
    let steps = Steps::of(history, w, &ops, uid);
    // Where the next bar of each lane begins: a label that does not fit in its bar
    // is written after it when there is room before the next.
    let mut next_start: HashMap<u64, f64> = HashMap::new();
    let mut by_lane: Vec<&Op> = ops.clone();
    by_lane.sort_by_key(|o| (o.process, o.invoke_time));
    for pair in by_lane.windows(2) {
        if pair[0].process == pair[1].process {
            next_start.insert(pair[0].invoke_index, x(pair[1].invoke_time));
        }
    }
    html! {
        p { strong { "Why: " } (explanation) }
        div class="stepper" {
        @if let Some(s) = &steps { (s.inputs()) }
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(h) viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="the failing window" class="window" {
            defs {
                marker id=(arrow_id) viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" fill="#0969da" {}
                }
            }
            @for (i, p) in procs.iter().enumerate() {
                text x="4" y=(TOP + i as f64 * LANE + 15.0) font-size="11" fill="#57606a" { "process " (p) }
                line x1=(LEFT) y1=(TOP + i as f64 * LANE + 22.0) x2=(W - 10.0) y2=(TOP + i as f64 * LANE + 22.0) stroke="#eaeef2" {}
            }
            @for o in &ops {
                @let end = o.complete_time.unwrap_or(t_end);
                @let is_culprit = Some(o.invoke_index) == culprit;
                @let x0 = x(o.invoke_time);
                @let wd = (x(end) - x0).max(4.0);
                @let step = steps.as_ref().and_then(|s| s.class_of(o.invoke_index));
                g class={ (if is_culprit { "op culprit" } else { "op" }) @if let Some(c) = &step { " " (c) } } {
                    title {
                        (op_title(o))
                        @if let Some(n) = number.get(&o.invoke_index) { " — number " (n) " in the legal order" }
                        @if is_culprit { " — this op cannot be placed after the legal order" }
                        @if optional.contains(&o.invoke_index) { " — optional: may or may not have taken effect in this window" }
                    }
                    rect x=(format!("{x0:.1}")) y=(y(o) + 2.0) width=(format!("{wd:.1}")) height=(LANE - 10.0) rx="3"
                        fill=(outcome_colour(o.outcome)) fill-opacity=(if o.complete_time.is_some() { "0.30" } else { "0.12" })
                        stroke=(if is_culprit { "#cf222e" } else { "#57606a" }) stroke-width=(if is_culprit { "3" } else { "1" })
                        stroke-dasharray=[(o.complete_time.is_none() || optional.contains(&o.invoke_index)).then_some("4 3")] {}
                    @let label = bar_label(o);
                    @let room = ((wd - 22.0) / 6.0).max(0.0) as usize;
                    @let after = next_start.get(&o.invoke_index).copied().unwrap_or(W - 4.0) - (x0 + wd + 3.0);
                    @if room >= label.chars().count() || (room >= 3 && after < 30.0) {
                        text x=(format!("{:.1}", x0 + 19.0)) y=(y(o) + 15.5) font-size="10" fill="#1b1f24" { (short(&label, room)) }
                    } @else if !is_culprit && after >= 30.0 {
                        text x=(format!("{:.1}", x0 + wd + 3.0)) y=(y(o) + 15.5) font-size="9" fill="#1b1f24" { (short(&label, (after / 5.5) as usize)) }
                    }
                    @if is_culprit {
                        text x=(format!("{:.1}", x0 + wd + 4.0)) y=(y(o) + 15.5) font-size="10" font-weight="600" fill="#cf222e" { "✗ " (short(&label, 40)) " cannot be placed" }
                    }
                }
            }
            @if arrows {
                @for pair in ordered.windows(2) {
                    @let (ax, ay) = badge(pair[0]);
                    @let (bx, by) = badge(pair[1]);
                    line x1=(format!("{ax:.1}")) y1=(format!("{ay:.1}")) x2=(format!("{bx:.1}")) y2=(format!("{by:.1}")) stroke="#0969da" stroke-width="1.2" stroke-opacity="0.7" marker-end={ "url(#" (arrow_id) ")" } {}
                }
            }
            @for o in &ordered {
                @let (bx, by) = badge(o);
                circle cx=(format!("{bx:.1}")) cy=(format!("{by:.1}")) r="7.5" fill="#0969da" {}
                text x=(format!("{bx:.1}")) y=(format!("{:.1}", by + 3.5)) font-size="9" font-weight="600" text-anchor="middle" fill="#ffffff" { (number[&o.invoke_index]) }
            }
            text x=(LEFT) y=(h - 6.0) font-size="10" fill="#57606a" { (history.at(t0)) }
            text x=(W - RIGHT) y=(h - 6.0) font-size="10" text-anchor="end" fill="#57606a" { @if history.untimed { (history.at(t1)) } @else { (format!("{}  (+{span_ms:.1} ms)", history.at(t1))) } }
        }
        @if let Some(s) = &steps { (s.panel()) }
        }
        p class="note" {
            "The failing window: " (ops.len()) " ops" @if cut > 0 { " (the " (cut) " earlier ops of the window are in the JSON)" } @if missing > 0 { "; " (missing) " ops named by the evidence are not in the history" } ". "
            "Blue badges: a legal order of these ops (1 → 2 → …) that the search found"
            @if before > 0 { ", after " (before) " earlier ops of the same order" }
            "; the red op cannot follow it. "
            @if !optional.is_empty() { "Dashed outline: may or may not have taken effect in the window. " }
            "Hover an op for its details. "
            @if standalone { "Verified: these ops have no legal order, whatever value the key held before them." }
            @else if verified { "Verified: these ops have no legal order from " (if w.checked_from.is_empty() { "the states the search reached" } else { w.checked_from.as_str() }) "." }
            @else { "Not verified as a minimal window: the failing prefix is shown." }
        }
        (table(history, &ops, &number, culprit, optional))
    }
}

fn table(
    history: &History,
    ops: &[&Op],
    number: &HashMap<u64, usize>,
    culprit: Option<u64>,
    optional: &[u64],
) -> Markup {
    html! {
        details {
            summary { "The window's ops as a table" }
            table class="ops" {
                tr { th { "order" } th { "event" } th { "process" } th { "op" } th { "key" } th { "sent" } th { "got" } th { "outcome" } th { "invoked" } th { "completed" } th { "node" } }
                @for o in ops {
                    tr class=[(Some(o.invoke_index) == culprit).then_some("culprit")] {
                        td {
                            @if Some(o.invoke_index) == culprit { "✗" } @else if let Some(n) = number.get(&o.invoke_index) { (n) }
                            @if optional.contains(&o.invoke_index) { " (optional)" }
                        }
                        td { (o.invoke_index) }
                        td { (o.process) }
                        td { (o.f.as_str()) }
                        td { code { (short(&o.key_label(), 60)) } }
                        td { code { (short(&o.invoke_value.to_string(), 120)) } }
                        td { code { (short(&o.value.to_string(), 120)) } }
                        td { (outcome_word(o.outcome)) }
                        td { (history.at(o.invoke_time)) }
                        td { @if let Some(c) = o.complete_time { (history.at(c)) } @else { "never" } }
                        td { (o.node.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

//! The timeline of a whole run: a lane per process, each op a bar from invoke to
//! completion coloured by outcome, fault windows as bands. Past [`EXACT_OPS`] ops the
//! lanes are aggregated into [`BUCKETS`] time buckets (each bucket coloured by its
//! worst outcome, its tooltip giving the counts), so a 1,000,000-op history stays a
//! small, fast picture; the caption says so.

use std::collections::HashMap;

use checkers::{History, Outcome};
use maud::{html, Markup};

use super::{secs, FaultWindow};

/// Up to this many ops, every op is drawn.
pub const EXACT_OPS: usize = 4000;
/// Time buckets per lane when aggregating.
pub const BUCKETS: usize = 250;
/// At most this many lanes; more processes share lanes (process index mod lanes).
pub const MAX_LANES: usize = 64;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 50.0;
const LANE: f64 = 9.0;

/// The colour of an outcome.
pub fn colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "#2da44e",
        Outcome::Fail => "#8c959f",
        Outcome::Info => "#d4a72c",
    }
}

/// The fault band colour of a fault kind.
pub fn fault_colour(kind: &str) -> &'static str {
    match kind {
        "partition" => "#cf222e",
        "kill" => "#8250df",
        "pause" => "#0969da",
        "clock" => "#bf8700",
        _ => "#57606a",
    }
}

/// Draws the timeline of `history`.
pub fn draw(history: &History, faults: &[FaultWindow]) -> Markup {
    let end = history.end_time().max(1) as f64;
    let mut lane_of: HashMap<u64, usize> = HashMap::new();
    for op in &history.ops {
        let n = lane_of.len();
        lane_of.entry(op.process).or_insert(n);
    }
    let lanes = lane_of.len().clamp(1, MAX_LANES);
    let lane = |p: u64| lane_of[&p] % lanes;
    let height = 20.0 + lanes as f64 * LANE;
    let x = |t: u64| LEFT + (t as f64 / end) * (WIDTH - LEFT - 10.0);
    let exact = history.ops.len() <= EXACT_OPS;
    let caption = if exact {
        format!(
            "{} ops, one bar each; {} processes",
            history.ops.len(),
            lane_of.len()
        )
    } else {
        format!(
            "{} ops aggregated into {BUCKETS} time buckets per lane ({} processes on {lanes} lanes); hover a cell for its counts",
            history.ops.len(),
            lane_of.len()
        )
    };
    // Aggregated cells: (lane, bucket) -> [ok, fail, info].
    let mut cells: HashMap<(usize, usize), [u32; 3]> = HashMap::new();
    if !exact {
        for op in &history.ops {
            let b = ((op.invoke_time as f64 / end) * (BUCKETS as f64 - 1.0)) as usize;
            let c = cells.entry((lane(op.process), b)).or_default();
            c[match op.outcome {
                Outcome::Ok => 0,
                Outcome::Fail => 1,
                Outcome::Info => 2,
            }] += 1;
        }
    }
    let bucket_w = (WIDTH - LEFT - 10.0) / BUCKETS as f64;
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height + 20.0) viewBox={ "0 0 " (WIDTH) " " (height + 20.0) } role="img" aria-label="timeline of the run" {
            @for f in faults {
                rect x=(x(f.start)) y="14" width=((x(f.end) - x(f.start)).max(1.0)) height=(height - 14.0) fill=(fault_colour(&f.kind)) fill-opacity="0.12" {
                    title { (f.kind) " from " (secs(f.start)) " to " (secs(f.end)) }
                }
                text x=(x(f.start) + 2.0) y="11" font-size="10" fill=(fault_colour(&f.kind)) { (f.kind) }
            }
            @for l in 0..lanes {
                text x="2" y=(24.0 + l as f64 * LANE) font-size="8" fill="#57606a" { "p" (l) }
            }
            @if exact {
                @for op in &history.ops {
                    @let t1 = op.complete_time.unwrap_or(end as u64);
                    rect x=(x(op.invoke_time)) y=(16.0 + lane(op.process) as f64 * LANE) width=((x(t1) - x(op.invoke_time)).max(1.0)) height=(LANE - 2.0) fill=(colour(op.outcome)) {
                        title { "process " (op.process) ": " (op.f) " " (op.key_label()) " " (op.value.to_string()) " — " (format!("{:?}", op.outcome).to_lowercase()) " at " (secs(op.invoke_time)) }
                    }
                }
            } @else {
                @for ((l, b), c) in &cells {
                    @let worst = if c[2] > 0 { Outcome::Info } else if c[1] > 0 { Outcome::Fail } else { Outcome::Ok };
                    rect x=(LEFT + *b as f64 * bucket_w) y=(16.0 + *l as f64 * LANE) width=(bucket_w.max(1.0)) height=(LANE - 2.0) fill=(colour(worst)) {
                        title { (c[0]) " ok, " (c[1]) " fail, " (c[2]) " info" }
                    }
                }
            }
            text x=(LEFT) y=(height + 14.0) font-size="10" fill="#57606a" { "0 s" }
            text x=(WIDTH - 60.0) y=(height + 14.0) font-size="10" fill="#57606a" { (secs(end as u64)) }
        }
        p class="note" { (caption) ". Green ok, grey fail, yellow info (indeterminate); shaded bands are faults." }
    }
}

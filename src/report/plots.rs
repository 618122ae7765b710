//! Latency and throughput over time, as inline SVG, with fault windows shaded and
//! labelled. Drawn by hand: three simple charts, no plotting dependency needed for
//! points, polylines and rectangles. Latency points are sampled to at most
//! [`MAX_POINTS`]; quantile lines use every op.

use checkers::{History, Outcome};
use maud::{html, Markup};

use super::timeline::{colour, fault_colour};
use super::{secs, FaultWindow};

/// Most latency points drawn.
pub const MAX_POINTS: usize = 4000;
const BUCKETS: usize = 60;
const W: f64 = 1000.0;
const H: f64 = 220.0;
const L: f64 = 55.0;
const B: f64 = 20.0;

fn frame(
    title: &str,
    y_max: f64,
    unit: &str,
    end: f64,
    faults: &[FaultWindow],
    inner: Markup,
) -> Markup {
    let x = |t: f64| L + (t / end) * (W - L - 10.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(W) height=(H) viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            @for f in faults {
                rect x=(x(f.start as f64)) y="10" width=((x(f.end as f64) - x(f.start as f64)).max(1.0)) height=(H - B - 10.0) fill=(fault_colour(&f.kind)) fill-opacity="0.12" {
                    title { (f.kind) " from " (secs(f.start)) " to " (secs(f.end)) }
                }
                text x=(x(f.start as f64) + 2.0) y="20" font-size="10" fill=(fault_colour(&f.kind)) { (f.kind) }
            }
            line x1=(L) y1=(H - B) x2=(W - 10.0) y2=(H - B) stroke="#8c959f" {}
            line x1=(L) y1="10" x2=(L) y2=(H - B) stroke="#8c959f" {}
            text x="2" y="16" font-size="10" fill="#57606a" { (format!("{y_max:.1}")) " " (unit) }
            text x="2" y=(H - B) font-size="10" fill="#57606a" { "0" }
            text x=(L) y=(H - 4.0) font-size="10" fill="#57606a" { "0 s" }
            text x=(W - 60.0) y=(H - 4.0) font-size="10" fill="#57606a" { (secs(end as u64)) }
            (inner)
        }
    }
}

/// Latency (ms) of every completed op over its invoke time: points by outcome, and
/// p50 / p95 / p99 per time bucket.
pub fn latency(history: &History, faults: &[FaultWindow]) -> Markup {
    let end = history.end_time().max(1) as f64;
    let lat: Vec<(u64, f64, Outcome)> = history
        .ops
        .iter()
        .filter_map(|o| {
            o.complete_time.map(|c| {
                (
                    o.invoke_time,
                    (c.saturating_sub(o.invoke_time)) as f64 / 1e6,
                    o.outcome,
                )
            })
        })
        .collect();
    if lat.is_empty() {
        return html! { p class="note" { "No completed operations." } };
    }
    let mut sorted: Vec<f64> = lat.iter().map(|l| l.1).collect();
    sorted.sort_by(f64::total_cmp);
    let y_max = (sorted[(sorted.len() - 1) * 99 / 100] * 1.3).max(0.01);
    let x = |t: f64| L + (t / end) * (W - L - 10.0);
    let y = |ms: f64| (H - B) - (ms.min(y_max) / y_max) * (H - B - 10.0);
    let step = lat.len().div_ceil(MAX_POINTS);
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); BUCKETS];
    for &(t, ms, _) in &lat {
        buckets[((t as f64 / end) * (BUCKETS as f64 - 1.0)) as usize].push(ms);
    }
    for b in buckets.iter_mut() {
        b.sort_by(f64::total_cmp);
    }
    let quantile = |q: f64| -> String {
        buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(i, b)| {
                let v = b[((b.len() - 1) as f64 * q) as usize];
                format!(
                    "{:.1},{:.1}",
                    x((i as f64 + 0.5) / BUCKETS as f64 * end),
                    y(v)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (p50, p95, p99) = (quantile(0.5), quantile(0.95), quantile(0.99));
    let inner = html! {
        @for (t, ms, o) in lat.iter().step_by(step) {
            circle cx=(format!("{:.1}", x(*t as f64))) cy=(format!("{:.1}", y(*ms))) r="1.5" fill=(colour(*o)) fill-opacity="0.6" {}
        }
        polyline points=(p50) fill="none" stroke="#0969da" stroke-width="1.5" {}
        polyline points=(p95) fill="none" stroke="#bf3989" stroke-width="1.5" {}
        polyline points=(p99) fill="none" stroke="#cf222e" stroke-width="1.5" {}
    };
    html! {
        (frame("latency over time", y_max, "ms", end, faults, inner))
        p class="note" { "Each dot an op (" (lat.len()) " completed" @if step > 1 { ", every " (step) "th drawn" } "), coloured by outcome; lines: p50 (blue), p95 (pink), p99 (red) per time bucket. The y axis stops at 1.3 × the overall p99." }
    }
}

/// Completed ops per second over time (all, and `ok` only).
pub fn throughput(history: &History, faults: &[FaultWindow]) -> Markup {
    let end = history.end_time().max(1) as f64;
    let mut all = [0u32; BUCKETS];
    let mut ok = [0u32; BUCKETS];
    for o in &history.ops {
        if let Some(c) = o.complete_time {
            let b = ((c as f64 / end) * (BUCKETS as f64 - 1.0)) as usize;
            all[b] += 1;
            if o.outcome == Outcome::Ok {
                ok[b] += 1;
            }
        }
    }
    let bucket_s = end / 1e9 / BUCKETS as f64;
    let y_max = (*all.iter().max().unwrap_or(&1) as f64 / bucket_s).max(1.0) * 1.1;
    let x = |i: usize| L + ((i as f64 + 0.5) / BUCKETS as f64) * (W - L - 10.0);
    let y = |n: u32| (H - B) - (n as f64 / bucket_s / y_max) * (H - B - 10.0);
    let line = |v: &[u32]| {
        v.iter()
            .enumerate()
            .map(|(i, n)| format!("{:.1},{:.1}", x(i), y(*n)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let inner = html! {
        polyline points=(line(&all)) fill="none" stroke="#57606a" stroke-width="1.5" {}
        polyline points=(line(&ok)) fill="none" stroke="#2da44e" stroke-width="1.5" {}
    };
    html! {
        (frame("throughput over time", y_max, "ops/s", end, faults, inner))
        p class="note" { "Completed operations per second: all (grey) and ok (green)." }
    }
}

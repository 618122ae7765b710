//! Latency and throughput over time, with fault windows shaded and labelled:
//!
//! - latency of every completed op over its invoke time, coloured by op type, shaped
//!   by outcome (filled dot ok, ring fail, cross info), on a log scale;
//! - latency quantiles (p50, p95, p99, max) per time bucket;
//! - throughput (completions per second) per outcome.
//!
//! Scale: the scatter draws at most [`MAX_POINTS`] points, sampled evenly *per op
//! type and outcome* (a rare kind, such as the few `info` ops, is drawn in full
//! while the common `ok` reads are thinned), and says so; the quantile and
//! throughput lines use every op.

use std::collections::BTreeMap;

use checkers::{History, Outcome};
use maud::{html, Markup};

use super::chart::{self, f_colour, outcome_word, Frame};
use super::faults::{FaultWindow, Marker};

/// Most latency points drawn.
pub const MAX_POINTS: usize = 5000;
/// Time buckets of the quantile and throughput lines.
pub const BUCKETS: usize = 100;

/// A log-scale latency axis from `lo` to `hi` ms, as frame units `0..=y_max`.
struct LogAxis {
    lo: f64,
    hi: f64,
}

impl LogAxis {
    fn new(mut values: impl Iterator<Item = f64>) -> LogAxis {
        let first = values.next().unwrap_or(1.0);
        let (lo, hi) = values.fold((first, first), |(a, b), v| (a.min(v), b.max(v)));
        let lo = 10f64.powf(lo.max(0.001).log10().floor());
        let hi = 10f64.powf(hi.max(lo * 10.0).log10().ceil());
        LogAxis { lo, hi }
    }

    fn span(&self) -> f64 {
        (self.hi / self.lo).log10()
    }

    fn unit(&self, ms: f64) -> f64 {
        (ms.max(self.lo) / self.lo).log10()
    }

    fn ticks(&self) -> Vec<(f64, String)> {
        let mut v = self.lo;
        let mut out = Vec::new();
        while v <= self.hi * 1.0001 {
            out.push((self.unit(v), chart::tick_label(v)));
            v *= 10.0;
        }
        out
    }
}

/// (invoke time, latency ms, f, outcome) of every completed op.
fn latencies(history: &History) -> Vec<(u64, f64, &str, Outcome)> {
    history
        .ops
        .iter()
        .filter_map(|o| {
            o.complete_time.map(|c| {
                (
                    o.invoke_time,
                    c.saturating_sub(o.invoke_time) as f64 / 1e6,
                    o.f.as_str(),
                    o.outcome,
                )
            })
        })
        .collect()
}

fn marker(x: f64, y: f64, colour: &str, o: Outcome) -> Markup {
    match o {
        Outcome::Ok => {
            html! { circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="1.8" fill=(colour) fill-opacity="0.55" {} }
        }
        Outcome::Fail => {
            html! { circle cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="2.6" fill="none" stroke=(colour) stroke-width="1" {} }
        }
        Outcome::Info => {
            html! { path d=(format!("M{:.1} {:.1}l5 5m0 -5l-5 5", x - 2.5, y - 2.5)) stroke=(colour) stroke-width="1.3" {} }
        }
    }
}

/// The latency scatter.
pub fn latency(history: &History, faults: &[FaultWindow], markers: &[Marker]) -> Markup {
    let lat = latencies(history);
    if lat.is_empty() {
        return html! { p class="note" { "No completed operations: no latencies to draw." } };
    }
    let axis = LogAxis::new(lat.iter().map(|l| l.1));
    let f = Frame::new(260.0, 0, history.end_time().max(1), axis.span());
    // Even sampling per (f, outcome), so rare kinds are drawn in full.
    let mut classes: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, l) in lat.iter().enumerate() {
        classes.entry((l.2, outcome_word(l.3))).or_default().push(i);
    }
    let quota = (MAX_POINTS / classes.len()).max(1);
    let mut drawn: Vec<usize> = classes
        .values()
        .flat_map(|ix| {
            let step = ix.len().div_ceil(quota).max(1);
            ix.iter().step_by(step).copied().collect::<Vec<_>>()
        })
        .collect();
    drawn.sort_unstable();
    let fs: Vec<&str> = {
        let mut v: Vec<&str> = classes.keys().map(|k| k.0).collect();
        v.dedup();
        v
    };
    let mut legend: Vec<(&str, String)> = fs.iter().map(|f| (f_colour(f), f.to_string())).collect();
    legend.push(("", "shape: ● ok, ○ fail, × info".into()));
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f.width) height=(f.height) viewBox=(f.view_box()) role="img" aria-label="latency over time" class="latency" {
            (chart::bands(&f, faults, markers))
            (chart::axes_with(&f, "latency, ms (log)", &axis.ticks()))
            @for i in &drawn {
                @let (t, ms, name, o) = lat[*i];
                (marker(f.x(t), f.y(axis.unit(ms)), f_colour(name), o))
            }
        }
        (chart::legend(&legend))
        p class="note" {
            "Latency of each completed op at its invoke time, coloured by op type. "
            @if drawn.len() < lat.len() {
                (drawn.len()) " of " (lat.len()) " ops drawn, sampled evenly within each op type and outcome (rare kinds in full)."
            } @else { "Every completed op drawn (" (lat.len()) ")." }
        }
    }
}

/// Latency quantiles per time bucket.
pub fn quantiles(history: &History, faults: &[FaultWindow], markers: &[Marker]) -> Markup {
    let lat = latencies(history);
    if lat.is_empty() {
        return html! {};
    }
    let end = history.end_time().max(1);
    let axis = LogAxis::new(lat.iter().map(|l| l.1));
    let f = Frame::new(240.0, 0, end, axis.span());
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); BUCKETS];
    for &(t, ms, _, _) in &lat {
        let b = ((t as f64 / end as f64) * BUCKETS as f64) as usize;
        buckets[b.min(BUCKETS - 1)].push(ms);
    }
    for b in buckets.iter_mut() {
        b.sort_unstable_by(f64::total_cmp);
    }
    let width = end as f64 / BUCKETS as f64;
    // A path per run of non-empty buckets: no line is drawn across a gap with no
    // completed op (a quiesce, every node down); a lone bucket is a dot.
    let line = |q: f64| -> String {
        let mut d = String::new();
        let mut previous: Option<usize> = None;
        for (i, b) in buckets.iter().enumerate().filter(|(_, b)| !b.is_empty()) {
            let v = b[(((b.len() - 1) as f64) * q).round() as usize];
            let (x, y) = (f.x(((i as f64 + 0.5) * width) as u64), f.y(axis.unit(v)));
            let joined = previous == Some(i.wrapping_sub(1));
            d.push_str(&format!("{}{x:.1},{y:.1} ", if joined { "L" } else { "M" }));
            if !joined && buckets.get(i + 1).is_none_or(Vec::is_empty) {
                d.push_str("l0.1,0 ");
            }
            previous = Some(i);
        }
        d
    };
    let lines = [
        (0.5, "#0969da", "p50"),
        (0.95, "#bf3989", "p95"),
        (0.99, "#cf222e", "p99"),
        (1.0, "#57606a", "max"),
    ];
    let legend: Vec<(&str, String)> = lines.iter().map(|l| (l.1, l.2.to_string())).collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f.width) height=(f.height) viewBox=(f.view_box()) role="img" aria-label="latency quantiles over time" class="quantiles" {
            (chart::bands(&f, faults, markers))
            (chart::axes_with(&f, "latency, ms (log)", &axis.ticks()))
            @for (q, colour, _) in lines {
                path d=(line(q)) fill="none" stroke-linecap="round" stroke=(colour) stroke-width=(if q == 1.0 { "1" } else { "1.6" }) stroke-dasharray=[(q == 1.0).then_some("4 3")] {}
            }
        }
        (chart::legend(&legend))
        p class="note" { "Quantiles of the latency of every completed op (" (lat.len()) "), in " (BUCKETS) " time buckets of " (format!("{:.2}", width / 1e9)) " s." }
    }
}

/// Completions per second over time, per outcome.
pub fn throughput(history: &History, faults: &[FaultWindow], markers: &[Marker]) -> Markup {
    let end = history.end_time().max(1);
    let mut counts = [[0u32; BUCKETS]; 3];
    for o in &history.ops {
        if let Some(c) = o.complete_time {
            let b = (((c as f64) / end as f64) * BUCKETS as f64) as usize;
            let row = match o.outcome {
                Outcome::Ok => 0,
                Outcome::Fail => 1,
                Outcome::Info => 2,
            };
            counts[row][b.min(BUCKETS - 1)] += 1;
        }
    }
    let bucket_s = end as f64 / 1e9 / BUCKETS as f64;
    let top = (0..BUCKETS)
        .map(|i| counts.iter().map(|r| r[i]).max().unwrap_or(0))
        .max()
        .unwrap_or(0) as f64
        / bucket_s;
    let f = Frame::new(220.0, 0, end, top * 1.1);
    let width = end as f64 / BUCKETS as f64;
    let line = |row: &[u32; BUCKETS]| -> String {
        row.iter()
            .enumerate()
            .map(|(i, n)| {
                format!(
                    "{:.1},{:.1}",
                    f.x(((i as f64 + 0.5) * width) as u64),
                    f.y(*n as f64 / bucket_s)
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let rows = [
        (Outcome::Ok, "ok"),
        (Outcome::Fail, "fail"),
        (Outcome::Info, "info"),
    ];
    let legend: Vec<(&str, String)> = rows
        .iter()
        .map(|(o, w)| (chart::outcome_colour(*o), w.to_string()))
        .collect();
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f.width) height=(f.height) viewBox=(f.view_box()) role="img" aria-label="throughput over time" class="throughput" {
            (chart::bands(&f, faults, markers))
            (chart::axes(&f, "ops/s"))
            @for (i, (o, _)) in rows.iter().enumerate() {
                @if counts[i].iter().any(|n| *n > 0) {
                    polyline points=(line(&counts[i])) fill="none" stroke=(chart::outcome_colour(*o)) stroke-width="1.6" {}
                }
            }
        }
        (chart::legend(&legend))
        p class="note" { "Completed operations per second by outcome, in " (BUCKETS) " buckets of " (format!("{bucket_s:.2}")) " s." }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_axis_spans_whole_decades_around_the_data() {
        let a = LogAxis::new([0.4, 3.0, 250.0].into_iter());
        assert_eq!((a.lo, a.hi), (0.1, 1000.0));
        let labels: Vec<String> = a.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0.1", "1", "10", "100", "1000"]);
        assert!((a.unit(10.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_quantile_lines_are_not_drawn_across_a_gap_with_no_completed_op() {
        // Ops in the first and the last second of ten, none between.
        let mut lines = Vec::new();
        let mut i = 0;
        for start in (0..20)
            .map(|n| n * 50_000_000u64)
            .chain((0..20).map(|n| 9_000_000_000 + n * 50_000_000))
        {
            lines.push(format!(r#"{{"index":{i},"time":{start},"process":0,"type":"invoke","f":"read","value":null}}"#));
            lines.push(format!(
                r#"{{"index":{},"time":{},"process":0,"type":"ok","f":"read","value":null}}"#,
                i + 1,
                start + 1_000_000
            ));
            i += 2;
        }
        let path = std::env::temp_dir().join(format!("quantiles-gap-{}.jsonl", std::process::id()));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let h = checkers::read::read_path(&path, checkers::read::Format::Jsonl).unwrap();
        let _ = std::fs::remove_file(&path);
        let svg = quantiles(&h, &[], &[]).into_string();
        let first = svg.split("<path d=\"").nth(1).expect("a quantile path");
        let d = first.split('"').next().unwrap();
        assert_eq!(
            d.matches('M').count(),
            2,
            "two runs, no line across the gap: {d}"
        );
    }
}

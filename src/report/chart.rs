//! The parts every picture shares: a plotting frame (time on x, a value on y) with
//! axes, ticks and grid; fault windows as shaded, labelled bands; nemesis instants
//! as dashed lines; the colours of outcomes, fault kinds and op types.
//!
//! Charts are hand-written SVG rather than drawn with a plotting crate: what they
//! need is points, polylines and rectangles, plus things a plotting crate's SVG
//! backend does not give: a `<title>` tooltip on every fault band, op and bucket, and
//! every label passed through maud's escaping.

use checkers::Outcome;
use maud::{html, Markup};

use super::faults::{FaultWindow, Marker};

/// The colour of an outcome: green ok, grey fail, amber info.
pub fn outcome_colour(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "#2da44e",
        Outcome::Fail => "#8c959f",
        Outcome::Info => "#d4a72c",
    }
}

/// An outcome as a word.
pub fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Fail => "fail",
        Outcome::Info => "info",
    }
}

/// The band colour of a fault kind.
pub fn fault_colour(kind: &str) -> &'static str {
    match kind {
        "partition" => "#cf222e",
        "kill" => "#8250df",
        "stop" => "#6639ba",
        "pause" => "#0969da",
        "clock" => "#bf8700",
        "packet" => "#1a7f37",
        _ => "#57606a",
    }
}

/// A colour per op type (`f`), stable for the common ones.
pub fn f_colour(f: &str) -> &'static str {
    match f {
        "read" => "#0969da",
        "write" => "#8250df",
        "cas" => "#bf3989",
        "add" => "#1a7f37",
        "append" => "#953800",
        "txn" => "#6e7781",
        "enqueue" => "#0550ae",
        "dequeue" => "#a40e26",
        _ => "#57606a",
    }
}

/// Seconds with one decimal for labels.
pub fn secs(ns: u64) -> String {
    format!("{:.1} s", ns as f64 / 1e9)
}

/// A plotting area: `t0..t1` ns across, `0..y_max` up.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Whole picture width.
    pub width: f64,
    /// Whole picture height.
    pub height: f64,
    /// Left margin (y labels).
    pub left: f64,
    /// Top margin (fault labels).
    pub top: f64,
    /// Bottom margin (x labels).
    pub bottom: f64,
    /// Time at the left edge, ns.
    pub t0: u64,
    /// Time at the right edge, ns.
    pub t1: u64,
    /// The value at the top.
    pub y_max: f64,
}

const RIGHT: f64 = 12.0;

impl Frame {
    /// A frame of the usual size for `t0..t1`.
    pub fn new(height: f64, t0: u64, t1: u64, y_max: f64) -> Frame {
        Frame {
            width: 1000.0,
            height,
            left: 56.0,
            top: 30.0,
            bottom: 22.0,
            t0,
            t1: t1.max(t0 + 1),
            y_max: if y_max > 0.0 { y_max } else { 1.0 },
        }
    }

    /// x of time `t` (clamped to the frame).
    pub fn x(&self, t: u64) -> f64 {
        let f = (t.clamp(self.t0, self.t1) - self.t0) as f64 / (self.t1 - self.t0) as f64;
        self.left + f * (self.width - self.left - RIGHT)
    }

    /// y of value `v` (clamped to the frame).
    pub fn y(&self, v: f64) -> f64 {
        let f = (v / self.y_max).clamp(0.0, 1.0);
        self.base() - f * (self.base() - self.top)
    }

    /// y of the x axis.
    pub fn base(&self) -> f64 {
        self.height - self.bottom
    }

    /// The `viewBox` attribute.
    pub fn view_box(&self) -> String {
        format!("0 0 {} {}", self.width, self.height)
    }
}

/// About `n` round tick values in `0..=max`.
pub fn ticks(max: f64, n: usize) -> Vec<f64> {
    ticks_between(0.0, max, n)
}

/// About `n` round tick values in `lo..=hi`.
pub fn ticks_between(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    if hi <= lo || !hi.is_finite() || !lo.is_finite() {
        return vec![lo.max(0.0)];
    }
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    (first..)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= hi + (hi - lo) * 1e-6)
        .collect()
}

/// A tick label: no needless decimals.
pub fn tick_label(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0" } else { s }.to_string()
}

/// Axes, grid and tick labels; `unit` is the y axis unit.
pub fn axes(f: &Frame, unit: &str) -> Markup {
    let yt: Vec<(f64, String)> = ticks(f.y_max, 4)
        .into_iter()
        .map(|v| (v, tick_label(v)))
        .collect();
    axes_with(f, unit, &yt)
}

/// Axes with the given y ticks (value in frame units, label).
pub fn axes_with(f: &Frame, unit: &str, yt: &[(f64, String)]) -> Markup {
    let xt = ticks_between(f.t0 as f64 / 1e9, f.t1 as f64 / 1e9, 10);
    html! {
        g class="axes" {
            @for (v, label) in yt {
                @let y = f.y(*v);
                line x1=(f.left) y1=(y) x2=(f.width - RIGHT) y2=(y) stroke="#eaeef2" {}
                text x=(f.left - 4.0) y=(y + 3.0) text-anchor="end" font-size="10" fill="#57606a" { (label) }
            }
            @for s in &xt {
                @let x = f.x((s * 1e9).round() as u64);
                line x1=(x) y1=(f.base()) x2=(x) y2=(f.base() + 4.0) stroke="#8c959f" {}
                text x=(x) y=(f.base() + 15.0) text-anchor="middle" font-size="10" fill="#57606a" { (tick_label(*s)) }
            }
            line x1=(f.left) y1=(f.base()) x2=(f.width - RIGHT) y2=(f.base()) stroke="#8c959f" {}
            line x1=(f.left) y1=(f.top) x2=(f.left) y2=(f.base()) stroke="#8c959f" {}
            text x="4" y=(f.top - 8.0) font-size="10" fill="#57606a" { (unit) }
            text x="4" y=(f.base() + 15.0) font-size="10" fill="#57606a" { "time, s" }
        }
    }
}

/// Fault windows as shaded bands from the top margin to the x axis, each labelled
/// with its kind (labels alternate between two rows so neighbours do not overlap)
/// and titled with its nodes and times; nemesis instants as dashed lines.
pub fn bands(f: &Frame, faults: &[FaultWindow], markers: &[Marker]) -> Markup {
    html! {
        g class="faults" {
            @for (i, w) in faults.iter().filter(|w| w.end >= f.t0 && w.start <= f.t1).enumerate() {
                @let x0 = f.x(w.start);
                @let x1 = f.x(w.end).max(x0 + 1.0);
                @let c = fault_colour(&w.kind);
                g class="band" {
                    title { (w.describe()) " from " (secs(w.start)) " to " (secs(w.end)) @if !w.stopped { " (never stopped: lasts to the end)" } }
                    rect x=(x0) y=(f.top - 4.0) width=(x1 - x0) height=(f.base() - f.top + 4.0) fill=(c) fill-opacity="0.13" {}
                    line x1=(x0) y1=(f.top - 4.0) x2=(x0) y2=(f.base()) stroke=(c) stroke-opacity="0.6" {}
                    text x=(x0 + 2.0) y=(if i % 2 == 0 { f.top - 18.0 } else { f.top - 7.0 }) font-size="10" fill=(c) { (w.kind) }
                }
            }
            @for m in markers.iter().filter(|m| m.time >= f.t0 && m.time <= f.t1) {
                g {
                    title { (m.label) " at " (secs(m.time)) }
                    line x1=(f.x(m.time)) y1=(f.top - 4.0) x2=(f.x(m.time)) y2=(f.base()) stroke="#57606a" stroke-dasharray="3 3" {}
                }
            }
        }
    }
}

/// Fault windows as a light tint drawn *over* dense data (the timeline's bars and
/// cells would hide a band drawn under them); it lets the pointer through, so the
/// data's tooltips still work (the band's own tooltip is on its label above).
pub fn overlay(f: &Frame, faults: &[FaultWindow]) -> Markup {
    html! {
        g class="fault-tint" pointer-events="none" {
            @for w in faults.iter().filter(|w| w.end >= f.t0 && w.start <= f.t1) {
                @let x0 = f.x(w.start);
                rect x=(x0) y=(f.top) width=((f.x(w.end) - x0).max(1.0)) height=(f.base() - f.top) fill=(fault_colour(&w.kind)) fill-opacity="0.16" {}
            }
        }
    }
}

/// A legend: coloured swatches with words (no swatch for an empty colour).
pub fn legend(items: &[(&str, String)]) -> Markup {
    html! {
        div class="legend" {
            @for (colour, word) in items {
                span { @if !colour.is_empty() { i style={ "background:" (colour) } {} } (word) }
            }
        }
    }
}

/// The legend of the fault kinds present.
pub fn fault_legend(faults: &[FaultWindow]) -> Markup {
    let mut kinds: Vec<&str> = faults.iter().map(|w| w.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let items: Vec<(&str, String)> = kinds
        .iter()
        .map(|k| (fault_colour(k), format!("{k} (band)")))
        .collect();
    legend(&items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(0.9, 4), vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(ticks(0.0, 4), vec![0.0]);
        let labels: Vec<String> = ticks_between(1.05, 1.5, 5)
            .into_iter()
            .map(tick_label)
            .collect();
        assert_eq!(labels, ["1.1", "1.2", "1.3", "1.4", "1.5"]);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(2.0), "2");
    }

    #[test]
    fn a_frame_clamps_times_and_values_to_its_area() {
        let f = Frame::new(200.0, 1_000, 2_000, 10.0);
        assert_eq!(f.x(0), f.left);
        assert_eq!(f.x(5_000), f.width - RIGHT);
        assert_eq!(f.y(20.0), f.top);
        assert_eq!(f.y(0.0), f.base());
    }
}

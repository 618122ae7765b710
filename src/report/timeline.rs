//! The timeline of a run: a lane per client, each op a bar from invoke to
//! completion coloured by outcome, fault windows as labelled bands.
//!
//! Lanes: a crashed process (one whose op ended `info`) is never used again, so a
//! run has many more process ids than clients at any one time. Processes share a
//! lane when their lifetimes do not overlap (greedy interval colouring), so there are
//! as many lanes as processes ever ran at once; at most [`MAX_LANES`] are drawn.
//!
//! Scale: up to [`EXACT_OPS`] ops every op is a bar with its details on hover. Past
//! that the lanes are *aggregated*: each lane is cut into [`BUCKETS`] time buckets,
//! each drawn as one cell coloured by its worst outcome (amber if any op was
//! indeterminate, grey if any failed, else green) and shaded by how many ops it
//! holds, its tooltip giving the counts. A 1,000,000-op history is then a picture of
//! at most `MAX_LANES × BUCKETS` cells. A [`close_up`] draws the ops around an
//! anomaly one by one, whatever the size of the history.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use checkers::{History, Op, Outcome};
use maud::{html, Markup};

use super::chart::{self, outcome_colour, outcome_word, secs, Frame};
use super::faults::{FaultWindow, Marker};
use super::view::short;

/// Up to this many ops, every op is drawn.
pub const EXACT_OPS: usize = 4000;
/// Time buckets per lane when aggregating.
pub const BUCKETS: usize = 300;
/// At most this many lanes are drawn; more share lanes (lane number mod this).
pub const MAX_LANES: usize = 64;
/// Ops drawn in a close-up.
pub const CLOSE_UP_OPS: usize = 240;

/// Which lane each process is drawn in.
#[derive(Debug, Default)]
pub struct Lanes {
    of: HashMap<u64, usize>,
    /// How many lanes the lifetimes need (before the [`MAX_LANES`] cap).
    pub needed: usize,
    /// How many distinct processes.
    pub processes: usize,
}

impl Lanes {
    /// Assigns lanes to the processes of `ops`.
    pub fn assign<'a>(ops: impl IntoIterator<Item = &'a Op>, end: u64) -> Lanes {
        let mut life: HashMap<u64, (u64, u64)> = HashMap::new();
        for op in ops {
            let stop = op.complete_time.unwrap_or(op.invoke_time);
            let e = life.entry(op.process).or_insert((op.invoke_time, stop));
            e.0 = e.0.min(op.invoke_time);
            e.1 = e.1.max(stop).min(end.max(stop));
        }
        let mut procs: Vec<(u64, u64, u64)> = life.iter().map(|(p, (a, b))| (*a, *b, *p)).collect();
        procs.sort_unstable();
        let mut free: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let mut of = HashMap::with_capacity(procs.len());
        let mut needed = 0;
        for (start, stop, p) in procs {
            let lane = match free.peek() {
                Some(Reverse((busy_until, lane))) if *busy_until < start => {
                    let lane = *lane;
                    free.pop();
                    lane
                }
                _ => {
                    needed += 1;
                    needed - 1
                }
            };
            of.insert(p, lane);
            free.push(Reverse((stop, lane)));
        }
        Lanes {
            processes: of.len(),
            of,
            needed,
        }
    }

    /// Lanes drawn.
    pub fn drawn(&self) -> usize {
        self.needed.clamp(1, MAX_LANES)
    }

    /// The lane of process `p`.
    pub fn lane(&self, p: u64) -> usize {
        self.of.get(&p).copied().unwrap_or(0) % self.drawn()
    }
}

fn lane_height(lanes: usize) -> f64 {
    (420.0 / lanes as f64).clamp(5.0, 16.0)
}

/// A one-line description of an op, for tooltips.
pub fn op_title(op: &Op) -> String {
    let key = op
        .key
        .as_ref()
        .map(|k| format!(" {}", short(&k.to_string(), 40)))
        .unwrap_or_default();
    let value = if op.value == op.invoke_value || op.invoke_value.is_null() {
        short(&op.value.to_string(), 120)
    } else {
        format!(
            "{} → {}",
            short(&op.invoke_value.to_string(), 60),
            short(&op.value.to_string(), 120)
        )
    };
    let when = match op.complete_time {
        Some(c) => format!(
            "{:.3} s – {:.3} s ({:.1} ms)",
            op.invoke_time as f64 / 1e9,
            c as f64 / 1e9,
            c.saturating_sub(op.invoke_time) as f64 / 1e6
        ),
        None => format!("{:.3} s, never completed", op.invoke_time as f64 / 1e9),
    };
    let node = op
        .node
        .as_ref()
        .map(|n| format!(" on {n}"))
        .unwrap_or_default();
    let error = op
        .error
        .as_ref()
        .map(|e| format!(" ({})", short(&e.to_string(), 80)))
        .unwrap_or_default();
    format!(
        "process {}: {}{key} {value} — {}{error}, {when}{node} [event {}]",
        op.process,
        op.f,
        outcome_word(op.outcome),
        op.invoke_index
    )
}

/// Bars for `ops`, one each; ops whose invoke index is in `highlight` get a red outline.
fn bars(f: &Frame, lanes: &Lanes, ops: &[&Op], highlight: &[u64]) -> Markup {
    let lh = lane_height(lanes.drawn());
    html! {
        @for op in ops {
            @let end = op.complete_time.unwrap_or(f.t1);
            @let x0 = f.x(op.invoke_time);
            @let hot = highlight.contains(&op.invoke_index);
            rect x=(format!("{x0:.1}")) y=(format!("{:.1}", f.top + lanes.lane(op.process) as f64 * lh))
                width=(format!("{:.1}", (f.x(end) - x0).max(1.5))) height=(format!("{:.1}", (lh - 2.0).max(2.0)))
                fill=(outcome_colour(op.outcome)) fill-opacity=(if op.complete_time.is_none() { "0.35" } else { "0.9" })
                stroke=[hot.then_some("#cf222e")] stroke-width=[hot.then_some("2.5")] {
                title { (op_title(op)) }
            }
        }
    }
}

/// Cells of aggregated lanes: (lane, bucket) -> [ok, fail, info].
fn cells(f: &Frame, lanes: &Lanes, ops: &[Op]) -> Markup {
    let span = (f.t1 - f.t0) as f64;
    let mut counts: HashMap<(usize, usize), [u32; 3]> = HashMap::new();
    for op in ops {
        let b = (((op.invoke_time.saturating_sub(f.t0)) as f64 / span) * BUCKETS as f64) as usize;
        let c = counts
            .entry((lanes.lane(op.process), b.min(BUCKETS - 1)))
            .or_default();
        c[match op.outcome {
            Outcome::Ok => 0,
            Outcome::Fail => 1,
            Outcome::Info => 2,
        }] += 1;
    }
    let most = counts
        .values()
        .map(|c| c.iter().sum::<u32>())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut cells: Vec<_> = counts.into_iter().collect();
    cells.sort_unstable_by_key(|(k, _)| *k);
    let lh = lane_height(lanes.drawn());
    let bucket_ns = span / BUCKETS as f64;
    let bucket_w = (f.x(f.t1) - f.x(f.t0)) / BUCKETS as f64;
    html! {
        @for ((lane, b), c) in &cells {
            @let worst = if c[2] > 0 { Outcome::Info } else if c[1] > 0 { Outcome::Fail } else { Outcome::Ok };
            @let n = c.iter().sum::<u32>() as f64;
            @let from = f.t0 + (*b as f64 * bucket_ns) as u64;
            rect x=(format!("{:.1}", f.left + *b as f64 * bucket_w)) y=(format!("{:.1}", f.top + *lane as f64 * lh))
                width=(format!("{:.2}", bucket_w.max(1.0))) height=(format!("{:.1}", (lh - 1.0).max(2.0)))
                fill=(outcome_colour(worst)) fill-opacity=(format!("{:.2}", 0.35 + 0.65 * n / most)) {
                title { "lane " (lane) ", " (secs(from)) "–" (secs(from + bucket_ns as u64)) ": " (c[0]) " ok, " (c[1]) " fail, " (c[2]) " info" }
            }
        }
    }
}

fn lane_labels(f: &Frame, lanes: usize) -> Markup {
    let lh = lane_height(lanes);
    let every = (10.0 / lh).ceil().max(1.0) as usize;
    html! {
        @for l in (0..lanes).step_by(every) {
            text x=(f.left - 4.0) y=(format!("{:.1}", f.top + l as f64 * lh + lh * 0.75)) text-anchor="end" font-size="9" fill="#57606a" { "lane " (l) }
        }
    }
}

fn outcome_legend() -> Markup {
    chart::legend(&[
        (outcome_colour(Outcome::Ok), "ok".into()),
        (outcome_colour(Outcome::Fail), "fail".into()),
        (outcome_colour(Outcome::Info), "info (indeterminate)".into()),
    ])
}

/// The timeline of the whole run.
pub fn draw(history: &History, faults: &[FaultWindow], markers: &[Marker]) -> Markup {
    let end = history.end_time().max(1);
    let lanes = Lanes::assign(&history.ops, end);
    let lh = lane_height(lanes.drawn());
    let f = Frame::new(30.0 + 22.0 + lanes.drawn() as f64 * lh, 0, end, 1.0);
    let exact = history.ops.len() <= EXACT_OPS;
    let shared = if lanes.needed > MAX_LANES {
        format!(
            " ({} lanes needed; lanes beyond {MAX_LANES} share the drawn ones)",
            lanes.needed
        )
    } else {
        String::new()
    };
    let how = if exact {
        format!(
            "Every op drawn as a bar ({} ops); hover a bar for its details",
            history.ops.len()
        )
    } else {
        format!(
            "{} ops, too many to draw one by one: aggregated into {BUCKETS} time buckets per lane, each cell coloured by its worst outcome and shaded by its number of ops; hover a cell for its counts",
            history.ops.len()
        )
    };
    let ops: Vec<&Op> = if exact {
        history.ops.iter().collect()
    } else {
        Vec::new()
    };
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f.width) height=(f.height) viewBox=(f.view_box()) role="img" aria-label="timeline of the run" class="timeline" {
            (chart::bands(&f, faults, markers))
            (lane_labels(&f, lanes.drawn()))
            @if exact { (bars(&f, &lanes, &ops, &[])) } @else { (cells(&f, &lanes, &history.ops)) }
            (chart::overlay(&f, faults))
            (chart::axes_with(&f, "", &[]))
        }
        (outcome_legend())
        p class="note" {
            (lanes.processes) " processes on " (lanes.drawn()) " lanes (a process that crashed is never reused; processes that never overlap share a lane)" (shared) ". " (how) ". Shaded bands are faults; dashed lines are other nemesis events."
        }
    }
}

/// The ops around instant `t`: about [`CLOSE_UP_OPS`] ops nearest in invoke order,
/// every one drawn, `highlight` (invoke indices) outlined in red.
pub fn close_up(
    history: &History,
    faults: &[FaultWindow],
    markers: &[Marker],
    t: u64,
    highlight: &[u64],
) -> Markup {
    if history.ops.is_empty() {
        return html! {};
    }
    let at = history.ops.partition_point(|o| o.invoke_time < t);
    let from = at.saturating_sub(CLOSE_UP_OPS * 3 / 4);
    let to = (from + CLOSE_UP_OPS).min(history.ops.len());
    let ops: Vec<&Op> = history.ops[from..to].iter().collect();
    let t0 = ops.iter().map(|o| o.invoke_time).min().unwrap_or(0);
    let t1 = ops
        .iter()
        .map(|o| o.complete_time.unwrap_or(o.invoke_time))
        .max()
        .unwrap_or(t0);
    let lanes = Lanes::assign(ops.iter().copied(), t1);
    let lh = lane_height(lanes.drawn());
    let f = Frame::new(30.0 + 22.0 + lanes.drawn() as f64 * lh, t0, t1, 1.0);
    html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(f.width) height=(f.height) viewBox=(f.view_box()) role="img" aria-label="the run around the first anomaly" class="closeup" {
            (chart::bands(&f, faults, markers))
            (lane_labels(&f, lanes.drawn()))
            (bars(&f, &lanes, &ops, highlight))
            (chart::overlay(&f, faults))
            line x1=(f.x(t)) y1=(f.top - 4.0) x2=(f.x(t)) y2=(f.base()) stroke="#cf222e" stroke-width="1.5" {}
            (chart::axes_with(&f, "", &[]))
        }
        p class="note" {
            "The " (ops.len()) " ops around the first anomaly (" (secs(t0)) " to " (secs(t1)) "), every op drawn; the red line is the anomaly, red outlines the ops of its failing window."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(process: u64, start: u64, end: u64) -> Op {
        Op {
            id: 0,
            process,
            f: checkers::history::F::Read,
            key: None,
            invoke_value: checkers::Value::Null,
            value: checkers::Value::Null,
            outcome: Outcome::Ok,
            invoke_index: 0,
            complete_index: Some(1),
            invoke_time: start,
            complete_time: Some(end),
            node: None,
            error: None,
        }
    }

    #[test]
    fn processes_that_never_overlap_share_a_lane() {
        // 0 and 1 run together; 2 starts after 0 crashed: it reuses 0's lane.
        let ops = [op(0, 0, 10), op(1, 5, 100), op(2, 20, 30)];
        let lanes = Lanes::assign(&ops, 100);
        assert_eq!(lanes.needed, 2);
        assert_eq!(lanes.lane(2), lanes.lane(0));
        assert_ne!(lanes.lane(1), lanes.lane(0));
    }
}

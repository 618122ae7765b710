//! The message-sequence (Lamport) diagram of a Maelstrom run, from the network's
//! journal (`nodes/messages.jsonl`, written by `subject::maelstrom::journal`), and
//! its statistics (`test.json`'s `subject.network`).
//!
//! One vertical lane per node, client and service that appears in the window, time
//! going down; each message an arrow from its lane at the time it was sent to the
//! receiver's lane at the time it arrived, labelled with its type (the whole message
//! on hover); a dropped message ends in a cross halfway. Fault windows shade the
//! lanes of the nodes they hit (a partition shades every node lane). The window is
//! bounded: at most [`MAX_DRAWN`] messages, from just before the first fault (or the
//! first message). Zoom is three fixed heights chosen with radio buttons (CSS only;
//! the page runs no script).

use std::path::Path;

use maud::{html, Markup};
use serde_json::Value as Json;

use super::chart::{fault_colour, secs};
use super::faults::FaultWindow;

/// The journal's path in a run directory.
pub const JOURNAL: &str = "nodes/messages.jsonl";

/// At most this many messages are drawn.
pub const MAX_DRAWN: usize = 150;

/// How long before the first fault the window starts.
const LEAD_NS: u64 = 200_000_000;

/// One journaled message.
#[derive(Clone, Debug, PartialEq)]
pub struct Sent {
    /// The sending process (`n1`, `c3`, `lin-kv`).
    pub from: String,
    /// The receiver.
    pub to: String,
    /// The body's `type`.
    pub kind: String,
    /// When it was sent, ns.
    pub sent: u64,
    /// When it arrived, ns; `None` if it was dropped.
    pub received: Option<u64>,
}

/// The journal of the run in `run_dir`, if it has one (lines that do not parse are
/// skipped: the journal is a picture's input, not evidence).
pub fn read(run_dir: &Path) -> Option<Vec<Sent>> {
    let text = std::fs::read_to_string(run_dir.join(JOURNAL)).ok()?;
    let s = |j: &Json, k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
    let messages = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .filter_map(|j| {
            Some(Sent {
                from: s(&j, "from")?,
                to: s(&j, "to")?,
                kind: s(&j, "type").unwrap_or_else(|| "?".into()),
                sent: j.get("sent")?.as_u64()?,
                received: j.get("received").and_then(Json::as_u64),
            })
        })
        .collect();
    Some(messages)
}

/// The messages drawn: up to [`MAX_DRAWN`], sent from just before the first fault
/// (or from the first message), in the order sent.
pub fn window<'a>(messages: &'a [Sent], faults: &[FaultWindow]) -> Vec<&'a Sent> {
    let start = faults
        .iter()
        .map(|f| f.start.saturating_sub(LEAD_NS))
        .min()
        .unwrap_or(0);
    let mut drawn: Vec<&Sent> = messages.iter().filter(|m| m.sent >= start).collect();
    drawn.sort_by_key(|m| m.sent);
    drawn.truncate(MAX_DRAWN);
    drawn
}

/// The lanes, in order: nodes (`n0`, `n1`, …), then clients (`c1`, `c2`, …), each by
/// number, then anything else (services) by name.
fn lanes(drawn: &[&Sent]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for m in drawn {
        for p in [&m.from, &m.to] {
            if !seen.contains(p) {
                seen.push(p.clone());
            }
        }
    }
    let order = |p: &String| {
        let number = |s: &str| s.parse::<u64>().ok();
        match (p.get(..1), p.get(1..).and_then(number)) {
            (Some("n"), Some(i)) => (0, i, String::new()),
            (Some("c"), Some(i)) => (1, i, String::new()),
            _ => (2, 0, p.clone()),
        }
    };
    seen.sort_by_key(order);
    seen
}

const LANE_W: f64 = 90.0;
const TOP: f64 = 40.0;

/// The diagram of `messages` (the whole journal) with `faults`, or a note when there
/// is nothing to draw.
pub fn diagram(messages: &[Sent], faults: &[FaultWindow]) -> Markup {
    let drawn = window(messages, faults);
    let (Some(first), Some(last)) = (drawn.first(), drawn.last()) else {
        return html! { p class="note" { "No message was journaled." } };
    };
    let lanes = lanes(&drawn);
    let t0 = first.sent;
    let t1 = drawn
        .iter()
        .map(|m| m.received.unwrap_or(m.sent))
        .max()
        .unwrap_or(last.sent)
        .max(t0 + 1);
    let height = 900.0;
    let width = LANE_W * lanes.len() as f64 + 60.0;
    let x = |p: &str| {
        let i = lanes.iter().position(|l| l == p).unwrap_or(0);
        60.0 + LANE_W * i as f64 + LANE_W / 2.0
    };
    let y = |t: u64| TOP + (t.clamp(t0, t1) - t0) as f64 / (t1 - t0) as f64 * (height - TOP - 10.0);
    let shown: Vec<&FaultWindow> = faults
        .iter()
        .filter(|f| f.end >= t0 && f.start <= t1)
        .collect();
    html! {
        p class="note" {
            (drawn.len()) " of " (messages.len()) " messages, " (secs(t0)) " to " (secs(t1))
            ", one lane per process; hover an arrow for the message."
        }
        div class="zoom" {
            input type="radio" name="msgzoom" id="msgzoom1" checked;
            label for="msgzoom1" { "1×" }
            input type="radio" name="msgzoom" id="msgzoom2";
            label for="msgzoom2" { "2×" }
            input type="radio" name="msgzoom" id="msgzoom4";
            label for="msgzoom4" { "4×" }
            div class="msgscroll" {
                svg class="messages" viewBox=(format!("0 0 {width} {height}")) preserveAspectRatio="none" width=(width) role="img" {
                    title { "Message-sequence diagram" }
                    @for f in &shown {
                        @let (ya, yb) = (y(f.start.max(t0)), y(f.end.min(t1)));
                        @for l in lanes.iter().filter(|l| f.kind == "partition" && l.starts_with('n') || f.nodes.contains(l)) {
                            rect x=(x(l) - LANE_W / 2.0 + 4.0) y=(ya) width=(LANE_W - 8.0) height=((yb - ya).max(1.0))
                                fill=(fault_colour(&f.kind)) fill-opacity="0.12" {
                                title { (f.describe()) ", " (secs(f.start)) " to " (secs(f.end)) }
                            }
                        }
                    }
                    @for l in &lanes {
                        text x=(x(l)) y="16" text-anchor="middle" font-size="12" font-weight="bold" { (l) }
                        line x1=(x(l)) y1="24" x2=(x(l)) y2=(height - 6.0) stroke="#8c959f" stroke-width="1" {}
                    }
                    text x="4" y=(TOP) font-size="10" fill="#57606a" { (secs(t0)) }
                    text x="4" y=(height - 12.0) font-size="10" fill="#57606a" { (secs(t1)) }
                    @for m in &drawn {
                        @let (x1, y1) = (x(&m.from), y(m.sent));
                        @let (x2, y2) = match m.received {
                            Some(r) => (x(&m.to), y(r)),
                            None => ((x(&m.from) + x(&m.to)) / 2.0, y(m.sent) + 12.0),
                        };
                        g class=(if m.received.is_some() { "msg" } else { "msg dropped" }) {
                            title {
                                (m.from) " → " (m.to) ": " (m.kind) ", sent " (secs(m.sent))
                                @match m.received { Some(r) => { ", received " (secs(r)) } None => { ", dropped" } }
                            }
                            line x1=(x1) y1=(y1) x2=(x2) y2=(y2)
                                stroke=(if m.received.is_some() { "#0969da" } else { "#cf222e" }) stroke-width="1.2" {}
                            circle cx=(x2) cy=(y2) r="2.5" fill=(if m.received.is_some() { "#0969da" } else { "#cf222e" }) {}
                            @if m.received.is_none() {
                                text x=(x2) y=(y2 + 4.0) text-anchor="middle" font-size="12" fill="#cf222e" { "✗" }
                            }
                            text x=((x1 + x2) / 2.0) y=((y1 + y2) / 2.0 - 2.0) text-anchor="middle" font-size="9" fill="#24292f" { (m.kind) }
                        }
                    }
                }
            }
        }
    }
}

/// The network's counts from `test.json` (`subject.network`), as a table; nothing
/// when the run has none.
pub fn statistics(test: &Json) -> Markup {
    let Some(net) = test.pointer("/subject/network") else {
        return html! {};
    };
    let n = |p: &str| -> String {
        match net.pointer(p) {
            Some(Json::Null) | None => "–".into(),
            Some(v) => v.to_string(),
        }
    };
    html! {
        table {
            tr { th { "messages" } th { "sent" } th { "delivered" } th { "dropped" } th { "per operation" } }
            @for (label, key) in [("all", "all"), ("with a client", "clients"), ("between nodes and services", "servers")] {
                tr {
                    td { (label) }
                    td { (n(&format!("/{key}/sent"))) }
                    td { (n(&format!("/{key}/delivered"))) }
                    td { (n(&format!("/{key}/dropped"))) }
                    td { (n(&format!("/{key}/msgs_per_op"))) }
                }
            }
        }
        p class="note" {
            (n("/ops")) " client operations; " (n("/service_requests")) " service requests; "
            (n("/node_exits")) " node exits; " (n("/malformed_lines")) " malformed lines; "
            (n("/bad_src")) " messages with an unknown src."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(from: &str, to: &str, t: u64, received: Option<u64>) -> Sent {
        Sent {
            from: from.into(),
            to: to.into(),
            kind: "gossip".into(),
            sent: t,
            received,
        }
    }

    #[test]
    fn the_window_starts_just_before_the_first_fault_and_is_bounded() {
        let messages: Vec<Sent> = (0..1000)
            .map(|i| sent("n0", "n1", i * 10_000_000, Some(i * 10_000_000 + 1)))
            .collect();
        let fault = FaultWindow {
            kind: "kill".into(),
            start: 5_000_000_000,
            end: 6_000_000_000,
            nodes: vec!["n1".into()],
            detail: String::new(),
            stopped: true,
        };
        let drawn = window(&messages, std::slice::from_ref(&fault));
        assert_eq!(drawn.len(), MAX_DRAWN);
        assert_eq!(drawn[0].sent, 4_800_000_000);
        assert_eq!(window(&messages, &[])[0].sent, 0);
    }

    #[test]
    fn lanes_put_nodes_first_then_clients_then_services() {
        let m = [
            sent("c2", "n1", 0, Some(1)),
            sent("n1", "lin-kv", 1, Some(1)),
            sent("n0", "n1", 2, None),
        ];
        let drawn: Vec<&Sent> = m.iter().collect();
        assert_eq!(lanes(&drawn), ["n0", "n1", "c2", "lin-kv"]);
    }

    #[test]
    fn every_message_is_an_arrow_with_its_type_and_dropped_ones_are_marked() {
        let m = [sent("n0", "n1", 0, Some(5)), sent("n1", "n0", 3, None)];
        let svg = diagram(&m, &[]).into_string();
        assert_eq!(svg.matches("class=\"msg\"").count(), 1);
        assert_eq!(svg.matches("class=\"msg dropped\"").count(), 1);
        assert!(svg.contains("n1 → n0: gossip"), "{svg}");
    }
}

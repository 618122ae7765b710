//! The transactional checker's evidence as tables: how many of each anomaly were found
//! (those the checked model forbids marked), then for each example its name and
//! meaning, the txns involved (process, outcome, times, micro-ops) and, for a cycle,
//! every edge in order — from, the dependency (`wr`, `ww`, `rw`, process, realtime),
//! to, the key and value it is about, and the sentence — the last edge leading back
//! to the first txn. Text only, escaped by the page's templates.

use checkers::txn::evidence::{AnomalyEvidence, TxnEvidence, TxnView};
use checkers::History;
use maud::{html, Markup};

use super::view::{short, text};

/// Anomaly examples drawn per checker (the JSON has them all).
pub const MAX_ANOMALIES: usize = 10;
/// Txns listed per example.
const MAX_TXNS: usize = 12;
/// Edges listed per cycle.
const MAX_STEPS: usize = 40;

/// The txn evidence `e` of `history`, drawn; empty when it found nothing.
pub fn draw(e: &TxnEvidence, history: &History) -> Markup {
    if e.anomalies.is_empty() && e.anomaly_counts.is_empty() {
        return html! {};
    }
    let forbidden = |name: &str| e.forbidden_found.iter().any(|f| f == name);
    html! {
        table class="anomaly-counts" {
            tr { th { "anomaly" } th { "found" } th { "under " (e.consistency) } }
            @for (name, n) in &e.anomaly_counts {
                tr class=[forbidden(name).then_some("bad")] {
                    td { code { (name) } } td { (n) }
                    td { @if forbidden(name) { "forbidden" } @else { "allowed" } }
                }
            }
        }
        @for (i, a) in e.anomalies.iter().take(MAX_ANOMALIES).enumerate() {
            (anomaly(i, a, forbidden(&a.anomaly), history))
        }
        @if e.anomalies.len() > MAX_ANOMALIES {
            p class="note" { (e.anomalies.len() - MAX_ANOMALIES) " more anomalies in the JSON below." }
        }
    }
}

/// One anomaly example: its name, what it means, what happened, its txns and cycle.
fn anomaly(i: usize, a: &AnomalyEvidence, forbidden: bool, history: &History) -> Markup {
    html! {
        div class="anomaly" id={ "anomaly-" (i) } {
            h4 {
                "Anomaly " (i + 1) ": " code { (a.anomaly) }
                @if forbidden { " " span class="tag invalid" { "forbidden" } }
            }
            p class="note" { (a.meaning) }
            p { (short(&a.explanation, 2000)) }
            @if let Some(cycle) = &a.cycle {
                table class="cycle" {
                    tr { th { "#" } th { "from" } th { "edge" } th { "to" } th { "key" } th { "value" } th { "why" } }
                    @for (j, s) in cycle.iter().take(MAX_STEPS).enumerate() {
                        tr {
                            td { (j + 1) } td { code { (s.from) } } td { code class="edge" { (s.edge) } }
                            td { code { (s.to) } @if j + 1 == cycle.len() { " (back to the first)" } }
                            td { @if let Some(k) = &s.key { code { (short(k, 80)) } } }
                            td { @if let Some(v) = &s.value { code { (short(v, 80)) } } }
                            td { (short(&s.why, 400)) }
                        }
                    }
                }
                @if cycle.len() > MAX_STEPS { p class="note" { (cycle.len() - MAX_STEPS) " more edges in the JSON below." } }
            }
            table class="txns" {
                tr { th { "txn" } th { "process" } th { "outcome" } th { "invoked" } th { "completed" } th { "micro-ops" } }
                @for t in a.txns.iter().take(MAX_TXNS) {
                    (txn_row(t, history))
                }
            }
            @if a.txns.len() > MAX_TXNS { p class="note" { (a.txns.len() - MAX_TXNS) " more txns in the JSON below." } }
        }
    }
}

fn txn_row(t: &TxnView, history: &History) -> Markup {
    let outcome = serde_json::to_value(t.outcome)
        .map(|v| text(&v))
        .unwrap_or_default();
    html! {
        tr {
            td { code { (t.name) } } td { (t.process) } td { (outcome) }
            td { (history.at(t.invoke_time)) }
            td { (t.complete_time.map_or("never".to_string(), |c| history.at(c))) }
            td { code { (short(&micro_ops(&t.ops), 300)) } }
        }
    }
}

/// A txn's micro-ops in Elle's short form: `append x 1, r y [1]`.
fn micro_ops(ops: &serde_json::Value) -> String {
    match ops.as_array() {
        Some(list) => list
            .iter()
            .map(|m| match m.as_array() {
                Some(parts) => parts.iter().map(text).collect::<Vec<_>>().join(" "),
                None => text(m),
            })
            .collect::<Vec<_>>()
            .join(", "),
        None => text(ops),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn micro_ops_read_as_elle_writes_them() {
        assert_eq!(
            micro_ops(&json!([["append", "x", 1], ["r", "y", [1, 2]]])),
            "append x 1, r y [1,2]"
        );
        assert_eq!(micro_ops(&json!(null)), "null");
    }
}

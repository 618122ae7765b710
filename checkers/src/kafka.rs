//! The checker of Kafka-style logs (Maelstrom's `kafka` workload): clients `send`
//! messages to keyed logs and get each message's offset back, `poll` messages from
//! given offsets, `commit_offsets` and `list_committed_offsets`.
//!
//! History shapes (`key` unused; every op names its keys in its value):
//!
//! | f | invoke value | ok value |
//! |---|---|---|
//! | `send` | `[key, msg]` | `[key, msg, offset]` |
//! | `poll` | `[[key, from], ...]` | `[[key, [[offset, msg], ...]], ...]` |
//! | `commit_offsets` | `[[key, offset], ...]` | the same |
//! | `list_committed_offsets` | `[key, ...]` | `[[key, offset], ...]` |
//!
//! What is invalid (each kind listed in the evidence with the ops that show it):
//!
//! - **duplicate**: one message of a key at two offsets (acknowledged or polled);
//! - **conflict**: two messages of a key at one offset;
//! - **nonmonotonic-poll**: a poll that returns a key's offsets out of order, or one
//!   below the offset it asked from;
//! - **nonmonotonic-send**: a send acknowledged with an offset not above that of a
//!   send to the same key acknowledged before it was invoked;
//! - **lost**: a send acknowledged before a poll was invoked, whose offset lies in the
//!   range that poll covered for its key (from the offset asked to the last offset
//!   returned), yet absent from what it returned: a log has no holes that later fill;
//! - **committed-offset-regressed**: a `list_committed_offsets` that reports a key's
//!   committed offset below one acknowledged (committed, or listed) before it was
//!   invoked, or no offset at all for it -- unless a commit of exactly the lower
//!   offset, not over before the higher one was known, may have overwritten it.
//!
//! Only `ok` ops are evidence; `info` sends may or may not be in the log, so a polled
//! message nobody acknowledged is fine. A history with no `ok` send and no `ok` poll
//! is `unknown`.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use crate::history::{History, Op, Outcome};
use crate::value::Value;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// The Kafka-log checker.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kafka;

/// One thing wrong, with the ops that show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// `duplicate`, `conflict`, `nonmonotonic-poll`, `nonmonotonic-send`, `lost` or
    /// `committed-offset-regressed`.
    pub kind: &'static str,
    /// The key (log).
    pub key: String,
    /// What was seen, in a sentence.
    pub detail: String,
    /// The ids of the ops involved.
    pub ops: Vec<usize>,
}

fn key_of(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        other => other.to_json().to_string(),
    }
}

fn pairs(v: &Value) -> Vec<(&Value, &Value)> {
    v.as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|p| match p.as_list() {
            Some([a, b, ..]) => Some((a, b)),
            _ => None,
        })
        .collect()
}

/// An acknowledged send: key, message, offset, op.
struct Sent<'a> {
    key: String,
    msg: Value,
    offset: i64,
    op: &'a Op,
}

/// What one ok poll returned for one key.
struct Polled<'a> {
    key: String,
    from: i64,
    msgs: Vec<(i64, Value)>,
    op: &'a Op,
}

fn sends(history: &History) -> Vec<Sent<'_>> {
    history
        .ops
        .iter()
        .filter(|o| o.outcome == Outcome::Ok && o.f.as_str() == "send")
        .filter_map(|o| match o.value.as_list() {
            Some([k, m, off, ..]) => Some(Sent {
                key: key_of(k),
                msg: m.clone(),
                offset: off.as_int()?,
                op: o,
            }),
            _ => None,
        })
        .collect()
}

fn polls(history: &History) -> Vec<Polled<'_>> {
    let mut out = Vec::new();
    for o in &history.ops {
        if o.outcome != Outcome::Ok || o.f.as_str() != "poll" {
            continue;
        }
        let asked: HashMap<String, i64> = pairs(&o.invoke_value)
            .into_iter()
            .filter_map(|(k, f)| Some((key_of(k), f.as_int()?)))
            .collect();
        for (k, list) in pairs(&o.value) {
            let key = key_of(k);
            let msgs = pairs(list)
                .into_iter()
                .filter_map(|(off, m)| Some((off.as_int()?, m.clone())))
                .collect();
            out.push(Polled {
                from: asked.get(&key).copied().unwrap_or(0),
                key,
                msgs,
                op: o,
            });
        }
    }
    out
}

/// Every finding in `history`, in a stable order.
pub fn findings(history: &History) -> Vec<Finding> {
    let sends = sends(history);
    let polls = polls(history);
    let mut out = Vec::new();
    // Where each message was seen, and what each offset held, per key.
    let mut at: BTreeMap<(String, String), BTreeMap<i64, Vec<usize>>> = BTreeMap::new();
    let mut holds: BTreeMap<(String, i64), BTreeMap<String, Vec<usize>>> = BTreeMap::new();
    let mut see = |key: &str, msg: &Value, offset: i64, op: usize| {
        let m = msg.to_json().to_string();
        at.entry((key.to_string(), m.clone()))
            .or_default()
            .entry(offset)
            .or_default()
            .push(op);
        holds
            .entry((key.to_string(), offset))
            .or_default()
            .entry(m)
            .or_default()
            .push(op);
    };
    for s in &sends {
        see(&s.key, &s.msg, s.offset, s.op.id);
    }
    for p in &polls {
        for (off, m) in &p.msgs {
            see(&p.key, m, *off, p.op.id);
        }
    }
    for ((key, msg), offsets) in &at {
        if offsets.len() > 1 {
            out.push(Finding {
                kind: "duplicate",
                key: key.clone(),
                detail: format!(
                    "message {msg} of {key} is at offsets {}",
                    offsets
                        .keys()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                ops: dedup(offsets.values().flatten().copied()),
            });
        }
    }
    for ((key, off), msgs) in &holds {
        if msgs.len() > 1 {
            out.push(Finding {
                kind: "conflict",
                key: key.clone(),
                detail: format!(
                    "offset {off} of {key} holds messages {}",
                    msgs.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
                ops: dedup(msgs.values().flatten().copied()),
            });
        }
    }
    for p in &polls {
        let mut last = p.from - 1;
        for (off, _) in &p.msgs {
            if *off <= last {
                out.push(Finding {
                    kind: "nonmonotonic-poll",
                    key: p.key.clone(),
                    detail: format!(
                        "a poll of {} from offset {} returned offset {off} after {last}",
                        p.key, p.from
                    ),
                    ops: vec![p.op.id],
                });
                break;
            }
            last = *off;
        }
    }
    for a in &sends {
        for b in &sends {
            if a.key == b.key && a.op.precedes(b.op) && b.offset <= a.offset {
                out.push(Finding {
                    kind: "nonmonotonic-send",
                    key: a.key.clone(),
                    detail: format!(
                        "a send to {} was acknowledged at offset {} after an earlier send was acknowledged at offset {}",
                        a.key, b.offset, a.offset
                    ),
                    ops: vec![a.op.id, b.op.id],
                });
            }
        }
    }
    let mut sends_of: HashMap<&str, Vec<&Sent>> = HashMap::new();
    for s in &sends {
        sends_of.entry(s.key.as_str()).or_default().push(s);
    }
    for p in &polls {
        let Some(&(last, _)) = p.msgs.last() else {
            continue;
        };
        let returned: HashMap<i64, &Value> = p.msgs.iter().map(|(o, m)| (*o, m)).collect();
        for s in sends_of.get(p.key.as_str()).into_iter().flatten() {
            if s.op.precedes(p.op)
                && (p.from..=last).contains(&s.offset)
                && returned.get(&s.offset) != Some(&&s.msg)
            {
                out.push(Finding {
                    kind: "lost",
                    key: s.key.clone(),
                    detail: format!(
                        "message {} of {} was acknowledged at offset {}, but a poll invoked later covering offsets {}..={last} did not return it",
                        s.msg.to_json(),
                        s.key,
                        s.offset,
                        p.from
                    ),
                    ops: vec![s.op.id, p.op.id],
                });
            }
        }
    }
    out.extend(committed_regressions(history));
    out
}

fn dedup(ids: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v: Vec<usize> = ids.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Committed offsets that went back: a list below what was acknowledged before it.
fn committed_regressions(history: &History) -> Vec<Finding> {
    // (op, key, offset) known committed once op completed.
    let mut known: Vec<(&Op, String, i64)> = Vec::new();
    let mut lists: Vec<(&Op, Vec<String>, HashMap<String, i64>)> = Vec::new();
    for o in history.ops.iter().filter(|o| o.outcome == Outcome::Ok) {
        match o.f.as_str() {
            "commit_offsets" => {
                for (k, off) in pairs(&o.invoke_value) {
                    if let Some(off) = off.as_int() {
                        known.push((o, key_of(k), off));
                    }
                }
            }
            "list_committed_offsets" => {
                let got: HashMap<String, i64> = pairs(&o.value)
                    .into_iter()
                    .filter_map(|(k, off)| Some((key_of(k), off.as_int()?)))
                    .collect();
                for (k, off) in &got {
                    known.push((o, k.clone(), *off));
                }
                let asked = o
                    .invoke_value
                    .as_list()
                    .unwrap_or(&[])
                    .iter()
                    .map(key_of)
                    .collect();
                lists.push((o, asked, got));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (list, asked, got) in &lists {
        for key in asked {
            let floor = known
                .iter()
                .filter(|(o, k, _)| k == key && o.precedes(list))
                .max_by_key(|(_, _, off)| *off);
            let Some((before, _, floor)) = floor else {
                continue;
            };
            let now = got.get(key).copied();
            // A commit of exactly that offset not over before the floor was known may
            // have overwritten it since (last commit wins): not a regression.
            let explained = now.is_some_and(|n| {
                history.ops.iter().any(|c| {
                    c.f.as_str() == "commit_offsets"
                        && c.outcome != Outcome::Fail
                        && !c.precedes(before)
                        && pairs(&c.invoke_value)
                            .iter()
                            .any(|(k, o)| key_of(k) == *key && o.as_int() == Some(n))
                })
            });
            if !explained && now.is_none_or(|n| n < *floor) {
                out.push(Finding {
                    kind: "committed-offset-regressed",
                    key: key.clone(),
                    detail: format!(
                        "the committed offset of {key} was {floor} before a list that reported {}",
                        now.map_or("none".to_string(), |n| n.to_string())
                    ),
                    ops: vec![before.id, list.id],
                });
            }
        }
    }
    out
}

impl Checker for Kafka {
    fn name(&self) -> &str {
        "kafka"
    }

    fn check(&self, history: &History, _budget: &Budget) -> CheckResult {
        let found = findings(history);
        let observed = history
            .ops
            .iter()
            .any(|o| o.outcome == Outcome::Ok && matches!(o.f.as_str(), "send" | "poll"));
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &found {
            *counts.entry(f.kind).or_default() += 1;
        }
        let (verdict, summary) = if !found.is_empty() {
            let first = &found[0];
            (
                Verdict::Invalid,
                format!(
                    "not a log: {}; e.g. {}",
                    counts
                        .iter()
                        .map(|(k, n)| format!("{n} {k}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    first.detail
                ),
            )
        } else if !observed {
            (
                Verdict::Unknown,
                "unknown: no send or poll succeeded, so nothing about the logs was observed"
                    .to_string(),
            )
        } else {
            (
                Verdict::Valid,
                format!(
                    "every log is consistent: {} acknowledged sends, no duplicated, conflicting or lost message, offsets monotonic, committed offsets never went back",
                    sends(history).len()
                ),
            )
        };
        CheckResult {
            checker: "kafka".into(),
            model: "kafka".into(),
            verdict,
            summary,
            evidence: json!({
                "counts": counts,
                "findings": found.iter().take(50).map(|f| json!({
                    "kind": f.kind, "key": f.key, "detail": f.detail, "ops": f.ops,
                })).collect::<Vec<_>>(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::jsonl;

    /// A history from hand-written `(process, type, f, value)` events, one time unit
    /// apart.
    fn history(events: &[(u64, &str, &str, serde_json::Value)]) -> History {
        let text: String = events
            .iter()
            .enumerate()
            .map(|(i, (p, t, f, v))| {
                format!(
                    "{}\n",
                    json!({"index": i, "time": i * 10, "process": p, "type": t, "f": f, "value": v})
                )
            })
            .collect();
        jsonl::read(text.as_bytes(), "<test>").unwrap()
    }

    fn kinds(h: &History) -> Vec<&'static str> {
        findings(h).iter().map(|f| f.kind).collect()
    }

    #[test]
    fn a_log_polled_back_whole_is_valid() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 1])),
            (0, "ok", "send", json!(["k", 1, 0])),
            (1, "invoke", "send", json!(["k", 2])),
            (1, "ok", "send", json!(["k", 2, 1])),
            (0, "invoke", "commit_offsets", json!([["k", 1]])),
            (0, "ok", "commit_offsets", json!([["k", 1]])),
            (1, "invoke", "poll", json!([["k", 0]])),
            (1, "ok", "poll", json!([["k", [[0, 1], [1, 2]]]])),
            (1, "invoke", "list_committed_offsets", json!(["k"])),
            (1, "ok", "list_committed_offsets", json!([["k", 1]])),
        ]);
        assert_eq!(kinds(&h), Vec::<&str>::new());
        assert_eq!(Kafka.check(&h, &Budget::default()).verdict, Verdict::Valid);
    }

    #[test]
    fn an_acknowledged_message_a_later_poll_skips_is_lost() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 1])),
            (0, "ok", "send", json!(["k", 1, 0])),
            (0, "invoke", "send", json!(["k", 2])),
            (0, "ok", "send", json!(["k", 2, 1])),
            (0, "invoke", "send", json!(["k", 3])),
            (0, "ok", "send", json!(["k", 3, 2])),
            (1, "invoke", "poll", json!([["k", 0]])),
            (1, "ok", "poll", json!([["k", [[0, 1], [2, 3]]]])),
        ]);
        assert_eq!(kinds(&h), vec!["lost"]);
        let r = Kafka.check(&h, &Budget::default());
        assert_eq!(r.verdict, Verdict::Invalid);
        assert!(r.summary.contains("message 2 of k"), "{}", r.summary);
        assert_eq!(r.evidence["findings"][0]["ops"], json!([1, 3]));
    }

    #[test]
    fn a_message_at_two_offsets_is_a_duplicate() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 7])),
            (0, "ok", "send", json!(["k", 7, 0])),
            (1, "invoke", "poll", json!([["k", 0]])),
            (1, "ok", "poll", json!([["k", [[0, 7], [1, 7]]]])),
        ]);
        assert_eq!(kinds(&h), vec!["duplicate"]);
    }

    #[test]
    fn a_poll_that_starts_after_a_message_or_is_still_in_flight_does_not_lose_it() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 1])),
            (1, "invoke", "poll", json!([["k", 0]])),
            (0, "ok", "send", json!(["k", 1, 0])),
            // Concurrent with the send: it may be ordered before it.
            (1, "ok", "poll", json!([["k", [[1, 2]]]])),
            (1, "invoke", "poll", json!([["k", 1]])),
            (1, "ok", "poll", json!([["k", [[1, 2]]]])),
        ]);
        assert_eq!(kinds(&h), Vec::<&str>::new());
    }

    #[test]
    fn two_messages_at_one_offset_conflict_and_offsets_must_grow() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 1])),
            (0, "ok", "send", json!(["k", 1, 5])),
            (0, "invoke", "send", json!(["k", 2])),
            (0, "ok", "send", json!(["k", 2, 5])),
        ]);
        assert_eq!(kinds(&h), vec!["conflict", "nonmonotonic-send"]);
        let h = history(&[
            (1, "invoke", "poll", json!([["k", 3]])),
            (1, "ok", "poll", json!([["k", [[4, 1], [3, 2]]]])),
        ]);
        assert_eq!(kinds(&h), vec!["nonmonotonic-poll"]);
    }

    #[test]
    fn a_committed_offset_that_goes_back_is_invalid() {
        let h = history(&[
            (0, "invoke", "commit_offsets", json!([["k", 4]])),
            (0, "ok", "commit_offsets", json!([["k", 4]])),
            (1, "invoke", "list_committed_offsets", json!(["k"])),
            (1, "ok", "list_committed_offsets", json!([["k", 2]])),
            (1, "invoke", "list_committed_offsets", json!(["k"])),
            (1, "ok", "list_committed_offsets", json!([])),
        ]);
        assert_eq!(
            kinds(&h),
            vec!["committed-offset-regressed", "committed-offset-regressed"]
        );
        // Another consumer committing a lower offset since is last-write-wins.
        let h = history(&[
            (0, "invoke", "commit_offsets", json!([["k", 4]])),
            (0, "ok", "commit_offsets", json!([["k", 4]])),
            (2, "invoke", "commit_offsets", json!([["k", 2]])),
            (2, "ok", "commit_offsets", json!([["k", 2]])),
            (1, "invoke", "list_committed_offsets", json!(["k"])),
            (1, "ok", "list_committed_offsets", json!([["k", 2]])),
        ]);
        assert_eq!(kinds(&h), Vec::<&str>::new());
    }

    #[test]
    fn a_history_without_an_ok_send_or_poll_is_unknown() {
        let h = history(&[
            (0, "invoke", "send", json!(["k", 1])),
            (0, "info", "send", json!(["k", 1])),
        ]);
        assert_eq!(
            Kafka.check(&h, &Budget::default()).verdict,
            Verdict::Unknown
        );
    }
}

//! Eventual consistency of a grow-only set (see the module docs of `eventual`).

use std::collections::{BTreeSet, HashMap};

use crate::evidence::{Accounting, EventualEvidence, SetAccounting, StaleElement};

use super::{secs, some, Judgement};
use crate::history::{History, Op, Outcome, F};
use crate::model::ModelSpec;
use crate::value::Value;
use crate::verdict::Verdict;

/// The elements of a set read: `null` is the empty set; anything but a list is not a
/// set (`None`).
fn elements(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Null => Some(&[]),
        Value::List(l) => Some(l),
        _ => None,
    }
}

/// Judges a set history against its final reads.
pub(crate) fn judge(history: &History, spec: &ModelSpec, finals: &[&Op]) -> Judgement {
    let initial: BTreeSet<&Value> = elements(&spec.initial).unwrap_or(&[]).iter().collect();
    // When each element's first ok add completed; which elements some ok/info add tried.
    let mut acked: HashMap<&Value, u64> = HashMap::new();
    let mut attempted: BTreeSet<&Value> = BTreeSet::new();
    for o in history.ops.iter().filter(|o| o.f == F::Add) {
        match o.outcome {
            Outcome::Ok => {
                attempted.insert(&o.value);
                let t = o.complete_time.unwrap_or(o.invoke_time);
                let e = acked.entry(&o.value).or_insert(t);
                *e = (*e).min(t);
            }
            Outcome::Info => {
                attempted.insert(&o.value);
            }
            Outcome::Fail => {}
        }
    }
    let mut reads: Vec<(&Op, &[Value])> = Vec::new();
    let mut malformed: Vec<&Op> = Vec::new();
    for r in history
        .ops
        .iter()
        .filter(|o| o.f == F::Read && o.outcome == Outcome::Ok)
    {
        match elements(&r.value) {
            Some(l) => reads.push((r, l)),
            None => malformed.push(r),
        }
    }
    reads.sort_by_key(|(r, _)| r.invoke_time);
    let mut seen: BTreeSet<&Value> = BTreeSet::new();
    let mut unexpected: BTreeSet<&Value> = BTreeSet::new();
    let mut duplicated: BTreeSet<&Value> = BTreeSet::new();
    // For each acknowledged element, the positions (in `reads`) of the reads showing it.
    let mut shown_in: HashMap<&Value, Vec<u32>> = HashMap::new();
    for (i, (_, l)) in reads.iter().enumerate() {
        let mut in_read: HashMap<&Value, u32> = HashMap::with_capacity(l.len());
        for e in l.iter() {
            seen.insert(e);
            *in_read.entry(e).or_default() += 1;
            if !attempted.contains(e) && !initial.contains(e) {
                unexpected.insert(e);
            }
        }
        for (e, n) in in_read {
            if n > 1 {
                duplicated.insert(e);
            }
            if acked.contains_key(e) {
                shown_in.entry(e).or_default().push(i as u32);
            }
        }
    }
    let final_sets: Vec<BTreeSet<&Value>> = finals
        .iter()
        .map(|r| elements(&r.value).unwrap_or(&[]).iter().collect())
        .collect();
    let mut acked_sorted: Vec<(&Value, u64)> = acked.iter().map(|(&e, &t)| (e, t)).collect();
    acked_sorted.sort();
    let lost: Vec<&Value> = acked_sorted
        .iter()
        .map(|&(e, _)| e)
        .filter(|e| final_sets.iter().any(|s| !s.contains(e)))
        .collect();
    let lost_set: BTreeSet<&Value> = lost.iter().copied().collect();
    let never_read: Vec<&Value> = attempted
        .iter()
        .copied()
        .filter(|e| !seen.contains(e))
        .collect();
    let missed = Misses::new(&reads);
    let mut stale: Vec<(&Value, u64)> = Vec::new();
    for &(e, ack) in &acked_sorted {
        if lost_set.contains(e) {
            continue;
        }
        let shown = shown_in.get(e).map_or(&[][..], Vec::as_slice);
        if let Some(t) = missed.last_miss(ack, shown) {
            stale.push((e, t.saturating_sub(ack)));
        }
    }
    let stable = acked.len() - lost.len() - stale.len();
    let bad = !(lost.is_empty() && unexpected.is_empty() && duplicated.is_empty());
    let verdict = if bad {
        Verdict::Invalid
    } else if !malformed.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    let summary = match verdict {
        Verdict::Valid => {
            let mut s = format!(
                "eventually consistent: all {} acknowledged adds are in the {} final reads",
                acked.len(),
                finals.len()
            );
            if let Some(max) = stale.iter().map(|&(_, d)| d).max() {
                s.push_str(&format!(
                    "; {} were stale for a while (longest {})",
                    stale.len(),
                    secs(max)
                ));
            }
            s
        }
        Verdict::Unknown => format!(
            "unknown: {} reads returned something that is not a set (first: {} by process {}), so the elements cannot be accounted for",
            malformed.len(),
            malformed[0].value,
            malformed[0].process
        ),
        Verdict::Invalid => {
            let mut parts = Vec::new();
            if !lost.is_empty() {
                let first = lost.iter().filter_map(|e| acked.get(e)).min().copied();
                parts.push(format!(
                    "lost {} acknowledged adds: {} (first acknowledged at {})",
                    lost.len(),
                    some(&lost),
                    secs(first.unwrap_or(0))
                ));
            }
            if !unexpected.is_empty() {
                parts.push(format!(
                    "{} unexpected elements never added: {}",
                    unexpected.len(),
                    some(&unexpected.iter().collect::<Vec<_>>())
                ));
            }
            if !duplicated.is_empty() {
                parts.push(format!(
                    "{} elements duplicated within a read: {}",
                    duplicated.len(),
                    some(&duplicated.iter().collect::<Vec<_>>())
                ));
            }
            format!("not eventually consistent: {}", parts.join("; "))
        }
    };
    let j = |v: &[&Value]| v.iter().map(|e| e.to_json()).collect::<Vec<_>>();
    Judgement {
        verdict,
        summary,
        evidence: EventualEvidence {
            final_reads: finals.len(),
            accounting: Accounting::Set {
                elements: SetAccounting {
                    lost: j(&lost),
                    stale: stale
                        .iter()
                        .map(|(e, d)| StaleElement {
                            element: e.to_json(),
                            ms: *d as f64 / 1e6,
                        })
                        .collect(),
                    never_read: j(&never_read),
                    unexpected: j(&unexpected.into_iter().collect::<Vec<_>>()),
                    duplicated: j(&duplicated.into_iter().collect::<Vec<_>>()),
                    stable,
                    acknowledged: acked.len(),
                },
                malformed_reads: malformed.len(),
            },
        },
    }
}

/// Answers "when did the last read that missed this element complete?" in time
/// proportional to the number of reads showing it: reads are in invoke order, and a
/// sparse table gives the latest completion over any run of consecutive reads.
struct Misses {
    /// Invoke time of each read, ascending.
    invoked: Vec<u64>,
    /// `table[k][i]`: the latest completion among reads `i .. i + 2^k`.
    table: Vec<Vec<u64>>,
}

impl Misses {
    fn new(reads: &[(&Op, &[Value])]) -> Misses {
        let invoked = reads.iter().map(|(r, _)| r.invoke_time).collect();
        let mut table = vec![reads
            .iter()
            .map(|(r, _)| r.complete_time.unwrap_or(r.invoke_time))
            .collect::<Vec<u64>>()];
        let mut width = 1;
        while 2 * width <= reads.len() {
            let prev = &table[table.len() - 1];
            let next = (0..=reads.len() - 2 * width)
                .map(|i| prev[i].max(prev[i + width]))
                .collect();
            table.push(next);
            width *= 2;
        }
        Misses { invoked, table }
    }

    /// The latest completion among reads `from .. to` (non-empty).
    fn latest(&self, from: usize, to: usize) -> u64 {
        let k = (usize::BITS - 1 - (to - from).leading_zeros()) as usize;
        self.table[k][from].max(self.table[k][to - (1 << k)])
    }

    /// The completion time of the latest-completing read invoked after `ack` that is
    /// not among `shown` (ascending read positions), if any.
    fn last_miss(&self, ack: u64, shown: &[u32]) -> Option<u64> {
        let start = self.invoked.partition_point(|&t| t <= ack);
        let mut best: Option<u64> = None;
        let mut from = start;
        for p in shown.iter().map(|&p| p as usize).filter(|&p| p >= start) {
            if p > from {
                best = best.max(Some(self.latest(from, p)));
            }
            from = p + 1;
        }
        if from < self.invoked.len() {
            best = best.max(Some(self.latest(from, self.invoked.len())));
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_op;

    #[test]
    fn the_last_miss_matches_a_scan_of_every_read() {
        let mut seed = 7u64;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..50 {
            let n = 1 + next(40) as usize;
            let mut ops = Vec::new();
            let mut t = 0;
            for _ in 0..n {
                t += next(10);
                let mut op = test_op(F::Read, Value::Null);
                op.invoke_time = t;
                op.complete_time = Some(t + next(30));
                ops.push(op);
            }
            let lists: Vec<Vec<Value>> = (0..n)
                .map(|_| (0..3).filter(|_| next(2) == 0).map(Value::Int).collect())
                .collect();
            let reads: Vec<(&Op, &[Value])> = ops
                .iter()
                .zip(&lists)
                .map(|(o, l)| (o, l.as_slice()))
                .collect();
            let misses = Misses::new(&reads);
            for e in 0..3 {
                let v = Value::Int(e);
                let shown: Vec<u32> = (0..n as u32)
                    .filter(|&i| lists[i as usize].contains(&v))
                    .collect();
                let ack = next(t + 1);
                let want = reads
                    .iter()
                    .filter(|(r, l)| r.invoke_time > ack && !l.contains(&v))
                    .filter_map(|(r, _)| r.complete_time)
                    .max();
                assert_eq!(misses.last_miss(ack, &shown), want);
            }
        }
    }
}

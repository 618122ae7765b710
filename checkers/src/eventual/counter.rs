//! Eventual consistency of a counter (see the module docs of `eventual`).

use crate::evidence::{Accounting, BadRead, CounterAccounting, EventualEvidence};

use super::{some, Judgement};
use crate::history::{History, Op, Outcome, F};
use crate::model::ModelSpec;
use crate::value::Value;
use crate::verdict::Verdict;

/// Most indeterminate deltas whose subset sums are enumerated one by one when the
/// range of sums is too wide for the bitset.
const ENUMERATE_INFO: usize = 20;

/// Widest range of subset sums (in integers) the bitset covers.
const BITSET_WIDTH: u64 = 1 << 26;

/// Most word operations the bitset pass may cost (deltas × words).
const BITSET_WORK: u64 = 400_000_000;

/// Which totals the indeterminate deltas allow.
enum Possible {
    /// Exactly these subset sums: bit `j` of the bitset is the sum `lo + j`.
    Bits { lo: i64, bits: Vec<u64> },
    /// Exactly these subset sums, sorted.
    List(Vec<i64>),
    /// Only the interval is known (a superset of the possible sums).
    Interval,
}

impl Possible {
    fn new(info: &[i64], lo: i64, hi: i64) -> Possible {
        let width = hi.abs_diff(lo) + 1;
        let words = width.div_ceil(64);
        if width <= BITSET_WIDTH && words.saturating_mul(info.len() as u64) <= BITSET_WORK {
            let mut bits = vec![0u64; words as usize];
            let zero = lo.unsigned_abs();
            bits[(zero / 64) as usize] |= 1 << (zero % 64);
            for &d in info {
                if d >= 0 {
                    or_shifted_up(&mut bits, d as u64);
                } else {
                    or_shifted_down(&mut bits, d.unsigned_abs());
                }
            }
            Possible::Bits { lo, bits }
        } else if info.len() <= ENUMERATE_INFO {
            let mut sums = vec![0i64];
            for &d in info {
                let more: Vec<i64> = sums.iter().map(|s| s.saturating_add(d)).collect();
                sums.extend(more);
                sums.sort_unstable();
                sums.dedup();
            }
            Possible::List(sums)
        } else {
            Possible::Interval
        }
    }

    /// Whether some subset of the indeterminate deltas sums to `s` (for
    /// [`Possible::Interval`]: whether `s` lies in `lo..=hi`).
    fn allows(&self, s: i64, lo: i64, hi: i64) -> bool {
        match self {
            Possible::Bits { lo, bits } => {
                let Some(j) = s.checked_sub(*lo).filter(|j| *j >= 0) else {
                    return false;
                };
                let j = j as u64;
                bits.get((j / 64) as usize)
                    .is_some_and(|w| w & (1 << (j % 64)) != 0)
            }
            Possible::List(sums) => sums.binary_search(&s).is_ok(),
            Possible::Interval => (lo..=hi).contains(&s),
        }
    }

    fn exact(&self) -> bool {
        !matches!(self, Possible::Interval)
    }
}

/// `bits |= bits << d` (towards higher sums).
fn or_shifted_up(bits: &mut [u64], d: u64) {
    let (w, b) = ((d / 64) as usize, (d % 64) as u32);
    for i in (0..bits.len()).rev() {
        let mut v = 0;
        if i >= w {
            v = bits[i - w] << b;
            if b > 0 && i > w {
                v |= bits[i - w - 1] >> (64 - b);
            }
        }
        bits[i] |= v;
    }
}

/// `bits |= bits >> d` (towards lower sums).
fn or_shifted_down(bits: &mut [u64], d: u64) {
    let (w, b) = ((d / 64) as usize, (d % 64) as u32);
    let n = bits.len();
    for i in 0..n {
        let mut v = 0;
        if i + w < n {
            v = bits[i + w] >> b;
            if b > 0 && i + w + 1 < n {
                v |= bits[i + w + 1] << (64 - b);
            }
        }
        bits[i] |= v;
    }
}

/// Judges a counter history against its final reads.
pub(crate) fn judge(history: &History, spec: &ModelSpec, finals: &[&Op]) -> Judgement {
    let base = match &spec.initial {
        Value::Null => 0,
        Value::Int(i) => *i,
        other => {
            return Judgement {
                verdict: Verdict::Unknown,
                summary: format!("unknown: the initial value {other} is not an integer, so a counter cannot start there"),
                evidence: EventualEvidence {
                    final_reads: finals.len(),
                    accounting: Accounting::Nothing,
                },
            }
        }
    };
    let mut ok_sum: i64 = base;
    let mut info: Vec<i64> = Vec::new();
    for o in history
        .ops
        .iter()
        .filter(|o| o.f == F::Add && o.outcome != Outcome::Fail)
    {
        let Some(d) = o.value.as_int() else {
            return Judgement {
                verdict: Verdict::Unknown,
                summary: format!(
                    "unknown: process {} added {}, which is not an integer delta",
                    o.process, o.value
                ),
                evidence: EventualEvidence {
                    final_reads: finals.len(),
                    accounting: Accounting::Nothing,
                },
            };
        };
        match o.outcome {
            Outcome::Ok => ok_sum = ok_sum.saturating_add(d),
            _ => info.push(d),
        }
    }
    let neg: i64 = info
        .iter()
        .filter(|d| **d < 0)
        .fold(0, |a, d| a.saturating_add(*d));
    let pos: i64 = info
        .iter()
        .filter(|d| **d > 0)
        .fold(0, |a, d| a.saturating_add(*d));
    let possible = Possible::new(&info, neg, pos);
    let (lo, hi) = (ok_sum.saturating_add(neg), ok_sum.saturating_add(pos));
    let bad: Vec<(Value, String)> = finals
        .iter()
        .filter(|r| {
            !r.value
                .as_int()
                .is_some_and(|v| possible.allows(v.saturating_sub(ok_sum), neg, pos))
        })
        .map(|r| {
            let who = r
                .node
                .as_deref()
                .map_or_else(|| format!("process {}", r.process), str::to_string);
            (r.value.clone(), who)
        })
        .collect();
    let verdict = if bad.is_empty() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    };
    let range = if info.is_empty() {
        format!("{ok_sum}, the sum of the acknowledged adds")
    } else {
        format!(
            "{ok_sum} (acknowledged) plus some of the {} indeterminate adds: between {lo} and {hi}{}",
            info.len(),
            if possible.exact() { "" } else { " (checked as an interval only)" }
        )
    };
    let summary = if bad.is_empty() {
        format!(
            "eventually consistent: all {} final reads are possible totals ({range})",
            finals.len()
        )
    } else {
        let shown: Vec<String> = bad.iter().map(|(v, n)| format!("{v} from {n}")).collect();
        format!(
            "not eventually consistent: final reads {} are not possible totals; expected {range}",
            some(&shown)
        )
    };
    Judgement {
        verdict,
        summary,
        evidence: EventualEvidence {
            final_reads: finals.len(),
            accounting: Accounting::Counter {
                counter: CounterAccounting {
                    initial: base,
                    ok_sum,
                    info_deltas: info.clone(),
                    lower: lo,
                    upper: hi,
                    exact: possible.exact(),
                    bad_reads: bad
                        .iter()
                        .map(|(v, n)| BadRead {
                            value: v.to_json(),
                            from: n.clone(),
                        })
                        .collect(),
                },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subset sum, by brute force.
    fn brute(info: &[i64]) -> Vec<i64> {
        let mut sums: Vec<i64> = (0..1u32 << info.len())
            .map(|m| {
                (0..info.len())
                    .filter(|i| m & (1 << i) != 0)
                    .map(|i| info[i])
                    .sum()
            })
            .collect();
        sums.sort_unstable();
        sums.dedup();
        sums
    }

    #[test]
    fn the_bitset_holds_exactly_the_subset_sums() {
        let cases: [&[i64]; 5] = [
            &[],
            &[5, -2, 10],
            &[64, -64, 1, 63, -130],
            &[3, 3, 3, -7, 200, -1],
            &[100, 27, -65, -129, 1],
        ];
        for info in cases {
            let neg: i64 = info.iter().filter(|d| **d < 0).sum();
            let pos: i64 = info.iter().filter(|d| **d > 0).sum();
            let p = Possible::new(info, neg, pos);
            assert!(matches!(p, Possible::Bits { .. }));
            let want = brute(info);
            for s in neg - 3..=pos + 3 {
                assert_eq!(p.allows(s, neg, pos), want.contains(&s), "{info:?} sum {s}");
            }
        }
    }

    #[test]
    fn too_wide_a_range_falls_back_to_enumeration_then_the_interval() {
        let wide = [1i64 << 40, -(1 << 41), 3];
        let p = Possible::new(&wide, -(1 << 41), (1 << 40) + 3);
        assert!(matches!(p, Possible::List(_)));
        assert!(p.allows(3 - (1 << 41), 0, 0));
        assert!(!p.allows(4, 0, 0));
        let many: Vec<i64> = (0..30).map(|i| (1i64 << 35) + i).collect();
        let p = Possible::new(&many, 0, many.iter().sum());
        assert!(!p.exact());
    }
}

//! The lattice of the non-transactional models, and the one-line answer of
//! `--consistency all`: the strongest models that held, and the ones that broke.
//!
//! An arrow `a -> b` means every history `a` accepts, `b` accepts too (with the
//! definitions of this crate):
//!
//! ```text
//! linearizable -> sequential -> causal-memory      -> causal, pram
//!                 sequential -> causal-convergence -> causal, monotonic-reads
//! causal -> read-your-writes, monotonic-writes, writes-follow-reads
//! pram   -> read-your-writes, monotonic-reads, monotonic-writes
//! eventual: alongside (a property of the end of the run, not of each read)
//! ```
//!
//! CC does not imply monotonic reads (each read of CC may order its causal past on its
//! own), and PRAM does not imply writes-follow-reads; CM and CCv are incomparable.
//!
//! [`spectrum`] is pure: it takes the results of `all` and returns typed data (each
//! model's node, its verdict and whether it is among the strongest that held, the
//! edges) for a picture, and [`Spectrum::line`] gives the one-line answer.

use serde::Serialize;

use crate::consistency::Consistency;
use crate::verdict::{CheckResult, Verdict};
use Consistency::*;

/// The arrows of the lattice, stronger first.
pub const IMPLIES: [(Consistency, Consistency); 13] = [
    (Linearizable, Sequential),
    (Sequential, CausalMemory),
    (Sequential, CausalConvergence),
    (CausalMemory, Causal),
    (CausalMemory, Pram),
    (CausalConvergence, Causal),
    (CausalConvergence, MonotonicReads),
    (Causal, ReadYourWrites),
    (Causal, MonotonicWrites),
    (Causal, WritesFollowReads),
    (Pram, ReadYourWrites),
    (Pram, MonotonicReads),
    (Pram, MonotonicWrites),
];

/// Whether `a` implies `b` (reflexive, transitive).
pub fn implies(a: Consistency, b: Consistency) -> bool {
    a == b || IMPLIES.iter().any(|&(x, y)| x == a && implies(y, b))
}

/// One model in the picture.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Node {
    /// The model.
    pub model: Consistency,
    /// Its verdict.
    pub verdict: Verdict,
    /// Held, and no stronger checked model held.
    pub strongest: bool,
    /// A few words on why it broke (or was not decided).
    pub brief: String,
}

/// Every checked model's verdict, placed in the lattice.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spectrum {
    /// The checked models, in the order of [`Consistency::EVERY`].
    pub nodes: Vec<Node>,
    /// The lattice's arrows between checked models (stronger, weaker).
    pub edges: Vec<(Consistency, Consistency)>,
}

/// A few words for a result: its evidence's `brief` if it has one, else the start of
/// its summary.
fn brief(r: &CheckResult) -> String {
    if let Some(b) = r.evidence.get("brief").and_then(|b| b.as_str()) {
        return b.to_string();
    }
    let cycle = r.evidence["components"][0]["window"]["saturation"]["length"].as_u64();
    if let Some(n) = cycle {
        return format!("cycle of {n} ops");
    }
    // The clause after the summary's first ": " or "; " (a value's own `:`, as in
    // `{"siblings":[5,4]}`, has no space after it and is no separator).
    let sep = |s: &str| [": ", "; "].iter().filter_map(|p| s.find(p)).min();
    let rest = sep(&r.summary).map_or(r.summary.as_str(), |i| &r.summary[i + 2..]);
    let s = sep(rest).map_or(rest, |j| &rest[..j]).trim();
    let mut words: Vec<&str> = s.split_whitespace().take(6).collect();
    if words.is_empty() {
        words.push(r.verdict.as_str());
    }
    words.join(" ")
}

/// Places `results` (one per model; later results of a model are ignored, as are
/// transactional models and names this crate does not know) in the lattice.
pub fn spectrum(results: &[CheckResult]) -> Spectrum {
    let mut found: Vec<(Consistency, Verdict, String)> = Vec::new();
    for r in results {
        let Ok(model) = r.checker.parse::<Consistency>() else {
            continue;
        };
        if model.is_transactional() || found.iter().any(|f| f.0 == model) {
            continue;
        }
        found.push((model, r.verdict, brief(r)));
    }
    found.sort_by_key(|f| f.0);
    let held = |m: Consistency| found.iter().any(|f| f.0 == m && f.1 == Verdict::Valid);
    let nodes = found
        .iter()
        .map(|(m, v, b)| Node {
            model: *m,
            verdict: *v,
            strongest: *v == Verdict::Valid
                && !found
                    .iter()
                    .any(|f| f.0 != *m && implies(f.0, *m) && held(f.0)),
            brief: b.clone(),
        })
        .collect();
    let edges = IMPLIES
        .iter()
        .copied()
        .filter(|(a, b)| found.iter().any(|f| f.0 == *a) && found.iter().any(|f| f.0 == *b))
        .collect();
    Spectrum { nodes, edges }
}

impl Spectrum {
    /// "held: causal-convergence, read-your-writes; broke: sequential (CyclicCO),
    /// linearizable (k3); unknown: ..." — the strongest models that held, then every
    /// model that broke, strongest first, then the undecided.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        let held: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| n.strongest)
            .map(|n| n.model.as_str())
            .collect();
        parts.push(if held.is_empty() {
            "held: none".to_string()
        } else {
            format!("held: {}", held.join(", "))
        });
        for (verdict, label) in [(Verdict::Invalid, "broke"), (Verdict::Unknown, "unknown")] {
            let list: Vec<String> = self
                .nodes
                .iter()
                .filter(|n| n.verdict == verdict)
                .map(|n| format!("{} ({})", n.model.as_str(), n.brief))
                .collect();
            if !list.is_empty() {
                parts.push(format!("{label}: {}", list.join(", ")));
            }
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(model: Consistency, verdict: Verdict, brief: &str) -> CheckResult {
        CheckResult {
            checker: model.as_str().into(),
            model: "kv".into(),
            verdict,
            summary: format!("not {model}: {brief}"),
            evidence: serde_json::json!({ "brief": brief }),
        }
    }

    #[test]
    fn the_strongest_models_that_held_are_named_and_weaker_ones_are_not() {
        let s = spectrum(&[
            result(Linearizable, Verdict::Invalid, "k3"),
            result(Sequential, Verdict::Invalid, "cycle of 4 ops"),
            result(CausalConvergence, Verdict::Valid, "valid"),
            result(Causal, Verdict::Valid, "valid"),
            result(Pram, Verdict::Invalid, "no view for p2"),
            result(ReadYourWrites, Verdict::Valid, "valid"),
            result(MonotonicReads, Verdict::Valid, "valid"),
        ]);
        assert_eq!(
            s.line(),
            "held: causal-convergence; broke: linearizable (k3), \
             sequential (cycle of 4 ops), pram (no view for p2)"
        );
        assert!(s.edges.contains(&(CausalConvergence, Causal)));
    }

    #[test]
    fn implication_is_transitive_and_eventual_stands_alone() {
        assert!(implies(Linearizable, WritesFollowReads));
        assert!(implies(Sequential, MonotonicReads));
        assert!(!implies(Causal, MonotonicReads));
        assert!(!implies(Pram, WritesFollowReads));
        assert!(!implies(Linearizable, Eventual));
    }

    #[test]
    fn a_brief_from_the_summary_keeps_a_value_with_colons_whole() {
        let r = CheckResult {
            checker: "sequential".into(),
            model: "register".into(),
            verdict: Verdict::Invalid,
            summary: r#"not sequentially consistent: process 2 read k1 = {"siblings":[5,4]}; no write set it"#.into(),
            evidence: serde_json::Value::Null,
        };
        assert_eq!(brief(&r), r#"process 2 read k1 = {"siblings":[5,4]}"#);
    }

    #[test]
    fn nothing_held_says_none() {
        let s = spectrum(&[result(Sequential, Verdict::Unknown, "budget")]);
        assert_eq!(s.line(), "held: none; unknown: sequential (budget)");
    }
}

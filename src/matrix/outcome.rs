//! What one cell's run showed, in the matrix's terms: the strongest models that held
//! (from the consistency lattice: `checkers::lattice` for single-object histories, the
//! transactional checker's own lattice for transactions), the models just above them
//! that broke and the anomaly that broke each, and how strong the strongest is (the
//! cell's colour).

use checkers::{CheckResult, Consistency, Verdict};
use serde::{Deserialize, Serialize};

/// A model that broke, and a few words on what broke it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Broken {
    /// The model.
    pub model: String,
    /// What broke it (the checker's brief, or the anomalies found).
    pub why: String,
}

/// The models a run's checkers decided, placed in the lattice.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The run's verdict (the worst of its checkers).
    pub verdict: Option<Verdict>,
    /// The strongest models that held (none stronger held).
    pub held: Vec<String>,
    /// The weakest models that broke (every weaker checked model held): the next
    /// models up from [`Outcome::held`], each with what broke it.
    pub broke_next: Vec<Broken>,
    /// Every model that broke, strongest first.
    pub broke: Vec<String>,
    /// The models left undecided.
    pub unknown: Vec<String>,
    /// The eventual checker's verdict, where it ran (it stands beside the lattice).
    pub eventual: Option<Verdict>,
    /// 0 (nothing held) to 5 (the strongest model of its family held).
    pub strength: u8,
}

impl Outcome {
    /// Every checked model decided (none `unknown`).
    pub fn decided(&self) -> bool {
        self.unknown.is_empty() && self.verdict.is_some()
    }
}

/// How strong a model is, 1 (weakest) to 5 (strongest of its family): the colour
/// scale of the matrix.
pub fn strength(model: Consistency) -> u8 {
    use Consistency::*;
    match model {
        Linearizable | StrictSerializable => 5,
        Sequential | Serializable | StrongSessionSerializable => 4,
        CausalMemory
        | CausalConvergence
        | SnapshotIsolation
        | StrongSessionSnapshotIsolation
        | RepeatableRead => 3,
        Causal | Pram | ConsistentView | ReadAtomic | MonotonicAtomicView => 2,
        _ => 1,
    }
}

/// The outcome of a run whose checkers returned `results` with overall `verdict`.
pub fn outcome(verdict: Verdict, results: &[CheckResult]) -> Outcome {
    let mut o = Outcome {
        verdict: Some(verdict),
        ..Outcome::default()
    };
    let model = |r: &CheckResult| r.checker.parse::<Consistency>().ok();
    o.eventual = results
        .iter()
        .find(|r| model(r) == Some(Consistency::Eventual))
        .map(|r| r.verdict);
    let txn: Vec<&CheckResult> = results
        .iter()
        .filter(|r| model(r).is_some_and(|c| c.is_transactional()))
        .collect();
    if txn.is_empty() {
        single_object(&mut o, results);
    } else {
        transactional(&mut o, &txn);
    }
    o.strength = o
        .held
        .iter()
        .filter_map(|m| m.parse().ok())
        .map(strength)
        .max()
        .unwrap_or(0);
    o
}

/// Fills `o` from the non-transactional lattice.
fn single_object(o: &mut Outcome, results: &[CheckResult]) {
    let s = checkers::lattice::spectrum(results);
    let weaker_broke = |m: Consistency| {
        s.nodes.iter().any(|n| {
            n.model != m && n.verdict == Verdict::Invalid && checkers::lattice::implies(m, n.model)
        })
    };
    for n in &s.nodes {
        if n.model == Consistency::Eventual {
            continue;
        }
        match n.verdict {
            Verdict::Valid if n.strongest => o.held.push(n.model.as_str().into()),
            Verdict::Valid => {}
            Verdict::Invalid => {
                o.broke.push(n.model.as_str().into());
                if !weaker_broke(n.model) {
                    o.broke_next.push(Broken {
                        model: n.model.as_str().into(),
                        why: n.brief.clone(),
                    });
                }
            }
            Verdict::Unknown => o.unknown.push(n.model.as_str().into()),
        }
    }
    if o.eventual == Some(Verdict::Unknown) {
        o.unknown.push(Consistency::Eventual.as_str().into());
    }
}

/// Fills `o` from the transactional checker's lattice (every transactional result
/// carries the same boundary in its evidence: the strongest models consistent, the
/// weakest ruled out, and the anomalies found).
fn transactional(o: &mut Outcome, txn: &[&CheckResult]) {
    let names = |r: &CheckResult, field: &str| -> Vec<String> {
        r.evidence[field]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = txn[0];
    o.held = names(first, "strongest_consistent");
    let anomalies: Vec<String> = first.evidence["anomaly_counts"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(a, n)| format!("{a} ({})", n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    for model in names(first, "not") {
        o.broke_next.push(Broken {
            model,
            why: anomalies.join(", "),
        });
    }
    for r in txn {
        match r.verdict {
            Verdict::Invalid => o.broke.push(r.checker.clone()),
            Verdict::Unknown => o.unknown.push(r.checker.clone()),
            Verdict::Valid => {}
        }
    }
    // A model checked and not ruled out but left undecided does not count as held.
    o.held.retain(|m| !o.unknown.contains(m));
    let rank = |m: &String| m.parse::<Consistency>().map(strength).unwrap_or(0);
    o.broke.sort_by_key(|m| std::cmp::Reverse(rank(m)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use Consistency::*;

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
    fn the_strongest_held_and_the_next_models_up_that_broke_are_named() {
        let o = outcome(
            Verdict::Invalid,
            &[
                result(Linearizable, Verdict::Invalid, "k3 read 5"),
                result(Sequential, Verdict::Invalid, "cycle of 4 ops"),
                result(CausalConvergence, Verdict::Valid, ""),
                result(CausalMemory, Verdict::Invalid, "WriteCORead"),
                result(Causal, Verdict::Valid, ""),
                result(Pram, Verdict::Valid, ""),
                result(Eventual, Verdict::Valid, ""),
            ],
        );
        assert_eq!(o.held, vec!["causal-convergence", "pram"]);
        // sequential broke, but so did causal-memory below it: only the latter is "next".
        assert_eq!(
            o.broke_next,
            vec![Broken {
                model: "causal-memory".into(),
                why: "WriteCORead".into()
            }]
        );
        assert_eq!(o.broke, vec!["linearizable", "sequential", "causal-memory"]);
        assert_eq!(o.eventual, Some(Verdict::Valid));
        assert_eq!(o.strength, 3);
        assert!(o.decided());
    }

    #[test]
    fn an_undecided_model_leaves_the_cell_undecided() {
        let o = outcome(
            Verdict::Unknown,
            &[
                result(Sequential, Verdict::Unknown, "budget"),
                result(Causal, Verdict::Valid, ""),
            ],
        );
        assert_eq!(o.held, vec!["causal"]);
        assert_eq!(o.unknown, vec!["sequential"]);
        assert!(!o.decided());
    }

    #[test]
    fn a_transactional_cell_takes_the_txn_lattice_boundary() {
        let ev = serde_json::json!({
            "strongest_consistent": ["read-committed"],
            "not": ["read-atomic"],
            "anomaly_counts": {"G1c": 2}
        });
        let r = |c: Consistency, v: Verdict| CheckResult {
            checker: c.as_str().into(),
            model: "list-append".into(),
            verdict: v,
            summary: String::new(),
            evidence: ev.clone(),
        };
        let o = outcome(
            Verdict::Invalid,
            &[
                r(ReadCommitted, Verdict::Valid),
                r(Serializable, Verdict::Invalid),
                r(ReadAtomic, Verdict::Invalid),
            ],
        );
        assert_eq!(o.held, vec!["read-committed"]);
        assert_eq!(o.broke, vec!["serializable", "read-atomic"]);
        assert_eq!(o.broke_next[0].why, "G1c (2)");
        assert_eq!(o.strength, 1);
    }
}

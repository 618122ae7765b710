//! The checker factory: which checker decides a [`Consistency`] for a model, and the
//! one place where a request (`--consistency M` or `all`) becomes checkers and their
//! results become one verdict. `faultline check` and `faultline run` both use it.
//!
//! A model this build cannot decide yet gives an `unknown` result that says so
//! ([`not_checked`]), never a silent pass.

use crate::consistency::{Consistency, ConsistencyRequest};
use crate::history::History;
use crate::model::ModelSpec;
use crate::verdict::{Budget, CheckResult, Checker, Verdict};

/// The checker that decides `consistency` for histories of `spec`'s model, or `None`
/// when this build has none.
pub fn checker_for(consistency: Consistency, spec: &ModelSpec) -> Option<Box<dyn Checker>> {
    // Maelstrom's unique-ids, kafka and echo: their own invariants, asked for as
    // linearizable (what a correct implementation of each would be).
    match (spec.kind, consistency) {
        (crate::model::ModelKind::UniqueIds, Consistency::Linearizable) => {
            return Some(Box::new(crate::unique_ids::UniqueIds))
        }
        (crate::model::ModelKind::Kafka, Consistency::Linearizable) => {
            return Some(Box::new(crate::kafka::Kafka))
        }
        (crate::model::ModelKind::Echo, Consistency::Linearizable) => {
            return Some(Box::new(crate::echo::Echo))
        }
        (
            crate::model::ModelKind::UniqueIds
            | crate::model::ModelKind::Kafka
            | crate::model::ModelKind::Echo,
            _,
        ) => return None,
        _ => {}
    }
    if let Some(model) = crate::txn::data_model(spec.kind) {
        return consistency.is_transactional().then(|| {
            Box::new(crate::txn::TxnChecker {
                consistency,
                model,
                orders: crate::txn::RegisterOrders::default(),
            }) as Box<dyn Checker>
        });
    }
    let spec = spec.clone();
    match consistency {
        Consistency::Linearizable => Some(Box::new(crate::linearizable::Linearizable { spec })),
        Consistency::Sequential => Some(Box::new(crate::sequential::Sequential { spec })),
        Consistency::Eventual => Some(Box::new(crate::eventual::Eventual { spec })),
        c => causal_or_session(c, spec),
    }
}

/// The checkers of [`crate::causal`] and [`crate::session`], for read/write models.
fn causal_or_session(consistency: Consistency, spec: ModelSpec) -> Option<Box<dyn Checker>> {
    use crate::causal::{Causal, CausalModel};
    use crate::session::{Guarantee, Session};
    if !crate::causal::applies_to(spec.kind) {
        return None;
    }
    let causal = |model| {
        Some(Box::new(Causal {
            spec: spec.clone(),
            model,
        }) as Box<dyn Checker>)
    };
    let session = |guarantee| {
        Some(Box::new(Session {
            spec: spec.clone(),
            guarantee,
        }) as Box<dyn Checker>)
    };
    match consistency {
        Consistency::Causal => causal(CausalModel::Causal),
        Consistency::CausalMemory => causal(CausalModel::CausalMemory),
        Consistency::CausalConvergence => causal(CausalModel::CausalConvergence),
        Consistency::Pram => causal(CausalModel::Pram),
        Consistency::ReadYourWrites => session(Guarantee::ReadYourWrites),
        Consistency::MonotonicReads => session(Guarantee::MonotonicReads),
        Consistency::MonotonicWrites => session(Guarantee::MonotonicWrites),
        Consistency::WritesFollowReads => session(Guarantee::WritesFollowReads),
        _ => None,
    }
}

/// The models `all` stands for with `spec`'s model: every model that applies to its
/// histories and that this build can decide, strongest first.
pub fn applicable(spec: &ModelSpec) -> Vec<Consistency> {
    Consistency::EVERY
        .into_iter()
        .filter(|&c| checker_for(c, spec).is_some())
        .collect()
}

/// As [`applicable`], among the models a workload declares apply to its histories
/// (`declared`, e.g. `workloads::declared_models`); `None` declares nothing, and
/// then every model that applies to the data is meant.
pub fn applicable_among(spec: &ModelSpec, declared: Option<&[Consistency]>) -> Vec<Consistency> {
    applicable(spec)
        .into_iter()
        .filter(|c| declared.is_none_or(|d| d.contains(c)))
        .collect()
}

/// The models a list of requests stands for, each once, in request order.
pub fn expand(requests: &[ConsistencyRequest], spec: &ModelSpec) -> Vec<Consistency> {
    expand_among(requests, spec, None)
}

/// As [`expand`], with `all` standing for the models a workload declares
/// ([`applicable_among`]); a model named on its own is kept either way.
pub fn expand_among(
    requests: &[ConsistencyRequest],
    spec: &ModelSpec,
    declared: Option<&[Consistency]>,
) -> Vec<Consistency> {
    let mut out = Vec::new();
    for request in requests {
        let models = match request {
            ConsistencyRequest::One(c) => vec![*c],
            ConsistencyRequest::All => applicable_among(spec, declared),
        };
        for c in models {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The result of a check this build cannot run: `unknown`, saying so.
pub fn not_checked(consistency: Consistency, spec: &ModelSpec) -> CheckResult {
    CheckResult {
        checker: consistency.as_str().to_string(),
        model: spec.kind.as_str().to_string(),
        verdict: Verdict::Unknown,
        summary: format!(
            "not checked: this build has no {} checker for {} histories yet",
            consistency.as_str(),
            spec.kind.as_str()
        ),
        evidence: serde_json::Value::Null,
    }
}

pub use crate::history::NODES_EXITED;

/// How many nodes the history's [`NODES_EXITED`] note says had all exited, if it has one.
pub fn nodes_exited(history: &History) -> Option<usize> {
    let note = history
        .nemesis
        .iter()
        .rfind(|e| e.f.as_str() == NODES_EXITED)?;
    match note.value.get("nodes") {
        Some(crate::Value::Map(nodes)) if !nodes.is_empty() => Some(nodes.len()),
        Some(crate::Value::List(nodes)) if !nodes.is_empty() => Some(nodes.len()),
        _ => None,
    }
}

/// Why `history` allows no decision whatever a checker says of it, if it does not: no
/// client operation completed `ok` ([`no_ok_operation`]), or every node had exited by
/// the end of the run ([`NODES_EXITED`]).
pub fn unjudgeable(history: &History) -> Option<String> {
    let exited = nodes_exited(history).map(|n| match n {
        1 => "the only node had exited".to_string(),
        2 => "both nodes had exited".to_string(),
        n => format!("all {n} nodes had exited"),
    });
    match (no_ok_operation(history), exited) {
        (Some(_), Some(exited)) => Some(format!(
            "no operation succeeded: {exited} — see nodes/*/ ({})",
            op_counts(history)
        )),
        (Some(none), None) => Some(none),
        (None, Some(exited)) => Some(format!("{exited} by the end of the run — see nodes/*/")),
        (None, None) => None,
    }
}

/// Checks `history` for `consistency` within `budget` (or says it cannot). A
/// history that allows no decision ([`unjudgeable`]: no operation succeeded, or every
/// node had exited) is never `valid`: the answer is `unknown`, and the summary says why
/// first, then what the checker said of the ops recorded. An `invalid` answer stays:
/// an anomaly among the ops recorded is one whatever happened after.
pub fn check(
    consistency: Consistency,
    spec: &ModelSpec,
    history: &History,
    budget: &Budget,
) -> CheckResult {
    let mut result = match checker_for(consistency, spec) {
        Some(checker) => checker.check(history, budget),
        None => return not_checked(consistency, spec),
    };
    if result.verdict != Verdict::Invalid {
        if let Some(why) = unjudgeable(history) {
            result.summary = if no_ok_operation(history).is_some() {
                format!("unknown: {why}")
            } else {
                format!("unknown: {why}; of the ops recorded: {}", result.summary)
            };
            result.verdict = Verdict::Unknown;
        }
    }
    result
}

/// "0 ok of 465 ops: 269 failed, 196 indeterminate".
fn op_counts(history: &History) -> String {
    use crate::history::Outcome;
    let count = |o: Outcome| history.ops.iter().filter(|op| op.outcome == o).count();
    format!(
        "{} ok of {} ops: {} failed, {} indeterminate",
        count(Outcome::Ok),
        history.ops.len(),
        count(Outcome::Fail),
        count(Outcome::Info)
    )
}

/// If no client operation completed `ok`, why that leaves nothing to judge.
pub fn no_ok_operation(history: &History) -> Option<String> {
    use crate::history::Outcome;
    if history.ops.iter().any(|o| o.outcome == Outcome::Ok) {
        return None;
    }
    Some(format!(
        "no operation succeeded ({}), so there is nothing to judge",
        op_counts(history)
    ))
}

/// The verdict of several results: the worst of them (valid when there are none).
pub fn overall(results: &[CheckResult]) -> Verdict {
    results
        .iter()
        .fold(Verdict::Valid, |v, r| v.worst(r.verdict))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelKind;

    #[test]
    fn all_expands_to_the_models_this_build_decides_each_once() {
        let spec = ModelSpec::new(ModelKind::Kv);
        let models = expand(
            &[
                ConsistencyRequest::One(Consistency::Linearizable),
                ConsistencyRequest::All,
            ],
            &spec,
        );
        assert_eq!(models[0], Consistency::Linearizable);
        assert!(models.contains(&Consistency::Sequential));
        let mut dedup = models.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), models.len());
    }

    #[test]
    fn a_history_with_no_ok_operation_is_unknown_and_says_why() {
        use crate::history::{Event, EventKind, Process, F};
        use crate::Value;
        let ev = |index, process, kind| Event {
            index,
            time: index,
            process: Process::Client(process),
            kind,
            f: F::Write,
            key: None,
            value: Value::Int(1),
            node: None,
            error: None,
            latency: None,
        };
        let h = History::from_events([
            ev(0, 0, EventKind::Invoke),
            ev(1, 0, EventKind::Fail),
            ev(2, 1, EventKind::Invoke),
            ev(3, 1, EventKind::Info),
        ])
        .unwrap();
        let spec = ModelSpec::new(ModelKind::Register);
        for c in applicable(&spec) {
            let r = check(c, &spec, &h, &Budget::unlimited());
            assert_eq!(r.verdict, Verdict::Unknown, "{c:?}: {}", r.summary);
            assert!(
                r.summary
                    .contains("no operation succeeded (0 ok of 2 ops: 1 failed, 1 indeterminate)"),
                "{}",
                r.summary
            );
        }
    }

    /// Events of a register history: (process or None for the nemesis, kind, f, value).
    fn events(rows: &[(Option<u64>, crate::history::EventKind, &str, crate::Value)]) -> History {
        use crate::history::{Event, Process, F};
        History::from_events(
            rows.iter()
                .enumerate()
                .map(|(i, (p, kind, f, value))| Event {
                    index: i as u64,
                    time: i as u64 * 1000,
                    process: p.map_or(Process::Nemesis, Process::Client),
                    kind: *kind,
                    f: F::parse(f),
                    key: None,
                    value: value.clone(),
                    node: None,
                    error: None,
                    latency: None,
                }),
        )
        .unwrap()
    }

    fn exited_note(nodes: &[&str]) -> crate::Value {
        crate::Value::Map(vec![(
            "nodes".into(),
            crate::Value::Map(
                nodes
                    .iter()
                    .map(|n| ((*n).into(), crate::Value::str("exited with status 1")))
                    .collect(),
            ),
        )])
    }

    #[test]
    fn every_node_exited_makes_a_valid_answer_unknown_and_keeps_what_the_checker_said() {
        use crate::history::EventKind::{Info, Invoke, Ok};
        use crate::Value;
        let spec = ModelSpec::new(ModelKind::Register);
        let rows = vec![
            (Some(0), Invoke, "write", Value::Int(1)),
            (Some(0), Ok, "write", Value::Int(1)),
            (Some(1), Invoke, "read", Value::Null),
            (Some(1), Ok, "read", Value::Int(1)),
        ];
        let mut with_note = rows.clone();
        with_note.push((None, Info, NODES_EXITED, exited_note(&["n1", "n2", "n3"])));
        let alive = check(
            Consistency::Linearizable,
            &spec,
            &events(&rows),
            &Budget::unlimited(),
        );
        assert_eq!(alive.verdict, Verdict::Valid, "{}", alive.summary);
        let h = events(&with_note);
        assert_eq!(nodes_exited(&h), Some(3));
        let r = check(Consistency::Linearizable, &spec, &h, &Budget::unlimited());
        assert_eq!(r.verdict, Verdict::Unknown);
        assert_eq!(
            r.summary,
            format!(
                "unknown: all 3 nodes had exited by the end of the run — see nodes/*/; of the ops recorded: {}",
                alive.summary
            )
        );
    }

    #[test]
    fn every_node_exited_leaves_an_anomaly_invalid() {
        use crate::history::EventKind::{Info, Invoke, Ok};
        use crate::Value;
        let spec = ModelSpec::new(ModelKind::Register);
        let h = events(&[
            (Some(0), Invoke, "write", Value::Int(1)),
            (Some(0), Ok, "write", Value::Int(1)),
            (Some(1), Invoke, "read", Value::Null),
            (Some(1), Ok, "read", Value::Int(7)),
            (None, Info, NODES_EXITED, exited_note(&["n1", "n2"])),
        ]);
        let r = check(Consistency::Linearizable, &spec, &h, &Budget::unlimited());
        assert_eq!(r.verdict, Verdict::Invalid, "{}", r.summary);
        assert!(!r.summary.contains("exited"), "{}", r.summary);
    }

    #[test]
    fn no_ok_operation_with_every_node_exited_says_both_in_one_reason() {
        use crate::history::EventKind::{Fail, Info, Invoke};
        use crate::Value;
        let spec = ModelSpec::new(ModelKind::Register);
        let h = events(&[
            (Some(0), Invoke, "write", Value::Int(1)),
            (Some(0), Fail, "write", Value::Int(1)),
            (Some(1), Invoke, "read", Value::Null),
            (Some(1), Info, "read", Value::Null),
            (None, Info, NODES_EXITED, exited_note(&["n1", "n2", "n3"])),
        ]);
        let why = "no operation succeeded: all 3 nodes had exited — see nodes/*/ \
                   (0 ok of 2 ops: 1 failed, 1 indeterminate)";
        assert_eq!(unjudgeable(&h).as_deref(), Some(why));
        for c in applicable(&spec) {
            let r = check(c, &spec, &h, &Budget::unlimited());
            assert_eq!(r.verdict, Verdict::Unknown, "{c:?}: {}", r.summary);
            assert_eq!(r.summary, format!("unknown: {why}"));
        }
    }

    #[test]
    fn a_note_naming_no_node_changes_nothing() {
        use crate::history::EventKind::{Info, Invoke, Ok};
        use crate::Value;
        let h = events(&[
            (Some(0), Invoke, "write", Value::Int(1)),
            (Some(0), Ok, "write", Value::Int(1)),
            (None, Info, NODES_EXITED, Value::Null),
        ]);
        assert_eq!(nodes_exited(&h), None);
        assert_eq!(unjudgeable(&h), None);
    }

    #[test]
    fn a_model_without_a_checker_is_unknown_and_says_so() {
        let spec = ModelSpec::new(ModelKind::Kv);
        let r = not_checked(Consistency::Serializable, &spec);
        assert_eq!(r.verdict, Verdict::Unknown);
        assert!(r.summary.contains("serializable"), "{}", r.summary);
    }
}

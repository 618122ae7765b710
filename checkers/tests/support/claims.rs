//! The claim checker of tests/explanations.rs: each claim an explanation makes (the
//! op it names, the write it says was read or overwrote, the times) is checked
//! against the history it explains.

use checkers::linearizable::explain::{Explanation, OpRef};
use checkers::{History, Op, Outcome, Value, F};

/// What `op` sets the register to.
fn sets(op: &Op) -> Option<&Value> {
    match op.f {
        F::Write => Some(&op.value),
        F::Cas => op.value.as_list().and_then(|l| l.get(1)),
        _ => None,
    }
}

/// The op `r` names, which must be exactly as the history has it.
fn find<'a>(h: &'a History, r: &OpRef) -> Result<&'a Op, String> {
    let op = h
        .ops
        .iter()
        .find(|o| o.invoke_index == r.index)
        .ok_or(format!("no op invoked at index {}", r.index))?;
    if op.f != r.f || op.value != r.value || op.process != r.process {
        return Err(format!("{r:?} is not the op at {}: {op:?}", r.index));
    }
    if op.invoke_time != r.invoked_ns || op.complete_time != r.completed_ns {
        return Err(format!("{r:?} has the wrong times: {op:?}"));
    }
    Ok(op)
}

/// Whether `a` surely completed before `b` was invoked.
fn before(a: &Op, b: &Op) -> bool {
    a.outcome == Outcome::Ok && a.complete_index.is_some_and(|c| c < b.invoke_index)
}

/// Checks every claim of `e` against `h`.
pub fn verify(h: &History, initial: &Value, e: &Explanation) -> Result<(), String> {
    let op = find(h, e.op())?;
    let observed_by = |o: &Op| match o.f {
        F::Read => Some(o.value.clone()),
        F::Cas => o.value.as_list().and_then(|l| l.first().cloned()),
        _ => None,
    };
    match e {
        Explanation::NoOrder { .. } => Ok(()),
        Explanation::NeverWritten {
            observed,
            initial: said,
            ..
        } => {
            if op.outcome != Outcome::Ok || observed_by(op).as_ref() != Some(observed) {
                return Err(format!("{op:?} did not observe {observed}"));
            }
            if said != initial || initial == observed {
                return Err(format!("the initial value is {initial}, said {said}"));
            }
            match h
                .ops
                .iter()
                .find(|o| o.outcome != Outcome::Fail && sets(o) == Some(observed))
            {
                Some(w) => Err(format!("{w:?} sets {observed}")),
                None => Ok(()),
            }
        }
        Explanation::Overwritten {
            observed,
            written_by,
            overwritten_by,
            others,
            ..
        } => {
            if op.outcome != Outcome::Ok || observed_by(op).as_ref() != Some(observed) {
                return Err(format!("{op:?} did not observe {observed}"));
            }
            let by = find(h, overwritten_by)?;
            if by.outcome != Outcome::Ok || sets(by) == Some(observed) || !before(by, op) {
                return Err(format!("{by:?} does not surely overwrite before {op:?}"));
            }
            let sources: Vec<&Op> = h
                .ops
                .iter()
                .filter(|o| o.outcome != Outcome::Fail && sets(o) == Some(observed))
                .collect();
            match written_by {
                Some(w) => {
                    let w = find(h, w)?;
                    if sets(w) != Some(observed) || !before(w, by) {
                        return Err(format!("{w:?} does not set {observed} before {by:?}"));
                    }
                    if sources.iter().any(|s| s.complete_index > w.complete_index) {
                        return Err(format!("{w:?} is not the latest source of {observed}"));
                    }
                }
                None if initial != observed => {
                    return Err(format!("{observed} is not the initial value {initial}"))
                }
                None if !sources.is_empty() => {
                    return Err(format!("{observed} has sources besides the initial value"))
                }
                None => {}
            }
            let count = sources.len() + usize::from(initial == observed);
            if *others + 1 != count {
                return Err(format!(
                    "{count} sources of {observed}, said {}",
                    others + 1
                ));
            }
            // Every source of the value was overwritten before the op began.
            for s in &sources {
                let overwritten = h.ops.iter().any(|w| {
                    w.outcome == Outcome::Ok
                        && sets(w).is_some_and(|v| v != observed)
                        && before(s, w)
                        && before(w, op)
                });
                if !overwritten {
                    return Err(format!("{s:?} may have set {observed} just before {op:?}"));
                }
            }
            Ok(())
        }
    }
}

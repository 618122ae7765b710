//! The fault schedule as a generator, for the main phase's nemesis slot
//! ([`workloads::generator::on_nemesis`]): [`FaultSchedule`] asks the seeded
//! schedule's [`Timeline`] what to do at the context's time and answers with an
//! operation (a [`FaultOp`]), or `Pending` until the end of a gap or hold, or `Done`;
//! it tells the timeline how each operation ended, so a fault that did not start is
//! never stopped (a later, reactive fault could aim at what it learns the same way).
//!
//! A fault operation is a plain [`OpSpec`], as in Jepsen: `f` is `start-FAULT`,
//! `stop-FAULT` or `strobe-clock`, and the value carries the [`Step`] whole (and, for
//! a strobe, whether the offsets go on), so the client that performs it
//! ([`super::client::FaultClient`]) needs nothing else. These operations are never
//! recorded as such: the nemesis records its `start-`/`stop-` events itself.

use checkers::{Outcome, Value, F};
use nemesis::schedule::{Cue, Timeline};
use nemesis::{Schedule, Step};
use workloads::generator::{Completion, Context, Generator, Next};
use workloads::OpSpec;

/// The schedule of a run's faults, as a generator.
#[derive(Debug)]
pub struct FaultSchedule {
    timeline: Timeline,
}

impl FaultSchedule {
    /// `schedule`'s faults, the first gap counted from when it is first asked.
    pub fn new(schedule: Schedule) -> FaultSchedule {
        FaultSchedule {
            timeline: Timeline::new(schedule),
        }
    }
}

impl Generator for FaultSchedule {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        match self.timeline.next(ctx.time) {
            Cue::Wait(until) => Next::Pending { until },
            Cue::Done => Next::Done,
            cue => FaultOp(cue).to_spec().map_or(Next::Done, Next::Op),
        }
    }

    fn update(&mut self, _ctx: &Context<'_>, completion: &Completion) {
        self.timeline
            .ended(completion.outcome == Outcome::Ok, completion.time);
    }
}

/// A fault operation: a [`Cue`] that does something (a start, a stop, a flip).
#[derive(Clone, Debug, PartialEq)]
pub struct FaultOp(pub Cue);

/// The `f` of a strobing clock's flip.
const STROBE: &str = "strobe-clock";

impl FaultOp {
    /// As an operation; `None` for a cue that does nothing (a wait, the end).
    pub fn to_spec(&self) -> Option<OpSpec> {
        let step_json = |s: &Step| serde_json::to_value(s).ok();
        let (f, value) = match &self.0 {
            Cue::Start(s) => (format!("start-{}", s.fault), step_json(s)?),
            Cue::Stop(s) => (format!("stop-{}", s.fault), step_json(s)?),
            Cue::Strobe { step, on } => (
                STROBE.to_string(),
                serde_json::json!({ "step": step_json(step)?, "on": on }),
            ),
            Cue::Wait(_) | Cue::Done => return None,
        };
        Some(OpSpec {
            f: F::parse(&f),
            key: None,
            value: Value::from_json(&value),
        })
    }

    /// The fault operation `op` is; why not, if it is none.
    pub fn from_spec(op: &OpSpec) -> Result<FaultOp, String> {
        let json = op.value.to_json();
        let step = |v: &serde_json::Value| {
            serde_json::from_value::<Step>(v.clone())
                .map_err(|e| format!("{}: not a fault step ({e}): {v}", op.f.as_str()))
        };
        let f = op.f.as_str();
        let cue = if f == STROBE {
            let on = json["on"]
                .as_bool()
                .ok_or_else(|| format!("{f}: no \"on\" in {json}"))?;
            Cue::Strobe {
                step: step(&json["step"])?,
                on,
            }
        } else if f.starts_with("start-") {
            Cue::Start(step(&json)?)
        } else if f.starts_with("stop-") {
            Cue::Stop(step(&json)?)
        } else {
            return Err(format!("{f} is not a fault operation"));
        };
        Ok(FaultOp(cue))
    }
}

#[cfg(test)]
mod tests {
    use nemesis::{Fault, Plan};
    use workloads::generator::{time_limit, SlotSet};

    use std::time::Duration;

    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn schedule(seed: u64) -> Schedule {
        let nodes = vec!["n1".to_string(), "n2".into(), "n3".into()];
        Schedule::new(
            Plan::new(vec![Fault::Kill, Fault::Partition, Fault::Clock], MS(100)),
            nodes,
            seed,
        )
    }

    /// Runs `gen` alone on one slot on a simulated clock until `horizon`, each
    /// operation taking 5 ms and ending as `outcome` says: the operations with the
    /// times they were given.
    fn drive(
        gen: &mut dyn Generator,
        horizon: Duration,
        mut outcome: impl FnMut(&FaultOp) -> Outcome,
    ) -> Vec<(Duration, FaultOp)> {
        let serving = SlotSet::one(0);
        let mut now = Duration::ZERO;
        let mut out = Vec::new();
        while now < horizon {
            let free = SlotSet::one(0);
            let ctx = Context::new(now, 0, 0, &serving, &free);
            match gen.op(&ctx) {
                Next::Done => break,
                Next::Pending { until } => now = until.expect("a wait for a time"),
                Next::Op(op) => {
                    let fault = FaultOp::from_spec(&op).unwrap();
                    let ended = outcome(&fault);
                    out.push((now, fault));
                    now += MS(5);
                    let busy = SlotSet::new();
                    let ctx = Context::new(now, 0, 0, &serving, &busy);
                    gen.update(
                        &ctx,
                        &Completion {
                            slot: 0,
                            process: 0,
                            value: op.value.clone(),
                            op,
                            outcome: ended,
                            time: now,
                        },
                    );
                }
            }
        }
        out
    }

    fn starts(ops: &[(Duration, FaultOp)]) -> Vec<Step> {
        ops.iter()
            .filter_map(|(_, o)| match &o.0 {
                Cue::Start(s) => Some(s.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_generator_starts_the_seeded_schedules_steps_in_its_order() {
        let ops = drive(&mut FaultSchedule::new(schedule(3)), MS(10_000), |_| {
            Outcome::Ok
        });
        let started = starts(&ops);
        assert!(started.len() > 20, "{} faults in 10 s", started.len());
        let want: Vec<Step> = schedule(3).take(started.len()).collect();
        assert_eq!(started, want);
        assert_eq!(ops[0].0, want[0].gap, "the first start after the first gap");
        let other = drive(&mut FaultSchedule::new(schedule(4)), MS(10_000), |_| {
            Outcome::Ok
        });
        assert_ne!(starts(&other)[..5], started[..5]);
    }

    #[test]
    fn every_start_is_followed_by_its_stop_before_the_next_start() {
        let ops = drive(&mut FaultSchedule::new(schedule(5)), MS(10_000), |_| {
            Outcome::Ok
        });
        let mut active: Option<(Duration, Step)> = None;
        for (at, op) in &ops {
            match &op.0 {
                Cue::Start(s) => {
                    assert!(active.is_none(), "a start while a fault is active");
                    active = Some((*at, s.clone()));
                }
                Cue::Strobe { step, .. } => {
                    assert_eq!(active.as_ref().map(|a| &a.1), Some(step));
                }
                Cue::Stop(s) => {
                    let (started, step) = active.take().expect("a stop without a start");
                    assert_eq!(&step, s);
                    // Held for the step's hold from when its start ended.
                    assert!(*at >= started + MS(5) + s.hold, "stopped early");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn the_generator_gives_nothing_after_its_time_limit() {
        let mut g = time_limit(MS(1_000), FaultSchedule::new(schedule(6)));
        let ops = drive(&mut g, MS(10_000), |_| Outcome::Ok);
        assert!(!ops.is_empty());
        assert!(ops.iter().all(|(at, _)| *at < MS(1_000)), "{ops:?}");
        let left = drive(&mut g, MS(20_000), |_| Outcome::Ok);
        assert!(left.is_empty(), "asked again after its limit: {left:?}");
    }

    #[test]
    fn a_fault_that_did_not_start_is_not_stopped_and_no_other_follows() {
        let ops = drive(
            &mut FaultSchedule::new(schedule(7)),
            MS(10_000),
            |op| match op.0 {
                Cue::Start(_) => Outcome::Info,
                _ => Outcome::Ok,
            },
        );
        assert_eq!(ops.len(), 1, "{ops:?}");
        assert!(matches!(ops[0].1 .0, Cue::Start(_)));
    }

    #[test]
    fn a_fault_operation_is_start_or_stop_of_its_fault_with_the_step_as_its_value() {
        let step = schedule(8).next().unwrap();
        let start = FaultOp(Cue::Start(step.clone())).to_spec().unwrap();
        assert_eq!(start.f.as_str(), format!("start-{}", step.fault));
        let stop = FaultOp(Cue::Stop(step.clone())).to_spec().unwrap();
        assert_eq!(stop.f.as_str(), format!("stop-{}", step.fault));
        for op in [start, stop] {
            assert_eq!(
                FaultOp::from_spec(&op).unwrap().to_spec().unwrap(),
                op,
                "round trip"
            );
        }
        let flip = FaultOp(Cue::Strobe { step, on: true });
        assert_eq!(FaultOp::from_spec(&flip.to_spec().unwrap()).unwrap(), flip);
        assert!(FaultOp(Cue::Wait(None)).to_spec().is_none());
        let read = OpSpec {
            f: F::Read,
            key: None,
            value: Value::Null,
        };
        assert!(FaultOp::from_spec(&read).is_err());
    }
}

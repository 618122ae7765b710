//! A [`Schedule`] played out over time: a state machine that says, at each moment,
//! what the nemesis should do next ([`Cue`]: start a fault, flip a strobing clock,
//! stop the fault, wait until a time, or nothing more) and is told how each cue it
//! gave ended ([`Timeline::ended`]).
//!
//! It is the one place the fault timing lives. The run's scheduler asks it through a
//! generator on the nemesis slot (`faultline::run::nemesis::schedule`), and
//! [`crate::Nemesis::run`] drives it alone (for the nemesis crate's own tests); both
//! carry its cues out with [`crate::Nemesis::perform`].
//!
//! The rhythm is the schedule's: a quiet gap (from the start, or from when the
//! previous fault's stop ended), the fault's start, its hold (from when the start
//! ended; a strobing clock flips every period meanwhile), its stop; then the next
//! step. Steps are drawn one at a time, in the schedule's order, so the same seed gives
//! the same faults whatever the timing. A start or stop that failed ends the timeline:
//! a fault that did not start is never stopped (the heal at the end of the run clears
//! whatever it left).

use std::time::Duration;

use super::{Action, Schedule, Step};
use crate::clock::ClockChange;

/// What the nemesis should do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Cue {
    /// Start this fault now.
    Start(Step),
    /// Set the active fault's strobing clocks to their offsets (`on`) or to the true
    /// time.
    Strobe {
        /// The active fault.
        step: Step,
        /// Offsets on, or off.
        on: bool,
    },
    /// Stop the active fault now.
    Stop(Step),
    /// Nothing until this time (on the timeline's clock), or, when `None`, until the
    /// cue given last has ended.
    Wait(Option<Duration>),
    /// Nothing more, ever.
    Done,
}

/// Where the timeline is.
#[derive(Clone, Debug)]
enum State {
    /// Nothing drawn yet.
    Begin,
    /// Quiet until `until`, then `step` starts.
    Quiet { step: Step, until: Duration },
    /// `step`'s start was given and has not ended.
    Starting(Step),
    /// `step` is active until `until`; its strobing clocks flip to `on` at `flip`.
    Holding {
        step: Step,
        until: Duration,
        flip: Option<(Duration, bool)>,
    },
    /// A flip to `on` was given and has not ended.
    Flipping {
        step: Step,
        until: Duration,
        on: bool,
    },
    /// `step`'s stop was given and has not ended.
    Stopping(Step),
    /// A start or stop failed, or the schedule has no faults.
    Over,
}

/// A [`Schedule`] played out over time; see the module docs.
pub struct Timeline {
    schedule: Schedule,
    state: State,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The period of `step`'s strobing clocks (the shortest of them), if it has any.
fn strobe_period(step: &Step) -> Option<Duration> {
    let Action::Clock(changes) = &step.action else {
        return None;
    };
    changes
        .iter()
        .filter_map(|(_, c)| match c {
            ClockChange::Strobe { period_ms, .. } => Some(*period_ms),
            _ => None,
        })
        .min()
        .map(Duration::from_millis)
}

impl Timeline {
    /// `schedule`, not begun: its first gap counts from the first [`Timeline::next`].
    pub fn new(schedule: Schedule) -> Timeline {
        Timeline {
            schedule,
            state: State::Begin,
        }
    }

    /// Draws the next step, quiet for its gap from `now`.
    fn quiet_from(&mut self, now: Duration) -> State {
        match self.schedule.next() {
            Some(step) => State::Quiet {
                until: now + step.gap,
                step,
            },
            None => State::Over,
        }
    }

    /// What to do at `now` (time on one clock, counted from any fixed origin).
    pub fn next(&mut self, now: Duration) -> Cue {
        if let State::Begin = self.state {
            self.state = self.quiet_from(now);
        }
        match &self.state {
            State::Begin | State::Over => Cue::Done,
            State::Quiet { step, until } => {
                if now < *until {
                    return Cue::Wait(Some(*until));
                }
                let step = step.clone();
                self.state = State::Starting(step.clone());
                Cue::Start(step)
            }
            State::Starting(_) | State::Flipping { .. } | State::Stopping(_) => Cue::Wait(None),
            State::Holding { step, until, flip } => {
                if now >= *until {
                    let step = step.clone();
                    self.state = State::Stopping(step.clone());
                    return Cue::Stop(step);
                }
                match *flip {
                    Some((at, on)) if now >= at => {
                        let (step, until) = (step.clone(), *until);
                        self.state = State::Flipping {
                            step: step.clone(),
                            until,
                            on,
                        };
                        Cue::Strobe { step, on }
                    }
                    Some((at, _)) => Cue::Wait(Some(at.min(*until))),
                    None => Cue::Wait(Some(*until)),
                }
            }
        }
    }

    /// The cue given last ended at `now`, well (`ok`) or not. A start or stop that
    /// failed ends the timeline; a flip is ignored either way (as the clocks will be
    /// reset by the stop).
    pub fn ended(&mut self, ok: bool, now: Duration) {
        let state = std::mem::replace(&mut self.state, State::Over);
        self.state = match state {
            State::Starting(step) if ok => State::Holding {
                until: now + step.hold,
                flip: strobe_period(&step).map(|p| (now + p, false)),
                step,
            },
            State::Flipping { step, until, on } => State::Holding {
                flip: strobe_period(&step).map(|p| (now + p, !on)),
                step,
                until,
            },
            State::Stopping(_) if ok => self.quiet_from(now),
            State::Starting(_) | State::Stopping(_) => State::Over,
            // Nothing was outstanding: nothing changes.
            other => other,
        };
    }

    /// The fault started and not yet stopped (its stop may be outstanding), if any.
    pub fn active(&self) -> Option<&Step> {
        match &self.state {
            State::Holding { step, .. } | State::Flipping { step, .. } | State::Stopping(step) => {
                Some(step)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Plan;
    use crate::Fault;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn schedule(faults: &[Fault], seed: u64) -> Schedule {
        let nodes = vec!["n1".to_string(), "n2".into(), "n3".into()];
        Schedule::new(Plan::new(faults.to_vec(), MS(200)), nodes, seed)
    }

    /// Plays `timeline` on a simulated clock until `horizon`, each cue taking
    /// `latency` and ending as `ok` says; the cues given with their times.
    fn play(
        timeline: &mut Timeline,
        horizon: Duration,
        latency: Duration,
        mut ok: impl FnMut(&Cue) -> bool,
    ) -> Vec<(Duration, Cue)> {
        let mut now = Duration::ZERO;
        let mut out = Vec::new();
        while now < horizon {
            match timeline.next(now) {
                Cue::Done => break,
                Cue::Wait(Some(t)) => {
                    assert!(t > now, "a wait that does not move time");
                    now = t;
                }
                Cue::Wait(None) => panic!("waits for a cue while none is outstanding"),
                cue => {
                    out.push((now, cue.clone()));
                    now += latency;
                    timeline.ended(ok(&cue), now);
                }
            }
        }
        out
    }

    #[test]
    fn a_timeline_starts_and_stops_the_schedules_steps_in_order_at_its_gaps_and_holds() {
        let mut t = Timeline::new(schedule(&[Fault::Kill, Fault::Partition], 4));
        let cues = play(&mut t, Duration::from_secs(20), MS(10), |_| true);
        let want: Vec<Step> = schedule(&[Fault::Kill, Fault::Partition], 4)
            .take(cues.len() / 2)
            .collect();
        assert!(want.len() > 20, "{} steps", want.len());
        let mut at = Duration::ZERO;
        for (pair, step) in cues.chunks(2).zip(&want) {
            let [(started, Cue::Start(s1)), (stopped, Cue::Stop(s2))] = pair else {
                panic!("not a start then its stop: {pair:?}");
            };
            assert_eq!((s1, s2), (step, step));
            assert_eq!(*started, at + step.gap);
            assert_eq!(*stopped, *started + MS(10) + step.hold);
            at = *stopped + MS(10);
        }
    }

    #[test]
    fn a_strobing_clock_flips_while_it_holds_and_only_then() {
        let mut t = Timeline::new(schedule(&[Fault::Clock], 2));
        let cues = play(&mut t, Duration::from_secs(60), MS(1), |_| true);
        let mut active: Option<&Step> = None;
        let mut flips = 0;
        for (_, cue) in &cues {
            match cue {
                Cue::Start(s) => active = Some(s),
                Cue::Stop(s) => {
                    assert_eq!(active.take(), Some(s));
                }
                Cue::Strobe { step, .. } => {
                    assert_eq!(active, Some(step));
                    assert!(strobe_period(step).is_some());
                    flips += 1;
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(flips > 0, "no strobe drawn in a minute of clock faults");
    }

    #[test]
    fn a_fault_that_did_not_start_is_not_stopped_and_nothing_follows() {
        let mut t = Timeline::new(schedule(&[Fault::Kill], 1));
        let cues = play(&mut t, Duration::from_secs(20), MS(10), |c| {
            !matches!(c, Cue::Start(_))
        });
        assert!(matches!(cues.as_slice(), [(_, Cue::Start(_))]), "{cues:?}");
        assert_eq!(t.active(), None);
        assert_eq!(t.next(Duration::from_secs(30)), Cue::Done);
    }

    #[test]
    fn a_fault_that_did_not_stop_ends_the_timeline() {
        let mut t = Timeline::new(schedule(&[Fault::Pause], 1));
        let cues = play(&mut t, Duration::from_secs(20), MS(10), |c| {
            !matches!(c, Cue::Stop(_))
        });
        assert!(
            matches!(cues.as_slice(), [(_, Cue::Start(_)), (_, Cue::Stop(_))]),
            "{cues:?}"
        );
    }

    #[test]
    fn a_timeline_without_faults_is_done_at_once() {
        let mut t = Timeline::new(schedule(&[], 1));
        assert_eq!(t.next(Duration::ZERO), Cue::Done);
    }
}

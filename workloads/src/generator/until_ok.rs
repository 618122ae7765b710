//! [`until_ok`]: one operation, retried until it completes `ok` or a deadline passes.

use std::time::Duration;

use checkers::Outcome;

use super::{Completion, Context, Generator, Next};
use crate::OpSpec;

/// `op`, given again after every completion that is not `ok` (after `retry`), until
/// one is `ok` or the time is `deadline` or later. The first attempt is always made,
/// whatever the time; one attempt at a time is outstanding, and the other slots are
/// `Pending` meanwhile.
pub fn until_ok(op: OpSpec, deadline: Duration, retry: Duration) -> UntilOk {
    UntilOk {
        op,
        deadline,
        retry,
        state: State::Ready(Duration::ZERO),
        attempts: 0,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    /// Give the operation at this time or later.
    Ready(Duration),
    /// Given to this slot, not completed yet.
    Outstanding(usize),
    Finished,
}

/// See [`until_ok`].
pub struct UntilOk {
    op: OpSpec,
    deadline: Duration,
    retry: Duration,
    state: State,
    attempts: usize,
}

impl UntilOk {
    /// How many times the operation was given.
    pub fn attempts(&self) -> usize {
        self.attempts
    }
}

impl Generator for UntilOk {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        match self.state {
            State::Finished => Next::Done,
            State::Outstanding(_) => Next::pending(),
            State::Ready(_) if self.attempts > 0 && ctx.time >= self.deadline => {
                self.state = State::Finished;
                Next::Done
            }
            State::Ready(at) if ctx.time < at => Next::pending_until(at.min(self.deadline)),
            State::Ready(_) => {
                self.attempts += 1;
                self.state = State::Outstanding(ctx.slot);
                Next::Op(self.op.clone())
            }
        }
    }

    fn update(&mut self, _ctx: &Context<'_>, c: &Completion) {
        if self.state != State::Outstanding(c.slot) {
            return;
        }
        self.state = if c.outcome == Outcome::Ok {
            State::Finished
        } else {
            State::Ready(c.time + self.retry)
        };
    }
}

#[cfg(test)]
mod tests {
    use checkers::{Value, F};

    use super::*;
    use crate::generator::testing::simulate;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn read() -> OpSpec {
        OpSpec {
            f: F::Read,
            key: Some(Value::str("k0")),
            value: Value::Null,
        }
    }

    #[test]
    fn until_ok_stops_after_the_first_ok() {
        let mut g = until_ok(read(), MS(10_000), MS(20));
        let mut n = 0;
        let ops = simulate(&mut g, 3, MS(5), MS(60_000), |_, _| {
            n += 1;
            let o = if n < 4 { Outcome::Fail } else { Outcome::Ok };
            (o, Value::Null)
        });
        assert_eq!(ops.len(), 4);
        assert_eq!(ops.last().unwrap().outcome, Outcome::Ok);
        assert_eq!(g.attempts(), 4);
        // One at a time, `retry` apart.
        for w in ops.windows(2) {
            assert!(w[1].invoked >= w[0].completed + MS(20));
        }
    }

    #[test]
    fn until_ok_stops_at_its_deadline_when_nothing_succeeds() {
        let mut g = until_ok(read(), MS(500), MS(20));
        let ops = simulate(&mut g, 2, MS(5), MS(60_000), |_, _| {
            (Outcome::Info, Value::Null)
        });
        assert!(ops.iter().all(|o| o.invoked < MS(500)));
        // Every 25 ms (5 ms op + 20 ms wait) for 500 ms.
        assert_eq!(ops.len(), 20);
        // Info retires a process: attempts may move between slots, never overlap.
        for w in ops.windows(2) {
            assert!(w[1].invoked >= w[0].completed);
        }
    }

    #[test]
    fn until_ok_tries_once_even_after_its_deadline() {
        let mut g = until_ok(read(), Duration::ZERO, MS(20));
        let ops = simulate(&mut g, 1, MS(5), MS(60_000), |_, _| {
            (Outcome::Fail, Value::Null)
        });
        assert_eq!(ops.len(), 1);
    }
}

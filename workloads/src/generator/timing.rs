//! Time: [`time_limit`] (done once a duration has passed) and [`stagger`] (operations
//! spaced at random intervals).

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{earliest, Completion, Context, Generator, Next};

/// `gen` until `limit` has passed since this generator was first asked, then done
/// (operations already given still complete).
pub fn time_limit<G: Generator>(limit: Duration, gen: G) -> TimeLimit<G> {
    TimeLimit {
        limit,
        deadline: None,
        gen,
    }
}

/// See [`time_limit`].
pub struct TimeLimit<G> {
    limit: Duration,
    deadline: Option<Duration>,
    gen: G,
}

impl<G: Generator> Generator for TimeLimit<G> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        let deadline = *self.deadline.get_or_insert(ctx.time + self.limit);
        if ctx.time >= deadline {
            return Next::Done;
        }
        match self.gen.op(ctx) {
            // Ask again by the deadline at the latest, to be told `Done` then.
            Next::Pending { until } => Next::Pending {
                until: earliest(until, Some(deadline)),
            },
            other => other,
        }
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        self.gen.update(ctx, completion);
    }
}

/// `gen`'s operations spaced a random `0..2·dt` apart (`dt` on average) over all
/// slots. The intervals come from `seed`: they change when operations happen, never
/// which operations happen.
pub fn stagger<G: Generator>(dt: Duration, seed: u64, gen: G) -> Stagger<G> {
    Stagger {
        dt,
        rng: StdRng::seed_from_u64(seed),
        next: Duration::ZERO,
        gen,
    }
}

/// See [`stagger`].
pub struct Stagger<G> {
    dt: Duration,
    rng: StdRng,
    next: Duration,
    gen: G,
}

impl<G: Generator> Generator for Stagger<G> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        if ctx.time < self.next {
            return Next::pending_until(self.next);
        }
        let next = self.gen.op(ctx);
        if matches!(next, Next::Op(_)) {
            let gap = self.dt.mul_f64(self.rng.gen_range(0.0..2.0));
            self.next = self.next.max(ctx.time) + gap;
        }
        next
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        self.gen.update(ctx, completion);
    }
}

#[cfg(test)]
mod tests {
    use checkers::{Value, F};

    use super::*;
    use crate::generator::testing::{all_ok, simulate};
    use crate::generator::{phases, stream};
    use crate::OpSpec;

    fn reads() -> impl Generator {
        stream(|| OpSpec {
            f: F::Read,
            key: None,
            value: Value::Null,
        })
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_time_limit_gives_no_operation_after_its_deadline() {
        let ops = simulate(
            &mut time_limit(MS(100), reads()),
            4,
            MS(7),
            MS(10_000),
            all_ok,
        );
        assert!(ops.iter().all(|o| o.invoked < MS(100)));
        assert!(ops.iter().any(|o| o.invoked >= MS(90)), "stopped early");
        // 4 slots, one op per 7 ms each, for 100 ms.
        assert_eq!(ops.len(), 4 * 15);
    }

    #[test]
    fn a_time_limit_counts_from_when_it_is_first_asked() {
        let mut g = phases(vec![
            Box::new(time_limit(MS(50), reads())),
            Box::new(time_limit(
                MS(50),
                stream(|| OpSpec {
                    f: F::Write,
                    key: None,
                    value: Value::Int(1),
                }),
            )),
        ]);
        let ops = simulate(&mut g, 2, MS(10), MS(10_000), all_ok);
        let writes: Vec<_> = ops.iter().filter(|o| o.op.f == F::Write).collect();
        assert!(writes.first().unwrap().invoked >= MS(50));
        assert!(writes.last().unwrap().invoked >= MS(90));
        assert!(writes.iter().all(|o| o.invoked < MS(110)));
    }

    #[test]
    fn a_stagger_spaces_operations_by_dt_on_average_and_is_deterministic() {
        let run = |seed| {
            simulate(
                &mut time_limit(MS(2000), stagger(MS(20), seed, reads())),
                4,
                MS(1),
                MS(10_000),
                all_ok,
            )
            .iter()
            .map(|o| o.invoked)
            .collect::<Vec<_>>()
        };
        let a = run(3);
        // About 2000 / 20 = 100 operations.
        assert!((70..=130).contains(&a.len()), "{} operations", a.len());
        assert!(a.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(a, run(3));
        assert_ne!(a, run(4));
    }
}

//! Sequencing: [`phases`] (one generator after another, with a barrier between
//! them), [`limit`] (at most `n` operations) and [`once`] (one operation).

use super::{Completion, Context, Generator, Next, SlotSet};
use crate::OpSpec;

/// Runs `gens` one after another. A phase is over once every slot it serves has been
/// told `Done` by it; since a slot only asks when it is free, no operation of a
/// phase is outstanding when the next begins (Jepsen's `phases`, which synchronizes).
/// Until then a slot already done with the phase is `Pending`.
pub fn phases(gens: Vec<Box<dyn Generator>>) -> Phases {
    Phases {
        gens,
        current: 0,
        done: SlotSet::new(),
    }
}

/// See [`phases`].
pub struct Phases {
    gens: Vec<Box<dyn Generator>>,
    current: usize,
    done: SlotSet,
}

impl Phases {
    /// The index of the phase running now (`len` once all are over).
    pub fn current(&self) -> usize {
        self.current
    }
}

impl Generator for Phases {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        while let Some(g) = self.gens.get_mut(self.current) {
            if !self.done.contains(ctx.slot) {
                match g.op(ctx) {
                    Next::Done => self.done.insert(ctx.slot),
                    other => return other,
                }
            }
            if !self.done.is_superset(ctx.serving()) {
                return Next::pending();
            }
            self.current += 1;
            self.done.clear();
        }
        Next::Done
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        if let Some(g) = self.gens.get_mut(self.current) {
            g.update(ctx, completion);
        }
    }
}

/// At most `n` operations of `gen` (over all slots), then done.
pub fn limit<G: Generator>(n: usize, gen: G) -> Limit<G> {
    Limit { left: n, gen }
}

/// See [`limit`].
pub struct Limit<G> {
    left: usize,
    gen: G,
}

impl<G: Generator> Generator for Limit<G> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        if self.left == 0 {
            return Next::Done;
        }
        let next = self.gen.op(ctx);
        if matches!(next, Next::Op(_)) {
            self.left -= 1;
        }
        next
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        self.gen.update(ctx, completion);
    }
}

/// The single operation `op`, to whichever slot asks first.
pub fn once(op: OpSpec) -> Once {
    Once(Some(op))
}

/// See [`once`].
pub struct Once(Option<OpSpec>);

impl Generator for Once {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        self.0.take().map_or(Next::Done, Next::Op)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use checkers::{Value, F};

    use super::*;
    use crate::generator::testing::{all_ok, simulate};

    fn op(f: F, n: i64) -> OpSpec {
        OpSpec {
            f,
            key: None,
            value: Value::Int(n),
        }
    }

    fn repeat(f: F) -> impl Generator {
        let mut n = 0;
        crate::generator::stream(move || {
            n += 1;
            op(f.clone(), n)
        })
    }

    #[test]
    fn a_phase_begins_only_when_every_slot_is_done_with_the_previous_and_none_is_busy() {
        let mut g = phases(vec![
            Box::new(limit(7, repeat(F::Write))),
            Box::new(limit(5, repeat(F::Read))),
        ]);
        let ms = Duration::from_millis;
        let ops = simulate(&mut g, 3, ms(10), ms(10_000), all_ok);
        assert_eq!(ops.len(), 12);
        let last_write = ops
            .iter()
            .filter(|o| o.op.f == F::Write)
            .max_by_key(|o| o.completed)
            .unwrap();
        let first_read = ops.iter().find(|o| o.op.f == F::Read).unwrap();
        assert!(
            first_read.invoked >= last_write.completed,
            "a read began at {:?}, before the last write completed at {:?}",
            first_read.invoked,
            last_write.completed
        );
        assert!(ops.iter().filter(|o| o.op.f == F::Read).count() == 5);
        assert_eq!(g.current(), 2);
    }

    #[test]
    fn limit_gives_exactly_n_operations_and_once_one() {
        let ms = Duration::from_millis;
        let ops = simulate(&mut limit(4, repeat(F::Read)), 3, ms(1), ms(1000), all_ok);
        assert_eq!(ops.len(), 4);
        let ops = simulate(&mut once(op(F::Read, 1)), 3, ms(1), ms(1000), all_ok);
        assert_eq!(ops.len(), 1);
    }
}

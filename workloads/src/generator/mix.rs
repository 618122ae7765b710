//! [`mix`]: each operation from one of several generators, chosen at random by
//! weight.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Completion, Context, Generator, Next, SlotSet};

/// Each request goes to one of `gens`, chosen with probability proportional to its
/// weight; a generator done for a slot is not chosen for it again, and the mix is done
/// for a slot when all are. Each slot chooses with its own random number generator
/// seeded from `seed` and the slot, so a slot's choices do not depend on timing.
pub fn mix(seed: u64, gens: Vec<(u32, Box<dyn Generator>)>) -> Mix {
    Mix {
        seed,
        done: vec![SlotSet::new(); gens.len()],
        gens,
        rngs: Vec::new(),
        issued: Vec::new(),
    }
}

/// See [`mix`].
pub struct Mix {
    seed: u64,
    gens: Vec<(u32, Box<dyn Generator>)>,
    /// Per generator, the slots it is done for.
    done: Vec<SlotSet>,
    rngs: Vec<Option<StdRng>>,
    /// Per slot, the generator that gave its outstanding operation.
    issued: Vec<Option<usize>>,
}

impl Mix {
    fn rng(&mut self, slot: usize) -> &mut StdRng {
        if self.rngs.len() <= slot {
            self.rngs.resize_with(slot + 1, || None);
        }
        let seed = self.seed ^ (slot as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        self.rngs[slot].get_or_insert_with(|| StdRng::seed_from_u64(seed))
    }
}

impl Generator for Mix {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        let slot = ctx.slot;
        loop {
            let total: u64 = self
                .gens
                .iter()
                .zip(&self.done)
                .filter(|(_, d)| !d.contains(slot))
                .map(|((w, _), _)| u64::from(*w))
                .sum();
            if total == 0 {
                return Next::Done;
            }
            let mut roll = self.rng(slot).gen_range(0..total);
            let i = (0..self.gens.len())
                .filter(|&i| !self.done[i].contains(slot))
                .find(|&i| {
                    let w = u64::from(self.gens[i].0);
                    if roll < w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .unwrap_or(0);
            match self.gens[i].1.op(ctx) {
                Next::Done => self.done[i].insert(slot),
                Next::Op(op) => {
                    if self.issued.len() <= slot {
                        self.issued.resize(slot + 1, None);
                    }
                    self.issued[slot] = Some(i);
                    return Next::Op(op);
                }
                pending => return pending,
            }
        }
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        if let Some(i) = self.issued.get_mut(completion.slot).and_then(Option::take) {
            self.gens[i].1.update(ctx, completion);
        }
    }
}

#[cfg(test)]
mod tests {
    use checkers::{Value, F};

    use super::*;
    use crate::generator::testing::ops_of;
    use crate::generator::{limit, stream};
    use crate::OpSpec;

    fn of(f: F) -> Box<dyn Generator> {
        Box::new(stream(move || OpSpec {
            f: f.clone(),
            key: None,
            value: Value::Null,
        }))
    }

    fn fs(seed: u64, slot: usize) -> Vec<F> {
        let mut g = mix(seed, vec![(3, of(F::Read)), (1, of(F::Write))]);
        ops_of(&mut g, slot, 4, 4000)
            .into_iter()
            .map(|o| o.f)
            .collect()
    }

    #[test]
    fn a_mix_follows_its_weights_and_is_deterministic_per_slot() {
        let a = fs(7, 1);
        let reads = a.iter().filter(|f| **f == F::Read).count();
        assert!((2800..3200).contains(&reads), "{reads} reads of 4000");
        assert_eq!(a, fs(7, 1));
        assert_ne!(a, fs(8, 1));
        assert_ne!(a, fs(7, 2), "slots draw independently");
    }

    #[test]
    fn a_mix_skips_generators_that_are_done_and_is_done_when_all_are() {
        let mut g = mix(
            1,
            vec![
                (1, Box::new(limit(3, of(F::Read)))),
                (1, Box::new(limit(2, of(F::Write)))),
            ],
        );
        let ops = ops_of(&mut g, 0, 1, 100);
        assert_eq!(ops.len(), 5);
    }
}

//! The fault schedule of a run: faults start and stop in turn, each on nodes drawn
//! from the seed, so the same seed gives the same schedule.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::{Fault, Target};

/// One fault to start (and later stop) on these nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The fault.
    pub fault: Fault,
    /// The nodes it hits.
    pub nodes: Vec<String>,
}

/// An endless, reproducible sequence of [`Step`]s.
pub struct Schedule {
    faults: Vec<Fault>,
    targets: Vec<Target>,
    nodes: Vec<String>,
    rng: StdRng,
}

impl Schedule {
    /// A schedule over `faults` on `nodes`, drawing targets from `targets`, from `seed`.
    pub fn new(
        faults: Vec<Fault>,
        targets: Vec<Target>,
        nodes: Vec<String>,
        seed: u64,
    ) -> Schedule {
        Schedule {
            faults,
            targets,
            nodes,
            rng: StdRng::seed_from_u64(seed ^ 0x6e656d65736973),
        }
    }
}

impl Iterator for Schedule {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let fault = *self.faults.choose(&mut self.rng)?;
        let target = self.targets.choose(&mut self.rng)?.clone();
        let nodes = target.pick(&self.nodes, &mut self.rng);
        Some(Step { fault, nodes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(seed: u64) -> Vec<Step> {
        let nodes = vec!["n1".to_string(), "n2".into(), "n3".into()];
        Schedule::new(Fault::ALL.to_vec(), Target::DEFAULT.to_vec(), nodes, seed)
            .take(20)
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        assert_eq!(schedule(7), schedule(7));
        assert_ne!(schedule(7), schedule(8));
    }

    #[test]
    fn a_schedule_uses_every_fault_it_is_given() {
        let s = schedule(3);
        assert!(
            s.iter().any(|x| x.fault == Fault::Kill) && s.iter().any(|x| x.fault == Fault::Pause)
        );
        assert!(s.iter().all(|x| x.nodes.len() == 1));
    }
}

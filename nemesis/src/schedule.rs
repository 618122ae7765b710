//! The fault schedule of a run: faults start and stop in turn, each on nodes (or a
//! partition, a clock change, a packet fault) drawn from the seed, with staggered gaps,
//! so the same seed gives the same schedule. [`Timeline`] ([`timeline`]) plays a
//! schedule out over time: when each fault starts and stops, told how each ended.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::clock::ClockChange;
use crate::packet::PacketFault;
use crate::partition::{Partition, Topology};
use crate::{Fault, Target};

pub mod timeline;

pub use timeline::{Cue, Timeline};

/// What one fault does, concretely.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Kill -9 these nodes (restarted at the stop).
    Kill(Vec<String>),
    /// Stop these nodes gracefully (restarted at the stop).
    Stop(Vec<String>),
    /// Pause these nodes (resumed at the stop).
    Pause(Vec<String>),
    /// Cut the network so.
    Partition(Partition),
    /// Change these nodes' clocks.
    Clock(Vec<(String, ClockChange)>),
    /// Apply this packet fault to everything these nodes send and receive.
    Packet(Vec<String>, PacketFault),
    /// Fail the primary over (the store says which node is primary when it starts).
    Failover,
}

impl Action {
    /// The nodes it hits.
    pub fn nodes(&self) -> Vec<String> {
        match self {
            Action::Kill(n) | Action::Stop(n) | Action::Pause(n) | Action::Packet(n, _) => {
                n.clone()
            }
            Action::Partition(p) => {
                let mut v: Vec<String> = p
                    .grudge
                    .iter()
                    .flat_map(|(k, s)| std::iter::once(k.clone()).chain(s.iter().cloned()))
                    .collect();
                v.sort();
                v.dedup();
                v
            }
            Action::Clock(c) => c.iter().map(|(n, _)| n.clone()).collect(),
            // Whichever node is primary when it starts: not known to the schedule.
            Action::Failover => Vec::new(),
        }
    }
}

/// One fault to start (and later stop). It round-trips through JSON, so an operation
/// that starts it can carry it whole.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// The fault.
    #[serde(with = "fault_name")]
    pub fault: Fault,
    /// What it does.
    pub action: Action,
    /// The quiet gap before it starts.
    pub gap: Duration,
    /// How long it lasts.
    pub hold: Duration,
}

/// A [`Fault`] as its name (`kill`), both ways.
mod fault_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::Fault;

    pub fn serialize<S: Serializer>(f: &Fault, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Fault, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// What a schedule may draw from.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The faults to inject.
    pub faults: Vec<Fault>,
    /// The mean gap between faults and mean fault duration.
    pub interval: Duration,
    /// Which nodes process, clock and packet faults hit.
    pub targets: Vec<Target>,
    /// Which partitions are drawn.
    pub topologies: Vec<Topology>,
    /// The largest clock offset drawn.
    pub clock_max: Duration,
}

impl Plan {
    /// A plan for `faults` every `interval`, with the default targets and topologies.
    pub fn new(faults: Vec<Fault>, interval: Duration) -> Plan {
        Plan {
            faults,
            interval,
            targets: Target::DEFAULT.to_vec(),
            topologies: Topology::DEFAULT.to_vec(),
            clock_max: Duration::from_secs(10),
        }
    }
}

/// An endless, reproducible sequence of [`Step`]s.
pub struct Schedule {
    plan: Plan,
    nodes: Vec<String>,
    rng: StdRng,
}

impl Schedule {
    /// A schedule for `plan` on `nodes`, from `seed`.
    pub fn new(plan: Plan, nodes: Vec<String>, seed: u64) -> Schedule {
        Schedule {
            plan,
            nodes,
            rng: StdRng::seed_from_u64(seed ^ 0x6e656d65736973),
        }
    }

    /// A duration around `d`: between half and one and a half times it.
    fn stagger(&mut self, d: Duration) -> Duration {
        d.mul_f64(self.rng.gen_range(0.5..1.5))
    }
}

impl Iterator for Schedule {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let fault = *self.plan.faults.choose(&mut self.rng)?;
        let target = self.plan.targets.choose(&mut self.rng)?.clone();
        let action = match fault {
            Fault::Kill => Action::Kill(target.pick(&self.nodes, &mut self.rng)),
            Fault::Stop => Action::Stop(target.pick(&self.nodes, &mut self.rng)),
            Fault::Pause => Action::Pause(target.pick(&self.nodes, &mut self.rng)),
            Fault::Partition => {
                let t = self.plan.topologies.choose(&mut self.rng)?.clone();
                Action::Partition(t.draw(&self.nodes, &mut self.rng))
            }
            Fault::Clock => {
                let nodes = target.pick(&self.nodes, &mut self.rng);
                let max = self.plan.clock_max;
                Action::Clock(
                    nodes
                        .into_iter()
                        .map(|n| (n, ClockChange::draw(&mut self.rng, max)))
                        .collect(),
                )
            }
            Fault::Packet => {
                let nodes = target.pick(&self.nodes, &mut self.rng);
                Action::Packet(nodes, PacketFault::draw(&mut self.rng))
            }
            Fault::Failover => Action::Failover,
        };
        let interval = self.plan.interval;
        let gap = self.stagger(interval);
        let hold = self.stagger(interval);
        Some(Step {
            fault,
            action,
            gap,
            hold,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(seed: u64) -> Vec<Step> {
        let nodes = vec!["n1".to_string(), "n2".into(), "n3".into()];
        Schedule::new(
            Plan::new(Fault::ALL.to_vec(), Duration::from_secs(2)),
            nodes,
            seed,
        )
        .take(40)
        .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule() {
        assert_eq!(schedule(7), schedule(7));
        assert_ne!(schedule(7), schedule(8));
    }

    #[test]
    fn a_step_round_trips_through_json() {
        for step in schedule(5) {
            let json = serde_json::to_value(&step).unwrap();
            let back: Step = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(back, step, "{json}");
        }
    }

    #[test]
    fn a_schedule_uses_every_fault_it_is_given_with_staggered_gaps() {
        let s = schedule(3);
        for f in Fault::ALL {
            assert!(s.iter().any(|x| x.fault == *f), "{f} never drawn");
        }
        assert!(s
            .iter()
            .all(|x| x.gap >= Duration::from_secs(1) && x.gap < Duration::from_secs(3)));
        let gaps: std::collections::BTreeSet<_> = s.iter().map(|x| x.gap).collect();
        assert!(gaps.len() > 10, "gaps are staggered");
        assert!(s
            .iter()
            .filter(|x| x.fault != Fault::Failover)
            .all(|x| !x.action.nodes().is_empty()));
    }
}

//! Which nodes a fault hits.

use rand::seq::SliceRandom;
use rand::Rng;

/// A choice of nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One node.
    One,
    /// Fewer than half of the nodes (at least one).
    Minority,
    /// More than half of the nodes.
    Majority,
    /// Every node.
    All,
    /// A random non-empty subset.
    Random,
    /// These nodes.
    Nodes(Vec<String>),
}

impl Target {
    /// The targets a schedule draws from when none is named: one node or a minority
    /// (faults on a majority or all nodes stop most stores cold; ask for them by name).
    pub const DEFAULT: &'static [Target] = &[Target::One, Target::Minority];

    /// Picks the nodes out of `nodes` (sorted, no duplicates).
    pub fn pick(&self, nodes: &[String], rng: &mut impl Rng) -> Vec<String> {
        let n = nodes.len();
        let count = match self {
            Target::One => 1.min(n),
            Target::Minority => ((n.saturating_sub(1)) / 2).max(1).min(n),
            Target::Majority => n / 2 + 1,
            Target::All => n,
            Target::Random => rng.gen_range(1..=n.max(1)),
            Target::Nodes(list) => {
                let mut v: Vec<String> =
                    list.iter().filter(|x| nodes.contains(x)).cloned().collect();
                v.sort();
                v.dedup();
                return v;
            }
        };
        let mut v: Vec<String> = nodes.choose_multiple(rng, count.min(n)).cloned().collect();
        v.sort();
        v
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Target, String> {
        match s {
            "one" => Ok(Target::One),
            "minority" => Ok(Target::Minority),
            "majority" => Ok(Target::Majority),
            "all" => Ok(Target::All),
            "random" => Ok(Target::Random),
            list if !list.is_empty() => {
                Ok(Target::Nodes(list.split(',').map(str::to_string).collect()))
            }
            _ => Err("expected one, minority, majority, all, random or a list of nodes".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn targets_pick_the_right_number_of_distinct_nodes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(Target::One.pick(&nodes(5), &mut rng).len(), 1);
        assert_eq!(Target::Minority.pick(&nodes(5), &mut rng).len(), 2);
        assert_eq!(Target::Minority.pick(&nodes(3), &mut rng).len(), 1);
        assert_eq!(Target::Majority.pick(&nodes(5), &mut rng).len(), 3);
        assert_eq!(Target::All.pick(&nodes(3), &mut rng), nodes(3));
        for _ in 0..20 {
            let r = Target::Random.pick(&nodes(5), &mut rng);
            assert!((1..=5).contains(&r.len()));
        }
        assert_eq!(
            Target::Nodes(vec!["n2".into(), "n9".into()]).pick(&nodes(3), &mut rng),
            vec!["n2".to_string()]
        );
    }
}

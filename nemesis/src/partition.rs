//! Partition topologies, as grudges: for every node, the nodes it cannot hear. A
//! topology is drawn from the run's seed; the mechanisms ([`crate::proxy`],
//! [`crate::netns`]) carry a grudge out and heal it.
//!
//! Over TCP a node that cannot hear a peer cannot talk with it either (its replies and
//! acknowledgements are lost), so every grudge cuts the pair's connections both ways;
//! the grudge is still recorded exactly as drawn.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rand::Rng;

/// For every node, the nodes it cannot hear.
pub type Grudge = BTreeMap<String, BTreeSet<String>>;

/// A way to split the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Topology {
    /// One node, drawn at random, isolated from all others.
    One,
    /// Two halves (the smaller first): `n1..nk` against the rest.
    Halves,
    /// Two halves of a random shuffle.
    RandomHalves,
    /// Each node sees a majority (itself and its neighbours on a shuffled ring), no two
    /// nodes the same one.
    MajoritiesRing,
    /// Two halves and one node in both (it hears everybody; the halves not each other).
    Bridge,
    /// A grudge given in full.
    Custom(Grudge),
}

impl Topology {
    /// The topologies a schedule draws from when none is named.
    pub const DEFAULT: &'static [Topology] = &[
        Topology::One,
        Topology::RandomHalves,
        Topology::MajoritiesRing,
        Topology::Bridge,
    ];

    /// Its name in history events.
    pub fn name(&self) -> &'static str {
        match self {
            Topology::One => "one",
            Topology::Halves => "halves",
            Topology::RandomHalves => "random-halves",
            Topology::MajoritiesRing => "majorities-ring",
            Topology::Bridge => "bridge",
            Topology::Custom(_) => "grudge",
        }
    }

    /// Draws the concrete partition of `nodes`.
    pub fn draw(&self, nodes: &[String], rng: &mut impl Rng) -> Partition {
        let mut sorted = nodes.to_vec();
        sorted.sort();
        let (groups, grudge) = match self {
            Topology::One => {
                let isolated = sorted.choose(rng).cloned().into_iter().collect::<Vec<_>>();
                let rest: Vec<String> = sorted
                    .iter()
                    .filter(|n| !isolated.contains(n))
                    .cloned()
                    .collect();
                let groups = vec![isolated, rest];
                let g = complete(&groups);
                (groups, g)
            }
            Topology::Halves => halves(&sorted),
            Topology::RandomHalves => {
                let mut shuffled = sorted.clone();
                shuffled.shuffle(rng);
                halves(&shuffled)
            }
            Topology::MajoritiesRing => majorities_ring(&sorted, rng),
            Topology::Bridge => {
                let mut shuffled = sorted.clone();
                shuffled.shuffle(rng);
                bridge(&shuffled)
            }
            Topology::Custom(g) => (Vec::new(), g.clone()),
        };
        Partition {
            kind: self.name().to_string(),
            groups,
            grudge: grudge.into_iter().filter(|(_, s)| !s.is_empty()).collect(),
        }
    }
}

impl std::str::FromStr for Topology {
    type Err = String;
    fn from_str(s: &str) -> Result<Topology, String> {
        match s {
            "one" => Ok(Topology::One),
            "halves" => Ok(Topology::Halves),
            "random-halves" => Ok(Topology::RandomHalves),
            "majorities-ring" => Ok(Topology::MajoritiesRing),
            "bridge" => Ok(Topology::Bridge),
            json if json.trim_start().starts_with('{') => serde_json::from_str::<Grudge>(json)
                .map(Topology::Custom)
                .map_err(|e| format!("a grudge is {{\"node\": [\"nodes it cannot hear\"]}}: {e}")),
            other => Err(format!(
                "unknown partition \"{other}\"; expected one, halves, random-halves, majorities-ring, bridge or a JSON grudge"
            )),
        }
    }
}

/// A concrete partition: what a `start-partition` event records.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Partition {
    /// The topology's name.
    pub kind: String,
    /// The groups of nodes that still hear each other (for `majorities-ring`: what each
    /// node sees; empty for a custom grudge).
    pub groups: Vec<Vec<String>>,
    /// For every node, the nodes it cannot hear (nodes that hear all are left out).
    pub grudge: Grudge,
}

impl Partition {
    /// Every unordered pair of nodes whose connections are cut, each once, sorted.
    pub fn cut_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = BTreeSet::new();
        for (to, froms) in &self.grudge {
            for from in froms {
                let (a, b) = if from < to { (from, to) } else { (to, from) };
                pairs.insert((a.clone(), b.clone()));
            }
        }
        pairs.into_iter().collect()
    }
}

/// Nodes in different groups cannot hear each other.
pub fn complete(groups: &[Vec<String>]) -> Grudge {
    let mut g = Grudge::new();
    for (i, group) in groups.iter().enumerate() {
        for node in group {
            let others = groups
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, o)| o.iter().cloned())
                .collect();
            g.insert(node.clone(), others);
        }
    }
    g
}

fn halves(nodes: &[String]) -> (Vec<Vec<String>>, Grudge) {
    let (a, b) = nodes.split_at(nodes.len() / 2);
    let mut groups = vec![a.to_vec(), b.to_vec()];
    for g in &mut groups {
        g.sort();
    }
    let grudge = complete(&groups);
    (groups, grudge)
}

fn bridge(nodes: &[String]) -> (Vec<Vec<String>>, Grudge) {
    let n = nodes.len();
    if n < 3 {
        return halves(nodes);
    }
    let mid = n / 2;
    let middle = &nodes[mid];
    let left: Vec<String> = nodes[..mid].to_vec();
    let right: Vec<String> = nodes[mid + 1..].to_vec();
    let mut grudge = complete(&[left.clone(), right.clone()]);
    grudge.insert(middle.clone(), BTreeSet::new());
    let mut a = left;
    a.push(middle.clone());
    let mut b = right;
    b.push(middle.clone());
    a.sort();
    b.sort();
    (vec![a, b], grudge)
}

fn majorities_ring(nodes: &[String], rng: &mut impl Rng) -> (Vec<Vec<String>>, Grudge) {
    let n = nodes.len();
    let mut ring = nodes.to_vec();
    ring.shuffle(rng);
    let majority = n / 2 + 1;
    let mut groups = Vec::new();
    let mut grudge = Grudge::new();
    for (i, node) in ring.iter().enumerate() {
        // The majority centred on i (one more on the right when it is even).
        let before = (majority - 1) / 2;
        let mut sees: Vec<String> = (0..majority)
            .map(|k| ring[(i + n - before + k) % n].clone())
            .collect();
        sees.sort();
        let cannot: BTreeSet<String> = nodes
            .iter()
            .filter(|x| !sees.contains(x))
            .cloned()
            .collect();
        grudge.insert(node.clone(), cannot);
        groups.push(sees);
    }
    groups.sort();
    (groups, grudge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    fn draw(t: Topology, n: usize, seed: u64) -> Partition {
        t.draw(&nodes(n), &mut rand::rngs::StdRng::seed_from_u64(seed))
    }

    #[test]
    fn one_isolates_a_single_node_from_all_others() {
        let p = draw(Topology::One, 5, 1);
        assert_eq!(p.groups[0].len(), 1);
        let lone = &p.groups[0][0];
        assert_eq!(p.grudge[lone].len(), 4);
        assert_eq!(p.cut_pairs().len(), 4);
        assert!(p.cut_pairs().iter().all(|(a, b)| a == lone || b == lone));
    }

    #[test]
    fn halves_split_the_sorted_nodes_smaller_half_first() {
        let p = draw(Topology::Halves, 5, 1);
        assert_eq!(
            p.groups,
            vec![nodes(2), vec!["n3".into(), "n4".into(), "n5".into()]]
        );
        assert_eq!(p.cut_pairs().len(), 6);
    }

    #[test]
    fn a_majorities_ring_gives_every_node_a_different_majority() {
        for n in [3, 5, 7] {
            let p = draw(Topology::MajoritiesRing, n, 9);
            let views: BTreeSet<_> = p.groups.iter().cloned().collect();
            assert_eq!(views.len(), n, "{p:?}");
            assert!(p.groups.iter().all(|g| g.len() == n / 2 + 1));
        }
    }

    #[test]
    fn a_bridge_node_hears_both_halves_which_do_not_hear_each_other() {
        let p = draw(Topology::Bridge, 5, 3);
        let middle: Vec<&String> = p.groups[0]
            .iter()
            .filter(|x| p.groups[1].contains(x))
            .collect();
        assert_eq!(middle.len(), 1);
        assert!(!p.grudge.contains_key(middle[0]));
        assert_eq!(p.cut_pairs().len(), 4);
    }

    #[test]
    fn a_custom_grudge_is_parsed_and_kept_as_given() {
        let t: Topology = r#"{"n1":["n2"]}"#.parse().unwrap();
        let p = draw(t, 3, 0);
        assert_eq!(p.cut_pairs(), vec![("n1".to_string(), "n2".to_string())]);
        assert!("{nope".parse::<Topology>().is_err());
    }

    #[test]
    fn the_same_seed_draws_the_same_partition() {
        assert_eq!(
            draw(Topology::RandomHalves, 5, 4),
            draw(Topology::RandomHalves, 5, 4)
        );
    }
}

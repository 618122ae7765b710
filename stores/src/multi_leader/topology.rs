//! Which peers a node passes an update to (seed 001's topologies), and which links are
//! slow (`--link-delay-ms`). Pure.
//!
//! - `all-to-all`: the origin sends its own updates to every peer; nobody forwards.
//! - `circular`: every node passes each update it first sees to its successor by name,
//!   until the update would return to its origin. One node down stops every update
//!   that has to pass it.
//! - `star`: the first member by name is the hub; a leaf sends its own updates to the
//!   hub, the hub passes every update to every node but its origin. The hub down stops
//!   all replication.

/// The replication topology.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Topology {
    /// A ring by name.
    Circular,
    /// A hub (the first member) and leaves.
    Star,
    /// Everybody to everybody.
    AllToAll,
}

/// The peers `me` passes an update made by `origin` to; `members` sorted.
pub fn next_hops(topology: Topology, members: &[String], me: &str, origin: &str) -> Vec<String> {
    let n = members.len();
    let Some(i) = members.iter().position(|m| m == me) else {
        return Vec::new();
    };
    match topology {
        Topology::AllToAll if me == origin => {
            members.iter().filter(|m| *m != me).cloned().collect()
        }
        Topology::AllToAll => Vec::new(),
        Topology::Circular => {
            let next = &members[(i + 1) % n];
            if next == origin || next == me {
                Vec::new()
            } else {
                vec![next.clone()]
            }
        }
        Topology::Star => {
            let hub = &members[0];
            if me == hub {
                members
                    .iter()
                    .filter(|m| *m != me && m.as_str() != origin)
                    .cloned()
                    .collect()
            } else if me == origin {
                vec![hub.clone()]
            } else {
                Vec::new()
            }
        }
    }
}

/// Whether the link `from` → `to` is slow: every link but the one to the next member
/// by name. With three nodes n1 → n2 → n3 → n1 are fast and the reverse slow, so an
/// update n2 makes after reading one of n1's reaches n3 before n1's does (seed 001's
/// overtaking, certain with all-to-all).
pub fn slow_link(members: &[String], from: &str, to: &str) -> bool {
    let n = members.len();
    match (
        members.iter().position(|m| m == from),
        members.iter().position(|m| m == to),
    ) {
        (Some(i), Some(j)) => (i + 1) % n != j,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    /// Every node an update reaches, by following next hops from its origin.
    fn reach(t: Topology, members: &[String], origin: &str) -> Vec<String> {
        let mut seen = vec![origin.to_string()];
        let mut todo = vec![origin.to_string()];
        while let Some(at) = todo.pop() {
            for h in next_hops(t, members, &at, origin) {
                if !seen.contains(&h) {
                    seen.push(h.clone());
                    todo.push(h);
                }
            }
        }
        seen.sort();
        seen
    }

    #[test]
    fn every_topology_brings_every_update_to_every_node() {
        for t in [Topology::Circular, Topology::Star, Topology::AllToAll] {
            for n in 1..=5 {
                let members = m(n);
                for o in &members {
                    assert_eq!(reach(t, &members, o), members, "{t:?} n={n} from {o}");
                }
            }
        }
    }

    #[test]
    fn a_ring_stops_before_the_origin_and_a_star_passes_through_its_hub() {
        let members = m(3);
        assert_eq!(
            next_hops(Topology::Circular, &members, "n3", "n1"),
            Vec::<String>::new()
        );
        assert_eq!(
            next_hops(Topology::Circular, &members, "n2", "n1"),
            vec!["n3"]
        );
        assert_eq!(next_hops(Topology::Star, &members, "n2", "n2"), vec!["n1"]);
        assert_eq!(next_hops(Topology::Star, &members, "n1", "n2"), vec!["n3"]);
        assert!(!slow_link(&members, "n1", "n2") && slow_link(&members, "n1", "n3"));
        assert!(!slow_link(&members, "n3", "n1"));
    }
}

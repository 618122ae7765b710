//! Broadcast topologies, as Maelstrom names them (`--maelstrom-topology`): which
//! nodes each node is told are its neighbours in the `topology` message.
//!
//! - `line`: each node neighbours the one before and after it;
//! - `grid` (Maelstrom's default): nodes laid out row by row in a square of side
//!   ceil(sqrt(n)), each neighbouring the nodes above, below, left and right;
//! - `tree2`, `tree3`, `tree4`: a tree of that fan-out, node i's parent (i-1)/k;
//! - `total`: everyone neighbours everyone else.

use std::collections::BTreeMap;

/// The names [`neighbours`] accepts.
pub const NAMES: &[&str] = &["line", "grid", "tree2", "tree3", "tree4", "total"];

/// Each node's neighbours in topology `name`, or `None` for an unknown name.
pub fn neighbours(name: &str, nodes: &[String]) -> Option<BTreeMap<String, Vec<String>>> {
    let n = nodes.len();
    let mut links: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut link = |a: usize, b: usize| {
        if a != b && !links[a].contains(&b) {
            links[a].push(b);
            links[b].push(a);
        }
    };
    match name {
        "line" => (1..n).for_each(|i| link(i - 1, i)),
        "total" => (0..n).for_each(|a| (a + 1..n).for_each(|b| link(a, b))),
        "grid" => {
            let side = (1..=n).find(|s| s * s >= n).unwrap_or(1);
            for i in 0..n {
                if (i + 1) % side != 0 && i + 1 < n {
                    link(i, i + 1);
                }
                if i + side < n {
                    link(i, i + side);
                }
            }
        }
        "tree2" | "tree3" | "tree4" => {
            let k = name[4..].parse::<usize>().ok()?;
            (1..n).for_each(|i| link(i, (i - 1) / k));
        }
        _ => return None,
    }
    Some(
        nodes
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut ns: Vec<usize> = links[i].clone();
                ns.sort_unstable();
                (
                    name.clone(),
                    ns.into_iter().map(|j| nodes[j].clone()).collect(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn a_grid_of_nine_links_rows_and_columns_and_every_topology_is_connected() {
        let g = neighbours("grid", &nodes(9)).unwrap();
        assert_eq!(g["n0"], ["n1", "n3"]);
        assert_eq!(g["n4"], ["n1", "n3", "n5", "n7"]);
        assert_eq!(g["n2"], ["n1", "n5"]);
        for name in NAMES {
            for n in [1, 2, 5, 10, 25] {
                let t = neighbours(name, &nodes(n)).unwrap();
                // Every node reachable from n0, links symmetric.
                let mut seen = vec!["n0".to_string()];
                let mut i = 0;
                while i < seen.len() {
                    for m in &t[&seen[i]] {
                        assert!(t[m].contains(&seen[i]), "{name}: asymmetric");
                        if !seen.contains(m) {
                            seen.push(m.clone());
                        }
                    }
                    i += 1;
                }
                assert_eq!(seen.len(), n, "{name} of {n} is not connected");
            }
        }
        assert_eq!(neighbours("line", &nodes(3)).unwrap()["n1"], ["n0", "n2"]);
        assert_eq!(
            neighbours("tree2", &nodes(7)).unwrap()["n1"],
            ["n0", "n3", "n4"]
        );
        assert_eq!(neighbours("total", &nodes(4)).unwrap()["n0"].len(), 3);
        assert!(neighbours("star", &nodes(3)).is_none());
    }
}

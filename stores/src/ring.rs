//! Consistent-hash ring: places keys on nodes and yields a key's preference list.

use sha2::{Digest, Sha256};

/// Virtual nodes per member: spreads each node's share of the key space.
const VNODES: usize = 64;

/// A stable 64-bit hash of a string (first 8 bytes of SHA-256), the same on every node.
pub fn hash64(s: &str) -> u64 {
    let d = Sha256::digest(s.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The ring: every member's virtual-node tokens, sorted.
#[derive(Debug, Clone)]
pub struct Ring {
    tokens: Vec<(u64, usize)>,
    nodes: Vec<String>,
}

impl Ring {
    /// Builds the ring of the given members (order does not matter; names are sorted).
    pub fn new(members: impl IntoIterator<Item = String>) -> Ring {
        let mut nodes: Vec<String> = members.into_iter().collect();
        nodes.sort();
        nodes.dedup();
        let mut tokens = Vec::with_capacity(nodes.len() * VNODES);
        for (i, n) in nodes.iter().enumerate() {
            for v in 0..VNODES {
                tokens.push((hash64(&format!("{n}#{v}")), i));
            }
        }
        tokens.sort();
        Ring { tokens, nodes }
    }

    /// All members, sorted by name.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// Every member, in the order met walking clockwise from the key's hash: the
    /// first N are the preference list, the rest are fallbacks for a sloppy quorum.
    pub fn walk(&self, key: &str) -> Vec<String> {
        let h = hash64(key);
        let start = self.tokens.partition_point(|(t, _)| *t < h);
        let mut out: Vec<String> = Vec::with_capacity(self.nodes.len());
        for j in 0..self.tokens.len() {
            let (_, i) = self.tokens[(start + j) % self.tokens.len()];
            let name = &self.nodes[i];
            if !out.contains(name) {
                out.push(name.clone());
                if out.len() == self.nodes.len() {
                    break;
                }
            }
        }
        out
    }

    /// The key's preference list: the first `n` distinct members clockwise.
    pub fn preference_list(&self, key: &str, n: usize) -> Vec<String> {
        let mut w = self.walk(key);
        w.truncate(n);
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize) -> Ring {
        Ring::new((1..=n).map(|i| format!("n{i}")))
    }

    #[test]
    fn a_preference_list_has_n_distinct_members() {
        let r = ring(5);
        for k in 0..200 {
            let p = r.preference_list(&format!("k{k}"), 3);
            assert_eq!(p.len(), 3);
            let mut s = p.clone();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), 3);
        }
    }

    #[test]
    fn every_node_computes_the_same_placement_whatever_the_member_order() {
        let a = Ring::new(vec!["n3".into(), "n1".into(), "n2".into()]);
        let b = Ring::new(vec!["n1".into(), "n2".into(), "n3".into()]);
        for k in 0..50 {
            assert_eq!(a.walk(&format!("k{k}")), b.walk(&format!("k{k}")));
        }
    }

    #[test]
    fn keys_spread_over_all_members() {
        let r = ring(4);
        let mut firsts = std::collections::BTreeMap::new();
        for k in 0..2000 {
            *firsts
                .entry(r.walk(&format!("key-{k}"))[0].clone())
                .or_insert(0) += 1;
        }
        assert_eq!(firsts.len(), 4);
        assert!(firsts.values().all(|c| *c > 250), "{firsts:?}");
    }

    #[test]
    fn removing_a_node_moves_only_its_keys() {
        let big = ring(5);
        let small = Ring::new((1..=4).map(|i| format!("n{i}")));
        for k in 0..500 {
            let key = format!("k{k}");
            let before = big.walk(&key)[0].clone();
            if before != "n5" {
                assert_eq!(small.walk(&key)[0], before);
            }
        }
    }
}

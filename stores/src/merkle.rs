//! Merkle trees over a key range: leaves are hash buckets of keys, inner nodes hash
//! their children; two replicas find the buckets they disagree on by descending only
//! into subtrees whose hashes differ.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ring::hash64;

/// Number of leaves (buckets); a power of two.
pub const LEAVES: usize = 256;

/// A complete binary Merkle tree in heap order: index 1 is the root, leaves are
/// `LEAVES..2*LEAVES` (index 0 unused).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Tree {
    nodes: Vec<[u8; 32]>,
}

/// The bucket (leaf) a key falls in.
pub fn bucket_of(key: &str) -> usize {
    (hash64(key) % LEAVES as u64) as usize
}

impl Tree {
    /// Builds the tree from `(key, digest of its state)` pairs, in any order.
    pub fn build<'a>(items: impl IntoIterator<Item = (&'a str, [u8; 32])>) -> Tree {
        let mut leaves: Vec<Vec<(&str, [u8; 32])>> = vec![Vec::new(); LEAVES];
        for (k, d) in items {
            leaves[bucket_of(k)].push((k, d));
        }
        let mut nodes = vec![[0u8; 32]; 2 * LEAVES];
        for (i, mut items) in leaves.into_iter().enumerate() {
            items.sort();
            let mut h = Sha256::new();
            for (k, d) in items {
                h.update((k.len() as u64).to_be_bytes());
                h.update(k.as_bytes());
                h.update(d);
            }
            nodes[LEAVES + i] = h.finalize().into();
        }
        for i in (1..LEAVES).rev() {
            let mut h = Sha256::new();
            h.update(nodes[2 * i]);
            h.update(nodes[2 * i + 1]);
            nodes[i] = h.finalize().into();
        }
        Tree { nodes }
    }

    /// The root hash.
    pub fn root(&self) -> [u8; 32] {
        self.nodes[1]
    }

    /// The buckets whose contents differ between the two trees, found by a top-down
    /// descent that skips every subtree with equal hashes.
    pub fn diff(&self, other: &Tree) -> Vec<usize> {
        let mut out = Vec::new();
        if self.nodes.len() != other.nodes.len() {
            return (0..LEAVES).collect();
        }
        let mut stack = vec![1usize];
        while let Some(i) = stack.pop() {
            if self.nodes[i] == other.nodes[i] {
                continue;
            }
            if i >= LEAVES {
                out.push(i - LEAVES);
            } else {
                stack.push(2 * i + 1);
                stack.push(2 * i);
            }
        }
        out.sort();
        out
    }
}

/// Digest of a serialisable state (a key's versions).
pub fn digest<T: Serialize>(state: &T) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(state).expect("serialisable")).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(items: &[(&str, u8)]) -> Tree {
        Tree::build(items.iter().map(|(k, v)| (*k, [*v; 32])))
    }

    #[test]
    fn identical_contents_give_identical_trees_whatever_the_order() {
        let a = tree(&[("a", 1), ("b", 2), ("c", 3)]);
        let b = tree(&[("c", 3), ("a", 1), ("b", 2)]);
        assert_eq!(a.root(), b.root());
        assert!(a.diff(&b).is_empty());
    }

    #[test]
    fn a_changed_key_shows_up_as_exactly_its_bucket() {
        let keys: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        let a = Tree::build(keys.iter().map(|k| (k.as_str(), [1u8; 32])));
        let b = Tree::build(
            keys.iter()
                .map(|k| (k.as_str(), if k == "k42" { [2u8; 32] } else { [1u8; 32] })),
        );
        assert_ne!(a.root(), b.root());
        assert_eq!(a.diff(&b), vec![bucket_of("k42")]);
    }

    #[test]
    fn a_key_missing_on_one_side_is_found() {
        let a = tree(&[("x", 1), ("y", 1)]);
        let b = tree(&[("x", 1)]);
        assert_eq!(a.diff(&b), vec![bucket_of("y")]);
        assert_eq!(b.diff(&a), vec![bucket_of("y")]);
    }
}

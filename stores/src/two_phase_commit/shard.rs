//! Which node owns a key: hash sharding. The members (`--node` plus every `--peer`,
//! sorted by name, the same list on every node) are numbered 0..n and key `k` belongs
//! to member `hash64(k) mod n` (the first 8 bytes of SHA-256, [`crate::ring::hash64`]).
//! Each key has exactly one owner (no replication): the owner's log is the key's only
//! copy. Membership is static, so keys never move. Pure.

use std::collections::BTreeMap;

use crate::ring::hash64;

/// The members and the owner of every key.
#[derive(Clone, Debug)]
pub struct Shards {
    members: Vec<String>,
}

impl Shards {
    /// The shards of `members` (any order; sorted and deduplicated here).
    pub fn new(members: impl IntoIterator<Item = String>) -> Shards {
        let mut members: Vec<String> = members.into_iter().collect();
        members.sort();
        members.dedup();
        Shards { members }
    }

    /// Every member, sorted by name.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// The member that owns `key`.
    pub fn owner(&self, key: &str) -> &str {
        let i = hash64(key) % self.members.len() as u64;
        &self.members[i as usize]
    }

    /// The indices of `keys` grouped by owner, each group in the order given.
    pub fn group<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a str>,
    ) -> BTreeMap<String, Vec<usize>> {
        let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, k) in keys.into_iter().enumerate() {
            out.entry(self.owner(k).to_string()).or_default().push(i);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Shards {
        Shards::new(["n3", "n1", "n2"].map(String::from))
    }

    #[test]
    fn every_node_computes_the_same_owner_whatever_order_it_lists_the_members_in() {
        let a = three();
        let b = Shards::new(["n2", "n3", "n1", "n2"].map(String::from));
        assert_eq!(a.members(), ["n1", "n2", "n3"]);
        for i in 0..200 {
            let k = format!("k{i}");
            assert_eq!(a.owner(&k), b.owner(&k), "{k}");
        }
    }

    #[test]
    fn keys_spread_over_every_member_roughly_evenly() {
        let s = three();
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for i in 0..3000 {
            *count.entry(s.owner(&i.to_string())).or_default() += 1;
        }
        assert_eq!(count.len(), 3, "{count:?}");
        assert!(count.values().all(|c| (800..1200).contains(c)), "{count:?}");
    }

    #[test]
    fn a_txns_micro_ops_are_grouped_by_owner_in_their_order() {
        let s = three();
        let keys = ["a", "b", "a", "c", "d"];
        let g = s.group(keys);
        let mut all: Vec<usize> = g.values().flatten().copied().collect();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
        for (owner, idx) in &g {
            assert!(idx.windows(2).all(|w| w[0] < w[1]));
            assert!(idx.iter().all(|&i| s.owner(keys[i]) == owner));
        }
        assert_eq!(Shards::new(["solo".to_string()]).owner("x"), "solo");
    }
}

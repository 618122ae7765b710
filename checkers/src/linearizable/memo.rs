//! The search's memo: the configurations (linearized set, model state) already
//! explored, so that the search never explores one twice.
//!
//! A configuration's linearized set has two parts: the required ops placed, kept
//! compactly (how many leading words of the bitset are full, then the words after
//! them: a search advances a frontier with a few dozen ops beyond it, so keys stay a
//! few words long), and the optional ops placed (ops that may or may not take effect),
//! as a bitset over the optional ops alone with trailing zero words trimmed.
//!
//! The memo only prunes repeated work, so when it grows past its byte budget it is
//! cleared rather than allowed to exhaust memory: answers stay exact.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// One explored configuration.
struct Seen<S> {
    hash: u64,
    full_words: u32,
    /// The required words after the full ones, then the optional words.
    words: Box<[u64]>,
    rest_len: u32,
    state: S,
}

/// The memo.
pub struct Memo<S> {
    table: HashTable<Seen<S>>,
    hasher: FxBuildHasher,
    bytes: usize,
    limit: usize,
}

/// `bits` without its trailing zero words.
fn trim(bits: &[u64]) -> &[u64] {
    let end = bits.iter().rposition(|&w| w != 0).map_or(0, |p| p + 1);
    &bits[..end]
}

impl<S: Clone + Eq + Hash> Memo<S> {
    /// An empty memo that clears itself past `limit` bytes (approximate).
    pub fn new(limit: usize) -> Memo<S> {
        Memo {
            table: HashTable::new(),
            hasher: FxBuildHasher,
            bytes: 0,
            limit,
        }
    }

    /// Records a configuration about to be explored: `false` if it was explored
    /// already. `rest`: the required words after the `full_words` full ones; `opt`:
    /// the optional ops placed.
    pub fn insert(&mut self, full_words: u32, rest: &[u64], opt: &[u64], state: &S) -> bool {
        let opt = trim(opt);
        let hash = self.hasher.hash_one((full_words, rest, opt, state));
        let same = |s: &Seen<S>| {
            s.hash == hash
                && s.full_words == full_words
                && s.rest_len as usize == rest.len()
                && s.words[..rest.len()] == *rest
                && s.words[rest.len()..] == *opt
                && s.state == *state
        };
        if self.table.find(hash, same).is_some() {
            return false;
        }
        let bytes = 64 + (rest.len() + opt.len()) * 8 + std::mem::size_of::<S>();
        if self.bytes + bytes > self.limit {
            self.table.clear();
            self.bytes = 0;
        }
        self.bytes += bytes;
        let mut words = Vec::with_capacity(rest.len() + opt.len());
        words.extend_from_slice(rest);
        words.extend_from_slice(opt);
        self.table.insert_unique(
            hash,
            Seen {
                hash,
                full_words,
                words: words.into(),
                rest_len: rest.len() as u32,
                state: state.clone(),
            },
            |s| s.hash,
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_configuration_is_seen() {
        let mut m: Memo<u8> = Memo::new(1 << 20);
        assert!(m.insert(0, &[1], &[], &7));
        assert!(!m.insert(0, &[1], &[], &7));
        assert!(m.insert(0, &[1], &[], &8));
        assert!(m.insert(1, &[1], &[], &7));
        assert!(m.insert(0, &[1], &[1], &7));
        assert!(
            !m.insert(0, &[1], &[1, 0], &7),
            "trailing zeros do not count"
        );
        assert!(
            m.insert(0, &[], &[1, 1], &7),
            "required and optional words differ"
        );
        assert!(m.insert(0, &[1, 1], &[], &7));
    }

    #[test]
    fn a_full_memo_clears_rather_than_grows() {
        let mut m: Memo<u8> = Memo::new(300);
        assert!(m.insert(0, &[], &[], &1));
        for i in 0..10 {
            m.insert(0, &[i], &[], &1);
        }
        assert!(m.insert(0, &[], &[], &1), "cleared, so unseen");
        assert!(m.bytes <= 300);
    }
}

//! The rotating pool of keys transactional workloads use (Elle's shape): a few keys
//! are active at a time, and once a key has had its share of writes it is retired and
//! a fresh key takes its place, so each key's history stays short (cheap to check)
//! while the few active keys keep contention high.
//!
//! Every slot keeps its own pool so that the same seed gives the same operations
//! whatever the timing: position `p` of the pool holds key `k{p + n * generation}`,
//! and a slot moves position `p` to its next generation once it has written its share
//! (`ceil(writes_per_key / slots)`) there. Slots that run at similar rates are then on
//! the same keys at the same time, and each key gets about `writes_per_key` writes.

use checkers::Value;

use crate::generator::{key_name, Draw};

/// One slot's view of the active keys.
#[derive(Debug, Clone)]
pub struct KeyPool {
    /// The generation of each position.
    generations: Vec<usize>,
    /// This slot's writes to each position's current key.
    written: Vec<usize>,
    /// This slot's share of writes per key before it moves on.
    share: usize,
}

impl KeyPool {
    /// A pool of `active >= 1` positions for one of `slots` slots, each key taking
    /// about `writes_per_key >= 1` writes across all slots.
    pub fn new(active: usize, writes_per_key: usize, slots: usize) -> KeyPool {
        let active = active.max(1);
        KeyPool {
            generations: vec![0; active],
            written: vec![0; active],
            share: writes_per_key.max(1).div_ceil(slots.max(1)),
        }
    }

    /// The key at position `p` now.
    pub fn key(&self, p: usize) -> Value {
        key_name(p + self.generations.len() * self.generations[p])
    }

    /// A position of the pool, drawn by the slot's key distribution.
    pub fn position(&self, draw: &mut Draw) -> usize {
        draw.key() % self.generations.len()
    }

    /// Counts a write at position `p`; the key retires after the transaction that
    /// made it (call [`KeyPool::rotate`] between transactions).
    pub fn wrote(&mut self, p: usize) {
        self.written[p] += 1;
    }

    /// Retires every key that has had this slot's share of writes.
    pub fn rotate(&mut self) {
        for p in 0..self.generations.len() {
            if self.written[p] >= self.share {
                self.generations[p] += 1;
                self.written[p] = 0;
            }
        }
    }

    /// The first generation's keys (`k0..k{active-1}`).
    pub fn first_keys(active: usize) -> Vec<Value> {
        (0..active.max(1)).map(key_name).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_moves_to_a_fresh_key_after_its_share_of_writes() {
        let mut pool = KeyPool::new(3, 8, 4); // share 2
        assert_eq!(pool.key(1), key_name(1));
        pool.wrote(1);
        pool.rotate();
        assert_eq!(pool.key(1), key_name(1));
        pool.wrote(1);
        pool.rotate();
        assert_eq!(pool.key(1), key_name(4));
        assert_eq!(pool.key(0), key_name(0));
        pool.wrote(1);
        pool.wrote(1);
        pool.rotate();
        assert_eq!(pool.key(1), key_name(7));
    }
}

//! The tables list-append inference builds and keeps for explaining edges: each
//! key's version order, and who appended each element; with the errors and the
//! look-ups over single txns that inference and its words share.

use rustc_hash::FxHashMap;

use super::parse::{Mop, Txns};

/// The version order of one key.
#[derive(Clone, Debug, Default)]
pub struct KeyOrder {
    /// The observed elements, in order (the longest read).
    pub observed: Vec<u32>,
    /// Position of each observed element.
    pub pos: FxHashMap<u32, u32>,
    /// Committed appends nobody read: after every observed element, unordered.
    pub unobserved: Vec<u32>,
}

/// One appended element: who appended it, and where among that txn's appends to
/// the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The txn.
    pub txn: u32,
    /// Its rank among the txn's appends to the key (0 first).
    pub rank: u32,
    /// Whether it is the txn's last append to the key.
    pub last: bool,
}

/// The appended elements of one key, by element.
pub type KeyAppends = FxHashMap<u32, Appended>;

/// What list-append inference learned, kept for explaining edges.
#[derive(Debug, Default)]
pub struct ListAppend {
    /// Per key, its version order.
    pub orders: FxHashMap<u32, KeyOrder>,
    /// Per key, who appended each element (one small table per key, so that the
    /// look-ups of one key's inference stay in cache).
    pub appended: FxHashMap<u32, KeyAppends>,
}

impl ListAppend {
    /// The txn that appended `element` to `key`, if any did.
    pub fn writer(&self, key: u32, element: u32) -> Option<u32> {
        self.appended.get(&key)?.get(&element).map(|a| a.txn)
    }
}

/// The last element txn `t` appended to `key`, if it appended any.
pub(super) fn last_append(txns: &Txns, t: u32, key: u32) -> Option<u32> {
    txns.txns[t as usize]
        .mops
        .iter()
        .rev()
        .find_map(|m| match *m {
            Mop::Append { key: k, value } if k == key => Some(value),
            _ => None,
        })
}

/// Values appended more than once to one key: inference needs unique values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotUnique(pub String);

/// The external read of `key` by txn `t` (first read of the key, minus the txn's
/// own earlier appends), if it read the key consistently.
pub fn external_read(txns: &Txns, t: u32, key: u32) -> Option<Vec<u32>> {
    let mut own: Vec<u32> = Vec::new();
    for m in &txns.txns[t as usize].mops {
        match m {
            Mop::Append { key: k, value } if *k == key => own.push(*value),
            Mop::ReadList {
                key: k,
                value: Some(r),
            } if *k == key => {
                return r.ends_with(&own).then(|| r[..r.len() - own.len()].to_vec());
            }
            _ => {}
        }
    }
    None
}

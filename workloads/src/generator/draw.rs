//! One slot's deterministic randomness ([`Draw`]) and its stream of operations
//! ([`OpStream`], made a [`Generator`] by [`stream`]).
//!
//! Each slot has its own random number generator seeded from the run's seed and the
//! slot number, so the same seed gives every slot the same operations whatever the
//! timing. Written values are unique per run: slot `s` of `S` writes `s + 1 + k * S`.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use checkers::Value;

use super::{Context, Generator, Next};
use crate::keys::KeyChooser;
use crate::OpSpec;

/// One slot's operations, an endless stream that sees neither time nor completions
/// (so the same seed always gives the same stream).
pub trait OpStream: Send {
    /// The next operation.
    fn next_op(&mut self) -> OpSpec;
}

impl<F: FnMut() -> OpSpec + Send> OpStream for F {
    fn next_op(&mut self) -> OpSpec {
        self()
    }
}

/// An [`OpStream`] as a generator that always has an operation.
#[derive(Debug)]
pub struct Stream<S>(pub S);

/// The generator that gives the operations of `s`, one per request.
pub fn stream<S: OpStream>(s: S) -> Stream<S> {
    Stream(s)
}

impl<S: OpStream> Generator for Stream<S> {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        Next::Op(self.0.next_op())
    }
}

/// What every generator needs: randomness, key choice and unique values.
#[derive(Debug)]
pub struct Draw {
    /// The slot's random number generator.
    pub rng: StdRng,
    keys: KeyChooser,
    slot: usize,
    slots: usize,
    written: u64,
}

impl Draw {
    /// The draw of `slot` of `slots` for `seed`.
    pub fn new(keys: KeyChooser, slot: usize, slots: usize, seed: u64) -> Draw {
        // Spread seeds so that neighbouring slots get unrelated streams.
        let mixed = seed ^ (slot as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Draw {
            rng: StdRng::seed_from_u64(mixed),
            keys,
            slot,
            slots: slots.max(1),
            written: 0,
        }
    }

    /// The next key index.
    pub fn key(&mut self) -> usize {
        self.keys.choose(&mut self.rng)
    }

    /// A value never written before in this run.
    pub fn unique(&mut self) -> i64 {
        let v = self.slot as u64 + 1 + self.written * self.slots as u64;
        self.written += 1;
        v as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p.clamp(0.0, 1.0))
    }

    /// An integer in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.gen_range(lo..=hi)
    }
}

/// A key name: `k0`, `k1`, ...
pub fn key_name(i: usize) -> Value {
    Value::str(&format!("k{i}"))
}

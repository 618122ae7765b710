//! Generators in Jepsen's shape: values that are asked for operations with a
//! [`Context`] (the time, the slot and process asking, the free slots) and told of
//! each completion, and that compose.
//!
//! [`Generator::op`] answers [`Next::Op`] (perform this), [`Next::Pending`] (nothing
//! for this slot yet: ask again after the next completion, or at a given time) or
//! [`Next::Done`] (nothing more for this slot). [`Generator::update`] is told how
//! every operation the generator gave ended ([`Completion`]). The scheduler
//! (`faultline::run::scheduler`) holds one generator per phase of a run and asks it
//! from each of its slots; a slot that gets `Done` stops. A generator that is one
//! independent generator per slot ([`each_slot`]) says so with
//! [`Generator::split`], and the scheduler runs each part on its slot alone.
//!
//! Combinators, each a value that wraps others:
//!
//! | combinator | what it does | module |
//! |---|---|---|
//! | [`phases`] | one generator after another; the next starts when every served slot is done with the previous | [`sequence`] |
//! | [`limit`] | at most `n` operations | [`sequence`] |
//! | [`once`] | one operation | [`sequence`] |
//! | [`time_limit`] | done once a duration has passed since it was first asked | [`timing`] |
//! | [`stagger`] | spaces operations a random `0..2·dt` apart | [`timing`] |
//! | [`mix`] | each operation from one of several generators, chosen at random by weight | [`mix`](mod@mix) |
//! | [`until_ok`] | one operation, retried until it completes `ok` or a deadline passes | [`until_ok`](mod@until_ok) |
//! | [`each_slot`] | a generator of its own for every slot | [`routing`] |
//! | [`on_slots`] | a generator only for some slots (e.g. a nemesis slot) | [`routing`] |
//! | [`any`] | the first of several generators that has an operation | [`routing`] |
//! | [`on_nemesis`] | clients on slots `0..n`, the nemesis on slot `n` (Jepsen's `gen/nemesis`) | [`routing`] |
//!
//! Randomness is per slot ([`Draw`], seeded from the run's seed and the slot), so a
//! generator whose choices do not depend on completions gives every slot the same
//! operations under the same seed, whatever the timing.
//!
//! Modules: [`context`] (the request and the answers), [`draw`] (per-slot
//! randomness and endless [`OpStream`]s), and the combinator modules above.

pub mod context;
pub mod draw;
pub mod mix;
pub mod routing;
pub mod sequence;
pub mod timing;
pub mod until_ok;

pub use context::{earliest, Completion, Context, Next, SlotSet};
pub use draw::{key_name, stream, Draw, OpStream, Stream};
pub use mix::mix;
pub use routing::{any, each_slot, on_nemesis, on_slots};
pub use sequence::{limit, once, phases};
pub use timing::{stagger, time_limit};
pub use until_ok::until_ok;

/// Gives operations to the scheduler's slots and hears how they ended.
pub trait Generator: Send {
    /// What the slot `ctx.slot` should do next.
    fn op(&mut self, ctx: &Context<'_>) -> Next;

    /// How an operation this generator gave ended (`ctx.slot` is the slot that
    /// performed it). The default ignores it.
    fn update(&mut self, _ctx: &Context<'_>, _completion: &Completion) {}

    /// If this generator is one independent generator per slot ([`each_slot`]), those
    /// generators for slots `0..slots`, taken out (this one is left empty); the
    /// scheduler then runs each on its slot without a shared lock. `None` (the
    /// default) when the slots share the generator.
    fn split(&mut self, _slots: usize) -> Option<Vec<Box<dyn Generator>>> {
        None
    }
}

impl<G: Generator + ?Sized> Generator for Box<G> {
    fn op(&mut self, ctx: &Context<'_>) -> Next {
        (**self).op(ctx)
    }

    fn update(&mut self, ctx: &Context<'_>, completion: &Completion) {
        (**self).update(ctx, completion)
    }

    fn split(&mut self, slots: usize) -> Option<Vec<Box<dyn Generator>>> {
        (**self).split(slots)
    }
}

#[cfg(test)]
pub(crate) mod testing;

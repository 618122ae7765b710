//! The nemesis: which faults to inject, on which nodes, in what order — drawn
//! reproducibly from the run's seed — as plain data the driver carries out and records.
//!
//! - [`fault`]: the kinds of fault and how each heals;
//! - [`target`]: which nodes a fault hits (`one`, `minority`, `majority`, `all`, a list);
//! - [`schedule`]: the alternating start/stop plan for a run.
//!
//! The driver (`src/run/nemesis.rs`) performs the faults on the node processes (real
//! signals to each node's process group) and records every start and stop in the
//! history as a `nemesis` event, with its exact targets.

pub mod fault;
pub mod schedule;
pub mod target;

pub use fault::Fault;
pub use schedule::{Schedule, Step};
pub use target::Target;

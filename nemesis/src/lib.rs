//! The nemesis: which faults to inject, on which nodes, in what order — drawn
//! reproducibly from the run's seed — as plain data the driver carries out and records.
//!
//! - [`fault`]: the kinds of fault and how each heals;
//! - [`target`]: which nodes a fault hits (`one`, `minority`, `majority`, `all`, a list);
//! - [`schedule`]: the alternating start/stop plan for a run;
//! - [`failover`]: the seam by which a store with a primary offers its own failover;
//! - [`host`]: where a node runs and its faults apply (this machine, a namespace);
//! - [`process`]: a node process (own session, logs, kill/stop/pause/resume/restart);
//! - [`owner`]: which faultline process owns a node or a fault (for cleanup).
//!
//! The driver (`src/run/nemesis.rs`) performs the faults on the node processes (real
//! signals to each node's process group) and records every start and stop in the
//! history as a `nemesis` event, with its exact targets.

pub mod cleanup;
pub mod clock;
pub mod failover;
pub mod fault;
pub mod host;
pub mod layout;
pub mod netns;
pub mod network;
pub mod node;
pub mod owner;
pub mod packet;
pub mod partition;
pub mod process;
pub mod proxy;
pub mod router;
pub mod runner;
pub mod schedule;
pub mod state;
pub mod target;

pub use failover::{Failover, Promotion};
pub use fault::Fault;
pub use host::Host;
pub use layout::{Layout, Mechanism, NodeLayout};
pub use node::{Events, Node};
pub use packet::PacketFault;
pub use partition::{Grudge, Partition, Topology};
pub use process::{NodeProcess, ProcessError, ProcessSpec};
pub use proxy::ProxyNet;
pub use router::Router;
pub use runner::{Nemesis, NemesisError, Options};
pub use schedule::{Action, Plan};
pub use schedule::{Schedule, Step};
pub use target::Target;

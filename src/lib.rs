//! faultline's driver and command line, as a library so that tests can use it.
//!
//! - [`cli`]: one module per subcommand.
//! - [`client`]: the [`client::Client`] seam between the driver and a store.
//! - [`logging`]: `tracing` set-up.

pub mod cli;
pub mod client;
pub mod cluster;
pub mod logging;
pub mod recorder;
pub mod report;
pub mod results;
pub mod run;
pub mod subject;

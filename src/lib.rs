//! faultline's driver and command line, as a library so that tests can use it.
//!
//! - [`cli`]: one module per subcommand (`run`, `check`, `matrix`, `report`, `serve`, `cleanup`).
//! - [`run`]: one run: flags -> a checked [`run::RunPlan`] -> the phases, one function
//!   each in [`run::phases`] (cluster up, main phase, heal, quiesce, final reads,
//!   cluster down, check, write), each undone by a guard.
//! - [`matrix`]: `faultline matrix`: a grid of runs (stores × faults × workloads),
//!   the strongest consistency that held in each cell, promise files.
//! - [`subject`]: the stores under test, declared in one table of store kinds; a
//!   [`subject::Subject`] starts (returning a client factory and a fault surface),
//!   stops and describes itself.
//! - [`cluster`]: starting, watching and stopping node processes; cluster files.
//! - [`client`]: the [`client::Client`] seam between the driver and a store.
//! - [`recorder`]: the history recorder (`history.jsonl`, streamed).
//! - [`results`]: the run directory layout, `results.json`, the `latest` link.
//! - [`report`]: `report.html`, the results index, JSON and JUnit summaries.
//! - [`logging`]: `tracing` set-up.
//!
//! docs/architecture.md tells how they fit together.

pub mod cli;
pub mod client;
pub mod cluster;
pub mod logging;
pub mod matrix;
pub mod recorder;
pub mod report;
pub mod results;
pub mod run;
pub mod subject;

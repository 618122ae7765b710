//! The subcommands. Each module has its clap `…Args` and a `main` that returns the
//! process exit code (0 valid, 1 invalid, 2 unknown; errors become 3 in `main.rs`).

pub mod check;
pub mod cleanup;
pub mod matrix;
pub mod report;
pub mod run;
pub mod serve;
pub mod status;

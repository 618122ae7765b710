//! `faultline run`.

use clap::Args;

/// Arguments of `faultline run`.
#[derive(Args, Debug)]
pub struct RunArgs {}

/// Runs `faultline run`; returns the exit code.
pub fn main(_args: RunArgs, _quiet: bool) -> anyhow::Result<i32> {
    anyhow::bail!("faultline run is not built yet")
}

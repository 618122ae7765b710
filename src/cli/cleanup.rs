//! `faultline cleanup`.

use clap::Args;

/// Arguments of `faultline cleanup`.
#[derive(Args, Debug)]
pub struct CleanupArgs {}

/// Runs `faultline cleanup`; returns the exit code.
pub fn main(_args: CleanupArgs, _quiet: bool) -> anyhow::Result<i32> {
    anyhow::bail!("faultline cleanup is not built yet")
}

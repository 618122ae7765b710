//! `faultline serve`.

use clap::Args;

/// Arguments of `faultline serve`.
#[derive(Args, Debug)]
pub struct ServeArgs {}

/// Runs `faultline serve`; returns the exit code.
pub fn main(_args: ServeArgs, _quiet: bool) -> anyhow::Result<i32> {
    anyhow::bail!("faultline serve is not built yet")
}

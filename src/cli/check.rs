//! `faultline check`.

use clap::Args;

/// Arguments of `faultline check`.
#[derive(Args, Debug)]
pub struct CheckArgs {}

/// Runs `faultline check`; returns the exit code.
pub fn main(_args: CheckArgs, _quiet: bool) -> anyhow::Result<i32> {
    anyhow::bail!("faultline check is not built yet")
}

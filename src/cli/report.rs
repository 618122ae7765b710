//! `faultline report`.

use clap::Args;

/// Arguments of `faultline report`.
#[derive(Args, Debug)]
pub struct ReportArgs {}

/// Runs `faultline report`; returns the exit code.
pub fn main(_args: ReportArgs, _quiet: bool) -> anyhow::Result<i32> {
    anyhow::bail!("faultline report is not built yet")
}

//! `faultline report RUN_DIR`: re-render a run's `report.html` (and the results
//! index above it) from the run's files.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `faultline report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run's directory (`results/<test>/<time>` or `results/<test>/latest`).
    pub run_dir: PathBuf,
}

/// Runs `faultline report`; returns the exit code (the run's verdict).
pub fn main(args: ReportArgs, _quiet: bool) -> anyhow::Result<i32> {
    let dir = args.run_dir.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; expected a run directory with results.json",
            args.run_dir.display()
        )
    })?;
    let out = crate::report::write_run_report(&dir)?;
    if let Some(root) = dir.parent().and_then(|t| t.parent()) {
        crate::report::index::write(root)?;
    }
    println!("{}", out.display());
    Ok(0)
}

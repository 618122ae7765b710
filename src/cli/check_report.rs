//! `faultline check --report FILE`: the HTML report of a history checked on its own.

use std::path::Path;

use checkers::{CheckResult, History};

/// Writes the report of `history` (read from `source`) and its check results.
pub fn write(
    path: &Path,
    source: &Path,
    history: &History,
    results: &[CheckResult],
) -> anyhow::Result<()> {
    let _ = (path, source, history, results);
    anyhow::bail!("HTML reports are not available in this build yet; drop --report and use --json for a machine-readable result")
}

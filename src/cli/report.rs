//! `faultline report RUN_DIR`: re-render a run's `report.html` (and the results
//! index above it) from the run's files (`results.json`, `test.json`,
//! `history.jsonl`). A run directory with a history but no `results.json` is checked
//! again first ([`crate::run::recheck`]). Exits 0 when the report was written, 3 when
//! it could not be.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `faultline report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The run's directory (`results/<test>/<time>` or `results/<test>/latest`).
    pub run_dir: PathBuf,
}

/// Runs `faultline report`; returns the exit code.
pub fn main(args: ReportArgs, quiet: bool) -> anyhow::Result<i32> {
    let dir = args.run_dir.canonicalize().map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; expected a run directory with results.json and history.jsonl",
            args.run_dir.display()
        )
    })?;
    let status = crate::cli::status::Status::new(quiet);
    if !dir.join(crate::results::files::RESULTS).exists()
        && dir.join(crate::results::files::HISTORY).exists()
    {
        status.say(&format!(
            "{} has a history but no results.json: checking it ...",
            dir.display()
        ));
        let r = crate::run::recheck::recheck(&dir)?;
        status.clear();
        println!("{}", r.verdict_line());
    }
    status.say(&format!("reading {} ...", dir.display()));
    let run = crate::report::load_run(&dir)?;
    status.say(&format!(
        "drawing the report of {} ops ...",
        run.history.ops.len()
    ));
    let out = crate::report::write_report(&dir, &run)?;
    if let Some(root) = dir.parent().and_then(|t| t.parent()) {
        if let Err(e) = crate::report::index::write(root) {
            eprintln!("faultline: the results index could not be written: {e:#}");
        }
    }
    status.clear();
    println!("{}", out.display());
    Ok(0)
}

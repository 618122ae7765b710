//! `faultline cleanup`: heals every fault a faultline run may have left behind when it
//! could not heal itself (its driver was killed with SIGKILL, the machine lost power):
//! resumes paused nodes, resets fake clocks, removes namespaces, bridges and veths
//! named as faultline's, kills orphan nodes; on every SSH host a state file names
//! (`faultline run --hosts`) it logs in as that run did and removes faultline's
//! firewall rules, resumes and kills the run's nodes there, and names a host it
//! cannot reach (kept in the state for the next cleanup). Runs still going are left
//! alone.
//! Idempotent: exits 0 when nothing is left, 1 when something could not be healed.

use std::path::PathBuf;

use clap::Args;

/// Arguments of `faultline cleanup`.
#[derive(Args, Debug)]
pub struct CleanupArgs {
    /// Results directories to search for state files (`nemesis-state.json`), besides
    /// the state directory (`/run/faultline` as root).
    #[arg(long, default_value = "results")]
    pub results: Vec<PathBuf>,
    /// Print what was done as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `faultline cleanup`; returns the exit code.
pub fn main(args: CleanupArgs, quiet: bool) -> anyhow::Result<i32> {
    let report = nemesis::cleanup::cleanup(&args.results);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if !quiet {
        for h in &report.healed {
            println!("healed: {h}");
        }
        for l in &report.live {
            println!("left alone: {l}");
        }
        for e in &report.errors {
            eprintln!("could not heal: {e}");
        }
        if report.healed.is_empty() && report.errors.is_empty() {
            println!("nothing to clean up");
        }
    }
    Ok(if report.errors.is_empty() { 0 } else { 1 })
}

//! The `faultline` command line: `run`, `check`, `matrix`, `report`, `serve`, `cleanup`.
//! Each subcommand lives in its own module under `cli/`; this file only dispatches
//! and turns errors into exit code 3 (DESIGN.md: "the test could not run").

use clap::{Parser, Subcommand};
use faultline::cli;

/// faultline: fault injection and consistency checking for replicated stores.
#[derive(Parser)]
#[command(name = "faultline", version, about)]
struct Cli {
    /// Print only the verdict (no progress, no status lines).
    #[arg(long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing buys nothing
enum Command {
    /// Start a cluster, run a workload with faults, check the history, write results.
    #[command(after_help = cli::run::after_help())]
    Run(cli::run::RunArgs),
    /// Check a recorded history against a model and a consistency level.
    #[command(after_help = cli::check::after_help())]
    Check(cli::check::CheckArgs),
    /// Run every store configuration × fault set × workload and show, in one page,
    /// the strongest consistency that held in each (and whether promises were kept).
    #[command(after_help = cli::matrix::after_help())]
    Matrix(cli::matrix::MatrixArgs),
    /// Re-render a run's report from its files.
    #[command(after_help = "Examples:\n  \
        faultline report results/leaderless-kv/latest\n  \
        faultline report results/etcd-register/20261201T221111")]
    Report(cli::report::ReportArgs),
    /// Serve the results directory for browsing (loopback only by default).
    #[command(after_help = "Examples:\n  \
        faultline serve\n  \
        faultline serve --results /var/lib/faultline/results --bind 127.0.0.1:0")]
    Serve(cli::serve::ServeArgs),
    /// Heal every fault a killed run may have left behind (idempotent).
    #[command(after_help = "Examples:\n  \
        sudo faultline cleanup\n  \
        faultline cleanup --results results --json")]
    Cleanup(cli::cleanup::CleanupArgs),
}

fn main() {
    // Usage errors exit 3 ("could not run"), not clap's 2, which means "unknown".
    let args = Cli::try_parse().unwrap_or_else(|e| {
        let code = if e.use_stderr() { 3 } else { 0 };
        let _ = e.print();
        std::process::exit(code);
    });
    faultline::logging::init(args.quiet);
    let result = match args.command {
        Command::Run(a) => cli::run::main(a, args.quiet),
        Command::Check(a) => cli::check::main(a, args.quiet),
        Command::Matrix(a) => cli::matrix::main(a, args.quiet),
        Command::Report(a) => cli::report::main(a, args.quiet),
        Command::Serve(a) => cli::serve::main(a, args.quiet),
        Command::Cleanup(a) => cli::cleanup::main(a, args.quiet),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(3);
        }
    }
}

//! `faultline matrix`: flags -> a checked [`Grid`] (every cell validated as `faultline
//! run` would, exit 3 before anything starts) -> the cells' runs -> `matrix.json` and
//! `matrix.html` under `results/matrix/<YYYYMMDDTHHMMSS>/`, and the exit code (1 when
//! a promise broke, 2 when a cell or promise was left undecided, 0 otherwise).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;

use crate::cli::run::parse_duration;
use crate::matrix::grid::{self, FaultSet, Grid, RunSettings, StoreConfig};
use crate::matrix::promise::PromiseFile;
use crate::matrix::{files, runner, Head, Matrix};

/// Arguments of `faultline matrix`.
#[derive(Args, Debug, Clone)]
pub struct MatrixArgs {
    /// The rows' store configurations, comma-separated: a --store kind with store
    /// options as `:FLAG=VALUE` (e.g. `primary-backup:replication=async`). Default: the
    /// reference stores in the configurations stores/README.md speaks of, and etcd
    /// (with --promises alone: the stores the promise files name).
    #[arg(long, value_delimiter = ',', value_name = "STORE")]
    pub stores: Vec<String>,
    /// The columns, comma-separated: `none`, or faults joined with `+`
    /// (`partition+kill`). Default: none, partition, kill, pause, clock (with
    /// --promises alone: the fault sets the promise files name).
    #[arg(long, value_delimiter = ',', value_name = "FAULTS")]
    pub faults: Vec<String>,
    /// The workloads, comma-separated; each row runs those its store serves. Default:
    /// kv where the store serves it, else the store's first workload.
    #[arg(long, value_delimiter = ',', value_name = "WORKLOAD")]
    pub workloads: Vec<String>,
    /// How long each cell's run lasts (default 10s; 5s with --quick).
    #[arg(long, value_parser = parse_duration)]
    pub time_limit: Option<Duration>,
    /// Time between faults, and how long each lasts, in every cell.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub nemesis_interval: Duration,
    /// How many cells run at a time (at most the number of cores; default: that).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// The seed of every cell's run (random when absent; always printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Where to write (the matrix goes to RESULTS/matrix/<time>/).
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Promise files (repeatable, or comma-separated): what a store configuration
    /// claims under each fault set (see stores/promises/). Exit 1 if any is broken.
    #[arg(long, value_delimiter = ',', value_name = "FILE")]
    pub promises: Vec<PathBuf>,
    /// A small grid for CI: leaderless, primary-backup async and multi-leader under
    /// none, partition and kill, 5 s each.
    #[arg(long)]
    pub quick: bool,
}

/// Examples at the end of `faultline matrix --help`.
pub fn after_help() -> &'static str {
    "Examples:
  faultline matrix --quick
  faultline matrix --stores leaderless,primary-backup:replication=async --faults none,partition,kill+pause
  faultline matrix --promises stores/promises/primary-backup-sync.toml,stores/promises/leaderless.toml"
}

impl MatrixArgs {
    /// The grid asked for, and the promise files; the error is one line.
    fn grid(&self) -> Result<(Grid, Vec<PromiseFile>), String> {
        let promises = self
            .promises
            .iter()
            .map(|p| PromiseFile::read(p).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut stores: Vec<StoreConfig> = self
            .stores
            .iter()
            .map(|s| StoreConfig::parse(s))
            .collect::<Result<_, _>>()?;
        let mut workloads = self.workloads.clone();
        if stores.is_empty() && !promises.is_empty() {
            for p in &promises {
                if !stores.contains(&p.store) {
                    stores.push(p.store.clone());
                }
                if let Some(w) = &p.workload {
                    if !workloads.contains(w) && self.workloads.is_empty() {
                        workloads.push(w.clone());
                    }
                }
            }
        } else if stores.is_empty() {
            let preset = if self.quick {
                grid::QUICK_STORES
            } else {
                grid::DEFAULT_STORES
            };
            stores = preset
                .iter()
                .map(|s| StoreConfig::parse(s))
                .collect::<Result<_, _>>()?;
        }
        let mut fault_sets: Vec<FaultSet> = self
            .faults
            .iter()
            .map(|f| FaultSet::parse(f))
            .collect::<Result<_, _>>()?;
        if fault_sets.is_empty() && !promises.is_empty() && self.stores.is_empty() {
            for p in &promises {
                for (f, _) in &p.faults {
                    if !fault_sets.contains(f) {
                        fault_sets.push(f.clone());
                    }
                }
            }
            // A TOML table has no order: the columns go in the default grid's order.
            fault_sets.sort_by_key(|f| {
                let name = f.to_string();
                let rank = grid::DEFAULT_FAULTS.iter().position(|d| *d == name);
                (rank.unwrap_or(grid::DEFAULT_FAULTS.len()), name)
            });
        }
        if fault_sets.is_empty() {
            let preset = if self.quick {
                grid::QUICK_FAULTS
            } else {
                grid::DEFAULT_FAULTS
            };
            fault_sets = preset
                .iter()
                .map(|f| FaultSet::parse(f))
                .collect::<Result<_, _>>()?;
        }
        let time_limit = self
            .time_limit
            .unwrap_or(Duration::from_secs(if self.quick { 5 } else { 10 }));
        let settings = RunSettings {
            time_limit_s: time_limit.as_secs_f64(),
            seed: self
                .seed
                .unwrap_or_else(|| u64::from(rand::random::<u32>())),
            nemesis_interval_s: self.nemesis_interval.as_secs_f64(),
        };
        let grid = Grid::new(&stores, &workloads, fault_sets, settings)?;
        Ok((grid, promises))
    }

    /// The command that runs this matrix again, same seed: the grid flags as given
    /// (the grid follows from them and the promise files exactly), the durations and
    /// the seed resolved.
    fn command(&self, grid: &Grid) -> String {
        let list = |items: &[String]| items.join(",");
        let mut words = vec!["faultline".to_string(), "matrix".into()];
        if self.quick {
            words.push("--quick".into());
        }
        for (flag, items) in [
            ("--stores", &self.stores),
            ("--workloads", &self.workloads),
            ("--faults", &self.faults),
        ] {
            if !items.is_empty() {
                words.push(flag.into());
                words.push(list(items));
            }
        }
        words.extend([
            "--time-limit".into(),
            format!("{}s", grid.settings.time_limit_s),
            "--nemesis-interval".into(),
            format!("{}s", grid.settings.nemesis_interval_s),
            "--seed".into(),
            grid.settings.seed.to_string(),
        ]);
        if !self.promises.is_empty() {
            let files: Vec<String> = self
                .promises
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            words.push("--promises".into());
            words.push(list(&files));
        }
        shlex::try_join(words.iter().map(|s| s.as_str())).unwrap_or_else(|_| words.join(" "))
    }
}

/// Runs `faultline matrix`; returns the exit code.
pub fn main(args: MatrixArgs, quiet: bool) -> anyhow::Result<i32> {
    let (grid, promises) = match args.grid() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("faultline matrix: {e}");
            return Ok(3);
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores).clamp(1, cores);
    if args.jobs.is_some_and(|j| j > cores) && !quiet {
        eprintln!("faultline matrix: --jobs {} is more than this machine's {cores} cores; running {cores} at a time", args.jobs.unwrap_or(0));
    }
    let started = SystemTime::now();
    let clock = Instant::now();
    let (rfc, stamp) = crate::results::stamps(started);
    let dir =
        crate::results::create_run_dir(&args.results, "matrix", &stamp).with_context(|| {
            format!(
                "creating a matrix directory under {}",
                args.results.display()
            )
        })?;
    let _ = std::fs::remove_dir(dir.join(crate::results::files::NODES));
    let runs_count = grid
        .cells
        .iter()
        .filter(|c| c.applicability == grid::Applicability::Runs)
        .count();
    let tty = std::io::stderr().is_terminal();
    if !quiet {
        eprintln!(
            "faultline matrix: {} rows × {} fault sets: {runs_count} runs of {} s, {jobs} at a time; seed {}",
            grid.rows.len(),
            grid.fault_sets.len(),
            grid.settings.time_limit_s,
            grid.settings.seed
        );
    }
    let exe = std::env::current_exe().context("finding the faultline binary")?;
    let finished = AtomicUsize::new(0);
    let done = |cell: &grid::Cell, run: &runner::CellRun| {
        let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
        if quiet || !tty {
            return;
        }
        let row = &grid.rows[cell.row];
        let what = match &run.outcome {
            Some(o) if o.held.is_empty() => "nothing held".to_string(),
            Some(o) => format!("held {}", o.held.join(", ")),
            None => run.error.clone().unwrap_or_else(|| "no results".into()),
        };
        eprintln!(
            "faultline matrix: [{n}/{runs_count}] {} × {}: {what} ({:.0} s)",
            row.label(),
            grid.fault_sets[cell.column],
            run.seconds
        );
    };
    let runs = runner::run_cells(&grid, &exe, &dir, jobs, &done)?;
    let head = Head {
        started: rfc,
        duration_ms: clock.elapsed().as_millis() as u64,
        command: args.command(&grid),
    };
    let matrix = Matrix::assemble(&grid, &runs, &promises, &dir, head);
    crate::results::write_json(&dir.join(files::JSON), &matrix)
        .with_context(|| format!("writing {}", dir.join(files::JSON).display()))?;
    let page = dir.join(files::HTML);
    std::fs::write(&page, crate::matrix::page::render(&matrix))
        .with_context(|| format!("writing {}", page.display()))?;
    crate::results::update_latest(&dir).context("pointing matrix/latest at this matrix")?;
    if !quiet {
        print!("{}", matrix.text_table());
        for c in &matrix.cells {
            if let Some(j) = c.promise.as_ref().filter(|j| !j.broken.is_empty()) {
                println!(
                    "promise broken: {} × {}: {} broke ({})",
                    matrix.rows[c.row],
                    matrix.fault_sets[c.column],
                    j.broken.join(", "),
                    j.file
                );
            }
        }
    }
    println!("{}", matrix.summary_line());
    if !quiet {
        println!("matrix: {}", page.display());
    }
    if matrix.interrupted {
        eprintln!(
            "faultline matrix: interrupted; {} cells did not run",
            matrix.summary.not_run
        );
    }
    Ok(matrix.exit_code())
}

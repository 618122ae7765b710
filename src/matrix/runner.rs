//! Runs a grid's cells, each a normal `faultline run` in a child process (its own
//! cluster, ports, namespaces and results directory), at most `jobs` at a time.
//!
//! A child that is interrupted heals its faults, stops its nodes and checks what it
//! recorded, as every run does; the matrix then stops starting cells and keeps what
//! finished. Ctrl-C at a terminal reaches the children directly (one process group);
//! a SIGINT or SIGTERM sent to the matrix alone is passed on to them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::grid::{Applicability, Cell, Grid};
use super::outcome::{outcome, Outcome};
use crate::results::{files, RunResults};

/// What one cell's run left.
#[derive(Clone, Debug)]
pub struct CellRun {
    /// The child's exit code (None: killed by a signal).
    pub exit_code: Option<i32>,
    /// The run directory it wrote, if any.
    pub run_dir: Option<PathBuf>,
    /// Its verdicts in the matrix's terms, if it wrote results.
    pub outcome: Option<Outcome>,
    /// Why it has no outcome (the last line the child wrote on stderr), if so.
    pub error: Option<String>,
    /// Whether the run says it was interrupted.
    pub interrupted: bool,
    /// Its wall time.
    pub seconds: f64,
}

/// Set by the signal handler; read by the cell loop.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: nix::libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT and SIGTERM for the matrix process (a caught signal's handler is
/// reset at `exec`, so the children keep their own handling).
fn catch_interrupts() {
    use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for s in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            let _ = sigaction(s, &action);
        }
    }
}

/// Whether the matrix was asked to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Runs every applicable cell of `grid` with the `faultline` binary at `exe`, writing
/// the runs under `dir/runs` and each child's stderr to `dir/logs/<cell>.log`.
/// `done` is called as each cell finishes. Returns one entry per cell (None: not
/// applicable, or not started because the matrix was interrupted).
pub fn run_cells(
    grid: &Grid,
    exe: &Path,
    dir: &Path,
    jobs: usize,
    done: &(dyn Fn(&Cell, &CellRun) + Sync),
) -> std::io::Result<Vec<Option<CellRun>>> {
    catch_interrupts();
    let runs = dir.join("runs");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&runs)?;
    std::fs::create_dir_all(&logs)?;
    let todo: Vec<usize> = grid
        .cells
        .iter()
        .enumerate()
        .filter(|(_, c)| c.applicability == Applicability::Runs)
        .map(|(i, _)| i)
        .collect();
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<CellRun>>> = Mutex::new(vec![None; grid.cells.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                if interrupted() {
                    return;
                }
                let Some(&i) = todo.get(next.fetch_add(1, Ordering::SeqCst)) else {
                    return;
                };
                let cell = &grid.cells[i];
                let run = run_cell(grid, cell, exe, &runs, &logs);
                done(cell, &run);
                out.lock().unwrap()[i] = Some(run);
            });
        }
    });
    Ok(out.into_inner().unwrap())
}

/// Runs one cell to its end and reads what it wrote.
fn run_cell(grid: &Grid, cell: &Cell, exe: &Path, runs: &Path, logs: &Path) -> CellRun {
    let started = Instant::now();
    let log_path = logs.join(format!("{}.log", cell.id));
    let mut run = CellRun {
        exit_code: None,
        run_dir: None,
        outcome: None,
        error: None,
        interrupted: false,
        seconds: 0.0,
    };
    let spawned = std::fs::File::create(&log_path).and_then(|log| {
        Command::new(exe)
            .arg("run")
            .args(grid.run_args(cell, runs))
            .arg("--quiet")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
    });
    match spawned {
        Ok(child) => run.exit_code = wait(child),
        Err(e) => run.error = Some(format!("could not start {}: {e}", exe.display())),
    }
    run.seconds = started.elapsed().as_secs_f64();
    let latest = runs
        .join(crate::results::safe_name(&cell.id))
        .join("latest");
    let results: Option<RunResults> = std::fs::read_to_string(latest.join(files::RESULTS))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    match results {
        Some(r) => {
            run.run_dir = std::fs::canonicalize(&latest).ok();
            run.interrupted = r.interrupted.is_some();
            let mut o = outcome(r.verdict, &r.checkers);
            if let Some(why) = r.verdict_reason {
                o.unknown.push(format!("every model ({why})"));
            }
            run.outcome = Some(o);
        }
        None if run.error.is_none() => {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let last = log
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
                .trim()
                .to_string();
            run.error = Some(match run.exit_code {
                Some(code) => format!("the run exited {code} without results: {last}"),
                None => format!("the run was killed by a signal: {last}"),
            });
        }
        None => {}
    }
    run
}

/// Waits for `child`; once the matrix is interrupted, passes SIGTERM on to it, and
/// SIGKILL 90 s later (a run heals and checks before it exits, but not forever).
fn wait(mut child: Child) -> Option<i32> {
    let mut told: Option<Instant> = None;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.code(),
            Ok(None) => {}
            Err(_) => return None,
        }
        if interrupted() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            match told {
                None => {
                    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
                    told = Some(Instant::now());
                }
                Some(t) if t.elapsed() > Duration::from_secs(90) => {
                    let _ = child.kill();
                }
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

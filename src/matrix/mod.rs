//! `faultline matrix`: every store configuration × fault set × workload, each cell a
//! normal run, and one page that shows the strongest consistency that held in each.
//!
//! - [`grid`]: rows (store configuration and workload), columns (fault sets) and
//!   cells, parsed and checked with the run's own plan before anything starts.
//! - [`runner`]: runs the cells as `faultline run` children, `--jobs` at a time.
//! - [`outcome`]: a run's verdicts placed in the consistency lattice: the strongest
//!   models that held, the next ones up that broke and why.
//! - [`promise`]: promise files (what a store claims per fault set) and the
//!   comparison that makes `faultline matrix --promises` a CI gate.
//! - [`page`]: `matrix.html`, self-contained.
//!
//! [`Matrix`] is `matrix.json`: what the page draws, typed.

pub mod grid;
pub mod outcome;
pub mod page;
pub mod promise;
pub mod runner;

use std::path::Path;

use serde::{Deserialize, Serialize};

use grid::{Applicability, Grid, RunSettings};
use outcome::Outcome;
use promise::{Judgement, PromiseFile, Standing};
use runner::CellRun;

/// The file names inside a matrix directory.
pub mod files {
    /// The typed results.
    pub const JSON: &str = "matrix.json";
    /// The page.
    pub const HTML: &str = "matrix.html";
}

/// What became of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CellState {
    /// Every checked model got valid or invalid.
    Decided,
    /// Some model was left unknown.
    Undecided,
    /// The store cannot take the cell's faults.
    NotApplicable,
    /// The run ended without results (it could not run).
    Failed,
    /// Not started: the matrix was interrupted.
    NotRun,
}

/// One cell of `matrix.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatrixCell {
    /// Its row.
    pub row: usize,
    /// Its column.
    pub column: usize,
    /// Its name (the run's `--name`).
    pub id: String,
    /// What became of it.
    pub state: CellState,
    /// Why it is not applicable, or why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The models, placed in the lattice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The run directory, relative to the matrix directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_dir: Option<String>,
    /// The run's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Its wall time in seconds.
    pub seconds: f64,
    /// The cell against its promise, if a promise file speaks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<Judgement>,
}

/// Counts over the cells.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Every cell.
    pub cells: usize,
    /// Decided cells.
    pub decided: usize,
    /// Undecided cells.
    pub undecided: usize,
    /// Not applicable cells.
    pub not_applicable: usize,
    /// Cells whose run ended without results.
    pub failed: usize,
    /// Cells not started.
    pub not_run: usize,
    /// Promises kept.
    pub kept: usize,
    /// Promises beaten.
    pub better: usize,
    /// Promises broken.
    pub broken: usize,
    /// Promises left undecided.
    pub promise_undecided: usize,
}

/// `matrix.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Matrix {
    /// When it started, RFC 3339.
    pub started: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The command that runs it again.
    pub command: String,
    /// What every run shared.
    pub time_limit_s: f64,
    /// The seed every run had.
    pub seed: u64,
    /// The nemesis interval of every run.
    pub nemesis_interval_s: f64,
    /// The rows: `STORE · WORKLOAD`.
    pub rows: Vec<String>,
    /// The columns: fault sets.
    pub fault_sets: Vec<String>,
    /// Row-major.
    pub cells: Vec<MatrixCell>,
    /// The promise files compared.
    pub promise_files: Vec<String>,
    /// Whether it was interrupted before every cell ran.
    pub interrupted: bool,
    /// Counts.
    pub summary: Summary,
}

impl Matrix {
    /// Puts together the grid, what each cell's run left, and the promises.
    pub fn assemble(
        grid: &Grid,
        runs: &[Option<CellRun>],
        promises: &[PromiseFile],
        dir: &Path,
        head: Head,
    ) -> Matrix {
        let mut cells = Vec::new();
        for (cell, run) in grid.cells.iter().zip(runs) {
            let row = &grid.rows[cell.row];
            let faults = &grid.fault_sets[cell.column];
            let mut m = MatrixCell {
                row: cell.row,
                column: cell.column,
                id: cell.id.clone(),
                state: CellState::NotRun,
                note: None,
                outcome: None,
                run_dir: None,
                exit_code: None,
                seconds: 0.0,
                promise: None,
            };
            match (&cell.applicability, run) {
                (Applicability::NotApplicable(why), _) => {
                    m.state = CellState::NotApplicable;
                    m.note = Some(why.clone());
                }
                (Applicability::Runs, None) => {
                    m.note = Some("not started: the matrix was interrupted".into())
                }
                (Applicability::Runs, Some(r)) => {
                    m.exit_code = r.exit_code;
                    m.seconds = r.seconds;
                    m.run_dir = r.run_dir.as_ref().map(|p| {
                        let base = std::fs::canonicalize(dir).unwrap_or(dir.to_path_buf());
                        p.strip_prefix(&base).unwrap_or(p).display().to_string()
                    });
                    m.outcome = r.outcome.clone();
                    m.note = r.error.clone();
                    if r.interrupted {
                        m.note = Some(
                            "the run was interrupted; its verdict covers what it recorded".into(),
                        );
                    }
                    m.state = match &r.outcome {
                        None => CellState::Failed,
                        Some(o) if o.decided() => CellState::Decided,
                        Some(_) => CellState::Undecided,
                    };
                }
            }
            if m.state != CellState::NotApplicable {
                m.promise = promises.iter().find_map(|p| {
                    let promised = p.promised(&row.store, &row.workload, faults)?;
                    Some(promise::judge(&p.path, promised, m.outcome.as_ref()))
                });
            }
            cells.push(m);
        }
        let mut summary = Summary {
            cells: cells.len(),
            ..Summary::default()
        };
        for c in &cells {
            match c.state {
                CellState::Decided => summary.decided += 1,
                CellState::Undecided => summary.undecided += 1,
                CellState::NotApplicable => summary.not_applicable += 1,
                CellState::Failed => summary.failed += 1,
                CellState::NotRun => summary.not_run += 1,
            }
            match c.promise.as_ref().map(|j| j.standing) {
                Some(Standing::Kept) => summary.kept += 1,
                Some(Standing::Better) => summary.better += 1,
                Some(Standing::Broken) => summary.broken += 1,
                Some(Standing::Undecided) => summary.promise_undecided += 1,
                None => {}
            }
        }
        let RunSettings {
            time_limit_s,
            seed,
            nemesis_interval_s,
        } = grid.settings;
        Matrix {
            started: head.started,
            duration_ms: head.duration_ms,
            command: head.command,
            time_limit_s,
            seed,
            nemesis_interval_s,
            rows: grid.rows.iter().map(|r| r.label()).collect(),
            fault_sets: grid.fault_sets.iter().map(|f| f.to_string()).collect(),
            cells,
            promise_files: promises
                .iter()
                .map(|p| p.path.display().to_string())
                .collect(),
            interrupted: summary.not_run > 0,
            summary,
        }
    }

    /// The exit code: 1 when a promise broke; else 2 when a cell is undecided, failed
    /// or did not run, or a promise was left undecided; else 0.
    pub fn exit_code(&self) -> i32 {
        let s = &self.summary;
        if s.broken > 0 {
            1
        } else if s.undecided + s.failed + s.not_run + s.promise_undecided > 0 {
            2
        } else {
            0
        }
    }

    /// The one-line answer: the cells, then the promises if any were compared.
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let mut parts = vec![format!("{} decided", s.decided)];
        for (n, what) in [
            (s.undecided, "undecided"),
            (s.failed, "failed to run"),
            (s.not_applicable, "not applicable"),
            (s.not_run, "not run (interrupted)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        let mut line = format!("matrix: {} cells: {}", s.cells, parts.join(", "));
        if !self.promise_files.is_empty() {
            line.push_str(&format!(
                "; promises: {} broken, {} kept, {} better than promised, {} undecided",
                s.broken, s.kept, s.better, s.promise_undecided
            ));
        }
        line
    }

    /// The grid as text for a terminal: each cell's strongest models that held.
    pub fn text_table(&self) -> String {
        let label = |c: &MatrixCell| -> String {
            let mut s = match (&c.state, &c.outcome) {
                (CellState::NotApplicable, _) => "n/a".to_string(),
                (CellState::Failed, _) => "failed".to_string(),
                (CellState::NotRun, _) => "not run".to_string(),
                (_, Some(o)) if o.held.is_empty() => "nothing held".to_string(),
                (_, Some(o)) => o.held.join(", "),
                (_, None) => "?".to_string(),
            };
            if c.state == CellState::Undecided {
                s.push_str(" (+?)");
            }
            match c.promise.as_ref().map(|j| j.standing) {
                Some(Standing::Broken) => s.push_str(" [BROKEN]"),
                Some(Standing::Better) => s.push_str(" [better]"),
                _ => {}
            }
            s
        };
        let mut table: Vec<Vec<String>> = vec![std::iter::once(String::new())
            .chain(self.fault_sets.iter().cloned())
            .collect()];
        for (i, row) in self.rows.iter().enumerate() {
            let mut line = vec![row.clone()];
            line.extend(self.cells.iter().filter(|c| c.row == i).map(label));
            table.push(line);
        }
        let columns = table[0].len();
        let widths: Vec<usize> = (0..columns)
            .map(|j| {
                table
                    .iter()
                    .map(|r| r.get(j).map_or(0, |s| s.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for r in &table {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(j, s)| format!("{s:<w$}", w = widths[j]))
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out
    }
}

/// What the matrix says about itself: when, how long, how to run it again.
pub struct Head {
    /// When it started, RFC 3339.
    pub started: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// The command that runs it again.
    pub command: String,
}

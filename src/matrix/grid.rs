//! The grid of a matrix: its rows (a store configuration and a workload), its columns
//! (fault sets) and its cells, parsed from the command line and checked before any
//! run starts.
//!
//! A row is written `KIND[:FLAG=VALUE]...` (`primary-backup:replication=async`): a
//! `--store` kind of the table (`crate::subject::kind`) and its store options, as
//! `faultline run` takes them. A fault set is `none` or faults joined by `+`
//! (`partition+kill`), as `faultline run --nemesis` takes them. Every cell is a normal
//! `faultline run`; [`Cell::run_args`] is its command line, and [`Grid::check`]
//! validates each one with the run's own plan ([`crate::run::RunPlan`]), so a matrix
//! refuses exactly what `faultline run` would, before anything starts. A cell whose
//! store cannot take its faults is *not applicable* rather than an error.

use std::fmt;

use clap::Parser;
use serde::Serialize;

use crate::cli::run::RunArgs;
use crate::run::RunPlan;
use crate::subject::kind::{self, StoreSettings};

/// A store configuration: a store kind and its store options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreConfig {
    /// The `--store` kind.
    pub kind: String,
    /// Its store options (flag without dashes, value), sorted by flag.
    pub options: Vec<(String, String)>,
}

impl StoreConfig {
    /// Parses `KIND[:FLAG=VALUE]...`; the error says what was expected.
    pub fn parse(spec: &str) -> Result<StoreConfig, String> {
        let mut parts = spec.trim().split(':');
        let name = parts.next().unwrap_or_default().trim();
        let Some(k) = kind::by_name(name) else {
            return Err(format!(
                "store \"{spec}\": unknown store kind \"{name}\"; expected one of {} (optionally with :FLAG=VALUE store options, e.g. primary-backup:replication=async)",
                kind::names()
            ));
        };
        let mut options = Vec::new();
        for part in parts {
            let Some((flag, value)) = part.split_once('=') else {
                return Err(format!(
                    "store \"{spec}\": \"{part}\" is not FLAG=VALUE (e.g. replication=async)"
                ));
            };
            let flag = flag.trim().trim_start_matches("--");
            if !k.options().contains(&flag) {
                let takes = if k.options().is_empty() {
                    "none".to_string()
                } else {
                    k.options().join(", ")
                };
                return Err(format!(
                    "store \"{spec}\": {name} has no store option \"{flag}\"; it takes: {takes}"
                ));
            }
            options.push((flag.to_string(), value.trim().to_string()));
        }
        options.sort();
        Ok(StoreConfig {
            kind: name.to_string(),
            options,
        })
    }
}

impl fmt::Display for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        for (k, v) in &self.options {
            write!(f, ":{k}={v}")?;
        }
        Ok(())
    }
}

/// A set of faults a column injects together: empty for `none`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FaultSet(pub Vec<String>);

impl FaultSet {
    /// Parses `none` or `FAULT[+FAULT]...` (each as `--nemesis` takes it).
    pub fn parse(spec: &str) -> Result<FaultSet, String> {
        let spec = spec.trim();
        if spec == "none" {
            return Ok(FaultSet(Vec::new()));
        }
        let mut faults = Vec::new();
        for item in spec.split('+') {
            let item = item.trim();
            let base = item.split(':').next().unwrap_or_default();
            base.parse::<nemesis::Fault>().map_err(|e| {
                format!(
                    "fault set \"{spec}\": {e} (or none; join faults with +, e.g. partition+kill)"
                )
            })?;
            if !faults.iter().any(|f| f == item) {
                faults.push(item.to_string());
            }
        }
        Ok(FaultSet(faults))
    }

    /// The faults by kind (a partition topology dropped).
    pub fn kinds(&self) -> Vec<nemesis::Fault> {
        self.0
            .iter()
            .filter_map(|f| f.split(':').next()?.parse().ok())
            .collect()
    }

    /// The value for `faultline run --nemesis`.
    pub fn nemesis_arg(&self) -> String {
        if self.0.is_empty() {
            "none".to_string()
        } else {
            self.0.join(",")
        }
    }
}

impl fmt::Display for FaultSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&self.0.join("+"))
        }
    }
}

/// A row: a store configuration and the workload its cells run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The store configuration.
    pub store: StoreConfig,
    /// The workload.
    pub workload: String,
}

impl Row {
    /// `STORE · WORKLOAD`, as the page and the terminal show it.
    pub fn label(&self) -> String {
        format!("{} · {}", self.store, self.workload)
    }
}

/// What every cell's run shares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSettings {
    /// `--time-limit` of each run, in seconds.
    pub time_limit_s: f64,
    /// `--seed` of each run.
    pub seed: u64,
    /// `--nemesis-interval` of each run, in seconds.
    pub nemesis_interval_s: f64,
}

/// Whether a cell runs, and if not why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "why")]
pub enum Applicability {
    /// It runs.
    Runs,
    /// The store cannot take one of the faults.
    NotApplicable(String),
}

/// One cell: a row under one fault set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Cell {
    /// Index into [`Grid::rows`].
    pub row: usize,
    /// Index into [`Grid::fault_sets`].
    pub column: usize,
    /// Its name, safe for a directory (also the run's `--name`).
    pub id: String,
    /// Whether it runs.
    pub applicability: Applicability,
}

/// The rows, the columns and every cell, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grid {
    /// The rows.
    pub rows: Vec<Row>,
    /// The columns.
    pub fault_sets: Vec<FaultSet>,
    /// Row-major: every row under every fault set.
    pub cells: Vec<Cell>,
    /// What every run shares.
    pub settings: RunSettings,
}

/// The default rows: the reference stores in the configurations their promises speak
/// of (stores/README.md), and etcd. Two-phase commit runs its default workload,
/// list-append; the others kv.
pub const DEFAULT_STORES: &[&str] = &[
    "leaderless",
    "leaderless:r=1:w=1",
    "primary-backup",
    "primary-backup:backup-lag-ms=200:replication=async",
    "primary-backup:read-from=backups",
    "multi-leader",
    "multi-leader:causality=version-vectors",
    "two-phase-commit",
    "etcd",
];

/// The default columns.
pub const DEFAULT_FAULTS: &[&str] = &["none", "partition", "kill", "pause", "clock"];

/// `--quick`: a few rows and columns for a CI job.
pub const QUICK_STORES: &[&str] = &[
    "leaderless",
    "primary-backup:backup-lag-ms=200:replication=async",
    "multi-leader",
];

/// `--quick`'s columns.
pub const QUICK_FAULTS: &[&str] = &["none", "partition", "kill"];

/// The workload a row runs when `--workloads` names none: `kv` where the store serves
/// it, else the store's first.
pub fn default_workload(kind_name: &str) -> Option<&'static str> {
    let k = kind::by_name(kind_name)?;
    let served = k.workloads();
    served
        .iter()
        .copied()
        .find(|w| *w == "kv")
        .or_else(|| served.first().copied())
}

/// `faultline run` as a parser, to validate a cell's command line in process.
#[derive(Parser)]
#[command(name = "faultline run")]
struct RunCommand {
    #[command(flatten)]
    run: RunArgs,
}

impl Grid {
    /// The grid of `stores` × `workloads` (each row's workloads: those of `workloads`
    /// the store serves, or its default) × `fault_sets`, every cell checked with the
    /// run's own plan. The error is one line naming what to change.
    pub fn new(
        stores: &[StoreConfig],
        workloads: &[String],
        fault_sets: Vec<FaultSet>,
        settings: RunSettings,
    ) -> Result<Grid, String> {
        if stores.is_empty() {
            return Err("no store configurations: name at least one with --stores".into());
        }
        if fault_sets.is_empty() {
            return Err("no fault sets: name at least one with --faults (e.g. none)".into());
        }
        let mut rows = Vec::new();
        for store in stores {
            let k = kind::by_name(&store.kind).ok_or_else(|| format!("unknown store {store}"))?;
            let chosen: Vec<String> = if workloads.is_empty() {
                default_workload(&store.kind)
                    .map(|w| vec![w.to_string()])
                    .unwrap_or_default()
            } else {
                workloads
                    .iter()
                    .filter(|w| k.workloads().contains(&w.as_str()))
                    .cloned()
                    .collect()
            };
            if chosen.is_empty() {
                return Err(format!(
                    "store {store} serves none of the workloads {}; it serves: {}",
                    workloads.join(", "),
                    k.workloads().join(", ")
                ));
            }
            for w in chosen {
                let row = Row {
                    store: store.clone(),
                    workload: w,
                };
                if !rows.contains(&row) {
                    rows.push(row);
                }
            }
        }
        let mut grid = Grid {
            rows,
            fault_sets,
            cells: Vec::new(),
            settings,
        };
        for row in 0..grid.rows.len() {
            for column in 0..grid.fault_sets.len() {
                let cell = grid.cell(row, column)?;
                grid.cells.push(cell);
            }
        }
        Ok(grid)
    }

    /// Builds and checks the cell at (`row`, `column`).
    fn cell(&self, row: usize, column: usize) -> Result<Cell, String> {
        let r = &self.rows[row];
        let faults = &self.fault_sets[column];
        let id = crate::results::safe_name(&format!(
            "{}--{}--{}",
            r.store.to_string().replace([':', '='], "-"),
            r.workload,
            faults.to_string().replace('+', "-")
        ));
        let mut cell = Cell {
            row,
            column,
            id,
            applicability: Applicability::Runs,
        };
        let k = kind::by_name(&r.store.kind).ok_or_else(|| format!("unknown store {}", r.store))?;
        let settings = StoreSettings {
            nodes: 3,
            addrs: &[],
            bin: None,
            options: &r.store.options,
            workload: &r.workload,
        };
        let takes = k.faults(&settings);
        if let Some(f) = faults.kinds().iter().find(|f| !takes.contains(f)) {
            cell.applicability = Applicability::NotApplicable(format!(
                "{} cannot take {}",
                r.store.kind,
                f.as_str()
            ));
            return Ok(cell);
        }
        let args = self.run_args(&cell, std::path::Path::new("results"));
        let parsed =
            RunCommand::try_parse_from(std::iter::once("faultline run".to_string()).chain(args))
                .map_err(|e| {
                    let first = e.to_string();
                    let first = first
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .trim_start_matches("error: ");
                    format!("{} under {faults}: {first}", r.label())
                })?;
        parsed
            .run
            .resolve()
            .and_then(RunPlan::new)
            .map_err(|e| format!("{} under {faults}: {e}", r.label()))?;
        Ok(cell)
    }

    /// The `faultline run` arguments of `cell` (without `run`), its runs written
    /// under `runs`.
    pub fn run_args(&self, cell: &Cell, runs: &std::path::Path) -> Vec<String> {
        let r = &self.rows[cell.row];
        let mut a = vec!["--store".to_string(), r.store.kind.clone()];
        for (k, v) in &r.store.options {
            a.push(format!("--{k}"));
            a.push(v.clone());
        }
        let s = &self.settings;
        a.extend([
            "--workload".to_string(),
            r.workload.clone(),
            "--nemesis".to_string(),
            self.fault_sets[cell.column].nemesis_arg(),
            "--nemesis-interval".to_string(),
            format!("{}s", s.nemesis_interval_s),
            "--time-limit".to_string(),
            format!("{}s", s.time_limit_s),
            "--seed".to_string(),
            s.seed.to_string(),
            "--consistency".to_string(),
            "all".to_string(),
            "--name".to_string(),
            cell.id.clone(),
            "--results".to_string(),
            runs.display().to_string(),
        ]);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RunSettings {
        RunSettings {
            time_limit_s: 5.0,
            seed: 1,
            nemesis_interval_s: 2.0,
        }
    }

    #[test]
    fn a_store_configuration_reads_its_options_and_prints_them_sorted() {
        let s = StoreConfig::parse("primary-backup:replication=async:backup-lag-ms=200").unwrap();
        assert_eq!(s.kind, "primary-backup");
        assert_eq!(
            s.to_string(),
            "primary-backup:backup-lag-ms=200:replication=async"
        );
        let e = StoreConfig::parse("nosuch").unwrap_err();
        assert!(e.contains("unknown store kind \"nosuch\""), "{e}");
        let e = StoreConfig::parse("etcd:conflict=lww").unwrap_err();
        assert!(e.contains("etcd has no store option \"conflict\""), "{e}");
        let e = StoreConfig::parse("leaderless:w").unwrap_err();
        assert!(e.contains("is not FLAG=VALUE"), "{e}");
    }

    #[test]
    fn a_fault_set_joins_faults_with_plus_and_none_is_empty() {
        assert_eq!(FaultSet::parse("none").unwrap().nemesis_arg(), "none");
        let f = FaultSet::parse("partition:one+kill").unwrap();
        assert_eq!(f.nemesis_arg(), "partition:one,kill");
        assert_eq!(f.to_string(), "partition:one+kill");
        assert_eq!(
            f.kinds(),
            vec![nemesis::Fault::Partition, nemesis::Fault::Kill]
        );
        assert!(FaultSet::parse("frobnicate")
            .unwrap_err()
            .contains("unknown fault"));
    }

    #[test]
    fn every_cell_is_checked_with_the_run_plan_before_anything_starts() {
        let stores = [StoreConfig::parse("leaderless:w=5").unwrap()];
        let e = Grid::new(
            &stores,
            &[],
            vec![FaultSet::parse("none").unwrap()],
            settings(),
        )
        .unwrap_err();
        assert!(e.starts_with("leaderless:w=5 · kv under none: "), "{e}");
        let stores = [StoreConfig::parse("leaderless").unwrap()];
        let g = Grid::new(
            &stores,
            &["kv".into(), "set".into()],
            vec![
                FaultSet::parse("none").unwrap(),
                FaultSet::parse("kill").unwrap(),
            ],
            settings(),
        )
        .unwrap();
        assert_eq!(g.rows.len(), 2);
        assert_eq!(g.cells.len(), 4);
        assert_eq!(g.cells[1].id, "leaderless--kv--kill");
        assert!(g
            .run_args(&g.cells[1], std::path::Path::new("r"))
            .contains(&"kill".to_string()));
    }

    #[test]
    fn a_fault_the_store_cannot_take_makes_the_cell_not_applicable() {
        // postgres takes kill, stop and pause only; a not-applicable cell is decided
        // before the run plan is asked (so this holds without postgres installed).
        let stores = [StoreConfig::parse("postgres").unwrap()];
        let g = Grid::new(
            &stores,
            &[],
            vec![FaultSet::parse("clock").unwrap()],
            settings(),
        )
        .unwrap();
        assert_eq!(g.rows[0].workload, "list-append");
        assert_eq!(
            g.cells[0].applicability,
            Applicability::NotApplicable("postgres cannot take clock".into())
        );
    }

    #[test]
    fn a_workload_no_row_serves_is_refused() {
        let stores = [StoreConfig::parse("redis").unwrap()];
        let e = Grid::new(&stores, &["kv".into()], vec![FaultSet(vec![])], settings()).unwrap_err();
        assert!(e.contains("serves none of the workloads kv"), "{e}");
    }
}

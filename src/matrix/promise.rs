//! Promise files: what a store configuration claims to keep under each fault set, and
//! the comparison of a matrix's cells against it.
//!
//! ```toml
//! # stores/promises/primary-backup-sync.toml
//! store = "primary-backup"          # a row, as --stores names it
//! workload = "kv"                   # optional: the store's default workload
//! [faults]                          # fault set -> the models promised to hold
//! none = ["linearizable"]
//! kill = ["read-your-writes"]
//! "partition+kill" = []             # nothing promised: any model that holds is better
//! ```
//!
//! A cell is **broken** when a promised model came out invalid, **better** when a
//! model held that no promised model implies (e.g. promised causal, sequential held),
//! **kept** when every promised model held, and **undecided** when a promised model
//! was left unknown (or the cell could not run). `faultline matrix --promises` exits 1
//! when any promise was broken.

use std::path::{Path, PathBuf};

use checkers::{Consistency, Verdict};
use serde::{Deserialize, Serialize};

use super::grid::{FaultSet, StoreConfig};
use super::outcome::Outcome;

/// A promise file, read and checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PromiseFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The row it speaks for.
    pub store: StoreConfig,
    /// Its workload, if it names one.
    pub workload: Option<String>,
    /// Each fault set and the models promised under it (in name order: a TOML table
    /// keeps none).
    pub faults: Vec<(FaultSet, Vec<Consistency>)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPromise {
    store: String,
    workload: Option<String>,
    faults: toml::Table,
}

/// A promise file that cannot be used: the file, the line where known, what was
/// expected.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct PromiseError {
    /// The file.
    pub path: String,
    /// The line, 1-based, where known.
    pub line: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl PromiseFile {
    /// Reads and checks the promise file at `path`.
    pub fn read(path: &Path) -> Result<PromiseFile, PromiseError> {
        let err = |line: Option<usize>, message: String| PromiseError {
            path: path.display().to_string(),
            line,
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(None, e.to_string()))?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| {
                    let l = l.trim_start();
                    l.starts_with(needle)
                        || l.strip_prefix('"').is_some_and(|l| l.starts_with(needle))
                })
                .map(|i| i + 1)
        };
        let raw: RawPromise = toml::from_str(&text).map_err(|e| {
            // toml spans an unknown field as the whole table: find the field's line.
            let field = e
                .message()
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next());
            let line = match field {
                Some(f) => line_of(f),
                None => e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1)),
            };
            err(
                line,
                format!(
                    "{} (expected store = \"KIND[:FLAG=VALUE]...\", optional workload = \"...\", and a [faults] table of FAULT-SET = [\"model\", ...])",
                    e.message()
                ),
            )
        })?;
        let store = StoreConfig::parse(&raw.store).map_err(|e| err(line_of("store"), e))?;
        let mut faults = Vec::new();
        for (set, models) in &raw.faults {
            let at = line_of(set);
            let fault_set = FaultSet::parse(set).map_err(|e| err(at, e))?;
            let Some(list) = models.as_array() else {
                return Err(err(
                    at,
                    format!("{set}: expected a list of model names, e.g. [\"linearizable\"]"),
                ));
            };
            let mut promised = Vec::new();
            for m in list {
                let name = m.as_str().unwrap_or_default();
                let c = name.parse::<Consistency>().map_err(|_| {
                    err(
                        at,
                        format!(
                            "{set}: {m} is not a consistency model; expected one of {}",
                            Consistency::EVERY
                                .iter()
                                .map(|c| c.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )
                })?;
                promised.push(c);
            }
            faults.push((fault_set, promised));
        }
        Ok(PromiseFile {
            path: path.to_path_buf(),
            store,
            workload: raw.workload,
            faults,
        })
    }

    /// The models promised for `store` running `workload` under `faults`, if this file
    /// speaks for that cell.
    pub fn promised(
        &self,
        store: &StoreConfig,
        workload: &str,
        faults: &FaultSet,
    ) -> Option<&[Consistency]> {
        if &self.store != store || self.workload.as_deref().is_some_and(|w| w != workload) {
            return None;
        }
        self.faults
            .iter()
            .find(|(f, _)| f == faults)
            .map(|(_, m)| m.as_slice())
    }
}

/// How a cell compares with its promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Every promised model held, and nothing stronger.
    Kept,
    /// A model held that no promised model implies.
    Better,
    /// A promised model broke.
    Broken,
    /// A promised model was left undecided, or the cell could not run.
    Undecided,
}

/// A cell against its promise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The promise file.
    pub file: String,
    /// The models promised.
    pub promised: Vec<String>,
    /// How the cell stands.
    pub standing: Standing,
    /// The promised models that broke.
    pub broken: Vec<String>,
    /// The models that held beyond the promise.
    pub beyond: Vec<String>,
}

/// Whether `a` implies `b` in either lattice.
fn implies(a: Consistency, b: Consistency) -> bool {
    if a.is_transactional() && b.is_transactional() {
        checkers::txn::lattice::implies(a, b)
    } else {
        checkers::lattice::implies(a, b)
    }
}

/// Compares `outcome` (None: the cell did not run to a verdict) with `promised`.
pub fn judge(file: &Path, promised: &[Consistency], outcome: Option<&Outcome>) -> Judgement {
    let mut j = Judgement {
        file: file.display().to_string(),
        promised: promised.iter().map(|c| c.as_str().to_string()).collect(),
        standing: Standing::Undecided,
        broken: Vec::new(),
        beyond: Vec::new(),
    };
    let Some(o) = outcome.filter(|o| o.verdict.is_some()) else {
        return j;
    };
    let verdict_of = |c: Consistency| -> Option<Verdict> {
        if c == Consistency::Eventual {
            return o.eventual;
        }
        let name = c.as_str().to_string();
        if o.broke.contains(&name) {
            Some(Verdict::Invalid)
        } else if o.unknown.contains(&name) {
            Some(Verdict::Unknown)
        } else if o
            .held
            .iter()
            .filter_map(|h| h.parse().ok())
            .any(|h| implies(h, c))
        {
            Some(Verdict::Valid)
        } else {
            None
        }
    };
    let mut undecided = false;
    for &c in promised {
        match verdict_of(c) {
            Some(Verdict::Invalid) => j.broken.push(c.as_str().into()),
            Some(Verdict::Valid) => {}
            _ => undecided = true,
        }
    }
    j.beyond = o
        .held
        .iter()
        .filter(|h| {
            h.parse::<Consistency>()
                .is_ok_and(|h| !promised.iter().any(|&p| implies(p, h)))
        })
        .cloned()
        .collect();
    j.standing = if !j.broken.is_empty() {
        Standing::Broken
    } else if undecided {
        Standing::Undecided
    } else if !j.beyond.is_empty() {
        Standing::Better
    } else {
        Standing::Kept
    };
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("faultline-promise-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn held(models: &[&str], broke: &[&str]) -> Outcome {
        Outcome {
            verdict: Some(Verdict::Valid),
            held: models.iter().map(|s| s.to_string()).collect(),
            broke: broke.iter().map(|s| s.to_string()).collect(),
            eventual: Some(Verdict::Valid),
            ..Outcome::default()
        }
    }

    #[test]
    fn a_promise_file_names_a_row_and_the_models_per_fault_set() {
        let p = write(
            "ok.toml",
            "store = \"primary-backup:replication=sync\"\nworkload = \"kv\"\n[faults]\nnone = [\"linearizable\"]\n\"partition+kill\" = []\n",
        );
        let f = PromiseFile::read(&p).unwrap();
        let store = StoreConfig::parse("primary-backup:replication=sync").unwrap();
        assert_eq!(
            f.promised(&store, "kv", &FaultSet::parse("none").unwrap()),
            Some(&[Consistency::Linearizable][..])
        );
        assert_eq!(
            f.promised(&store, "kv", &FaultSet::parse("partition+kill").unwrap()),
            Some(&[][..])
        );
        assert_eq!(
            f.promised(&store, "set", &FaultSet::parse("none").unwrap()),
            None
        );
    }

    #[test]
    fn a_bad_promise_file_says_where_and_what_was_expected() {
        let p = write(
            "bad-model.toml",
            "store = \"leaderless\"\n[faults]\nnone = [\"linearish\"]\n",
        );
        let e = PromiseFile::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("bad-model.toml:3: none: \"linearish\" is not a consistency model"),
            "{e}"
        );
        let p = write(
            "bad-fault.toml",
            "store = \"leaderless\"\n[faults]\nfrob = []\n",
        );
        let e = PromiseFile::read(&p).unwrap_err().to_string();
        assert!(e.contains("bad-fault.toml:3: fault set \"frob\""), "{e}");
        let p = write(
            "bad-key.toml",
            "store = \"leaderless\"\nstorr = 1\n[faults]\n",
        );
        let e = PromiseFile::read(&p).unwrap_err().to_string();
        assert!(e.contains("bad-key.toml:2: unknown field `storr`"), "{e}");
    }

    #[test]
    fn a_cell_is_broken_kept_better_or_undecided_against_its_promise() {
        let f = Path::new("p.toml");
        use Consistency::*;
        let j = judge(
            f,
            &[Linearizable],
            Some(&held(&["sequential"], &["linearizable"])),
        );
        assert_eq!(
            (j.standing, j.broken.clone()),
            (Standing::Broken, vec!["linearizable".to_string()])
        );
        let j = judge(
            f,
            &[Causal, ReadYourWrites],
            Some(&held(&["causal-memory"], &[])),
        );
        assert_eq!(j.standing, Standing::Better);
        assert_eq!(j.beyond, vec!["causal-memory"]);
        let j = judge(
            f,
            &[Sequential],
            Some(&held(&["sequential"], &["linearizable"])),
        );
        assert_eq!(j.standing, Standing::Kept);
        let j = judge(f, &[Eventual], Some(&held(&["pram"], &[])));
        assert_eq!(j.standing, Standing::Better);
        let mut u = held(&["causal"], &[]);
        u.unknown.push("sequential".into());
        assert_eq!(
            judge(f, &[Sequential], Some(&u)).standing,
            Standing::Undecided
        );
        assert_eq!(judge(f, &[], None).standing, Standing::Undecided);
        assert_eq!(
            judge(f, &[], Some(&held(&[], &["pram"]))).standing,
            Standing::Kept
        );
    }
}

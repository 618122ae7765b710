//! The results directory of a run (DESIGN.md, "Results layout"):
//! `results/<test-name>/<YYYYMMDDTHHMMSS>/` with `test.json`, `history.jsonl`,
//! `results.json`, `nodes/<node>/`, and `results/<test-name>/latest` pointing at the
//! newest run. [`RunResults`] is the shape of `results.json` (reports read it).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use checkers::{CheckResult, Verdict};
use serde::{Deserialize, Serialize};

use crate::recorder::OpCounts;

/// `results.json`: the verdicts of a run and what it was.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    /// The test's name (`leaderless-kv`).
    pub name: String,
    /// The run's directory.
    pub run_dir: String,
    /// When the run started, RFC 3339 (UTC).
    pub started: String,
    /// How long the whole run took, in milliseconds.
    pub duration_ms: u64,
    /// The worst verdict of the checkers.
    pub verdict: Verdict,
    /// The store (`leaderless`, `http`, `cluster-file`, ...).
    pub store: String,
    /// The workload.
    pub workload: String,
    /// The faults the nemesis injected.
    pub nemesis: Vec<String>,
    /// The seed of the operation generators.
    pub seed: u64,
    /// Every checker's result.
    pub checkers: Vec<CheckResult>,
    /// How many operations ended how.
    pub ops: OpCounts,
    /// The command that re-runs this test.
    pub command: String,
    /// Set when the run did not finish: where it stopped and why (the history recorded
    /// until then was checked all the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interruption>,
    /// Why the verdict is `unknown` when the history itself allows no decision ("no
    /// operation succeeded: all 3 nodes had exited — see nodes/*/ (...)";
    /// `checkers::factory::unjudgeable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict_reason: Option<String>,
}

impl RunResults {
    /// The run's verdict on one terminal line: "verdict: invalid  (2014 ops: 1459 ok,
    /// 554 fail, 1 info)", with the reason after the verdict when it is `unknown`.
    pub fn verdict_line(&self) -> String {
        format!(
            "verdict: {}{}  ({} ops: {} ok, {} fail, {} info)",
            self.verdict,
            self.verdict_reason
                .as_ref()
                .map(|why| format!(" — {why}"))
                .unwrap_or_default(),
            self.ops.total,
            self.ops.ok,
            self.ops.fail,
            self.ops.info
        )
    }
}

/// Where and why a run stopped before it finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interruption {
    /// The phase it was in (`main phase`, `final reads`, ...).
    pub phase: String,
    /// Why: `interrupted (Ctrl-C or SIGTERM)`, or the error that stopped it.
    pub reason: String,
}

/// The file names inside a run directory.
pub mod files {
    /// The resolved configuration.
    pub const TEST: &str = "test.json";
    /// The history.
    pub const HISTORY: &str = "history.jsonl";
    /// The verdicts.
    pub const RESULTS: &str = "results.json";
    /// The node logs directory.
    pub const NODES: &str = "nodes";
}

/// A test name made safe for a directory name: letters, digits, `-`, `_`, `.`.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    match s.trim_matches('.') {
        "" => "test".to_string(),
        t => t.to_string(),
    }
}

/// `started` as RFC 3339 and as a directory stamp `YYYYMMDDTHHMMSS`.
pub fn stamps(started: SystemTime) -> (String, String) {
    let rfc = humantime::format_rfc3339_seconds(started).to_string();
    let dir: String = rfc
        .trim_end_matches('Z')
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    (rfc, dir)
}

/// Creates `root/<name>/<stamp>/` (with a `-2`, `-3`... suffix if that exists) and its
/// `nodes/` directory; returns the run directory.
pub fn create_run_dir(root: &Path, name: &str, stamp: &str) -> std::io::Result<PathBuf> {
    let test_dir = root.join(safe_name(name));
    std::fs::create_dir_all(&test_dir)?;
    let mut n = 1;
    loop {
        let leaf = if n == 1 {
            stamp.to_string()
        } else {
            format!("{stamp}-{n}")
        };
        let dir = test_dir.join(leaf);
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                std::fs::create_dir_all(dir.join(files::NODES))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Points `<test dir>/latest` at `run_dir` (relative), replacing it atomically.
pub fn update_latest(run_dir: &Path) -> std::io::Result<()> {
    let (Some(test_dir), Some(leaf)) = (run_dir.parent(), run_dir.file_name()) else {
        return Ok(());
    };
    let tmp = test_dir.join(format!(".latest-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(leaf, &tmp)?;
    std::fs::rename(&tmp, test_dir.join("latest"))
}

/// Writes `value` as pretty JSON to `path` (via a temporary file and a rename, so a
/// reader never sees half a file).
pub fn write_json(path: &Path, value: &impl Serialize) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(std::io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_directories_are_stamped_unique_and_latest_follows_the_newest() {
        let root = std::env::temp_dir().join(format!("faultline-results-{}", std::process::id()));
        let a = create_run_dir(&root, "leader less/kv", "20260101T000000").unwrap();
        let b = create_run_dir(&root, "leader less/kv", "20260101T000000").unwrap();
        assert!(a.ends_with("leader-less-kv/20260101T000000"));
        assert!(b.ends_with("leader-less-kv/20260101T000000-2"));
        update_latest(&a).unwrap();
        update_latest(&b).unwrap();
        let latest = std::fs::read_link(root.join("leader-less-kv/latest")).unwrap();
        assert_eq!(latest, PathBuf::from("20260101T000000-2"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn stamps_are_rfc3339_and_compact() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        let (rfc, dir) = stamps(t);
        assert_eq!(rfc, "2023-11-14T22:13:20Z");
        assert_eq!(dir, "20231114T221320");
    }
}

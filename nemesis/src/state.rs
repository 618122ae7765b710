//! The state file: every fault that is active right now, written as it starts and
//! rewritten as it heals, so that a driver killed in the middle of a run leaves enough
//! behind for `faultline cleanup` to heal everything.
//!
//! Each run writes `nemesis-state.json` in its run directory and the same content to
//! `<state dir>/<owner pid>-<id>.json`, where the state dir is `$FAULTLINE_STATE_DIR`,
//! else `/run/faultline` (root), else `$XDG_RUNTIME_DIR/faultline`, else
//! `/tmp/faultline-<uid>`. A fully healed run removes its state-dir copy and marks its
//! run-directory copy `healed`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::owner::Owner;

/// The file name of the state in a run directory.
pub const RUN_STATE_FILE: &str = "nemesis-state.json";

/// What a run's nemesis has set up and which faults are active.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct State {
    /// The faultline process that owns all this.
    pub owner: Option<Owner>,
    /// The run's id (also in the names of its namespaces and interfaces).
    pub id: String,
    /// The run directory, if any.
    pub run_dir: Option<PathBuf>,
    /// Network namespaces it created (`ip netns` names).
    pub namespaces: Vec<String>,
    /// Interfaces it created in the root namespace (bridge, veths).
    pub interfaces: Vec<String>,
    /// Subnet lock files it holds.
    pub locks: Vec<PathBuf>,
    /// Processes it paused: (node, pid, start time) — resumed by a heal.
    pub paused: Vec<(String, i32, u64)>,
    /// Clock files whose offsets it set (reset to `+0` by a heal).
    pub clock_files: Vec<PathBuf>,
    /// Processes whose vDSO it patched (the original bytes put back by a heal).
    #[serde(default)]
    pub vdso_patches: Vec<crate::clock::vdso::VdsoPatch>,
    /// Descriptions of the other active faults (partitions, packet faults, kills).
    pub active: Vec<String>,
    /// The SSH hosts its nodes run on, each with its faults (`--hosts`).
    #[serde(default)]
    pub hosts: Vec<crate::host::remote::HostRecord>,
    /// Whether everything was healed and torn down.
    pub healed: bool,
}

impl State {
    /// Whether nothing is active or set up any more.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
            && self.interfaces.is_empty()
            && self.locks.is_empty()
            && self.paused.is_empty()
            && self.clock_files.is_empty()
            && self.vdso_patches.is_empty()
            && self.active.is_empty()
            && self.hosts.is_empty()
    }
}

/// The state directory (see the module docs).
pub fn state_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FAULTLINE_STATE_DIR") {
        return PathBuf::from(d);
    }
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/run/faultline");
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR") {
        return PathBuf::from(d).join("faultline");
    }
    PathBuf::from(format!("/tmp/faultline-{}", nix::unistd::geteuid()))
}

/// A run's state, kept on disk as it changes.
#[derive(Debug)]
pub struct StateFile {
    state: Mutex<State>,
    paths: Vec<PathBuf>,
}

impl StateFile {
    /// A new state for run `id` owned by this process, written to the state dir and,
    /// when given, to `run_dir`.
    pub fn create(id: &str, run_dir: Option<&Path>) -> std::io::Result<StateFile> {
        let owner = Owner::current();
        let dir = state_dir();
        std::fs::create_dir_all(&dir)?;
        let mut paths = vec![dir.join(format!("{}-{id}.json", owner.pid))];
        if let Some(r) = run_dir {
            paths.push(r.join(RUN_STATE_FILE));
        }
        let f = StateFile {
            state: Mutex::new(State {
                owner: Some(owner),
                id: id.to_string(),
                run_dir: run_dir.map(Path::to_path_buf),
                ..State::default()
            }),
            paths,
        };
        f.update(|_| ())?;
        Ok(f)
    }

    /// Changes the state and writes it out (atomically: temporary file, then rename).
    pub fn update(&self, change: impl FnOnce(&mut State)) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut state);
        let json = serde_json::to_vec_pretty(&*state).map_err(std::io::Error::other)?;
        let mut result = Ok(());
        for p in &self.paths {
            if let Err(e) = write_atomically(p, &json) {
                result = Err(e);
            }
        }
        result
    }

    /// A copy of the state.
    pub fn get(&self) -> State {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Marks the run healed: removes the state-dir copy, keeps the run's as a record.
    pub fn finish(&self) -> std::io::Result<()> {
        self.update(|s| s.healed = true)?;
        let _ = std::fs::remove_file(&self.paths[0]);
        Ok(())
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Reads a state file.
pub fn read(path: &Path) -> Result<State, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a nemesis state file: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_is_written_to_both_places_and_finished_once_healed() {
        let dir = std::env::temp_dir().join(format!("fl-state-test-{}", rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var("FAULTLINE_STATE_DIR", dir.join("state"));
        let f = StateFile::create("abc123", Some(&dir)).unwrap();
        f.update(|s| s.active.push("partition".into())).unwrap();
        let global = state_dir().join(format!("{}-abc123.json", std::process::id()));
        assert_eq!(read(&global).unwrap().active, vec!["partition".to_string()]);
        assert_eq!(read(&dir.join(RUN_STATE_FILE)).unwrap(), f.get());
        f.update(|s| s.active.clear()).unwrap();
        f.finish().unwrap();
        assert!(!global.exists());
        assert!(read(&dir.join(RUN_STATE_FILE)).unwrap().healed);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! The clocks of a run's nodes ([`NodeClocks`]): for each node its libfaketime offset
//! file (when libfaketime is installed: the environment a node is started with) and its
//! vDSO control, and the mechanism each node's clock faults go through, chosen when
//! the fault starts (the node's program is known by then).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::control::{ClockControl, ClockError};
use super::faketime::{libfaketime, NodeClock};
use super::vdso::VdsoPatch;
use super::ClockMechanism;

/// The clocks of a run's nodes.
#[derive(Debug, Default)]
pub struct NodeClocks {
    mechanism: ClockMechanism,
    faketime: Vec<NodeClock>,
    vdso: Vec<ClockControl>,
    /// The mechanism resolved per (node, program): resolving reads the program's
    /// file, and a strobing clock asks several times a second.
    resolved: Mutex<HashMap<(String, PathBuf), ClockMechanism>>,
}

impl NodeClocks {
    /// Clocks for `names`: offset files in `dir` (at 0) when libfaketime is installed,
    /// and a vDSO control each. Mechanism `auto` until [`NodeClocks::set_mechanism`].
    pub fn create(names: &[String], dir: &Path) -> std::io::Result<NodeClocks> {
        let mut c = NodeClocks::default();
        for name in names {
            if libfaketime().is_some() {
                c.faketime.push(NodeClock::create(name, dir)?);
            }
            c.vdso.push(ClockControl::vdso(name));
        }
        Ok(c)
    }

    /// Uses `mechanism` for every node (`auto`: per node).
    pub fn set_mechanism(&mut self, mechanism: ClockMechanism) {
        self.mechanism = mechanism;
        self.resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The offset files (for the state file).
    pub fn files(&self) -> Vec<PathBuf> {
        self.faketime.iter().map(|c| c.file.clone()).collect()
    }

    /// The environment node `name` starts with (libfaketime's; empty without it).
    pub fn env(&self, name: &str) -> Vec<(String, String)> {
        self.faketime
            .iter()
            .find(|c| c.node == name)
            .and_then(NodeClock::env)
            .unwrap_or_default()
    }

    /// The mechanism of node `name`, running `program` (when known); never `Auto`.
    pub fn mechanism_of(&self, name: &str, program: Option<&Path>) -> ClockMechanism {
        let preloaded = self.faketime.iter().any(|c| c.node == name);
        match (program, self.mechanism) {
            (Some(p), m) => {
                let mut resolved = self.resolved.lock().unwrap_or_else(|e| e.into_inner());
                *resolved
                    .entry((name.to_string(), p.to_path_buf()))
                    .or_insert_with(|| m.resolve(p, preloaded))
            }
            (None, ClockMechanism::Auto) if preloaded => ClockMechanism::Faketime,
            (None, ClockMechanism::Auto) => ClockMechanism::Vdso,
            (None, fixed) => fixed,
        }
    }

    /// Sets node `name`'s wall-clock offset through its mechanism; `pid`: its process
    /// now (needed by the vDSO mechanism). Blocks up to a millisecond.
    pub fn set_offset_ms(
        &self,
        name: &str,
        program: Option<&Path>,
        pid: Option<i32>,
        ms: i64,
    ) -> Result<(), ClockError> {
        let unavailable = |why: &str| ClockError::Unavailable(format!("node {name}: {why}"));
        match self.mechanism_of(name, program) {
            ClockMechanism::Vdso => {
                let pid = pid.ok_or_else(|| unavailable("no process to patch"))?;
                self.vdso
                    .iter()
                    .find(|c| c.node() == name)
                    .ok_or_else(|| unavailable("no clock prepared"))?
                    .set_offset_ms(pid, ms)
            }
            _ => self
                .faketime
                .iter()
                .find(|c| c.node == name)
                .ok_or_else(|| unavailable("not started with a fake clock (libfaketime)"))?
                .set_offset_ms(ms)
                .map_err(|source| ClockError::File {
                    node: name.to_string(),
                    source,
                }),
        }
    }

    /// Node `name` back to true time, whatever mechanism moved it.
    pub fn reset(&self, name: &str) -> Result<(), ClockError> {
        let mut result = Ok(());
        for c in self.faketime.iter().filter(|c| c.node == name) {
            if let Err(source) = c.set_offset_ms(0) {
                result = Err(ClockError::File {
                    node: name.to_string(),
                    source,
                });
            }
        }
        for c in self.vdso.iter().filter(|c| c.node() == name) {
            if let Err(e) = c.reset() {
                result = Err(e);
            }
        }
        result
    }

    /// Every node back to true time; the first error, after trying them all.
    pub fn reset_all(&self) -> Result<(), ClockError> {
        let mut names: Vec<&str> = self.faketime.iter().map(|c| c.node.as_str()).collect();
        names.extend(self.vdso.iter().map(ClockControl::node));
        names.dedup();
        let mut first = Ok(());
        for n in names {
            if let Err(e) = self.reset(n) {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// What the vDSO mechanism has patched now (for the state file).
    pub fn patches(&self) -> Vec<VdsoPatch> {
        self.vdso.iter().filter_map(ClockControl::patched).collect()
    }

    /// Whether there are no clocks (no clock fault prepared).
    pub fn is_empty(&self) -> bool {
        self.faketime.is_empty() && self.vdso.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_of_unknown_program_uses_faketime_if_preloaded_else_the_vdso_unless_told() {
        let dir = std::env::temp_dir().join(format!("fl-nodeclocks-{}", std::process::id()));
        let mut c = NodeClocks::create(&["n1".to_string()], &dir).unwrap();
        let preloaded = libfaketime().is_some();
        assert_eq!(!c.env("n1").is_empty(), preloaded);
        let expected = if preloaded {
            ClockMechanism::Faketime
        } else {
            ClockMechanism::Vdso
        };
        assert_eq!(c.mechanism_of("n1", None), expected);
        assert_eq!(c.mechanism_of("n9", None), ClockMechanism::Vdso);
        c.set_mechanism(ClockMechanism::Faketime);
        assert_eq!(c.mechanism_of("n9", None), ClockMechanism::Faketime);
        let e = c.set_offset_ms("n9", None, None, 1000).unwrap_err();
        assert!(
            e.to_string().contains("not started with a fake clock"),
            "{e}"
        );
        c.set_mechanism(ClockMechanism::Vdso);
        let e = c.set_offset_ms("n1", None, None, 1000).unwrap_err();
        assert!(e.to_string().contains("no process"), "{e}");
        assert!(c.reset_all().is_ok());
        assert!(c.patches().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

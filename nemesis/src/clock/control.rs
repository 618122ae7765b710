//! A node's clock under the mechanism chosen for it ([`ClockControl`]): one call to
//! set an offset and one to reset, whichever mechanism carries it — the seam the
//! nemesis runner drives clock faults through.

use std::sync::Mutex;

use super::faketime::NodeClock;
use super::vdso::{self, VdsoError, VdsoPatch};
use super::ClockMechanism;

/// Why a clock could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// The offset file could not be written.
    #[error("clock of {node}: {source}")]
    File {
        /// The node.
        node: String,
        /// The error.
        source: std::io::Error,
    },
    /// The node has no clock this mechanism can change.
    #[error("clock of {0}")]
    Unavailable(String),
    /// The vDSO could not be patched, changed or restored.
    #[error("clock of {node}: {source}")]
    Vdso {
        /// The node.
        node: String,
        /// The error.
        source: VdsoError,
    },
}

/// A node's clock: its libfaketime offset file, or its process's vDSO.
#[derive(Debug)]
pub enum ClockControl {
    /// libfaketime reads the offset from the node's file.
    Faketime(NodeClock),
    /// The node's process is patched on the first non-zero offset (and again after the
    /// node restarts as a new process); `None` until then.
    Vdso {
        /// The node.
        node: String,
        /// What is patched now.
        patch: Mutex<Option<VdsoPatch>>,
    },
}

impl ClockControl {
    /// The vDSO clock of `node` (nothing patched yet).
    pub fn vdso(node: &str) -> ClockControl {
        ClockControl::Vdso {
            node: node.to_string(),
            patch: Mutex::new(None),
        }
    }

    /// The node.
    pub fn node(&self) -> &str {
        match self {
            ClockControl::Faketime(c) => &c.node,
            ClockControl::Vdso { node, .. } => node,
        }
    }

    /// The mechanism (never `Auto`).
    pub fn mechanism(&self) -> ClockMechanism {
        match self {
            ClockControl::Faketime(_) => ClockMechanism::Faketime,
            ClockControl::Vdso { .. } => ClockMechanism::Vdso,
        }
    }

    /// Sets the node's wall-clock offset. `pid`: the node's process now (the vDSO
    /// mechanism patches it if it is not the process patched before — the node was
    /// restarted — and ignores it for `faketime`). Blocks for up to a millisecond when
    /// it patches: call it from `spawn_blocking` in async code.
    pub fn set_offset_ms(&self, pid: i32, ms: i64) -> Result<(), ClockError> {
        match self {
            ClockControl::Faketime(c) => c.set_offset_ms(ms).map_err(|source| ClockError::File {
                node: c.node.clone(),
                source,
            }),
            ClockControl::Vdso { node, patch } => {
                let err = |source| ClockError::Vdso {
                    node: node.clone(),
                    source,
                };
                let mut patch = patch.lock().unwrap_or_else(|e| e.into_inner());
                let current = patch.as_ref().is_some_and(|p| p.pid == pid && p.is_alive());
                if !current {
                    if ms == 0 {
                        // Nothing patched in this process: its clock is true already.
                        return Ok(());
                    }
                    *patch = Some(vdso::patch(pid, Some(node)).map_err(err)?);
                }
                let p = patch.as_ref().expect("patched");
                p.set_offset_ns(ms.saturating_mul(1_000_000)).map_err(err)
            }
        }
    }

    /// Back to the true time (the vDSO mechanism restores the original code).
    pub fn reset(&self) -> Result<(), ClockError> {
        match self {
            ClockControl::Faketime(c) => c.set_offset_ms(0).map_err(|source| ClockError::File {
                node: c.node.clone(),
                source,
            }),
            ClockControl::Vdso { node, patch } => {
                let mut patch = patch.lock().unwrap_or_else(|e| e.into_inner());
                match patch.take() {
                    Some(p) => p.restore().map_err(|source| ClockError::Vdso {
                        node: node.clone(),
                        source,
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    /// What the vDSO mechanism has patched now, for the state file.
    pub fn patched(&self) -> Option<VdsoPatch> {
        match self {
            ClockControl::Faketime(_) => None,
            ClockControl::Vdso { patch, .. } => {
                patch.lock().unwrap_or_else(|e| e.into_inner()).clone()
            }
        }
    }
}

impl Drop for ClockControl {
    fn drop(&mut self) {
        if let ClockControl::Vdso { .. } = self {
            if let Err(e) = self.reset() {
                tracing::warn!("{e}");
            }
        }
    }
}

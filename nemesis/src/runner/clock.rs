//! The nemesis's clock steps: which mechanism carries a node's clock offset (faketime
//! or a vDSO patch) and setting or resetting that offset, with every patch written to
//! the state file so that `faultline cleanup` can restore the original code.

use super::{Nemesis, NemesisError};
use crate::clock::ClockMechanism;

impl Nemesis {
    /// The clock mechanism of clock faults (`--clock-mechanism`; `auto`, per node, unless
    /// set).
    pub fn set_clock_mechanism(&mut self, mechanism: ClockMechanism) {
        self.clocks.set_mechanism(mechanism);
    }

    /// The clock mechanism of node `name` now (never `Auto`).
    pub fn clock_mechanism_of(&self, name: &str) -> ClockMechanism {
        let program = self.node(name).and_then(|n| n.program());
        self.clocks.mechanism_of(name, program.as_deref())
    }

    /// Sets (`Some`) or resets (`None`) node `name`'s clock offset, and records what is
    /// patched in the state file.
    pub(super) fn set_clock(&self, name: &str, ms: Option<i64>) -> Result<(), NemesisError> {
        let node = self.node(name);
        let r = match ms {
            Some(ms) => {
                let program = node.and_then(|n| n.program());
                let pid = node.map(|n| n.pid());
                self.clocks.set_offset_ms(name, program.as_deref(), pid, ms)
            }
            None => self.clocks.reset(name),
        };
        let patches = self.clocks.patches();
        self.state.update(|s| s.vdso_patches = patches)?;
        Ok(r?)
    }
}

//! The phases of one run, each a function of its own, in the order [`super::run`]
//! calls them: [`setup`] (before anything runs: the run directory, the fault
//! preparations, the subject opened, `test.json`, the history file) →
//! [`cluster_up`] → [`main_phase`] → [`heal`] → [`quiesce`] → [`final_reads`] →
//! [`cluster_down`] → [`check`] → [`write`].
//!
//! What each phase starts is undone by a guard, so an error or a Ctrl-C in any phase
//! still heals, stops the nodes and checks what was recorded: the nodes by
//! [`cluster_up::RunningCluster`] (stopped in [`cluster_down`], killed on drop if that
//! was skipped), the faults by the nemesis hook (healed in [`heal`], torn down on drop
//! inside the nemesis crate). [`tracker`] knows which phase the run is in, says it to
//! the person, and holds the test hooks; [`FirstStop`] keeps the first error and the
//! phase it happened in, for `results.interrupted`.

pub mod check;
pub mod cluster_down;
pub mod cluster_up;
pub mod final_reads;
pub mod heal;
pub mod main_phase;
pub mod quiesce;
pub mod setup;
pub mod test_json;
pub mod tracker;
pub mod write;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use super::{Progress, RunPlan};
use crate::recorder::Recorder;
use tracker::PhaseTracker;

/// The phase names, as said to the person (`faultline: NAME` on stderr) and written
/// to `results.interrupted.phase`.
pub mod names {
    /// [`super::cluster_up`].
    pub const CLUSTER_UP: &str = "starting the cluster";
    /// [`super::main_phase`].
    pub const MAIN: &str = "main phase";
    /// [`super::heal`].
    pub const HEAL: &str = "healing faults";
    /// [`super::quiesce`].
    pub const QUIESCE: &str = "quiescing";
    /// [`super::final_reads`].
    pub const FINAL_READS: &str = "final reads";
    /// [`super::cluster_down`].
    pub const CLUSTER_DOWN: &str = "stopping the cluster";
    /// [`super::check`].
    pub const CHECK: &str = "checking";
    /// [`super::write`].
    pub const WRITE: &str = "writing results";
}

/// What every phase sees: the plan, the run directory, the history's recorder, the
/// phase tracker and the interrupt (true on Ctrl-C or SIGTERM).
pub struct RunContext<'a> {
    /// The checked plan.
    pub plan: &'a RunPlan,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Where the history goes.
    pub recorder: Recorder,
    /// Which phase the run is in.
    pub tracker: PhaseTracker,
    /// Turns true on Ctrl-C.
    pub interrupt: watch::Receiver<bool>,
    /// What the person sees.
    pub progress: Arc<dyn Progress>,
}

impl RunContext<'_> {
    /// Whether Ctrl-C has arrived.
    pub fn interrupted(&self) -> bool {
        *self.interrupt.borrow()
    }
}

/// The first error of a run and the phase it stopped the run in.
#[derive(Debug, Default)]
pub struct FirstStop {
    /// (phase, error), once one failed.
    pub failed: Option<(&'static str, anyhow::Error)>,
}

impl FirstStop {
    /// Keeps `result`'s error as the run's, if it is the first; its value otherwise.
    pub fn note<T>(&mut self, phase: &'static str, result: anyhow::Result<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                if self.failed.is_none() {
                    self.failed = Some((phase, e));
                }
                None
            }
        }
    }

    /// Whether the run goes on to its next optional phase (quiesce, final reads):
    /// nothing failed and no Ctrl-C arrived.
    pub fn goes_on(&self, ctx: &RunContext) -> bool {
        self.failed.is_none() && !ctx.interrupted()
    }
}

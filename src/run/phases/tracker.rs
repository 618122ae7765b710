//! Which phase a run is in: each phase [`PhaseTracker::enter`]s itself, which says so
//! to the person ([`Progress::phase`]); the phase a Ctrl-C first arrived in is kept
//! for `results.interrupted`.
//!
//! Two test hooks act at a phase's entry (documented in docs/architecture.md, for the
//! phase-guard tests): [`FAIL_ENV`] names a phase that then fails at once, and
//! [`HOLD_ENV`] names a phase that then waits, before doing its work, until Ctrl-C
//! (or [`HOLD_LIMIT`]) — so that a signal lands inside it for certain.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::run::{until_interrupted, Progress};

/// Test hook: the phase named here (e.g. `checking`) fails as it begins.
pub const FAIL_ENV: &str = "FAULTLINE_TEST_FAIL_PHASE";

/// Test hook: the phase named here waits as it begins, until Ctrl-C or [`HOLD_LIMIT`].
pub const HOLD_ENV: &str = "FAULTLINE_TEST_HOLD_PHASE";

/// How long [`HOLD_ENV`] holds a phase at most.
pub const HOLD_LIMIT: Duration = Duration::from_secs(30);

/// The phase a run is in, and the one a Ctrl-C first arrived in.
pub struct PhaseTracker {
    progress: Arc<dyn Progress>,
    interrupt: watch::Receiver<bool>,
    current: Arc<Mutex<&'static str>>,
    interrupted_in: Arc<Mutex<Option<&'static str>>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl PhaseTracker {
    /// A tracker watching `interrupt`, telling `progress`.
    pub fn new(progress: Arc<dyn Progress>, interrupt: watch::Receiver<bool>) -> PhaseTracker {
        let current = Arc::new(Mutex::new("starting"));
        let interrupted_in = Arc::new(Mutex::new(None));
        let watcher = {
            let (current, interrupted_in) = (current.clone(), interrupted_in.clone());
            let mut interrupt = interrupt.clone();
            tokio::spawn(async move {
                until_interrupted(&mut interrupt).await;
                let phase = *current.lock().unwrap_or_else(|e| e.into_inner());
                interrupted_in
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(phase);
            })
        };
        PhaseTracker {
            progress,
            interrupt,
            current,
            interrupted_in,
            watcher,
        }
    }

    /// Phase `phase` begins: said to the person; then the test hooks, if they name it.
    pub async fn enter(&self, phase: &'static str) -> anyhow::Result<()> {
        {
            let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
            // A Ctrl-C the watcher has not seen yet arrived in the phase that ends now.
            if *self.interrupt.borrow() {
                self.interrupted_in
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert(*current);
            }
            *current = phase;
        }
        self.progress.phase(phase);
        if std::env::var(HOLD_ENV).is_ok_and(|p| p == phase) {
            let mut int = self.interrupt.clone();
            tokio::select! {
                _ = until_interrupted(&mut int) => {}
                _ = tokio::time::sleep(HOLD_LIMIT) => {}
            }
        }
        if std::env::var(FAIL_ENV).is_ok_and(|p| p == phase) {
            anyhow::bail!("{phase} failed: injected by {FAIL_ENV}");
        }
        Ok(())
    }

    /// The phase the first Ctrl-C arrived in, if one did.
    pub fn interrupted_in(&self) -> Option<&'static str> {
        *self
            .interrupted_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for PhaseTracker {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

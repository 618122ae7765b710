//! The client of the nemesis slot: [`FaultClient`] performs the fault operations of
//! [`super::schedule::FaultSchedule`] with the run's [`Nemesis`]
//! ([`Nemesis::perform`]: inject, heal, flip a strobing clock), which records the
//! `start-`/`stop-` events in the history itself; it keeps the first error, which
//! fails the run as "the nemesis failed", and heals what is still active when the
//! slot is done.

use std::sync::{Arc, Mutex};

use nemesis::{Nemesis, NemesisError};
use workloads::OpSpec;

use super::schedule::FaultOp;
use super::RecorderEvents;
use crate::run::scheduler::NemesisClient;

/// Performs fault operations with a run's nemesis.
pub struct FaultClient {
    nemesis: Arc<Nemesis>,
    events: RecorderEvents,
    error: Mutex<Option<NemesisError>>,
}

impl FaultClient {
    /// A client for `nemesis`, recording through `events`.
    pub(super) fn new(nemesis: Arc<Nemesis>, events: RecorderEvents) -> FaultClient {
        FaultClient {
            nemesis,
            events,
            error: Mutex::new(None),
        }
    }

    /// The first fault that could not start or stop, or heal, if any (taken).
    pub fn take_error(&self) -> Option<NemesisError> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn keep(&self, e: NemesisError) -> String {
        let why = e.to_string();
        self.error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(e);
        why
    }
}

impl NemesisClient for FaultClient {
    fn perform(&self, op: &OpSpec) -> Result<(), String> {
        let FaultOp(cue) = FaultOp::from_spec(op)?;
        self.nemesis
            .perform(&cue, &self.events)
            .map_err(|e| self.keep(e))
    }

    fn finish(&self) {
        if let Err(e) = self.nemesis.heal(Some(&self.events)) {
            self.keep(e);
        }
    }
}

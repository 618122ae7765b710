//! What the nemesis acts on and reports to: a [`Node`] it can kill, stop, pause and
//! restart (a [`crate::NodeProcess`], or a driver's own process type), and the
//! [`Events`] sink where each fault's start and stop is recorded.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// A node the nemesis can act on. [`crate::NodeProcess`] is one; a driver may adapt its
/// own process type.
pub trait Node: Send + Sync {
    /// Its name.
    fn name(&self) -> &str;
    /// The PID of its process group leader.
    fn pid(&self) -> i32;
    /// Whether it runs (a paused node runs).
    fn is_running(&self) -> bool;
    /// SIGKILL to its group, and wait until reaped.
    fn kill(&self) -> Result<(), String>;
    /// A graceful stop (its stop signal, a grace, then SIGKILL).
    fn stop(&self) -> Result<(), String>;
    /// SIGSTOP to its group.
    fn pause(&self) -> Result<(), String>;
    /// SIGCONT to its group.
    fn resume(&self) -> Result<(), String>;
    /// Start it again on the same data dir (after a kill or stop).
    fn restart(&self) -> Result<(), String>;
    /// Its program (to warn when a clock fault cannot reach it).
    fn program(&self) -> Option<PathBuf> {
        None
    }
}

impl Node for crate::NodeProcess {
    fn name(&self) -> &str {
        crate::NodeProcess::name(self)
    }
    fn pid(&self) -> i32 {
        crate::NodeProcess::pid(self)
    }
    fn is_running(&self) -> bool {
        crate::NodeProcess::is_running(self)
    }
    fn kill(&self) -> Result<(), String> {
        crate::NodeProcess::kill(self, crate::process::KILL_DEADLINE)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn stop(&self) -> Result<(), String> {
        crate::NodeProcess::stop(
            self,
            nix::sys::signal::Signal::SIGTERM,
            Duration::from_secs(2),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }
    fn pause(&self) -> Result<(), String> {
        crate::NodeProcess::pause(self).map_err(|e| e.to_string())
    }
    fn resume(&self) -> Result<(), String> {
        crate::NodeProcess::resume(self).map_err(|e| e.to_string())
    }
    fn restart(&self) -> Result<(), String> {
        crate::NodeProcess::restart(self).map_err(|e| e.to_string())
    }
    fn program(&self) -> Option<PathBuf> {
        Some(self.spec().program.clone())
    }
}

/// Where the nemesis's events go (the history recorder, and the person watching).
pub trait Events: Send + Sync {
    /// Records `{"process":"nemesis","type":"info","f":f,"value":value}`.
    fn record(&self, f: &str, value: Value);
    /// Tells the person running the test something they should know.
    fn note(&self, message: &str) {
        tracing::warn!("{message}");
    }
}

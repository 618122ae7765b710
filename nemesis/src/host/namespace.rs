//! [`Namespace`]: a network namespace of this machine (`ip netns` name), the host of
//! one node when the nemesis lays nodes out in namespaces. Commands and processes
//! enter it with `setns` between fork and exec (the same code as [`super::Local`]);
//! signals, process states and files are this machine's, since a network namespace
//! shares the PID and mount namespaces of the driver.

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::local::{run_here, signal_here, spawn_here};
use super::{Host, HostError, Local, Output, ProcState, Spawned};
use crate::process::ProcessSpec;

/// A network namespace of this machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    netns: String,
}

impl Namespace {
    /// The namespace `netns` (`/run/netns/<netns>`; it must exist when used).
    pub fn new(netns: &str) -> Namespace {
        Namespace {
            netns: netns.to_string(),
        }
    }

    /// Its `ip netns` name.
    pub fn netns(&self) -> &str {
        &self.netns
    }
}

impl Host for Namespace {
    fn name(&self) -> String {
        format!("netns {}", self.netns)
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, HostError> {
        run_here(
            &self.name(),
            Some(&self.netns),
            program,
            args,
            input,
            timeout,
        )
    }

    fn spawn(&self, spec: &ProcessSpec) -> Result<Box<dyn Spawned>, HostError> {
        spawn_here(&self.name(), Some(&self.netns), spec)
    }

    fn signal(&self, group: i32, signal: Signal) -> Result<(), HostError> {
        signal_here(&self.name(), group, signal)
    }

    fn state(&self, pid: i32) -> ProcState {
        Local.state(pid)
    }

    fn put(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        Local.put(from, to)
    }

    fn get(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        Local.get(from, to)
    }
}

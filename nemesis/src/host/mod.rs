//! A host: where a node runs and where its faults are applied. Everything faultline
//! does to a node goes through one small trait, [`Host`], so the same node process
//! type ([`crate::NodeProcess`]) and the same fault code work on this machine, in a
//! network namespace of this machine, or (later) on another machine:
//!
//! - run a command with a deadline and get its output and status ([`Host::run`]);
//! - spawn a long-running process in its own session and process group, with its
//!   environment, working directory and log files ([`Host::spawn`]);
//! - signal a process group ([`Host::signal`]) and read a process's state
//!   ([`Host::state`]: running, stopped, zombie, gone);
//! - copy a file to it and back ([`Host::put`], [`Host::get`]);
//! - the fault primitives, written once over `run` ([`firewall`]: nftables or iptables
//!   drop rules; the traffic-control and clock code of the nemesis runs its commands
//!   through [`Host::run`] too).
//!
//! Implementations, one file each: [`local::Local`] (this machine, the driver's
//! namespace), [`namespace::Namespace`] (a per-node network namespace of this
//! machine, entered with `setns` between fork and exec) and [`ssh::Ssh`] (another
//! machine, over one multiplexed OpenSSH master connection). [`remote`] holds what a
//! run on SSH hosts needs around them (`--hosts`: addresses, connections, copying the
//! store, partitions as firewall rules, the heal `faultline cleanup` does there).

pub mod firewall;
pub mod local;
pub mod namespace;
pub mod remote;
pub mod ssh;

use std::path::Path;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::process::ProcessSpec;

pub use local::Local;
pub use namespace::Namespace;
pub use ssh::{Ssh, SshTarget};

/// What a command printed and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// Its exit status.
    pub status: ExitStatus,
    /// What it wrote to stdout.
    pub stdout: Vec<u8>,
    /// What it wrote to stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Its stdout as text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Its stderr as text, trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// A process's state as its host's kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    /// Running or sleeping.
    Running,
    /// Stopped (SIGSTOP) or traced.
    Stopped,
    /// Ended, not yet reaped.
    Zombie,
    /// No such process.
    Gone,
}

impl ProcState {
    /// From the state letter of `/proc/<pid>/stat` (`R`, `S`, `T`, `Z`, ...).
    pub fn from_letter(c: Option<char>) -> ProcState {
        match c {
            None | Some('X' | 'x') => ProcState::Gone,
            Some('T' | 't') => ProcState::Stopped,
            Some('Z') => ProcState::Zombie,
            Some(_) => ProcState::Running,
        }
    }
}

/// What went wrong on a host.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The host could not be reached or refused the login.
    #[error("cannot reach {host}: {message}")]
    Connect {
        /// The host.
        host: String,
        /// What OpenSSH said.
        message: String,
    },
    /// A command could not be started, or did not end in time.
    #[error("on {host}: `{command}`: {message}")]
    Command {
        /// The host.
        host: String,
        /// The command line.
        command: String,
        /// What happened.
        message: String,
    },
    /// A command ran and failed.
    #[error("on {host}: `{command}` failed ({status}): {stderr}")]
    Failed {
        /// The host.
        host: String,
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// Its stderr.
        stderr: String,
    },
    /// A process could not be spawned.
    #[error("on {host}: could not start `{command}`: {source}")]
    Spawn {
        /// The host.
        host: String,
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A signal could not be sent.
    #[error("on {host}: cannot send {signal} to process group {group}: {source}")]
    Signal {
        /// The host.
        host: String,
        /// The process group.
        group: i32,
        /// The signal.
        signal: Signal,
        /// Why.
        source: nix::Error,
    },
    /// A file could not be copied or written.
    #[error("on {host}: {path}: {source}")]
    File {
        /// The host.
        host: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A process a host spawned: its PID (also its session and process-group id) and a
/// way to learn, without blocking, whether it ended.
pub trait Spawned: Send + std::fmt::Debug {
    /// Its PID on its host.
    fn pid(&self) -> i32;
    /// Its exit status if it ended (and reaps it); `None` while it runs.
    fn try_wait(&mut self) -> Option<ExitStatus>;
}

/// Where nodes run and faults apply. See the module docs.
pub trait Host: Send + Sync + std::fmt::Debug {
    /// How it is named in messages and in the state file (`local`, `netns fl-…-n1`).
    fn name(&self) -> String;

    /// Runs `program args` to its end, feeding `input` on stdin, within `timeout`.
    /// An error only when it could not run or did not end in time; a non-zero exit
    /// is an [`Output`] (see [`Host::run_ok`]).
    fn run(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, HostError>;

    /// Spawns the long-running process `spec` describes in its own session and process
    /// group, stdin closed, stdout and stderr appended to `<log_dir>/stdout.log` and
    /// `stderr.log`, the owner tags in its environment.
    fn spawn(&self, spec: &ProcessSpec) -> Result<Box<dyn Spawned>, HostError>;

    /// Sends `signal` to process group `group` (a group that is gone is no error).
    fn signal(&self, group: i32, signal: Signal) -> Result<(), HostError>;

    /// The state of process `pid`.
    fn state(&self, pid: i32) -> ProcState;

    /// Copies the local file `from` to `to` on the host.
    fn put(&self, from: &Path, to: &Path) -> Result<(), HostError>;

    /// Copies `from` on the host to the local file `to`.
    fn get(&self, from: &Path, to: &Path) -> Result<(), HostError>;

    /// Copies the node's logs back into its local log directory (for hosts that keep
    /// them elsewhere; this machine writes them there directly).
    fn fetch_logs(&self, _spec: &ProcessSpec) -> Result<(), HostError> {
        Ok(())
    }

    /// [`Host::run`] that fails unless the command exits 0; its stdout.
    fn run_ok(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<String, HostError> {
        let out = self.run(program, args, input, timeout)?;
        if out.success() {
            Ok(out.stdout_text())
        } else {
            Err(HostError::Failed {
                host: self.name(),
                command: command_line(program, args),
                status: crate::process::describe(out.status),
                stderr: out.stderr_text(),
            })
        }
    }
}

/// How long a fault command (`nft`, `ip`, `tc`) may take before it is an error.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The host a [`ProcessSpec`] names: its network namespace of this machine, or this
/// machine itself.
pub fn of_spec(spec: &ProcessSpec) -> Arc<dyn Host> {
    match &spec.netns {
        Some(ns) => Arc::new(Namespace::new(ns)),
        None => Arc::new(Local),
    }
}

/// `program args` as one line, for messages.
pub fn command_line(program: &str, args: &[&str]) -> String {
    let mut s = program.to_string();
    for a in args {
        s.push(' ');
        s.push_str(a);
    }
    s
}

//! A node process — the one node process type every subject starts its nodes with —
//! spawned on a [`Host`] (this machine, or one of its network namespaces) in its own
//! session and process group (`setsid`), with its stdout and stderr appended to
//! `<log_dir>/stdout.log` and `<log_dir>/stderr.log`, every PID it had appended to
//! `<log_dir>/pid`, and its exit status written to `<log_dir>/exit-status` once reaped.
//!
//! Signals go to the whole process group, so a node that forks is hit as a whole.
//! Every wait has a deadline. The calls are synchronous and short (a kill waits only
//! until the process is reaped, milliseconds); [`NodeProcess::stop_async`] and
//! [`NodeProcess::wait_async`] are the waits for tokio code.
//!
//! Each node carries [`ENV_OWNER`](crate::owner::ENV_OWNER) and
//! [`ENV_NODE`](crate::owner::ENV_NODE) in its environment, so `faultline cleanup`
//! finds the nodes of a driver that was killed (and only those).
//!
//! Dropping a [`NodeProcess`] kills its process group: a panicking run leaves no node.
//!
//! Starting a node is one call: [`NodeProcess::spawn`] with a [`ProcessSpec`] (its
//! `netns` picks the host), or [`NodeProcess::spawn_on`] with a host of your own.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::host::{self, Host, HostError, ProcState, Spawned};

/// How long [`Drop`] and [`NodeProcess::kill_now`] wait for a killed node to be reaped.
pub const KILL_DEADLINE: Duration = Duration::from_secs(5);

/// Everything needed to start (and restart) one node.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessSpec {
    /// The node's name (`n1`).
    pub name: String,
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables (e.g. `LD_PRELOAD` for libfaketime).
    pub env: Vec<(String, String)>,
    /// Its working directory (the driver's when `None`).
    pub cwd: Option<PathBuf>,
    /// Where its logs, `pid` and `exit-status` files go (created).
    pub log_dir: PathBuf,
    /// The network namespace of this machine to run it in (`ip netns` name), or the
    /// caller's: the host [`NodeProcess::spawn`] starts it on.
    pub netns: Option<String>,
}

impl ProcessSpec {
    /// The command line as a person would type it (for logs and errors).
    pub fn display(&self) -> String {
        let mut s = shell_quote(&self.program.display().to_string());
        for a in &self.args {
            s.push(' ');
            s.push_str(&shell_quote(a));
        }
        s
    }
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// What went wrong with a node process.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started.
    #[error("node {node}: could not start `{command}`: {source}")]
    Spawn {
        /// The node.
        node: String,
        /// Its command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// Its log directory or files could not be written.
    #[error("node {node}: cannot write its logs in {dir}: {source}")]
    Logs {
        /// The node.
        node: String,
        /// The log directory.
        dir: String,
        /// Why.
        source: std::io::Error,
    },
    /// Its host could not do what was asked (enter its namespace, signal it, ...).
    #[error("node {node}: {source}")]
    Host {
        /// The node.
        node: String,
        /// Why.
        source: HostError,
    },
    /// It is still running (e.g. a restart before a kill).
    #[error("node {node} is still running (pid {pid})")]
    Running {
        /// The node.
        node: String,
        /// Its PID.
        pid: i32,
    },
    /// It did not end within the deadline.
    #[error("node {node} (pid {pid}) did not end within {deadline:?}")]
    Deadline {
        /// The node.
        node: String,
        /// Its PID.
        pid: i32,
        /// How long we waited.
        deadline: Duration,
    },
}

#[derive(Debug)]
struct Inner {
    child: Option<Box<dyn Spawned>>,
    pid: i32,
    status: Option<ExitStatus>,
    paused: bool,
}

/// A running (or ended) node process. Shareable (`&self` methods, internally locked).
#[derive(Debug)]
pub struct NodeProcess {
    spec: ProcessSpec,
    host: Arc<dyn Host>,
    inner: Mutex<Inner>,
}

impl NodeProcess {
    /// Starts the node `spec` describes on this machine (in `spec.netns` if given).
    pub fn spawn(spec: ProcessSpec) -> Result<NodeProcess, ProcessError> {
        NodeProcess::spawn_on(host::of_spec(&spec), spec)
    }

    /// Starts the node `spec` describes on `host`.
    pub fn spawn_on(host: Arc<dyn Host>, spec: ProcessSpec) -> Result<NodeProcess, ProcessError> {
        std::fs::create_dir_all(&spec.log_dir).map_err(|e| logs_error(&spec, e))?;
        let _ = std::fs::remove_file(spec.log_dir.join("exit-status"));
        let child = start(host.as_ref(), &spec)?;
        let pid = child.pid();
        tracing::debug!(node = %spec.name, pid, host = %host.name(), "spawned {}", spec.display());
        Ok(NodeProcess {
            spec,
            host,
            inner: Mutex::new(Inner {
                child: Some(child),
                pid,
                status: None,
                paused: false,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// What it was started from.
    pub fn spec(&self) -> &ProcessSpec {
        &self.spec
    }

    /// The host it runs on.
    pub fn host(&self) -> &Arc<dyn Host> {
        &self.host
    }

    /// Copies its logs back from its host into [`NodeProcess::log_dir`] (a no-op for
    /// nodes on this machine).
    pub fn fetch_logs(&self) -> Result<(), ProcessError> {
        self.host
            .fetch_logs(&self.spec)
            .map_err(|source| ProcessError::Host {
                node: self.spec.name.clone(),
                source,
            })
    }

    /// Its log directory.
    pub fn log_dir(&self) -> &Path {
        &self.spec.log_dir
    }

    /// The PID of its current (or last) process, which is also its process-group and
    /// session id.
    pub fn pid(&self) -> i32 {
        self.lock().pid
    }

    /// Its exit status, if it ended (polls; reaps it if it just ended).
    pub fn try_status(&self) -> Option<ExitStatus> {
        let mut inner = self.lock();
        self.poll(&mut inner)
    }

    fn poll(&self, inner: &mut Inner) -> Option<ExitStatus> {
        if inner.status.is_some() {
            return inner.status;
        }
        let status = inner.child.as_mut()?.try_wait()?;
        self.ended(inner, status);
        Some(status)
    }

    fn ended(&self, inner: &mut Inner, status: ExitStatus) {
        inner.status = Some(status);
        inner.paused = false;
        inner.child = None;
        // Whatever it forked and left in its group goes too.
        let _ = self.host.signal(inner.pid, Signal::SIGKILL);
        let _ = std::fs::write(
            self.spec.log_dir.join("exit-status"),
            format!("{}\n", describe(status)),
        );
        tracing::debug!(node = %self.spec.name, pid = inner.pid, "ended: {}", describe(status));
    }

    /// Whether it is running (paused counts as running).
    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Whether it is paused (SIGSTOPped by [`NodeProcess::pause`]).
    pub fn is_paused(&self) -> bool {
        let mut inner = self.lock();
        self.poll(&mut inner).is_none() && inner.paused
    }

    /// Sends `signal` to its process group; nothing if it has ended.
    pub fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        let mut inner = self.lock();
        if self.poll(&mut inner).is_some() {
            return Ok(());
        }
        self.signal_locked(&mut inner, signal)
    }

    fn signal_locked(&self, inner: &mut Inner, signal: Signal) -> Result<(), ProcessError> {
        self.host
            .signal(inner.pid, signal)
            .map_err(|source| ProcessError::Host {
                node: self.spec.name.clone(),
                source,
            })?;
        match signal {
            Signal::SIGSTOP => inner.paused = true,
            Signal::SIGCONT => inner.paused = false,
            _ => {}
        }
        Ok(())
    }

    /// Pauses it: SIGSTOP to the group, then waits (up to a second) until the kernel
    /// shows its leader stopped, so the pause is real when this returns.
    pub fn pause(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGSTOP)?;
        self.wait_for_state(true);
        Ok(())
    }

    /// Resumes it: SIGCONT to the group, then waits (up to a second) until its leader
    /// is no longer stopped.
    pub fn resume(&self) -> Result<(), ProcessError> {
        self.signal(Signal::SIGCONT)?;
        self.wait_for_state(false);
        Ok(())
    }

    fn wait_for_state(&self, stopped: bool) {
        let pid = self.pid();
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && self.is_running() {
            match self.host.state(pid) {
                ProcState::Gone | ProcState::Zombie => return,
                s if (s == ProcState::Stopped) == stopped => return,
                _ => std::thread::sleep(Duration::from_micros(200)),
            }
        }
    }

    /// Kills it: SIGKILL to the group, then waits until it is reaped, up to `deadline`.
    pub fn kill(&self, deadline: Duration) -> Result<ExitStatus, ProcessError> {
        {
            let mut inner = self.lock();
            if let Some(s) = self.poll(&mut inner) {
                return Ok(s);
            }
            self.signal_locked(&mut inner, Signal::SIGKILL)?;
        }
        self.wait(deadline)
    }

    /// Kills it and waits up to [`KILL_DEADLINE`]; the exit status, if it was reaped.
    pub fn kill_now(&self) -> Option<ExitStatus> {
        self.kill(KILL_DEADLINE).ok()
    }

    /// Waits until it ended, up to `deadline` (polling; blocks the thread).
    pub fn wait(&self, deadline: Duration) -> Result<ExitStatus, ProcessError> {
        let until = Instant::now() + deadline;
        loop {
            if let Some(s) = self.try_status() {
                return Ok(s);
            }
            if Instant::now() >= until {
                return Err(self.deadline_error(deadline));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Waits until it ended, up to `deadline`, without blocking a tokio worker.
    pub async fn wait_async(&self, deadline: Duration) -> Result<ExitStatus, ProcessError> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            if let Some(s) = self.try_status() {
                return Ok(s);
            }
            if tokio::time::Instant::now() >= until {
                return Err(self.deadline_error(deadline));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn deadline_error(&self, deadline: Duration) -> ProcessError {
        ProcessError::Deadline {
            node: self.spec.name.clone(),
            pid: self.pid(),
            deadline,
        }
    }

    /// Asks it to stop: `signal` (and SIGCONT, so a paused node can act on it), up to
    /// `grace` to exit, then SIGKILL and up to [`KILL_DEADLINE`] to be reaped.
    /// Idempotent. Blocks the thread; see [`NodeProcess::stop_async`].
    pub fn stop(&self, signal: Signal, grace: Duration) -> Result<ExitStatus, ProcessError> {
        self.signal(signal)?;
        self.signal(Signal::SIGCONT)?;
        match self.wait(grace) {
            Ok(s) => Ok(s),
            Err(_) => self.kill(KILL_DEADLINE),
        }
    }

    /// [`NodeProcess::stop`] for tokio code.
    pub async fn stop_async(
        &self,
        signal: Signal,
        grace: Duration,
    ) -> Result<ExitStatus, ProcessError> {
        self.signal(signal)?;
        self.signal(Signal::SIGCONT)?;
        match self.wait_async(grace).await {
            Ok(s) => Ok(s),
            Err(_) => {
                self.signal(Signal::SIGKILL)?;
                self.wait_async(KILL_DEADLINE).await
            }
        }
    }

    /// Starts it again from the same spec (same data dir, same ports), after it ended.
    /// An error if it is still running: kill or stop it first.
    pub fn restart(&self) -> Result<(), ProcessError> {
        let mut inner = self.lock();
        if self.poll(&mut inner).is_none() {
            return Err(ProcessError::Running {
                node: self.spec.name.clone(),
                pid: inner.pid,
            });
        }
        let _ = std::fs::remove_file(self.spec.log_dir.join("exit-status"));
        let child = start(self.host.as_ref(), &self.spec)?;
        inner.pid = child.pid();
        inner.child = Some(child);
        inner.status = None;
        inner.paused = false;
        tracing::debug!(node = %self.spec.name, pid = inner.pid, "restarted");
        Ok(())
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.kill(KILL_DEADLINE);
    }
}

fn logs_error(spec: &ProcessSpec, source: std::io::Error) -> ProcessError {
    ProcessError::Logs {
        node: spec.name.clone(),
        dir: spec.log_dir.display().to_string(),
        source,
    }
}

/// Spawns the process on `host` (own session, logs appended), then records its PID in
/// `<log_dir>/pid` and its command line in `<log_dir>/command`.
fn start(host: &dyn Host, spec: &ProcessSpec) -> Result<Box<dyn Spawned>, ProcessError> {
    let child = host.spawn(spec).map_err(|e| match e {
        HostError::Spawn { source, .. } => ProcessError::Spawn {
            node: spec.name.clone(),
            command: spec.display(),
            source,
        },
        HostError::File { path, source, .. }
            if path.starts_with(&spec.log_dir.display().to_string()) =>
        {
            logs_error(spec, source)
        }
        source => ProcessError::Host {
            node: spec.name.clone(),
            source,
        },
    })?;
    let mut pids = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(spec.log_dir.join("pid"))
        .map_err(|e| logs_error(spec, e))?;
    writeln!(pids, "{}", child.pid()).map_err(|e| logs_error(spec, e))?;
    std::fs::write(
        spec.log_dir.join("command"),
        format!("{}\n", spec.display()),
    )
    .map_err(|e| logs_error(spec, e))?;
    Ok(child)
}

/// The scheduler state of `pid` (`R`, `S`, `T` stopped, `Z` zombie, ...).
pub fn proc_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// An exit status in words: `exited 0`, `killed by SIGKILL`.
pub fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        format!("exited {code}")
    } else if let Some(sig) = status.signal() {
        match Signal::try_from(sig) {
            Ok(s) => format!("killed by {}", s.as_str()),
            Err(_) => format!("killed by signal {sig}"),
        }
    } else {
        format!("{status}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_is_quoted_like_a_shell_would() {
        let spec = ProcessSpec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), "echo 'hi' there".into()],
            ..ProcessSpec::default()
        };
        assert_eq!(spec.display(), r"/bin/sh -c 'echo '\''hi'\'' there'");
    }
}

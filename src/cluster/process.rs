//! One node process of a cluster: spawned in its own process group (so a Ctrl-C at
//! the terminal does not reach it and a stop reaches all its children), its stdout and
//! stderr appended to `nodes/<node>/`, its PID added to `nodes/<node>/pid` (one line
//! per start: a node can be restarted) and, once it ended, its exit status written to
//! `nodes/<node>/exit-status`.
//!
//! Dropping a [`NodeProcess`] that is still running kills its process group, so a
//! panicking or interrupted run leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// How to start one node: the program, its arguments and environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// The program to run.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Launch {
    /// The program that ends up running: `PROG` for `nsenter ... -- PROG ARGS` (a node
    /// started in a network namespace), else the program itself.
    pub fn effective_program(&self) -> &Path {
        let nsenter = self.program.file_name().is_some_and(|n| n == "nsenter");
        match self.args.iter().position(|a| a == "--") {
            Some(i) if nsenter && i + 1 < self.args.len() => Path::new(&self.args[i + 1]),
            _ => &self.program,
        }
    }

    /// The command line as a person would type it (for logs and errors).
    pub fn display(&self) -> String {
        let mut parts = vec![self.program.display().to_string()];
        parts.extend(self.args.iter().cloned());
        shlex::try_join(parts.iter().map(String::as_str)).unwrap_or_else(|_| parts.join(" "))
    }
}

/// A running (or ended) node process.
#[derive(Debug)]
pub struct NodeProcess {
    name: String,
    launch: Launch,
    pid: AtomicI32,
    log_dir: PathBuf,
    child: Mutex<Option<std::process::Child>>,
    status: Mutex<Option<ExitStatus>>,
}

impl NodeProcess {
    /// Starts `launch` for node `name`, logging into `log_dir` (created).
    pub fn spawn(name: &str, launch: &Launch, log_dir: &Path) -> std::io::Result<NodeProcess> {
        std::fs::create_dir_all(log_dir)?;
        let _ = std::fs::remove_file(log_dir.join("pid"));
        let child = start(launch, log_dir)?;
        Ok(NodeProcess {
            name: name.to_string(),
            launch: launch.clone(),
            pid: AtomicI32::new(child.id() as i32),
            log_dir: log_dir.to_path_buf(),
            child: Mutex::new(Some(child)),
            status: Mutex::new(None),
        })
    }

    /// Starts the node again with the same command, after it ended (e.g. after a
    /// kill). Its logs are appended to. An error if it is still running.
    pub fn restart(&self) -> std::io::Result<()> {
        if self.try_status().is_none() {
            return Err(std::io::Error::other(format!(
                "node {} is still running (pid {})",
                self.name,
                self.pid()
            )));
        }
        let child = start(&self.launch, &self.log_dir)?;
        let mut slot = self.child.lock().unwrap_or_else(|e| e.into_inner());
        self.pid.store(child.id() as i32, Ordering::SeqCst);
        *slot = Some(child);
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let _ = std::fs::remove_file(self.log_dir.join("exit-status"));
        Ok(())
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How it is started.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// The PID of the process (also its process-group id).
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::SeqCst)
    }

    /// The directory holding its logs.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Its exit status, if it has ended (polls without blocking).
    pub fn try_status(&self) -> Option<ExitStatus> {
        if let Some(s) = *self.status.lock().unwrap_or_else(|e| e.into_inner()) {
            return Some(s);
        }
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let status = child.as_mut()?.try_wait().ok()??;
        self.ended(status);
        Some(status)
    }

    fn ended(&self, status: ExitStatus) {
        *self.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        let _ = std::fs::write(
            self.log_dir.join("exit-status"),
            format!("{}\n", describe(status)),
        );
    }

    /// Sends `signal` to the node's whole process group.
    pub fn signal(&self, signal: Signal) -> nix::Result<()> {
        if self.try_status().is_some() {
            return Ok(());
        }
        killpg(Pid::from_raw(self.pid()), signal)
    }

    /// Stops the node: `signal`, then up to `grace` to exit, then SIGKILL. Idempotent.
    pub async fn stop(&self, signal: Signal, grace: Duration) -> Option<ExitStatus> {
        if let Some(s) = self.try_status() {
            return Some(s);
        }
        // A paused (SIGSTOPped) node must be continued to act on the signal.
        let _ = self.signal(signal);
        let _ = self.signal(Signal::SIGCONT);
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if let Some(s) = self.try_status() {
                return Some(s);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill_now()
    }

    /// Kills the process group with SIGKILL and reaps the process (blocking briefly).
    pub fn kill_now(&self) -> Option<ExitStatus> {
        if let Some(s) = self.try_status() {
            // The leader ended; children it left in the group go too.
            let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
            return Some(s);
        }
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let status = {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            child.as_mut().and_then(|c| c.wait().ok())
        };
        if let Some(s) = status {
            self.ended(s);
        }
        status
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// Spawns `launch` in a new process group, appending to the logs in `log_dir` and
/// adding its PID to `log_dir/pid`.
fn start(launch: &Launch, log_dir: &Path) -> std::io::Result<std::process::Child> {
    use std::io::Write;
    use std::os::unix::process::CommandExt;
    let append = |name: &str| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_dir.join(name))
    };
    let mut cmd = std::process::Command::new(&launch.program);
    cmd.args(&launch.args)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(append("stdout.log")?)
        .stderr(append("stderr.log")?)
        .process_group(0);
    let child = cmd.spawn().map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("could not start `{}`: {e}", launch.display()),
        )
    })?;
    writeln!(append("pid")?, "{}", child.id())?;
    std::fs::write(log_dir.join("command"), format!("{}\n", launch.display()))?;
    Ok(child)
}

/// An exit status in words: `exited 0`, `exited 1`, `killed by SIGKILL`.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
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

/// The last `max` bytes of a node's stderr, for error messages.
pub fn stderr_tail(log_dir: &Path, max: usize) -> String {
    let text = std::fs::read(log_dir.join("stderr.log")).unwrap_or_default();
    let start = text.len().saturating_sub(max);
    String::from_utf8_lossy(&text[start..]).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch(program: &str, args: &[&str]) -> Launch {
        Launch {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: Vec::new(),
        }
    }

    #[test]
    fn the_effective_program_of_a_node_in_a_namespace_is_the_one_nsenter_runs() {
        let l = launch(
            "nsenter",
            &["--net=/run/netns/x", "--", "/usr/bin/etcd", "--name", "n1"],
        );
        assert_eq!(l.effective_program(), Path::new("/usr/bin/etcd"));
        let plain = launch("/usr/bin/etcd", &["--", "x"]);
        assert_eq!(plain.effective_program(), Path::new("/usr/bin/etcd"));
    }
}

//! [`Ssh`]: another machine, reached over SSH through the system OpenSSH client.
//!
//! The `openssh` crate starts one OpenSSH master connection per host (`ControlMaster`,
//! `BatchMode=yes`, strict host-key checking by default) and runs every command over
//! it, so a fault step costs one round trip on an open connection, not a handshake;
//! authentication, keys, `known_hosts`, `~/.ssh/config` and agents are OpenSSH's own.
//! The crate is async; this host keeps a small runtime of its own and blocks on it
//! from a scoped thread, so it can be called from sync and async code alike.
//!
//! On the host: commands run as `program args` (each argument shell-quoted); a node
//! is started by `sh` as `setsid PROGRAM ARGS` in the background, so it leads its own
//! session and process group, with its logs appended to `<log_dir>/stdout.log` and
//! `stderr.log` under the same path on the host (copy them back with [`Host::get`]);
//! signals are `kill -s SIG -- -GROUP`; states come from `/proc/<pid>/stat`; files are
//! copied with `cat`. The exit status of a node that ended is not known over SSH: it is
//! reported as `exited 255`.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use openssh::{KnownHosts, Session, SessionBuilder, Stdio};
use tokio::io::AsyncWriteExt;

use super::{command_line, Host, HostError, Output, ProcState, Spawned};
use crate::owner::{Owner, ENV_NODE, ENV_OWNER};
use crate::process::ProcessSpec;

/// How to reach a host over SSH.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshTarget {
    /// `[user@]address[:port]`, as given.
    pub destination: String,
    /// The private key to use (only it), if given.
    pub key: Option<PathBuf>,
    /// The known-hosts file, if not the user's.
    pub known_hosts: Option<PathBuf>,
    /// Accept a host key not yet known (`StrictHostKeyChecking=accept-new`).
    pub accept_new: bool,
    /// How long the first connection may take.
    pub connect_timeout: Duration,
    /// Other OpenSSH options (`KEY=VALUE`, as `ssh -o`), written to a config file of
    /// the connection's own that includes the user's `~/.ssh/config` after them.
    /// `StrictHostKeyChecking` and `UserKnownHostsFile` are taken as the fields above.
    pub options: Vec<(String, String)>,
}

impl SshTarget {
    /// `[user@]address[:port]` with the defaults: the user's keys and known hosts,
    /// strict host-key checking, 5 s to connect.
    pub fn new(destination: &str) -> SshTarget {
        SshTarget {
            destination: destination.to_string(),
            key: None,
            known_hosts: None,
            accept_new: false,
            connect_timeout: Duration::from_secs(5),
            options: Vec::new(),
        }
    }

    /// This target with OpenSSH options `KEY=VALUE` applied: `StrictHostKeyChecking`
    /// (`yes`, `accept-new`; `no` is refused: faultline runs commands as root there),
    /// `UserKnownHostsFile`, `IdentityFile`, `ConnectTimeout` (seconds) set the fields;
    /// any other is passed to OpenSSH as is. An error names the option.
    pub fn with_options(mut self, options: &[(String, String)]) -> Result<SshTarget, String> {
        for (k, v) in options {
            match k.to_ascii_lowercase().as_str() {
                "stricthostkeychecking" => match v.to_ascii_lowercase().as_str() {
                    "yes" => self.accept_new = false,
                    "accept-new" => self.accept_new = true,
                    other => {
                        return Err(format!(
                            "--ssh-option StrictHostKeyChecking={other}: expected yes (the default) or accept-new (first contact)"
                        ))
                    }
                },
                "userknownhostsfile" => self.known_hosts = Some(PathBuf::from(v)),
                "identityfile" => self.key = Some(PathBuf::from(v)),
                "connecttimeout" => {
                    let secs: u64 = v.parse().map_err(|_| {
                        format!("--ssh-option ConnectTimeout={v}: expected whole seconds")
                    })?;
                    self.connect_timeout = Duration::from_secs(secs.max(1));
                }
                "batchmode" | "controlmaster" | "controlpath" | "controlpersist" => {
                    return Err(format!(
                        "--ssh-option {k}: faultline sets it itself (batch mode, one multiplexed master connection per host)"
                    ))
                }
                _ => {
                    if k.is_empty()
                        || !k.bytes().all(|b| b.is_ascii_alphanumeric())
                        || v.contains('\n')
                    {
                        return Err(format!(
                            "--ssh-option {k}={v}: expected KEY=VALUE with an OpenSSH option name (e.g. StrictHostKeyChecking=accept-new)"
                        ));
                    }
                    self.options.push((k.clone(), v.clone()));
                }
            }
        }
        Ok(self)
    }
}

#[derive(Debug)]
struct Inner {
    name: String,
    /// `Some` until dropped.
    session: Option<Session>,
    /// `Some` until dropped.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Inner {
    /// Closes the master connection (`ssh -O exit`) and drops the runtime on a thread
    /// of its own: a runtime cannot be dropped inside another one's async context.
    fn drop(&mut self) {
        if let (Some(session), Some(runtime)) = (self.session.take(), self.runtime.take()) {
            let _ = std::thread::spawn(move || {
                let _ = runtime.block_on(session.close());
                drop(runtime);
            })
            .join();
            // Empty once no other connection of this process is open.
            let _ = std::fs::remove_dir(control_dir_path());
        }
    }
}

impl Inner {
    /// Runs `f` to its end on this host's runtime, from a thread of its own (so a
    /// caller inside another tokio runtime does not block it).
    fn block_on<T: Send>(&self, f: impl std::future::Future<Output = T> + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                self.runtime
                    .as_ref()
                    .expect("runtime until drop")
                    .block_on(f)
            })
            .join()
            .expect("an SSH call panicked")
        })
    }
}

/// A machine reached over SSH. Cloning shares its master connection.
#[derive(Clone, Debug)]
pub struct Ssh {
    inner: Arc<Inner>,
    node_root: Option<PathBuf>,
}

impl Ssh {
    /// Connects to `target` (the master connection is opened now, so a host that is
    /// unreachable, refuses the key or has an unknown host key is an error here).
    pub fn connect(target: &SshTarget) -> Result<Ssh, HostError> {
        let name = target.destination.clone();
        let fail = |message: String| HostError::Connect {
            host: name.clone(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let mut b = SessionBuilder::default();
        b.known_hosts_check(if target.accept_new {
            KnownHosts::Add
        } else {
            KnownHosts::Strict
        })
        .connect_timeout(target.connect_timeout)
        .server_alive_interval(Duration::from_secs(5))
        // The master's socket under a directory that names this process, so that
        // `faultline cleanup` can tell the masters of a killed driver (they outlive it).
        .control_directory(control_dir());
        if let Some(k) = &target.key {
            b.keyfile(k);
        }
        if let Some(k) = &target.known_hosts {
            b.user_known_hosts_file(k);
        }
        let config = if target.options.is_empty() {
            None
        } else {
            let file = std::env::temp_dir().join(format!(
                "faultline-ssh-{}-{:08x}.conf",
                std::process::id(),
                rand::random::<u32>()
            ));
            let mut text: String = target
                .options
                .iter()
                .map(|(k, v)| format!("{k} {v}\n"))
                .collect();
            if let Some(home) = std::env::var_os("HOME") {
                text.push_str(&format!(
                    "Include {}\n",
                    Path::new(&home).join(".ssh/config").display()
                ));
            }
            std::fs::write(&file, text)
                .map_err(|e| fail(format!("cannot write its OpenSSH config: {e}")))?;
            b.config_file(&file);
            Some(file)
        };
        let destination = format!("ssh://{}", target.destination);
        let session = std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(b.connect(&destination)))
                .join()
                .expect("connecting panicked")
        });
        // The master has read the config file once it is up (or failed).
        if let Some(f) = config {
            let _ = std::fs::remove_file(f);
        }
        let session = session.map_err(|e| fail(explain(&e)))?;
        Ok(Ssh {
            inner: Arc::new(Inner {
                name,
                session: Some(session),
                runtime: Some(runtime),
            }),
            node_root: None,
        })
    }

    /// This host (same master connection) keeping each node's logs in
    /// `<root>/<node>/` on the host instead of under the node's local log directory;
    /// [`Host::fetch_logs`] copies them back from there.
    pub fn with_node_root(&self, root: &Path) -> Ssh {
        Ssh {
            inner: self.inner.clone(),
            node_root: Some(root.to_path_buf()),
        }
    }

    /// Where node `spec`'s logs are on the host.
    pub fn remote_log_dir(&self, spec: &ProcessSpec) -> PathBuf {
        match &self.node_root {
            Some(root) => root.join(&spec.name),
            None => spec.log_dir.clone(),
        }
    }

    fn shell(&self, script: &str, timeout: Duration) -> Result<Output, HostError> {
        self.run("sh", &["-c", script], None, timeout)
    }
}

/// The prefix of the directories holding the master sockets, under the state dir.
pub const CONTROL_DIR_PREFIX: &str = "ssh-";

/// Where this process keeps its master sockets: `<state dir>/ssh-<pid>-<start>`.
fn control_dir() -> PathBuf {
    let dir = control_dir_path();
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Removes this process's (empty) socket directory; call when no connection is open
/// or being opened.
pub fn remove_control_dir() {
    let _ = std::fs::remove_dir(control_dir_path());
}

fn control_dir_path() -> PathBuf {
    let owner = Owner::current();
    crate::state::state_dir().join(format!("{CONTROL_DIR_PREFIX}{}-{}", owner.pid, owner.start))
}

/// OpenSSH's own words for why a connection failed (its log), else the error.
fn explain(e: &openssh::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

impl Host for Ssh {
    fn name(&self) -> String {
        self.inner.name.clone()
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, HostError> {
        let fail = |message: String| HostError::Command {
            host: self.name(),
            command: command_line(program, args),
            message,
        };
        let session = self.inner.session.as_ref().expect("session until drop");
        let result = self.inner.block_on(async {
            let work = async {
                let mut cmd = session.command(program);
                cmd.args(args.iter().copied())
                    .stdin(if input.is_some() {
                        Stdio::piped()
                    } else {
                        Stdio::null()
                    })
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let mut child = cmd.spawn().await.map_err(|e| explain(&e))?;
                if let (Some(bytes), Some(mut stdin)) = (input, child.stdin().take()) {
                    stdin.write_all(bytes).await.map_err(|e| e.to_string())?;
                    stdin.shutdown().await.map_err(|e| e.to_string())?;
                }
                child.wait_with_output().await.map_err(|e| explain(&e))
            };
            match tokio::time::timeout(timeout, work).await {
                Ok(r) => r,
                Err(_) => Err(format!("did not end within {timeout:?}")),
            }
        });
        let out = result.map_err(fail)?;
        Ok(Output {
            status: out.status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    fn spawn(&self, spec: &ProcessSpec) -> Result<Box<dyn Spawned>, HostError> {
        let dir = quote(&self.remote_log_dir(spec).display().to_string());
        let mut line = format!(
            "mkdir -p {dir} && {}exec env {}={} {}={}",
            spec.cwd
                .as_ref()
                .map(|c| format!("cd {} && ", quote(&c.display().to_string())))
                .unwrap_or_default(),
            ENV_OWNER,
            quote(&Owner::current().to_string()),
            ENV_NODE,
            quote(&spec.name)
        );
        for (k, v) in &spec.env {
            line.push_str(&format!(" {}={}", quote(k), quote(v)));
        }
        // In the background of a non-interactive sh the node is no group leader, so
        // setsid makes it one without forking: $! is the node itself. The script
        // returns once the node leads its group (its pgrp in /proc is its PID), so a
        // signal to the group right after the start reaches it.
        let script = format!(
            "setsid {} </dev/null >>{dir}/stdout.log 2>>{dir}/stderr.log & p=$!; i=0; \
             while [ $i -lt 5000 ] && [ -r /proc/$p/stat ]; do \
             read -r l < /proc/$p/stat; set -- ${{l##*) }}; [ \"$3\" = \"$p\" ] && break; \
             i=$((i+1)); done; echo $p",
            {
                let mut cmd = quote(&spec.program.display().to_string());
                for a in &spec.args {
                    cmd.push(' ');
                    cmd.push_str(&quote(a));
                }
                cmd
            }
        );
        let full = format!("{line} sh -c {}", quote(&script));
        let out = self.shell(&full, super::COMMAND_TIMEOUT)?;
        let pid = out
            .stdout_text()
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|_| out.success())
            .ok_or_else(|| HostError::Spawn {
                host: self.name(),
                command: spec.display(),
                source: std::io::Error::other(format!(
                    "the host did not start it: {}",
                    out.stderr_text()
                )),
            })?;
        Ok(Box::new(SshChild {
            host: self.clone(),
            pid,
        }))
    }

    fn signal(&self, group: i32, signal: Signal) -> Result<(), HostError> {
        let name = signal.as_str().trim_start_matches("SIG");
        let out = self.run(
            "kill",
            &["-s", name, "--", &format!("-{group}")],
            None,
            super::COMMAND_TIMEOUT,
        )?;
        // A group that is gone is no error (kill says "No such process").
        if out.success() || self.state(group) == ProcState::Gone {
            Ok(())
        } else {
            Err(HostError::Failed {
                host: self.name(),
                command: format!("kill -s {name} -- -{group}"),
                status: crate::process::describe(out.status),
                stderr: out.stderr_text(),
            })
        }
    }

    fn state(&self, pid: i32) -> ProcState {
        match self.run(
            "cat",
            &[&format!("/proc/{pid}/stat")],
            None,
            super::COMMAND_TIMEOUT,
        ) {
            Ok(out) if out.success() => {
                let text = out.stdout_text();
                ProcState::from_letter(
                    text.rsplit(')')
                        .next()
                        .and_then(|r| r.trim_start().chars().next()),
                )
            }
            _ => ProcState::Gone,
        }
    }

    fn put(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        let bytes = std::fs::read(from).map_err(|source| HostError::File {
            host: "local".into(),
            path: from.display().to_string(),
            source,
        })?;
        let to_s = quote(&to.display().to_string());
        let dir = quote(&to.parent().unwrap_or(Path::new("/")).display().to_string());
        let script = format!("mkdir -p {dir} && cat > {to_s}.part$$ && mv {to_s}.part$$ {to_s}");
        let out = self.run(
            "sh",
            &["-c", &script],
            Some(&bytes),
            Duration::from_secs(120),
        )?;
        if out.success() {
            Ok(())
        } else {
            Err(HostError::Failed {
                host: self.name(),
                command: format!("cat > {}", to.display()),
                status: crate::process::describe(out.status),
                stderr: out.stderr_text(),
            })
        }
    }

    fn fetch_logs(&self, spec: &ProcessSpec) -> Result<(), HostError> {
        let remote = self.remote_log_dir(spec);
        for name in ["stdout.log", "stderr.log"] {
            self.get(&remote.join(name), &spec.log_dir.join(name))?;
        }
        Ok(())
    }

    fn get(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        let from_s = from.display().to_string();
        let bytes = self
            .run_ok("cat", &[&from_s], None, Duration::from_secs(120))
            .map(String::into_bytes)?;
        if let Some(dir) = to.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(to, bytes).map_err(|source| HostError::File {
            host: "local".into(),
            path: to.display().to_string(),
            source,
        })
    }
}

/// A node started over SSH.
#[derive(Debug)]
struct SshChild {
    host: Ssh,
    pid: i32,
}

impl Spawned for SshChild {
    fn pid(&self) -> i32 {
        self.pid
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        match self.host.state(self.pid) {
            ProcState::Gone | ProcState::Zombie => Some(ExitStatus::from_raw(255 << 8)),
            _ => None,
        }
    }
}

//! [`Local`]: this machine, in the driver's own network namespace. Commands and
//! processes are started with `std::process::Command`; a process gets its own session
//! (`setsid`) between fork and exec, and — for [`super::Namespace`], which shares this
//! code — enters its network namespace there too (`setns`), so its PID and program are
//! the node's own (no wrapper process).

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::{command_line, Host, HostError, Output, ProcState, Spawned};
use crate::owner::{Owner, ENV_NODE, ENV_OWNER};
use crate::process::ProcessSpec;

/// This machine, the driver's network namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Local;

impl Host for Local {
    fn name(&self) -> String {
        "local".into()
    }

    fn run(
        &self,
        program: &str,
        args: &[&str],
        input: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Output, HostError> {
        run_here(&self.name(), None, program, args, input, timeout)
    }

    fn spawn(&self, spec: &ProcessSpec) -> Result<Box<dyn Spawned>, HostError> {
        spawn_here(&self.name(), None, spec)
    }

    fn signal(&self, group: i32, signal: Signal) -> Result<(), HostError> {
        signal_here(&self.name(), group, signal)
    }

    fn state(&self, pid: i32) -> ProcState {
        ProcState::from_letter(crate::process::proc_state(pid))
    }

    fn put(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        copy_here(&self.name(), from, to)
    }

    fn get(&self, from: &Path, to: &Path) -> Result<(), HostError> {
        copy_here(&self.name(), from, to)
    }
}

/// A child process of this machine.
#[derive(Debug)]
pub struct LocalChild(pub Child);

impl Spawned for LocalChild {
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        self.0.try_wait().ok()?
    }
}

/// Where a program is: the `PATH`, then `/usr/sbin` and `/sbin` (where `ip`, `nft`
/// and `tc` live when `PATH` lacks them).
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Opens network namespace `ns` (`/run/netns/<ns>`).
pub(super) fn open_netns(host: &str, ns: &str) -> Result<File, HostError> {
    File::open(Path::new("/run/netns").join(ns)).map_err(|source| HostError::File {
        host: host.to_string(),
        path: format!("/run/netns/{ns} (network namespace)"),
        source,
    })
}

/// Enters `netns` (if any) between fork and exec, and a new session if `setsid`.
fn prepare(cmd: &mut Command, netns: Option<File>, setsid: bool) {
    // SAFETY: between fork and exec only async-signal-safe system calls run (setsid,
    // setns); nothing allocates or takes a lock.
    unsafe {
        cmd.pre_exec(move || {
            if setsid {
                nix::unistd::setsid().map_err(std::io::Error::from)?;
            }
            if let Some(ns) = &netns {
                nix::sched::setns(ns, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(std::io::Error::from)?;
            }
            Ok(())
        });
    }
}

pub(super) fn run_here(
    host: &str,
    netns: Option<&str>,
    program: &str,
    args: &[&str],
    input: Option<&[u8]>,
    timeout: Duration,
) -> Result<Output, HostError> {
    let fail = |message: String| HostError::Command {
        host: host.to_string(),
        command: command_line(program, args),
        message,
    };
    let exe = which(program).unwrap_or_else(|| PathBuf::from(program));
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let ns = netns.map(|ns| open_netns(host, ns)).transpose()?;
    prepare(&mut cmd, ns, false);
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(bytes).map_err(|e| fail(e.to_string()))?;
    }
    // Read both pipes on threads so a chatty command cannot block on a full pipe
    // while we wait for it.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let (stdout, stderr, status) = std::thread::scope(|s| {
        let out = s.spawn(move || {
            let mut v = Vec::new();
            if let Some(p) = out_pipe.as_mut() {
                let _ = p.read_to_end(&mut v);
            }
            v
        });
        let err = s.spawn(move || {
            let mut v = Vec::new();
            if let Some(p) = err_pipe.as_mut() {
                let _ = p.read_to_end(&mut v);
            }
            v
        });
        let until = Instant::now() + timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(s)) => break Ok(s),
                Ok(None) if Instant::now() >= until => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(fail(format!("did not end within {timeout:?}; killed")));
                }
                Ok(None) => std::thread::sleep(Duration::from_micros(500)),
                Err(e) => break Err(fail(e.to_string())),
            }
        };
        (
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
            status,
        )
    });
    Ok(Output {
        status: status?,
        stdout,
        stderr,
    })
}

pub(super) fn spawn_here(
    host: &str,
    netns: Option<&str>,
    spec: &ProcessSpec,
) -> Result<Box<dyn Spawned>, HostError> {
    let file_error = |path: &Path, source: std::io::Error| HostError::File {
        host: host.to_string(),
        path: path.display().to_string(),
        source,
    };
    let append = |name: &str| {
        let path = spec.log_dir.join(name);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| file_error(&path, e))
    };
    let ns = netns.map(|ns| open_netns(host, ns)).transpose()?;
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(ENV_OWNER, Owner::current().to_string())
        .env(ENV_NODE, &spec.name)
        .stdin(Stdio::null())
        .stdout(append("stdout.log")?)
        .stderr(append("stderr.log")?);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    prepare(&mut cmd, ns, true);
    let child = cmd.spawn().map_err(|source| HostError::Spawn {
        host: host.to_string(),
        command: spec.display(),
        source,
    })?;
    Ok(Box::new(LocalChild(child)))
}

pub(super) fn signal_here(host: &str, group: i32, signal: Signal) -> Result<(), HostError> {
    match killpg(Pid::from_raw(group), signal) {
        Ok(()) | Err(nix::Error::ESRCH) => Ok(()),
        Err(source) => Err(HostError::Signal {
            host: host.to_string(),
            group,
            signal,
            source,
        }),
    }
}

fn copy_here(host: &str, from: &Path, to: &Path) -> Result<(), HostError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|source| HostError::File {
            host: host.to_string(),
            path: dir.display().to_string(),
            source,
        })?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|source| HostError::File {
            host: host.to_string(),
            path: format!("{} -> {}", from.display(), to.display()),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gives_its_output_and_status_and_a_slow_one_is_killed_at_its_deadline() {
        let out = Local
            .run(
                "sh",
                &["-c", "cat; echo err >&2; exit 3"],
                Some(b"hi"),
                Duration::from_secs(5),
            )
            .unwrap();
        assert_eq!(out.stdout, b"hi");
        assert_eq!(out.stderr_text(), "err");
        assert_eq!(out.status.code(), Some(3));
        let e = Local
            .run_ok("false", &[], None, Duration::from_secs(5))
            .unwrap_err();
        assert!(e.to_string().contains("`false` failed (exited 1)"), "{e}");
        let started = Instant::now();
        let e = Local
            .run("sleep", &["5"], None, Duration::from_millis(100))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "{e}");
        assert!(e.to_string().contains("did not end within"), "{e}");
    }

    #[test]
    fn a_spawned_process_leads_its_own_group_and_its_state_follows_signals() {
        let dir = std::env::temp_dir().join(format!("fl-host-local-{}", rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = ProcessSpec {
            name: "n1".into(),
            program: "sleep".into(),
            args: vec!["30".into()],
            log_dir: dir.clone(),
            ..ProcessSpec::default()
        };
        let mut p = Local.spawn(&spec).unwrap();
        let pid = p.pid();
        assert_eq!(
            nix::unistd::getpgid(Some(Pid::from_raw(pid)))
                .unwrap()
                .as_raw(),
            pid
        );
        assert_eq!(
            crate::owner::tags_of(pid).map(|t| t.1),
            Some("n1".to_string())
        );
        Local.signal(pid, Signal::SIGSTOP).unwrap();
        let until = Instant::now() + Duration::from_secs(2);
        while Local.state(pid) != ProcState::Stopped && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(Local.state(pid), ProcState::Stopped);
        Local.signal(pid, Signal::SIGKILL).unwrap();
        let until = Instant::now() + Duration::from_secs(2);
        let status = loop {
            if let Some(s) = p.try_wait() {
                break s;
            }
            assert!(Instant::now() < until);
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(crate::process::describe(status), "killed by SIGKILL");
        assert_eq!(Local.state(pid), ProcState::Gone);
        // A group that is gone is no error.
        Local.signal(pid, Signal::SIGKILL).unwrap();
        let copy = dir.join("copy/of/log");
        Local.put(&dir.join("stdout.log"), &copy).unwrap();
        assert!(copy.is_file());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

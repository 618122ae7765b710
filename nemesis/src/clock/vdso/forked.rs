//! Running a ptrace job (a patch or a restore) in a forked child process when the
//! target is a child of this process — as every node the driver starts is.
//!
//! A parent that traces its own child shares that child's ptrace stops with its own
//! `waitpid`: Linux reports them to any thread of the tracer's process, so a
//! `Child::try_wait` elsewhere in the driver (a node watcher) could take a stop meant
//! for the tracer — the tracer then waits forever, and `try_wait` returns the stop as if
//! the node had exited. A tracer that is not the parent has no such overlap (the
//! kernel's advice: "create a separate process which takes the role of real parent").
//!
//! The child runs only the job (system calls, allocation — glibc's malloc is fork-safe
//! — and no locks of the parent), sends the result back as JSON over a socket pair, and
//! leaves with `_exit`, running no destructor of the parent's state.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use serde::{de::DeserializeOwned, Serialize};

use super::VdsoError;

/// An error as it crosses from the child to the parent.
#[derive(serde::Serialize, serde::Deserialize)]
enum Wire<T> {
    Ok(T),
    Refused(String),
    AlreadyPatched(i32),
    NoVdso(i32),
    Unsupported(String),
    Other(String),
}

impl<T> Wire<T> {
    fn from(r: Result<T, VdsoError>) -> Wire<T> {
        match r {
            Ok(t) => Wire::Ok(t),
            Err(VdsoError::Refused(m)) => Wire::Refused(m),
            Err(VdsoError::AlreadyPatched(p)) => Wire::AlreadyPatched(p),
            Err(VdsoError::NoVdso(p)) => Wire::NoVdso(p),
            Err(VdsoError::Unsupported(m)) => Wire::Unsupported(m),
            Err(e) => Wire::Other(e.to_string()),
        }
    }

    fn into_result(self) -> Result<T, VdsoError> {
        match self {
            Wire::Ok(t) => Ok(t),
            Wire::Refused(m) => Err(VdsoError::Refused(m)),
            Wire::AlreadyPatched(p) => Err(VdsoError::AlreadyPatched(p)),
            Wire::NoVdso(p) => Err(VdsoError::NoVdso(p)),
            Wire::Unsupported(m) => Err(VdsoError::Unsupported(m)),
            Wire::Other(m) => Err(VdsoError::Malformed(m)),
        }
    }
}

/// Whether process `pid`'s parent is this process.
pub fn is_our_child(pid: i32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse::<u32>().ok())
        == Some(std::process::id())
}

/// Runs `job` for target `pid`: in a forked child when `pid` is our child, else here.
pub fn run<T: Serialize + DeserializeOwned>(
    pid: i32,
    job: impl FnOnce() -> Result<T, VdsoError>,
) -> Result<T, VdsoError> {
    if !is_our_child(pid) {
        return job();
    }
    let (mut ours, mut theirs) = UnixStream::pair().map_err(|source| VdsoError::Io {
        what: "creating the socket pair to the tracer process".into(),
        source,
    })?;
    // SAFETY: the child only runs `job` (system calls and allocation), writes its answer
    // and `_exit`s; it touches no lock another thread of ours may hold.
    match unsafe { nix::unistd::fork() } {
        Err(errno) => Err(VdsoError::Ptrace {
            what: "forking the tracer process".into(),
            errno,
        }),
        Ok(nix::unistd::ForkResult::Child) => {
            drop(ours);
            let answer = serde_json::to_vec(&Wire::from(job())).unwrap_or_default();
            let _ = theirs.write_all(&answer);
            // SAFETY: leaves the child at once, running none of the parent's destructors.
            unsafe { nix::libc::_exit(0) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            drop(theirs);
            let mut answer = Vec::new();
            let read = ours.read_to_end(&mut answer);
            let _ = nix::sys::wait::waitpid(child, None);
            read.map_err(|source| VdsoError::Io {
                what: "reading the tracer process's answer".into(),
                source,
            })?;
            serde_json::from_slice::<Wire<T>>(&answer)
                .map_err(|e| {
                    VdsoError::Malformed(format!("the tracer process died without an answer ({e})"))
                })?
                .into_result()
        }
    }
}

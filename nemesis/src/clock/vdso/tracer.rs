//! Holding a process still with ptrace: every thread seized and interrupted (threads
//! that appear meanwhile are caught by listing `/proc/PID/task` until nothing new
//! shows), a system call injected into one of them, single steps, and release.
//!
//! A thread interrupted inside a blocking system call (`futex`, `epoll_wait`,
//! `nanosleep`) stops with `orig_rax` naming that call and `rax` holding
//! `-ERESTART…`: the injected call runs with `orig_rax = -1` so the kernel's restart
//! logic leaves it alone, and the thread's registers are put back exactly as they were,
//! so the interrupted call restarts as it would have after any signal. Signals that
//! arrive while a thread is held are kept and delivered when it is released.
//! ptrace works across network namespaces (they do not isolate processes); a process
//! in another PID namespace is named by its PID in ours.

use std::collections::BTreeMap;

use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::VdsoError;

/// One held thread.
#[derive(Debug)]
struct Thread {
    /// Signals it received while held, to deliver on release.
    pending: Vec<Signal>,
    /// Whether it is in a ptrace event stop (ours), not a signal-delivery stop.
    event_stop: bool,
}

/// Every thread of a process, stopped under ptrace until dropped (or
/// [`Stopped::release`]d).
#[derive(Debug)]
pub struct Stopped {
    pid: i32,
    threads: BTreeMap<i32, Thread>,
}

fn ptrace_err(what: String) -> impl FnOnce(Errno) -> VdsoError {
    move |errno| VdsoError::Ptrace { what, errno }
}

fn tasks(pid: i32) -> Result<Vec<i32>, VdsoError> {
    let path = format!("/proc/{pid}/task");
    let rd = std::fs::read_dir(&path).map_err(|source| VdsoError::Io {
        what: format!("listing {path}"),
        source,
    })?;
    Ok(rd
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect())
}

/// What a wait on a held thread saw.
enum Seen {
    /// A ptrace event stop (our interrupt) or a single-step trap.
    Trap,
    /// A signal on its way to the thread (kept for release).
    Signal(Signal),
    /// The thread is gone.
    Gone,
}

fn wait_thread(tid: i32) -> Result<Seen, VdsoError> {
    loop {
        match waitpid(Pid::from_raw(tid), Some(WaitPidFlag::__WALL)) {
            Ok(WaitStatus::PtraceEvent(..)) => return Ok(Seen::Trap),
            Ok(WaitStatus::Stopped(_, Signal::SIGTRAP)) => return Ok(Seen::Trap),
            Ok(WaitStatus::Stopped(_, sig)) => return Ok(Seen::Signal(sig)),
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return Ok(Seen::Gone),
            Ok(_) => continue,
            Err(Errno::EINTR) => continue,
            Err(Errno::ECHILD) => return Ok(Seen::Gone),
            Err(errno) => {
                return Err(VdsoError::Ptrace {
                    what: format!("waiting for thread {tid}"),
                    errno,
                })
            }
        }
    }
}

impl Stopped {
    /// Seizes and stops every thread of `pid`. On error, whatever was seized is
    /// released.
    pub fn all_threads(pid: i32) -> Result<Stopped, VdsoError> {
        let mut s = Stopped {
            pid,
            threads: BTreeMap::new(),
        };
        loop {
            let new: Vec<i32> = tasks(pid)?
                .into_iter()
                .filter(|t| !s.threads.contains_key(t))
                .collect();
            if new.is_empty() {
                break;
            }
            let mut seized = Vec::new();
            for tid in new {
                match ptrace::seize(Pid::from_raw(tid), ptrace::Options::empty()) {
                    Ok(()) => seized.push(tid),
                    Err(Errno::ESRCH) => continue, // exited meanwhile
                    Err(errno) => {
                        return Err(VdsoError::Ptrace {
                            what: format!("attaching to thread {tid} of process {pid}"),
                            errno,
                        })
                    }
                }
                s.threads.insert(
                    tid,
                    Thread {
                        pending: Vec::new(),
                        event_stop: false,
                    },
                );
            }
            for tid in seized {
                if ptrace::interrupt(Pid::from_raw(tid)).is_err() {
                    s.threads.remove(&tid);
                    continue;
                }
                match wait_thread(tid)? {
                    Seen::Trap => s.threads.get_mut(&tid).expect("held").event_stop = true,
                    Seen::Signal(sig) => s.threads.get_mut(&tid).expect("held").pending.push(sig),
                    Seen::Gone => {
                        s.threads.remove(&tid);
                    }
                }
            }
        }
        if s.threads.is_empty() {
            return Err(VdsoError::Refused(format!(
                "process {pid} has no threads left"
            )));
        }
        Ok(s)
    }

    /// The held threads.
    pub fn tids(&self) -> Vec<i32> {
        self.threads.keys().copied().collect()
    }

    /// A thread's registers.
    pub fn regs(&self, tid: i32) -> Result<nix::libc::user_regs_struct, VdsoError> {
        ptrace::getregs(Pid::from_raw(tid))
            .map_err(ptrace_err(format!("reading the registers of thread {tid}")))
    }

    fn set_regs(&self, tid: i32, regs: nix::libc::user_regs_struct) -> Result<(), VdsoError> {
        ptrace::setregs(Pid::from_raw(tid), regs)
            .map_err(ptrace_err(format!("setting the registers of thread {tid}")))
    }

    /// Runs one instruction of thread `tid` (signals that arrive meanwhile are kept).
    pub fn step(&mut self, tid: i32) -> Result<(), VdsoError> {
        let before = self.regs(tid)?.rip;
        for _ in 0..16 {
            ptrace::step(Pid::from_raw(tid), None)
                .map_err(ptrace_err(format!("single-stepping thread {tid}")))?;
            match wait_thread(tid)? {
                Seen::Trap => {}
                Seen::Signal(sig) => {
                    if let Some(t) = self.threads.get_mut(&tid) {
                        t.pending.push(sig);
                    }
                }
                Seen::Gone => {
                    self.threads.remove(&tid);
                    return Err(VdsoError::Refused(format!(
                        "thread {tid} exited while held"
                    )));
                }
            }
            if self.regs(tid)?.rip != before {
                return Ok(());
            }
        }
        Err(VdsoError::Refused(format!(
            "thread {tid} does not advance under single steps"
        )))
    }

    /// The thread to inject system calls into: the main thread if it is in our stop,
    /// else any thread that is.
    fn injector(&self) -> i32 {
        if self.threads.get(&self.pid).is_some_and(|t| t.event_stop) {
            return self.pid;
        }
        self.threads
            .iter()
            .find(|(_, t)| t.event_stop)
            .map_or(self.pid, |(tid, _)| *tid)
    }

    /// Makes the process run system call `nr` with `args`, through the `syscall`
    /// instruction at `syscall_at` (one found in its vDSO), and returns the kernel's
    /// answer (`-errno` on failure, as the raw call returns it). The injecting thread's
    /// registers are restored afterwards.
    pub fn syscall(&mut self, syscall_at: u64, nr: u64, args: [u64; 6]) -> Result<i64, VdsoError> {
        let tid = self.injector();
        let saved = self.regs(tid)?;
        let mut regs = saved;
        regs.rip = syscall_at;
        regs.rax = nr;
        regs.orig_rax = u64::MAX; // not in a system call: no restart logic
        regs.rdi = args[0];
        regs.rsi = args[1];
        regs.rdx = args[2];
        regs.r10 = args[3];
        regs.r8 = args[4];
        regs.r9 = args[5];
        self.set_regs(tid, regs)?;
        let stepped = self.step(tid);
        let after = self.regs(tid);
        self.set_regs(tid, saved)?;
        stepped?;
        let after = after?;
        if after.rip != syscall_at + 2 {
            return Err(VdsoError::Refused(format!(
                "the injected system call {nr} ended at {:#x}, not after {syscall_at:#x}",
                after.rip
            )));
        }
        Ok(after.rax as i64)
    }

    /// Releases every thread (delivering the signals kept for it).
    pub fn release(mut self) {
        self.release_all();
    }

    fn release_all(&mut self) {
        for (tid, t) in std::mem::take(&mut self.threads) {
            let mut pending = t.pending.into_iter();
            let _ = ptrace::detach(Pid::from_raw(tid), pending.next());
            for sig in pending {
                // SAFETY: tgkill only sends a signal; no memory is involved.
                unsafe {
                    nix::libc::syscall(nix::libc::SYS_tgkill, self.pid, tid, sig as i32);
                }
            }
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.release_all();
    }
}

//! The `vdso` clock mechanism: a wall-clock offset for one running process, whatever
//! it is written in, by patching its vDSO through ptrace (the design of Chaos Mesh's
//! TimeChaos; this is faultline's own code).
//!
//! Programs read the clock through the vDSO, a small shared object the kernel maps into
//! every process: glibc and musl (static binaries too) call its `clock_gettime`,
//! `gettimeofday` and `time`, and Go's runtime calls `__vdso_clock_gettime` directly,
//! bypassing libc and therefore libfaketime. The mechanism, per process:
//!
//! 1. [`tracer`]: seize and interrupt every thread (ptrace), so nothing runs while code
//!    changes; threads stopped in the middle of a blocking system call restart it
//!    untouched afterwards.
//! 2. [`maps`]: find the `[vdso]` mapping in `/proc/PID/maps`; [`elf`]: find the clock
//!    functions in the vDSO's own dynamic symbol table (`__vdso_clock_gettime` /
//!    `clock_gettime`, `__vdso_gettimeofday` / `gettimeofday`, `__vdso_time` / `time`).
//! 3. [`trampoline`]: map a code page and a data page into the process, by injecting
//!    `mmap` and `mprotect` through a `syscall` instruction of the vDSO; the code calls
//!    the original vDSO function (its first instructions moved into a stub by
//!    [`relocate`]; where they cannot be moved, it makes the system call instead) and
//!    adds the offset the data page holds for that clock id.
//! 4. [`patch`]: write a 14-byte absolute jump over each entry point (after stepping
//!    any thread out of those bytes), release the threads. Offsets then change with one
//!    write to the data page ([`memory`]), without stopping the process; a reset puts
//!    the original bytes back under ptrace.
//! 5. [`forked`]: when the target is a child of this process (the driver's nodes), the
//!    ptrace work runs in a forked tracer process, so the driver's own `waitpid`s on
//!    its children never see (and steal) ptrace stops.
//!
//! Only the wall clocks move (realtime, realtime-coarse, realtime-alarm, TAI): monotonic
//! clocks keep the true time, so a program's `Instant` / Go's monotonic reading never
//! goes backwards, however offsets change. A patched clock read costs a few
//! instructions more than the original (BENCHMARKS.md, "Clock (vDSO)"). ptrace works across network
//! namespaces, so nodes in namespaces are patched from the host; on an SSH host the
//! `faultline-vdso` helper binary does the same there.
//!
//! Limits. x86-64 only ([`SUPPORTED`]). arm64 would need: its own replacement code
//! (`svc #0` with the number in `x8`, arguments in `x0`–`x5`, `__kernel_clock_gettime` /
//! `__kernel_gettimeofday` as the symbol names, no `time`), a jump that fits the
//! fixed-width encoding (`ldr x16, #8; br x16; .quad target`: 16 bytes; x16/x17 are the
//! intra-procedure-call scratch registers, free at a function entry), a relocator for
//! its PC-relative `adr`/`adrp`/`ldr literal`/`b`/`bl` (or the system-call path only), the
//! `user_pt_regs` register set through `PTRACE_GETREGSET`/`NT_PRSTATUS` (no
//! `PTRACE_GETREGS`), `svc #0` (`01 00 00 d4`) searched for in the vDSO for injection,
//! the syscall number set through `NT_ARM_SYSTEM_CALL` instead of `orig_rax`, and an
//! instruction-cache flush is done by the kernel for ptrace writes. A thread that is
//! inside a signal handler whose interrupted context lies in the middle of an
//! overwritten entry would resume into the jump's bytes; the window is 14 bytes of
//! prologue and has not been seen. A process that another tracer (a debugger) holds
//! cannot be patched (`EPERM`).

pub mod elf;
pub mod forked;
pub mod maps;
pub mod memory;
pub mod patch;
pub mod relocate;
pub mod tracer;
pub mod trampoline;

pub use patch::{check_target, patch, patch_with, PatchedEntry, Replacement, VdsoPatch};

/// Whether this build can patch a vDSO (x86-64 Linux).
pub const SUPPORTED: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

/// Why a vDSO could not be patched or restored.
#[derive(Debug, thiserror::Error)]
pub enum VdsoError {
    /// The target must not or cannot be touched.
    #[error("vdso clock: {0}")]
    Refused(String),
    /// A file of `/proc` could not be read or written.
    #[error("vdso clock: {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// A ptrace request or an injected system call failed.
    #[error("vdso clock: {what}: {errno}")]
    Ptrace {
        /// What was being done.
        what: String,
        /// The error.
        errno: nix::errno::Errno,
    },
    /// The process has no vDSO (started with `vdso=0`?).
    #[error("vdso clock: process {0} has no [vdso] mapping")]
    NoVdso(i32),
    /// The vDSO or the process's memory is not what the mechanism expects.
    #[error("vdso clock: {0}")]
    Malformed(String),
    /// The process is patched already (by a faultline run that died: `faultline cleanup`).
    #[error(
        "vdso clock: process {0} is patched already (a run that died? try `faultline cleanup`)"
    )]
    AlreadyPatched(i32),
    /// Not on this architecture.
    #[error("vdso clock: not supported on {0} (x86-64 only)")]
    Unsupported(String),
}

/// The bytes of process `pid`'s vDSO (as mapped: patched or not).
pub fn vdso_bytes(pid: i32) -> Result<Vec<u8>, VdsoError> {
    let v = maps::vdso(pid)?;
    memory::Memory::open(pid)?.read(v.start, v.len() as usize)
}

//! Patching a running process's vDSO and undoing it: the record of what was patched
//! ([`VdsoPatch`], kept in the nemesis state file so `faultline cleanup` can undo a
//! dead driver's patch), [`patch`], [`VdsoPatch::set_offset_ns`] and
//! [`VdsoPatch::restore`].
//!
//! `patch` holds every thread, finds the vDSO and its clock functions, maps the code and
//! data pages into the process (an `mmap` and an `mprotect` injected through a `syscall`
//! instruction of the vDSO itself) with a stub per function holding its displaced first
//! instructions ([`super::relocate`]), moves any thread whose instruction pointer lies in
//! the bytes about to be overwritten out of them (single steps), writes a 14-byte jump
//! over each entry point, and releases the threads. `restore` holds them again and puts
//! the original bytes back. The two pages stay mapped after a restore: a thread may be
//! inside the replacement code at that moment, or be about to return into it from the
//! system call, and unmapping them would crash it; they cost 8 KiB and are reused by
//! nothing.

use super::maps;
use super::memory::Memory;
use super::tracer::Stopped;
use super::trampoline::{self, Replaced, JUMP_LEN, PAGE};
use super::VdsoError;
use crate::owner;

/// One overwritten entry point.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PatchedEntry {
    /// The function.
    pub function: Replaced,
    /// Its address in the process.
    pub addr: u64,
    /// The bytes the jump replaced.
    pub original: Vec<u8>,
    /// Where the jump goes (the replacement in the code page).
    pub target: u64,
    /// Whether the replacement calls the original vDSO code (else the system call).
    pub through_original: bool,
}

/// What was patched in one process: enough to change its offsets and to undo it,
/// by this process or by a later `faultline cleanup`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VdsoPatch {
    /// The process.
    pub pid: i32,
    /// Its start time (`/proc/PID/stat` field 22): a reused PID is never touched.
    pub start_time: u64,
    /// The node it is, if it is one.
    pub node: Option<String>,
    /// The code page mapped into it (the data page follows).
    pub code_page: u64,
    /// The entry points overwritten.
    pub entries: Vec<PatchedEntry>,
}

/// Refuses processes the mechanism must never touch: this process and its threads, its
/// ancestors (the shell or test runner that started it), PID 1, and kernel threads.
/// Which of the remaining processes may be patched is the caller's decision: the nemesis
/// patches only node processes it started or was given.
pub fn check_target(pid: i32) -> Result<(), VdsoError> {
    let me = std::process::id() as i32;
    if pid <= 1 {
        return Err(VdsoError::Refused(format!("process {pid} is the system's")));
    }
    let mut p = me;
    while p > 1 {
        if p == pid {
            return Err(VdsoError::Refused(format!(
                "process {pid} is this process or one of its ancestors"
            )));
        }
        p = parent_of(p).unwrap_or(0);
    }
    if std::fs::read_link(format!("/proc/{pid}/exe")).is_err() {
        return Err(VdsoError::Refused(format!(
            "process {pid} has no executable (gone, or a kernel thread)"
        )));
    }
    Ok(())
}

fn parent_of(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

fn failed(what: &str, r: i64) -> VdsoError {
    VdsoError::Ptrace {
        what: what.to_string(),
        errno: nix::errno::Errno::from_raw((-r) as i32),
    }
}

/// Patches process `pid`'s vDSO so its wall clocks read the offsets of a new data page
/// (all zero: the clock reads true time until [`VdsoPatch::set_offset_ns`]). The whole
/// call runs on the calling thread (ptrace binds a tracee to one tracer thread) and
/// releases the process before it returns.
pub fn patch(pid: i32, node: Option<&str>) -> Result<VdsoPatch, VdsoError> {
    patch_with(pid, node, Replacement::ThroughOriginal)
}

/// Which replacement [`patch_with`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// Through the original vDSO code where its first instructions can be moved, else
    /// through the system call (what [`patch`] does).
    ThroughOriginal,
    /// Through the system call always.
    ThroughSyscall,
}

/// [`patch`], choosing the replacement. When `pid` is a child of this process the
/// work runs in a forked tracer process ([`super::forked`]).
pub fn patch_with(
    pid: i32,
    node: Option<&str>,
    replacement: Replacement,
) -> Result<VdsoPatch, VdsoError> {
    check_target(pid)?;
    super::forked::run(pid, || patch_here(pid, node, replacement))
}

fn patch_here(
    pid: i32,
    node: Option<&str>,
    replacement: Replacement,
) -> Result<VdsoPatch, VdsoError> {
    if !super::SUPPORTED {
        return Err(VdsoError::Unsupported(std::env::consts::ARCH.to_string()));
    }
    check_target(pid)?;
    let start_time =
        owner::start_time(pid).ok_or(VdsoError::Refused(format!("process {pid} is gone")))?;
    let mut held = Stopped::all_threads(pid)?;
    let vdso = maps::vdso(pid)?;
    let mem = Memory::open(pid)?;
    let image = mem.read(vdso.start, vdso.len() as usize)?;
    let symbols = super::elf::dynamic_symbols(&image)
        .map_err(|e| VdsoError::Malformed(format!("the vDSO of process {pid}: {e}")))?;
    let mut entries: Vec<PatchedEntry> = Vec::new();
    for function in Replaced::ALL {
        let Some(sym) = function
            .vdso_names()
            .iter()
            .find_map(|n| symbols.iter().find(|s| s.name == *n))
        else {
            continue; // this kernel's vDSO lacks it: calls go to the kernel anyway
        };
        let (at, size) = (sym.value as usize, sym.size as usize);
        if size < JUMP_LEN || at + size > image.len() {
            return Err(VdsoError::Malformed(format!(
                "the vDSO's {} is {size} bytes at {at:#x}: no room for a {JUMP_LEN}-byte jump",
                sym.name
            )));
        }
        let original = image[at..at + JUMP_LEN].to_vec();
        if original[..6] == trampoline::jump_to(0)[..6] {
            return Err(VdsoError::AlreadyPatched(pid));
        }
        entries.push(PatchedEntry {
            function,
            addr: vdso.start + at as u64,
            original,
            target: 0, // known once the code page is mapped
            through_original: false,
        });
    }
    if !entries.iter().any(|e| e.function == Replaced::ClockGettime) {
        return Err(VdsoError::Malformed(format!(
            "the vDSO of process {pid} has no clock_gettime"
        )));
    }
    let syscall_at = vdso.start
        + image
            .windows(2)
            .position(|w| w == [0x0f, 0x05])
            .ok_or(VdsoError::Malformed(
                "no syscall instruction in the vDSO".into(),
            ))? as u64;

    use nix::libc;
    let code_page = held.syscall(
        syscall_at,
        libc::SYS_mmap as u64,
        [
            0,
            2 * PAGE,
            (libc::PROT_READ | libc::PROT_WRITE) as u64,
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS) as u64,
            u64::MAX,
            0,
        ],
    )?;
    if (-4095..0).contains(&code_page) {
        return Err(failed(
            &format!("mapping the code pages in process {pid}"),
            code_page,
        ));
    }
    let code_page = code_page as u64;
    mem.write(code_page, trampoline::CODE_X86_64)?;
    for e in &mut entries {
        let at = (e.addr - vdso.start) as usize;
        let fast = e
            .function
            .through_original()
            .filter(|_| replacement == Replacement::ThroughOriginal);
        let stub = fast.and_then(|(fast, stub_at, room)| {
            let code = &image[at..];
            Some((fast, stub_at, super::relocate::stub(code, e.addr, room)?))
        });
        match stub {
            Some((fast, stub_at, bytes)) => {
                mem.write(code_page + stub_at, &bytes)?;
                e.target = code_page + fast;
                e.through_original = true;
            }
            None => e.target = code_page + e.function.syscall_offset(),
        }
    }
    mem.write(
        code_page + trampoline::DATA_AT,
        &trampoline::MAGIC.to_le_bytes(),
    )?;
    let r = held.syscall(
        syscall_at,
        libc::SYS_mprotect as u64,
        [
            code_page,
            PAGE,
            (libc::PROT_READ | libc::PROT_EXEC) as u64,
            0,
            0,
            0,
        ],
    )?;
    if r != 0 {
        return Err(failed(
            &format!("making the code page executable in process {pid}"),
            r,
        ));
    }
    step_out_of(&mut held, &entries)?;
    for e in &entries {
        mem.write(e.addr, &trampoline::jump_to(e.target))?;
    }
    held.release();
    Ok(VdsoPatch {
        pid,
        start_time,
        node: node.map(str::to_string),
        code_page,
        entries,
    })
}

/// Single-steps every held thread whose next instruction lies strictly inside the bytes
/// of an entry point about to be rewritten (a thread exactly at an entry is fine: it
/// will execute whichever whole instruction sits there).
fn step_out_of(held: &mut Stopped, entries: &[PatchedEntry]) -> Result<(), VdsoError> {
    for tid in held.tids() {
        for _ in 0..64 {
            let rip = held.regs(tid)?.rip;
            if !entries
                .iter()
                .any(|e| rip > e.addr && rip < e.addr + JUMP_LEN as u64)
            {
                break;
            }
            held.step(tid)?;
        }
    }
    Ok(())
}

impl VdsoPatch {
    /// Whether the patched process still runs (same PID, same start time).
    pub fn is_alive(&self) -> bool {
        owner::start_time(self.pid) == Some(self.start_time)
    }

    /// Sets the offset of the wall clocks ([`trampoline::WALL_CLOCKS`]) to `ns`
    /// nanoseconds: one write into the data page, the process keeps running.
    pub fn set_offset_ns(&self, ns: i64) -> Result<(), VdsoError> {
        if !self.is_alive() {
            return Err(VdsoError::Refused(format!("process {} is gone", self.pid)));
        }
        let mem = Memory::open(self.pid)?;
        let magic = mem.read(self.code_page + trampoline::DATA_AT, 8)?;
        if magic != trampoline::MAGIC.to_le_bytes() {
            return Err(VdsoError::Malformed(format!(
                "process {}: no faultline data page at {:#x}",
                self.pid,
                self.code_page + trampoline::DATA_AT
            )));
        }
        for clock in trampoline::WALL_CLOCKS {
            mem.write(
                self.code_page + trampoline::offset_slot(clock),
                &ns.to_le_bytes(),
            )?;
        }
        Ok(())
    }

    /// The wall-clock offset now set, in nanoseconds.
    pub fn offset_ns(&self) -> Result<i64, VdsoError> {
        let mem = Memory::open(self.pid)?;
        let b = mem.read(self.code_page + trampoline::offset_slot(0), 8)?;
        Ok(i64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// Puts the original vDSO bytes back (offsets zeroed first), every thread held
    /// meanwhile. A process that is gone needs nothing; an entry already original is
    /// left; an entry holding neither our jump nor the original is an error (someone
    /// else changed it) and is left alone.
    pub fn restore(&self) -> Result<(), VdsoError> {
        if !self.is_alive() {
            return Ok(());
        }
        super::forked::run(self.pid, || self.restore_here())
    }

    fn restore_here(&self) -> Result<(), VdsoError> {
        let _ = self.set_offset_ns(0);
        let held = Stopped::all_threads(self.pid)?;
        let mem = Memory::open(self.pid)?;
        let mut foreign = Vec::new();
        for e in &self.entries {
            let now = mem.read(e.addr, JUMP_LEN)?;
            let ours = trampoline::jump_to(e.target);
            if now == ours {
                mem.write(e.addr, &e.original)?;
            } else if now != e.original {
                foreign.push(format!("{:?} at {:#x}", e.function, e.addr));
            }
        }
        held.release();
        if foreign.is_empty() {
            Ok(())
        } else {
            Err(VdsoError::Malformed(format!(
                "process {}: {} changed by someone else, left as found",
                self.pid,
                foreign.join(", ")
            )))
        }
    }

    /// Whether the process's entry points hold our jumps now.
    pub fn is_patched(&self) -> Result<bool, VdsoError> {
        let mem = Memory::open(self.pid)?;
        for e in &self.entries {
            let ours = trampoline::jump_to(e.target);
            if mem.read(e.addr, JUMP_LEN)? != ours {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

//! The replacement code and its data, as mapped into a patched process: two pages, the
//! code page (read + execute) then the data page (read + write) holding one offset per
//! clock id, and the jump written over each vDSO entry point.
//!
//! The code is [`trampoline_x86_64.S`](./trampoline_x86_64.S), assembled once; the
//! bytes below are its output (the unit test re-assembles the source when `as` is
//! installed and compares). Each replacement makes the real system call
//! (`clock_gettime`, `gettimeofday`, `time`), so it is right for every clock id and
//! every argument, then adds the offset the data page holds for that clock — read with
//! one aligned 8-byte load, so an offset written while a thread reads it is seen whole,
//! old or new. It does not call the vDSO's own code: every x86-64 vDSO entry begins with
//! RIP-relative instructions (`lea r10, [rip - …]` into the vvar page), which cannot be
//! moved into a trampoline without an instruction relocator.
//!
//! Layout of the data page: a magic word at 0, then `offsets[16]` (signed nanoseconds,
//! indexed by clock id) at [`OFFSETS_AT`]. `gettimeofday` and `time` use
//! `offsets[CLOCK_REALTIME]`.

/// The page size the layout assumes.
pub const PAGE: u64 = 4096;
/// Where the data page starts, from the code page.
pub const DATA_AT: u64 = PAGE;
/// Where the offsets start in the data page.
pub const OFFSETS_AT: u64 = 0x40;
/// How many clock ids have an offset slot.
pub const CLOCK_SLOTS: u64 = 16;
/// The magic word at the start of the data page (`"FLVDSO01"`).
pub const MAGIC: u64 = u64::from_le_bytes(*b"FLVDSO01");

/// One function the mechanism replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Replaced {
    /// `clock_gettime(clockid, *timespec)`.
    ClockGettime,
    /// `gettimeofday(*timeval, *timezone)`.
    Gettimeofday,
    /// `time(*time_t)`.
    Time,
}

impl Replaced {
    /// Every replaced function.
    pub const ALL: [Replaced; 3] = [
        Replaced::ClockGettime,
        Replaced::Gettimeofday,
        Replaced::Time,
    ];

    /// The vDSO's names for it, the `__vdso_` one first.
    pub fn vdso_names(self) -> [&'static str; 2] {
        match self {
            Replaced::ClockGettime => ["__vdso_clock_gettime", "clock_gettime"],
            Replaced::Gettimeofday => ["__vdso_gettimeofday", "gettimeofday"],
            Replaced::Time => ["__vdso_time", "time"],
        }
    }

    /// Where its replacement starts in the code page.
    pub fn code_offset(self) -> u64 {
        match self {
            Replaced::ClockGettime => 0,
            Replaced::Gettimeofday => 0x80,
            Replaced::Time => 0x100,
        }
    }
}

/// The code page's content (`trampoline_x86_64.S`, linked at 0: `clock_gettime` at 0,
/// `gettimeofday` at 0x80, `time` at 0x100; the data page is at 0x1000).
#[rustfmt::skip]
pub const CODE_X86_64: &[u8] = &[
    // clock_gettime: mov eax,228; syscall; test rax,rax; jnz ret; cmp edi,16; jae ret;
    // mov ecx,edi; lea rdx,[rip+offsets]; mov rdx,[rdx+rcx*8]; test rdx,rdx; jz ret;
    // r8 = sec*1e9 + nsec + off; (rax, rdx) = floor-divmod(r8, 1e9); store; xor eax,eax; ret
    0xb8, 0xe4, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x4b, 0x83, 0xff, 0x10, 0x73,
    0x46, 0x89, 0xf9, 0x48, 0x8d, 0x15, 0x26, 0x10, 0x00, 0x00, 0x48, 0x8b, 0x14, 0xca, 0x48, 0x85,
    0xd2, 0x74, 0x34, 0x4c, 0x8b, 0x06, 0x4d, 0x69, 0xc0, 0x00, 0xca, 0x9a, 0x3b, 0x4c, 0x03, 0x46,
    0x08, 0x49, 0x01, 0xd0, 0x4c, 0x89, 0xc0, 0x49, 0xc7, 0xc1, 0x00, 0xca, 0x9a, 0x3b, 0x48, 0x99,
    0x49, 0xf7, 0xf9, 0x48, 0x85, 0xd2, 0x79, 0x06, 0x4c, 0x01, 0xca, 0x48, 0xff, 0xc8, 0x48, 0x89,
    0x06, 0x48, 0x89, 0x56, 0x08, 0x31, 0xc0, 0xc3,
    // padding to 0x80 (multi-byte nops)
    0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x66, 0x2e, 0x0f, 0x1f,
    0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
    // gettimeofday: mov eax,96; syscall; test rax,rax; jnz ret; test rdi,rdi; jz ret;
    // rax = offsets[0]; jz ret; rax /= 1000 (µs); r8 = sec*1e6 + usec + rax;
    // floor-divmod by 1e6; store; xor eax,eax; ret
    0xb8, 0x60, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85, 0xc0, 0x75, 0x51, 0x48, 0x85, 0xff, 0x74,
    0x4c, 0x48, 0x8b, 0x05, 0xa8, 0x0f, 0x00, 0x00, 0x48, 0x85, 0xc0, 0x74, 0x40, 0x49, 0xc7, 0xc1,
    0xe8, 0x03, 0x00, 0x00, 0x48, 0x99, 0x49, 0xf7, 0xf9, 0x4c, 0x8b, 0x07, 0x4d, 0x69, 0xc0, 0x40,
    0x42, 0x0f, 0x00, 0x4c, 0x03, 0x47, 0x08, 0x49, 0x01, 0xc0, 0x4c, 0x89, 0xc0, 0x49, 0xc7, 0xc1,
    0x40, 0x42, 0x0f, 0x00, 0x48, 0x99, 0x49, 0xf7, 0xf9, 0x48, 0x85, 0xd2, 0x79, 0x06, 0x4c, 0x01,
    0xca, 0x48, 0xff, 0xc8, 0x48, 0x89, 0x07, 0x48, 0x89, 0x57, 0x08, 0x31, 0xc0, 0xc3,
    // padding to 0x100
    0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x66, 0x2e, 0x0f, 0x1f,
    0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x90,
    // time: mov r8,rdi; xor edi,edi; mov eax,201; syscall; mov rdi,r8; rdx = offsets[0];
    // jz store; rax = floor((rax*1e9 + rdx) / 1e9); store: if rdi: [rdi] = rax; ret
    0x49, 0x89, 0xf8, 0x31, 0xff, 0xb8, 0xc9, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x4c, 0x89, 0xc7, 0x48,
    0x8b, 0x15, 0x2a, 0x0f, 0x00, 0x00, 0x48, 0x85, 0xd2, 0x74, 0x1e, 0x48, 0x69, 0xc0, 0x00, 0xca,
    0x9a, 0x3b, 0x48, 0x01, 0xd0, 0x49, 0xc7, 0xc1, 0x00, 0xca, 0x9a, 0x3b, 0x48, 0x99, 0x49, 0xf7,
    0xf9, 0x48, 0x85, 0xd2, 0x79, 0x03, 0x48, 0xff, 0xc8, 0x48, 0x85, 0xff, 0x74, 0x03, 0x48, 0x89,
    0x07, 0xc3,
];

/// The length of the jump written over an entry point.
pub const JUMP_LEN: usize = 14;

/// `jmp qword ptr [rip + 0]` followed by the absolute target: 14 bytes, no register
/// touched, any distance.
pub fn jump_to(target: u64) -> [u8; JUMP_LEN] {
    let mut j = [0u8; JUMP_LEN];
    j[..6].copy_from_slice(&[0xff, 0x25, 0, 0, 0, 0]);
    j[6..].copy_from_slice(&target.to_le_bytes());
    j
}

/// Where the offset of clock `clock_id` lives, from the code page.
pub fn offset_slot(clock_id: u64) -> u64 {
    DATA_AT + OFFSETS_AT + 8 * clock_id
}

/// The clock ids a wall-clock offset applies to: `CLOCK_REALTIME`,
/// `CLOCK_REALTIME_COARSE`, `CLOCK_REALTIME_ALARM`, `CLOCK_TAI`. Monotonic clocks
/// (1, 4, 6, 7, 9) keep the true time, so `Instant` never goes backwards.
pub const WALL_CLOCKS: [u64; 4] = [0, 5, 8, 11];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replacements_sit_where_the_layout_says_and_fit_in_the_code_page() {
        assert_eq!(CODE_X86_64.len(), 0x142);
        for r in Replaced::ALL {
            // Each replacement starts with a `mov eax, nr` or `mov r8, rdi`, not padding.
            let first = CODE_X86_64[r.code_offset() as usize];
            assert!(first == 0xb8 || first == 0x49, "{r:?}: {first:#x}");
        }
        assert!((CODE_X86_64.len() as u64) < DATA_AT);
        assert!(offset_slot(CLOCK_SLOTS - 1) < 2 * PAGE);
    }

    #[test]
    fn a_jump_encodes_its_absolute_target() {
        let j = jump_to(0x1122_3344_5566_7788);
        assert_eq!(&j[..6], &[0xff, 0x25, 0, 0, 0, 0]);
        assert_eq!(
            u64::from_le_bytes(j[6..].try_into().unwrap()),
            0x1122_3344_5566_7788
        );
    }

    #[test]
    fn the_code_bytes_are_the_assembled_source() {
        let dir = std::env::temp_dir().join(format!("fl-tramp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let src = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/clock/vdso/trampoline_x86_64.S"
        );
        let obj = dir.join("t.o");
        let bin = dir.join("t.bin");
        let assembled = std::process::Command::new("as")
            .arg(src)
            .arg("-o")
            .arg(&obj)
            .status()
            .is_ok_and(|s| s.success())
            && std::process::Command::new("ld")
                .args(["-Ttext=0", "--oformat", "binary", "-e", "cg"])
                .arg(&obj)
                .arg("-o")
                .arg(&bin)
                .status()
                .is_ok_and(|s| s.success());
        if !assembled {
            eprintln!("no x86-64 assembler here: the bytes are not re-checked");
            return;
        }
        assert_eq!(std::fs::read(&bin).unwrap(), CODE_X86_64);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

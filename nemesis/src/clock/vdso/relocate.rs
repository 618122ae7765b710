//! Moving the first instructions of a vDSO function into a stub, so the replacement can
//! call the original code although its entry is overwritten by a jump: the stub runs the
//! displaced instructions, then jumps to the first instruction left in place.
//!
//! Only instructions whose meaning does not depend on where they run are moved as they
//! are (pushes, pops, register-to-register arithmetic and moves, immediates, `endbr64`);
//! a RIP-relative `lea reg, [rip + d]` becomes `movabs reg, <the address it computed>`.
//! Anything else — a branch, another RIP-relative operand, an unknown opcode — and the
//! function is not relocated: its replacement then makes the system call instead
//! (always right, only slower). x86-64 only.

use super::trampoline::{jump_to, JUMP_LEN};

/// The bytes of one instruction to move: its length, and what to write in the stub.
fn decode(code: &[u8], addr: u64) -> Option<(usize, Vec<u8>)> {
    let b = |i: usize| code.get(i).copied();
    let op = b(0)?;
    let reg_form = |m: u8| m >> 6 == 3;
    let same = |n: usize| Some((n, code.get(..n)?.to_vec()));
    match op {
        0x50..=0x5f | 0x90 => same(1),
        0xb8..=0xbf => same(5),
        0xf3 if code.get(..4)? == [0xf3, 0x0f, 0x1e, 0xfa] => same(4), // endbr64
        0x41 if matches!(b(1)?, 0x50..=0x5f) => same(2),
        // mov/add/sub/and/or/xor/test/cmp between registers, 32-bit.
        0x01 | 0x09 | 0x21 | 0x29 | 0x31 | 0x39 | 0x85 | 0x89 | 0x8b if reg_form(b(1)?) => same(2),
        0x83 if reg_form(b(1)?) => same(3),
        0x40..=0x4f => {
            let rex = op;
            let (op2, modrm) = (b(1)?, b(2)?);
            match op2 {
                0x01 | 0x09 | 0x21 | 0x29 | 0x31 | 0x39 | 0x85 | 0x89 | 0x8b if reg_form(modrm) => {
                    same(3)
                }
                0x83 if reg_form(modrm) => same(4),
                0x81 if reg_form(modrm) => same(7),
                // lea reg, [rip + disp32] (64-bit): movabs reg, absolute
                0x8d if rex & 0x08 != 0 && modrm & 0xc7 == 0x05 => {
                    let disp = i32::from_le_bytes(code.get(3..7)?.try_into().ok()?);
                    let target = (addr + 7).wrapping_add(disp as i64 as u64);
                    let reg = (modrm >> 3) & 7;
                    let rex_b = if rex & 0x04 != 0 { 0x49 } else { 0x48 }; // REX.R -> REX.B
                    let mut out = vec![rex_b, 0xb8 + reg];
                    out.extend_from_slice(&target.to_le_bytes());
                    Some((7, out))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The stub for the function whose code starts at `entry` with bytes `code`: at least
/// [`JUMP_LEN`] bytes of whole instructions moved, then a jump back. `None` if its first
/// instructions cannot be moved, or the stub would not fit in `room` bytes.
pub fn stub(code: &[u8], entry: u64, room: usize) -> Option<Vec<u8>> {
    let mut moved = 0;
    let mut out = Vec::new();
    while moved < JUMP_LEN {
        let (len, bytes) = decode(&code[moved..], entry + moved as u64)?;
        moved += len;
        out.extend(bytes);
    }
    out.extend_from_slice(&jump_to(entry + moved as u64));
    (out.len() <= room).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_setting_prologue_is_moved_as_it_is_and_jumps_back_after_it() {
        // push rbp; mov rbp,rsp; push r14; push rbx; and rsp,-16; sub rsp,16; cmp edi,23
        let code = [
            0x55, 0x48, 0x89, 0xe5, 0x41, 0x56, 0x53, 0x48, 0x83, 0xe4, 0xf0, 0x48, 0x83, 0xec,
            0x10, 0x83, 0xff, 0x17,
        ];
        let s = stub(&code, 0x1000, 64).unwrap();
        assert_eq!(&s[..15], &code[..15]);
        assert_eq!(&s[15..], &jump_to(0x1000 + 15));
    }

    #[test]
    fn a_rip_relative_lea_becomes_an_absolute_move() {
        // push rbp; lea r10,[rip-0x6838]; mov rbp,rsp; and rsp,-16
        let code = [
            0x55, 0x4c, 0x8d, 0x15, 0xc8, 0x97, 0xff, 0xff, 0x48, 0x89, 0xe5, 0x48, 0x83, 0xe4,
            0xf0,
        ];
        let entry = 0x7fff_0000_0830u64;
        let s = stub(&code, entry, 64).unwrap();
        let target = entry + 1 + 7 - 0x6838;
        assert_eq!(&s[..3], &[0x55, 0x49, 0xba]); // movabs r10, imm64
        assert_eq!(u64::from_le_bytes(s[3..11].try_into().unwrap()), target);
        assert_eq!(&s[11..18], &code[8..15]);
        assert_eq!(&s[18..], &jump_to(entry + 15));
    }

    #[test]
    fn branches_and_other_rip_relative_operands_are_not_moved() {
        // cmp dword [rip+d], imm32
        let cmp = [
            0x81, 0x3d, 0x1a, 0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0,
        ];
        assert!(stub(&cmp, 0x1000, 64).is_none());
        // push rbp; jmp rel8 ...
        let jmp = [
            0x55, 0xeb, 0x10, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
            0x90,
        ];
        assert!(stub(&jmp, 0x1000, 64).is_none());
        // Truncated code is refused, not read past.
        assert!(stub(&[0x55, 0x48], 0x1000, 64).is_none());
    }
}

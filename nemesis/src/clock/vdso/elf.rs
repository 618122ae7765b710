//! The little ELF reading the vDSO mechanism needs: the dynamic symbols of a vDSO image
//! (read from the process's own memory: the kernel maps the whole `vdso.so`, section
//! headers included), and whether an executable is static (no `PT_INTERP`).
//!
//! Hand-written rather than a crate (`object`, `goblin`): a vDSO is one small,
//! well-formed ELF64 image, and the two lookups below are ~100 lines.

use std::path::Path;

/// A symbol of the vDSO's dynamic symbol table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// Its name (`__vdso_clock_gettime`).
    pub name: String,
    /// Its value: the offset of the code from the image's start (the vDSO is linked at 0).
    pub value: u64,
    /// Its size in bytes.
    pub size: u64,
}

const SHT_DYNSYM: u32 = 11;
const PT_INTERP: u32 = 3;
const STT_FUNC: u8 = 2;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn is_elf64_le(b: &[u8]) -> bool {
    b.len() >= 64 && b[..4] == *b"\x7fELF" && b[4] == 2 && b[5] == 1
}

/// The function symbols of an ELF64 little-endian image's dynamic symbol table.
pub fn dynamic_symbols(image: &[u8]) -> Result<Vec<Symbol>, String> {
    if !is_elf64_le(image) {
        return Err("not an ELF64 little-endian image".into());
    }
    let short = || "truncated ELF image".to_string();
    let shoff = u64_at(image, 0x28).ok_or_else(short)? as usize;
    let shentsize = u16_at(image, 0x3a).ok_or_else(short)? as usize;
    let shnum = u16_at(image, 0x3c).ok_or_else(short)? as usize;
    let section = |i: usize| -> Option<(u32, usize, usize, u32, usize)> {
        let at = shoff.checked_add(i.checked_mul(shentsize)?)?;
        Some((
            u32_at(image, at + 4)?,             // sh_type
            u64_at(image, at + 0x18)? as usize, // sh_offset
            u64_at(image, at + 0x20)? as usize, // sh_size
            u32_at(image, at + 0x28)?,          // sh_link
            u64_at(image, at + 0x38)? as usize, // sh_entsize
        ))
    };
    let (dynsym, strtab) = (0..shnum)
        .filter_map(section)
        .find(|s| s.0 == SHT_DYNSYM)
        .map(|s| (s, section(s.3 as usize)))
        .ok_or("no dynamic symbol table (.dynsym)")?;
    let (_, str_off, str_size, _, _) = strtab.ok_or("the .dynsym's string table is missing")?;
    let strings = image
        .get(str_off..str_off.saturating_add(str_size))
        .ok_or_else(short)?;
    let (_, sym_off, sym_size, _, entsize) = dynsym;
    if entsize < 24 {
        return Err(format!(".dynsym entries of {entsize} bytes (expected 24)"));
    }
    let mut out = Vec::new();
    for i in 0..sym_size / entsize {
        let at = sym_off + i * entsize;
        let name_at = u32_at(image, at).ok_or_else(short)? as usize;
        let info = *image.get(at + 4).ok_or_else(short)?;
        let value = u64_at(image, at + 8).ok_or_else(short)?;
        let size = u64_at(image, at + 16).ok_or_else(short)?;
        if info & 0xf != STT_FUNC || value == 0 {
            continue;
        }
        let name = strings
            .get(name_at..)
            .and_then(|s| s.split(|&c| c == 0).next())
            .ok_or_else(|| format!("symbol {i}: name outside the string table"))?;
        out.push(Symbol {
            name: String::from_utf8_lossy(name).into_owned(),
            value,
            size,
        });
    }
    Ok(out)
}

/// Whether `program` is a static ELF executable (no program interpreter): such a
/// program never loads libfaketime. `false` when it cannot be read or is no ELF.
pub fn is_static_executable(program: &Path) -> bool {
    use std::io::Read;
    let mut head = vec![0u8; 64 * 1024];
    let Ok(n) = std::fs::File::open(program).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    head.truncate(n);
    if !is_elf64_le(&head) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (
        u64_at(&head, 0x20),
        u16_at(&head, 0x36),
        u16_at(&head, 0x38),
    ) else {
        return false;
    };
    let mut seen_all = true;
    for i in 0..phnum as usize {
        match u32_at(&head, phoff as usize + i * phentsize as usize) {
            Some(PT_INTERP) => return false,
            Some(_) => {}
            None => seen_all = false,
        }
    }
    seen_all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_vdso() -> Vec<u8> {
        use std::os::unix::fs::FileExt;
        let v = super::super::maps::vdso(std::process::id() as i32).unwrap();
        let mut image = vec![0u8; v.len() as usize];
        std::fs::File::open("/proc/self/mem")
            .unwrap()
            .read_exact_at(&mut image, v.start)
            .unwrap();
        image
    }

    #[test]
    fn the_vdso_exports_its_clock_functions_under_both_names() {
        let syms = dynamic_symbols(&own_vdso()).unwrap();
        let find = |n: &str| syms.iter().find(|s| s.name == n).cloned();
        let (Some(a), Some(b)) = (find("__vdso_clock_gettime"), find("clock_gettime")) else {
            panic!("no clock_gettime in {syms:?}");
        };
        assert_eq!(a.value, b.value);
        assert!(a.size >= 14);
        assert!(find("__vdso_gettimeofday").is_some());
    }

    #[test]
    fn a_truncated_or_foreign_image_is_an_error_not_a_panic() {
        let image = own_vdso();
        for cut in [0, 10, 63, 200, image.len() / 2] {
            let _ = dynamic_symbols(&image[..cut]);
        }
        assert!(dynamic_symbols(b"#!/bin/sh\n").is_err());
    }

    #[test]
    fn a_dynamically_linked_program_is_not_static() {
        assert!(!is_static_executable(Path::new("/bin/sh")));
        assert!(!is_static_executable(Path::new("/nonexistent")));
    }
}

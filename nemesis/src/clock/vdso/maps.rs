//! A process's memory map (`/proc/PID/maps`): where its vDSO is, and what is
//! executable.

use super::VdsoError;

/// One mapping of a process's address space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// The permissions, as `/proc/PID/maps` writes them (`r-xp`).
    pub perms: String,
    /// The path or pseudo-name (`[vdso]`, `[stack]`), empty for anonymous memory.
    pub name: String,
}

impl Mapping {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether it is empty (never, for a real mapping).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Whether `addr` lies in it.
    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

/// Parses the text of a `/proc/PID/maps` file.
pub fn parse(text: &str) -> Result<Vec<Mapping>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = || format!("line {}: not a /proc/PID/maps line: {line:?}", n + 1);
        let mut fields = line.splitn(6, ' ');
        let range = fields.next().ok_or_else(bad)?;
        let perms = fields.next().ok_or_else(bad)?;
        let (a, b) = range.split_once('-').ok_or_else(bad)?;
        let start = u64::from_str_radix(a, 16).map_err(|_| bad())?;
        let end = u64::from_str_radix(b, 16).map_err(|_| bad())?;
        // offset, device, inode, then the name after padding.
        let name = fields.nth(3).unwrap_or("").trim().to_string();
        out.push(Mapping {
            start,
            end,
            perms: perms.to_string(),
            name,
        });
    }
    Ok(out)
}

/// The mappings of process `pid`.
pub fn of(pid: i32) -> Result<Vec<Mapping>, VdsoError> {
    let path = format!("/proc/{pid}/maps");
    let text = std::fs::read_to_string(&path).map_err(|source| VdsoError::Io {
        what: format!("reading {path}"),
        source,
    })?;
    parse(&text).map_err(|e| VdsoError::Malformed(format!("{path}: {e}")))
}

/// The vDSO mapping of process `pid`.
pub fn vdso(pid: i32) -> Result<Mapping, VdsoError> {
    of(pid)?
        .into_iter()
        .find(|m| m.name == "[vdso]")
        .ok_or(VdsoError::NoVdso(pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lines_are_parsed_with_and_without_a_name() {
        let text = "55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234    /usr/bin/cat\n\
                    7ffd1c3f0000-7ffd1c3f2000 r-xp 00000000 00:00 0                          [vdso]\n\
                    7f0000000000-7f0000001000 rw-p 00000000 00:00 0 \n";
        let m = parse(text).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name, "/usr/bin/cat");
        assert_eq!(m[1].name, "[vdso]");
        assert_eq!(m[1].start, 0x7ffd1c3f0000);
        assert_eq!(m[1].len(), 0x2000);
        assert_eq!(m[2].name, "");
        assert!(parse("zzz").unwrap_err().contains("line 1"));
    }

    #[test]
    fn this_process_has_a_vdso() {
        let v = vdso(std::process::id() as i32).unwrap();
        assert!(v.perms.starts_with("r-x"), "{v:?}");
    }
}

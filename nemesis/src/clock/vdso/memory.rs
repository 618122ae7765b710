//! Reading and writing another process's memory through `/proc/PID/mem`. While the
//! process is held under ptrace a write reaches read-only and executable pages too (the
//! vDSO, the code page: the kernel copies the page for that process alone, as it does
//! for a debugger's breakpoints); a write to a writable page (the offsets) needs no
//! ptrace at all, so offsets change without stopping the process.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::VdsoError;

/// A process's memory.
#[derive(Debug)]
pub struct Memory {
    pid: i32,
    file: File,
}

impl Memory {
    /// Opens process `pid`'s memory for reading and writing.
    pub fn open(pid: i32) -> Result<Memory, VdsoError> {
        let path = format!("/proc/{pid}/mem");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|source| VdsoError::Io {
                what: format!("opening {path}"),
                source,
            })?;
        Ok(Memory { pid, file })
    }

    /// Reads `len` bytes at `addr`.
    pub fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, VdsoError> {
        let mut buf = vec![0u8; len];
        self.file
            .read_exact_at(&mut buf, addr)
            .map_err(|source| VdsoError::Io {
                what: format!("reading {len} bytes at {addr:#x} in process {}", self.pid),
                source,
            })?;
        Ok(buf)
    }

    /// Writes `bytes` at `addr` (in one `pwrite`: 8 aligned bytes land whole).
    pub fn write(&self, addr: u64, bytes: &[u8]) -> Result<(), VdsoError> {
        self.file
            .write_all_at(bytes, addr)
            .map_err(|source| VdsoError::Io {
                what: format!(
                    "writing {} bytes at {addr:#x} in process {}",
                    bytes.len(),
                    self.pid
                ),
                source,
            })
    }
}

//! The `faketime` clock mechanism: each node is started with libfaketime preloaded and
//! reading its offset from a file of its own (`FAKETIME_TIMESTAMP_FILE`, re-read on
//! every call with `FAKETIME_NO_CACHE=1`); monotonic clocks are left alone
//! (`FAKETIME_DONT_FAKE_MONOTONIC=1`, else Rust's `Instant` would jump backwards).
//!
//! Limits: programs that read the clock through the vDSO without libc (Go programs such
//! as etcd, static binaries) do not see libfaketime's offset — the [`super::vdso`]
//! mechanism reaches those; and Linux time namespaces shift only the monotonic and
//! boot clocks, never the wall clock, so they are no substitute.

use std::path::{Path, PathBuf};

/// Where Debian's libfaketime lives.
pub const LIBFAKETIME: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
];

/// The libfaketime library, if installed.
pub fn libfaketime() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FAULTLINE_LIBFAKETIME") {
        return Some(PathBuf::from(p));
    }
    LIBFAKETIME.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// A node's clock: its offset file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeClock {
    /// The node.
    pub node: String,
    /// Its offset file.
    pub file: PathBuf,
}

impl NodeClock {
    /// A clock for `node` with its offset file in `dir` (created, at offset 0).
    pub fn create(node: &str, dir: &Path) -> std::io::Result<NodeClock> {
        std::fs::create_dir_all(dir)?;
        let c = NodeClock {
            node: node.to_string(),
            file: dir.join(format!("{node}.faketime")),
        };
        c.set_offset_ms(0)?;
        Ok(c)
    }

    /// The environment that makes the node read this clock (`None`: no libfaketime).
    pub fn env(&self) -> Option<Vec<(String, String)>> {
        let lib = libfaketime()?;
        Some(vec![
            ("LD_PRELOAD".into(), lib.display().to_string()),
            (
                "FAKETIME_TIMESTAMP_FILE".into(),
                self.file.display().to_string(),
            ),
            ("FAKETIME_NO_CACHE".into(), "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
        ])
    }

    /// Sets the node's offset (atomically: the node never reads a half-written file).
    pub fn set_offset_ms(&self, ms: i64) -> std::io::Result<()> {
        write_offset(&self.file, ms)
    }

    /// The offset now set, in milliseconds.
    pub fn offset_ms(&self) -> Option<i64> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let secs: f64 = text.trim().parse().ok()?;
        Some((secs * 1000.0).round() as i64)
    }
}

/// Writes an offset file (`+1.500` seconds); also used by cleanup to reset (`+0`).
pub fn write_offset(file: &Path, ms: i64) -> std::io::Result<()> {
    let text = format!(
        "{}{}.{:03}\n",
        if ms < 0 { "-" } else { "+" },
        ms.abs() / 1000,
        ms.abs() % 1000
    );
    let tmp = file.with_extension("faketime.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, file)
}

/// Whether `program` is known to ignore libfaketime (Go programs read the clock through
/// the vDSO): the binary carries Go's build information (the `\xff Go buildinf:` magic
/// of its `.go.buildinfo` section, kept by every Go toolchain since 1.13 and by
/// distribution builds such as Debian's etcd, which drop the `Go build ID:` note), or
/// that note itself.
pub fn ignores_libfaketime(program: &Path) -> bool {
    let Ok(bytes) = std::fs::read(program) else {
        return false;
    };
    [&b"\xff Go buildinf:"[..], &b"Go build ID:"[..]]
        .iter()
        .any(|needle| memchr::memmem::find(&bytes, needle).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_binaries_are_known_by_their_build_info_even_without_a_build_id_note() {
        let dir = std::env::temp_dir().join(format!("fl-go-detect-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let go = dir.join("go-like");
        std::fs::write(&go, b"\x7fELF....\xff Go buildinf:\x08\x02....").unwrap();
        let c = dir.join("c-like");
        std::fs::write(&c, b"\x7fELF....GLIBC_2.34....").unwrap();
        assert!(ignores_libfaketime(&go));
        assert!(!ignores_libfaketime(&c));
        // Debian's etcd is stripped of the build-id note; it is still found.
        if Path::new("/usr/bin/etcd").exists() {
            assert!(ignores_libfaketime(Path::new("/usr/bin/etcd")));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn offsets_are_written_as_signed_seconds_and_read_back() {
        let dir = std::env::temp_dir().join(format!("fl-clock-{}", rand::random::<u32>()));
        let c = NodeClock::create("n1", &dir).unwrap();
        assert_eq!(c.offset_ms(), Some(0));
        c.set_offset_ms(-2500).unwrap();
        assert_eq!(std::fs::read_to_string(&c.file).unwrap(), "-2.500\n");
        assert_eq!(c.offset_ms(), Some(-2500));
        c.set_offset_ms(61_007).unwrap();
        assert_eq!(c.offset_ms(), Some(61_007));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

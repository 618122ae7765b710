//! A durable log of JSON records, one per line, shared by the store modes that keep
//! one (`primary_backup`, `multi_leader`, `two_phase_commit`): each record is written
//! with `write(2)` (and fsynced with `--fsync always`) before the node acts on it, and
//! replayed in order at start. A torn last line (a crash mid-write) is cut off; any
//! other line that does not parse is an error naming the file and line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Failures of a log.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading or writing failed.
    #[error("log I/O on {path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A complete line did not parse, or its record does not fit what came before.
    #[error("{path}:{line}: corrupt log record ({msg})")]
    Corrupt {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What went wrong.
        msg: String,
    },
}

/// An open log, appending.
#[derive(Debug)]
pub struct RecordLog {
    path: PathBuf,
    file: File,
    fsync: bool,
}

impl RecordLog {
    /// Opens (creating) `dir/name`, handing every complete record to `replay` in order
    /// (its `Err(msg)` makes the line corrupt), and cuts off a torn last line.
    pub fn open<R: DeserializeOwned>(
        dir: &Path,
        name: &str,
        fsync: bool,
        mut replay: impl FnMut(R) -> Result<(), String>,
    ) -> Result<RecordLog, LogError> {
        let path = dir.join(name);
        let io = |source| LogError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        if path.exists() {
            let text = std::fs::read(&path).map_err(io)?;
            let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
            // The piece after the last newline is empty or a torn record.
            for (i, line) in lines.iter().take(lines.len() - 1).enumerate() {
                let corrupt = |msg: String| LogError::Corrupt {
                    path: path.clone(),
                    line: i + 1,
                    msg,
                };
                let record = serde_json::from_slice(line).map_err(|e| corrupt(e.to_string()))?;
                replay(record).map_err(corrupt)?;
            }
            if !text.ends_with(b"\n") && !text.is_empty() {
                tracing::warn!(path = %path.display(), "dropping a torn last log line");
                let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                let f = OpenOptions::new().write(true).open(&path).map_err(io)?;
                f.set_len(keep as u64).map_err(io)?;
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        Ok(RecordLog { path, file, fsync })
    }

    /// Appends `record` (`write(2)`, and fsync with `--fsync always`).
    pub fn append(&mut self, record: &impl Serialize) -> Result<(), LogError> {
        let mut line = serde_json::to_vec(record).expect("log records serialize");
        line.push(b'\n');
        let mut done = self.file.write_all(&line);
        if done.is_ok() && self.fsync {
            done = self.file.sync_data();
        }
        done.map_err(|source| LogError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

//! The durable log of a multi-leader node: every update it has seen (its own and its
//! peers'), one JSON line each in `ml.log`, written before the node acts on it and
//! replayed at start (a torn last line is cut off; any other bad line is an error
//! naming the file and line).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::update::Update;

/// Failures of the log.
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
    /// A complete line did not parse.
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

/// The open log.
#[derive(Debug)]
pub struct Log {
    path: PathBuf,
    file: File,
    fsync: bool,
}

impl Log {
    /// Opens (creating) `dir/ml.log`: the log and every update it held.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Log, Vec<Update>), LogError> {
        let path = dir.join("ml.log");
        let io = |source| LogError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut updates = Vec::new();
        if path.exists() {
            let text = std::fs::read(&path).map_err(io)?;
            let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
            for (i, line) in lines.iter().take(lines.len() - 1).enumerate() {
                updates.push(serde_json::from_slice(line).map_err(|e| LogError::Corrupt {
                    path: path.clone(),
                    line: i + 1,
                    msg: e.to_string(),
                })?);
            }
            if !text.ends_with(b"\n") && !text.is_empty() {
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
        Ok((Log { path, file, fsync }, updates))
    }

    /// Appends `u` (`write(2)`, and fsync with `--fsync always`).
    pub fn append(&mut self, u: &Update) -> Result<(), LogError> {
        let mut line = serde_json::to_vec(u).expect("updates serialize");
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

#[cfg(test)]
mod tests {
    use super::super::update::Effect;
    use super::*;

    #[test]
    fn updates_survive_a_reopen_and_a_torn_tail_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let u = Update {
            origin: "n1".into(),
            seq: 1,
            ts: 5,
            deps: [("n1".to_string(), 1)].into_iter().collect(),
            key: "k".into(),
            effect: Effect::Add(3),
        };
        {
            let (mut log, none) = Log::open(dir.path(), false).unwrap();
            assert!(none.is_empty());
            log.append(&u).unwrap();
        }
        let path = dir.path().join("ml.log");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{{\"origin\":")).unwrap();
        let (mut log, back) = Log::open(dir.path(), false).unwrap();
        assert_eq!(back, vec![u.clone()]);
        log.append(&u).unwrap();
        drop(log);
        assert_eq!(Log::open(dir.path(), false).unwrap().1.len(), 2);
        std::fs::write(&path, "nope\n").unwrap();
        let e = Log::open(dir.path(), false).unwrap_err().to_string();
        assert!(e.contains("ml.log:1: corrupt"), "{e}");
    }
}

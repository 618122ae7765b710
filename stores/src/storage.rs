//! Durable replica state: an append-only JSON-lines log per node, replayed at start.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::{Conflict, Fsync};
use crate::version::{merge, Version};

/// Failures of the durable log.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Reading or writing the log failed.
    #[error("log I/O on {path}: {source}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A complete (newline-terminated) log line did not parse.
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

/// One line of the log.
#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Record {
    Put {
        key: String,
        versions: Vec<Version>,
    },
    Hint {
        id: u64,
        target: String,
        key: String,
        versions: Vec<Version>,
    },
    HintDone {
        id: u64,
    },
}

/// Versions held for a replica that did not acknowledge a write.
#[derive(Debug, Clone)]
pub struct Hint {
    /// The node the versions are meant for.
    pub target: String,
    /// The key.
    pub key: String,
    /// The versions to hand off.
    pub versions: Vec<Version>,
}

struct Inner {
    data: HashMap<String, Vec<Version>>,
    hints: BTreeMap<u64, Hint>,
    next_hint: u64,
    file: File,
    dirty: bool,
}

/// A node's replica state and its log.
pub struct Storage {
    inner: Mutex<Inner>,
    path: PathBuf,
    mode: Conflict,
    fsync: Fsync,
}

impl Storage {
    /// Opens (creating if needed) the log in `dir` and replays it. A torn last line
    /// (a write cut by a crash) is dropped; any other unparsable line is an error.
    pub fn open(dir: &Path, mode: Conflict, fsync: Fsync) -> Result<Storage, StorageError> {
        let path = dir.join("store.log");
        let io = |source| StorageError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut data: HashMap<String, Vec<Version>> = HashMap::new();
        let mut hints = BTreeMap::new();
        let mut next_hint = 0u64;
        let mut good_len = 0u64;
        if path.exists() {
            let text = std::fs::read(&path).map_err(io)?;
            let mut reader = BufReader::new(&text[..]);
            let mut line = Vec::new();
            let mut lineno = 0;
            loop {
                line.clear();
                let n = reader.read_until(b'\n', &mut line).map_err(io)?;
                if n == 0 {
                    break;
                }
                lineno += 1;
                if !line.ends_with(b"\n") {
                    tracing::warn!(line = lineno, "dropping torn last log line");
                    break;
                }
                let rec =
                    serde_json::from_slice::<Record>(&line).map_err(|e| StorageError::Corrupt {
                        path: path.clone(),
                        line: lineno,
                        msg: e.to_string(),
                    })?;
                good_len += n as u64;
                match rec {
                    Record::Put { key, versions } => {
                        let cur = data.remove(&key).unwrap_or_default();
                        data.insert(key, merge(&cur, &versions, mode));
                    }
                    Record::Hint {
                        id,
                        target,
                        key,
                        versions,
                    } => {
                        next_hint = next_hint.max(id + 1);
                        hints.insert(
                            id,
                            Hint {
                                target,
                                key,
                                versions,
                            },
                        );
                    }
                    Record::HintDone { id } => {
                        hints.remove(&id);
                    }
                }
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        file.set_len(good_len).map_err(io)?;
        tracing::info!(
            keys = data.len(),
            hints = hints.len(),
            "replayed log {}",
            path.display()
        );
        Ok(Storage {
            inner: Mutex::new(Inner {
                data,
                hints,
                next_hint,
                file,
                dirty: false,
            }),
            path,
            mode,
            fsync,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn append(
        &self,
        inner: &mut Inner,
        rec: &Record,
        force_sync: bool,
    ) -> Result<(), StorageError> {
        let io = |source| StorageError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(rec).expect("records serialise");
        line.push(b'\n');
        inner.file.write_all(&line).map_err(io)?;
        if force_sync || self.fsync == Fsync::Always {
            inner.file.sync_data().map_err(io)?;
        } else {
            inner.dirty = true;
        }
        Ok(())
    }

    /// The versions this replica holds for `key`.
    pub fn get(&self, key: &str) -> Vec<Version> {
        self.lock().data.get(key).cloned().unwrap_or_default()
    }

    /// Merges `incoming` into the key's versions, logging the versions it adds (if any)
    /// before returning the merged versions. Replaying only the added versions gives the
    /// same state: anything they make obsolete, the merge made obsolete too.
    pub fn apply(&self, key: &str, incoming: &[Version]) -> Result<Vec<Version>, StorageError> {
        let mut inner = self.lock();
        let cur = inner.data.get(key).cloned().unwrap_or_default();
        let merged = merge(&cur, incoming, self.mode);
        if merged != cur {
            let added: Vec<Version> = merged
                .iter()
                .filter(|v| !cur.contains(v))
                .cloned()
                .collect();
            let rec = Record::Put {
                key: key.to_string(),
                versions: added,
            };
            self.append(&mut inner, &rec, false)?;
            inner.data.insert(key.to_string(), merged.clone());
        }
        Ok(merged)
    }

    /// Durably keeps a hint for `target`.
    pub fn add_hint(
        &self,
        target: &str,
        key: &str,
        versions: &[Version],
    ) -> Result<(), StorageError> {
        let mut inner = self.lock();
        let id = inner.next_hint;
        inner.next_hint += 1;
        let rec = Record::Hint {
            id,
            target: target.to_string(),
            key: key.to_string(),
            versions: versions.to_vec(),
        };
        self.append(&mut inner, &rec, false)?;
        let hint = Hint {
            target: target.into(),
            key: key.into(),
            versions: versions.to_vec(),
        };
        inner.hints.insert(id, hint);
        Ok(())
    }

    /// The hints not yet delivered, by id.
    pub fn hints(&self) -> Vec<(u64, Hint)> {
        self.lock()
            .hints
            .iter()
            .map(|(i, h)| (*i, h.clone()))
            .collect()
    }

    /// Forgets a delivered hint.
    pub fn remove_hint(&self, id: u64) -> Result<(), StorageError> {
        let mut inner = self.lock();
        if inner.hints.remove(&id).is_some() {
            self.append(&mut inner, &Record::HintDone { id }, false)?;
        }
        Ok(())
    }

    /// Every key this node holds with its versions, sorted by key.
    pub fn snapshot(&self) -> Vec<(String, Vec<Version>)> {
        let inner = self.lock();
        let mut out: Vec<_> = inner
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// fsyncs the log if anything was written since the last sync (interval policy).
    pub fn sync(&self) -> Result<(), StorageError> {
        let mut inner = self.lock();
        if inner.dirty {
            inner.file.sync_data().map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })?;
            inner.dirty = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::VersionVector;
    use serde_json::json;

    fn version(node: &str, dot: u64, value: i64) -> Version {
        Version {
            ctx: [(node.to_string(), dot - 1)].into_iter().collect(),
            value: json!(value),
            ts: dot,
            actor: node.into(),
            dot,
        }
    }

    #[test]
    fn a_reopened_log_replays_writes_and_hints() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Always).unwrap();
            s.apply("a", &[version("n1", 1, 1)]).unwrap();
            s.apply("a", &[version("n1", 2, 2)]).unwrap();
            s.apply("b", &[version("n2", 1, 3)]).unwrap();
            s.add_hint("n3", "a", &[version("n1", 2, 2)]).unwrap();
            s.add_hint("n3", "b", &[version("n2", 1, 3)]).unwrap();
            s.remove_hint(0).unwrap();
        }
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Always).unwrap();
        assert_eq!(s.get("a"), vec![version("n1", 2, 2)]);
        assert_eq!(s.get("b"), vec![version("n2", 1, 3)]);
        let hints = s.hints();
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].1.key, "b");
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_later_writes_still_replay() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never).unwrap();
            s.apply("a", &[version("n1", 1, 1)]).unwrap();
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("store.log"))
            .unwrap();
        f.write_all(b"{\"t\":\"put\",\"key\":\"a\",\"vers").unwrap();
        drop(f);
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never).unwrap();
            assert_eq!(s.get("a"), vec![version("n1", 1, 1)]);
            s.apply("c", &[version("n1", 5, 5)]).unwrap();
        }
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never).unwrap();
        assert_eq!(s.get("c"), vec![version("n1", 5, 5)]);
    }

    #[test]
    fn a_corrupt_complete_line_is_reported_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("store.log"), "garbage\n{}\n").unwrap();
        let err = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never)
            .err()
            .unwrap();
        assert!(err.to_string().contains("store.log:1"), "{err}");
    }

    #[test]
    fn a_replayed_log_equals_the_live_state_after_superseding_writes() {
        let dir = tempfile::tempdir().unwrap();
        let live = {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never).unwrap();
            s.apply("k", &[version("n1", 1, 1)]).unwrap();
            s.apply("k", &[version("n2", 1, 2)]).unwrap();
            let ctx: VersionVector = [("n1".to_string(), 1), ("n2".to_string(), 1)].into();
            let c = Version {
                ctx,
                value: json!(3),
                ts: 9,
                actor: "n3".into(),
                dot: 1,
            };
            let live = s.apply("k", std::slice::from_ref(&c)).unwrap();
            assert_eq!(live, vec![c]);
            live
        };
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never).unwrap();
        assert_eq!(s.get("k"), live);
    }
}

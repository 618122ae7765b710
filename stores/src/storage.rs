//! Durable replica state: an append-only JSON-lines log per node, replayed at start.
//!
//! A write becomes visible (to reads, repairs and anti-entropy) only once its record is
//! as durable as `--fsync` promises: with `always`, after a group-committed fsync
//! covers it (see `group_commit`), so a replica never serves what a crash could lose.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::config::{Conflict, Fsync};
use crate::group_commit::GroupCommit;
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
    commit: Option<GroupCommit>,
}

impl Storage {
    /// Opens (creating if needed) the log in `dir` and replays it. A torn last line
    /// (a write cut by a crash) is dropped; any other unparsable line is an error.
    /// `window`: the group-commit window under `--fsync always` (see `group_commit`).
    pub fn open(
        dir: &Path,
        mode: Conflict,
        fsync: Fsync,
        window: std::time::Duration,
    ) -> Result<Storage, StorageError> {
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
        let commit = match fsync {
            Fsync::Always => Some(GroupCommit::start(file.try_clone().map_err(io)?, window)),
            Fsync::Interval | Fsync::Never => None,
        };
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
            commit,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `rec` to the log, or with `--fsync always` queues it for the log writer;
    /// returns its record number (not durable yet).
    fn append(&self, inner: &mut Inner, rec: &Record) -> Result<u64, StorageError> {
        let mut line = serde_json::to_vec(rec).expect("records serialise");
        line.push(b'\n');
        if let Some(commit) = &self.commit {
            return Ok(commit.queue(&line));
        }
        inner
            .file
            .write_all(&line)
            .map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })?;
        inner.dirty = true;
        Ok(0)
    }

    /// Waits until record `seq` is durable (`--fsync always`; otherwise at once).
    async fn durable(&self, seq: u64) -> Result<(), StorageError> {
        match &self.commit {
            Some(c) => c.durable(seq).await.map_err(|msg| StorageError::Io {
                path: self.path.clone(),
                source: std::io::Error::other(msg),
            }),
            None => Ok(()),
        }
    }

    /// Logs the versions `incoming` adds to `key` (if any); returns the record number
    /// and those versions. What the record adds is not visible yet.
    fn stage(
        &self,
        inner: &mut Inner,
        key: &str,
        incoming: &[Version],
    ) -> Result<Option<(u64, Vec<Version>)>, StorageError> {
        let cur: &[Version] = inner.data.get(key).map_or(&[], |v| v);
        let merged = merge(cur, incoming, self.mode);
        if merged == cur {
            return Ok(None);
        }
        let added: Vec<Version> = merged.into_iter().filter(|v| !cur.contains(v)).collect();
        let rec = Record::Put {
            key: key.to_string(),
            versions: added,
        };
        let seq = self.append(inner, &rec)?;
        let Record::Put { versions, .. } = rec else {
            unreachable!()
        };
        Ok(Some((seq, versions)))
    }

    /// Makes logged versions visible. Merging is order-insensitive, so versions staged
    /// against an older state still land where replaying the log would put them.
    fn publish(&self, inner: &mut Inner, key: &str, added: &[Version]) {
        let cur = inner.data.remove(key).unwrap_or_default();
        let merged = merge(&cur, added, self.mode);
        inner.data.insert(key.to_string(), merged);
    }

    /// The versions this replica holds for `key`.
    pub fn get(&self, key: &str) -> Vec<Version> {
        self.lock().data.get(key).cloned().unwrap_or_default()
    }

    /// Merges `incoming` into the key's versions, logging the versions it adds (if any);
    /// returns once they are durable and visible. Replaying only the added versions
    /// gives the same state: anything they make obsolete, the merge made obsolete too.
    pub async fn apply(&self, key: &str, incoming: &[Version]) -> Result<(), StorageError> {
        self.apply_many([(key, incoming)]).await
    }

    /// [`Storage::apply`] for many keys, sharing one wait for durability.
    pub async fn apply_many<'a>(
        &self,
        entries: impl IntoIterator<Item = (&'a str, &'a [Version])>,
    ) -> Result<(), StorageError> {
        let mut staged = Vec::new();
        let mut last = 0;
        {
            let mut inner = self.lock();
            for (key, incoming) in entries {
                if let Some((seq, added)) = self.stage(&mut inner, key, incoming)? {
                    if self.commit.is_none() {
                        self.publish(&mut inner, key, &added);
                    } else {
                        staged.push((key, added));
                        last = seq;
                    }
                }
            }
        }
        if staged.is_empty() {
            return Ok(());
        }
        self.durable(last).await?;
        let mut inner = self.lock();
        for (key, added) in staged {
            self.publish(&mut inner, key, &added);
        }
        Ok(())
    }

    /// Durably keeps a hint for `target`.
    pub async fn add_hint(
        &self,
        target: &str,
        key: &str,
        versions: &[Version],
    ) -> Result<(), StorageError> {
        let (id, seq) = {
            let mut inner = self.lock();
            let id = inner.next_hint;
            inner.next_hint += 1;
            let rec = Record::Hint {
                id,
                target: target.to_string(),
                key: key.to_string(),
                versions: versions.to_vec(),
            };
            (id, self.append(&mut inner, &rec)?)
        };
        self.durable(seq).await?;
        let hint = Hint {
            target: target.into(),
            key: key.into(),
            versions: versions.to_vec(),
        };
        self.lock().hints.insert(id, hint);
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
            // Not waited for: after a crash the hint is delivered again (merging twice
            // changes nothing).
            self.append(&mut inner, &Record::HintDone { id })?;
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

    /// fsyncs the log if anything was written since the last sync (interval policy);
    /// blocks for the fsync but lets writers go on meanwhile.
    pub fn sync(&self) -> Result<(), StorageError> {
        let file = {
            let mut inner = self.lock();
            if !std::mem::take(&mut inner.dirty) {
                return Ok(());
            }
            inner.file.try_clone()
        };
        file.and_then(|f| f.sync_data())
            .map_err(|source| StorageError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::VersionVector;
    use serde_json::json;

    const WINDOW: std::time::Duration = std::time::Duration::from_millis(1);

    fn version(node: &str, dot: u64, value: i64) -> Version {
        Version {
            ctx: [(node.to_string(), dot - 1)].into_iter().collect(),
            value: json!(value),
            ts: dot,
            actor: node.into(),
            dot,
        }
    }

    #[tokio::test]
    async fn a_reopened_log_replays_writes_and_hints() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Always, WINDOW).unwrap();
            s.apply("a", &[version("n1", 1, 1)]).await.unwrap();
            s.apply("a", &[version("n1", 2, 2)]).await.unwrap();
            s.apply("b", &[version("n2", 1, 3)]).await.unwrap();
            s.add_hint("n3", "a", &[version("n1", 2, 2)]).await.unwrap();
            s.add_hint("n3", "b", &[version("n2", 1, 3)]).await.unwrap();
            s.remove_hint(0).unwrap();
        }
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Always, WINDOW).unwrap();
        assert_eq!(s.get("a"), vec![version("n1", 2, 2)]);
        assert_eq!(s.get("b"), vec![version("n2", 1, 3)]);
        let hints = s.hints();
        assert_eq!(hints.len(), 1);
        assert_eq!(hints[0].1.key, "b");
    }

    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_later_writes_still_replay() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
            s.apply("a", &[version("n1", 1, 1)]).await.unwrap();
        }
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join("store.log"))
            .unwrap();
        f.write_all(b"{\"t\":\"put\",\"key\":\"a\",\"vers").unwrap();
        drop(f);
        {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
            assert_eq!(s.get("a"), vec![version("n1", 1, 1)]);
            s.apply("c", &[version("n1", 5, 5)]).await.unwrap();
        }
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
        assert_eq!(s.get("c"), vec![version("n1", 5, 5)]);
    }

    #[tokio::test]
    async fn a_corrupt_complete_line_is_reported_with_its_line_number() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("store.log"), "garbage\n{}\n").unwrap();
        let err = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW)
            .err()
            .unwrap();
        assert!(err.to_string().contains("store.log:1"), "{err}");
    }

    #[tokio::test]
    async fn a_replayed_log_equals_the_live_state_after_superseding_writes() {
        let dir = tempfile::tempdir().unwrap();
        let live = {
            let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
            s.apply("k", &[version("n1", 1, 1)]).await.unwrap();
            s.apply("k", &[version("n2", 1, 2)]).await.unwrap();
            let ctx: VersionVector = [("n1".to_string(), 1), ("n2".to_string(), 1)].into();
            let c = Version {
                ctx,
                value: json!(3),
                ts: 9,
                actor: "n3".into(),
                dot: 1,
            };
            s.apply("k", std::slice::from_ref(&c)).await.unwrap();
            let live = s.get("k");
            assert_eq!(live, vec![c]);
            live
        };
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
        assert_eq!(s.get("k"), live);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_under_fsync_always_are_all_visible_and_all_replayed() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = std::sync::Arc::new(
                Storage::open(dir.path(), Conflict::Siblings, Fsync::Always, WINDOW).unwrap(),
            );
            let mut tasks = Vec::new();
            for i in 1..=100u64 {
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    let key = format!("k{}", i % 7);
                    s.apply(&key, &[version(&format!("n{i}"), 1, i as i64)])
                        .await
                        .unwrap();
                    // Visible as soon as the write returns.
                    assert!(s.get(&key).iter().any(|v| v.value == json!(i)));
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
        let s = Storage::open(dir.path(), Conflict::Siblings, Fsync::Never, WINDOW).unwrap();
        let held: usize = (0..7).map(|k| s.get(&format!("k{k}")).len()).sum();
        assert_eq!(held, 100, "every concurrent version survives the replay");
    }

    #[tokio::test]
    async fn a_staged_write_is_invisible_until_published() {
        let dir = tempfile::tempdir().unwrap();
        let s = Storage::open(dir.path(), Conflict::Lww, Fsync::Always, WINDOW).unwrap();
        let (seq, added) = {
            let mut inner = s.lock();
            s.stage(&mut inner, "k", &[version("n1", 1, 1)])
                .unwrap()
                .unwrap()
        };
        assert!(s.get("k").is_empty(), "not durable yet, so not served");
        s.durable(seq).await.unwrap();
        s.publish(&mut s.lock(), "k", &added);
        assert_eq!(s.get("k"), vec![version("n1", 1, 1)]);
    }
}

//! The durable log of a primary-backup node: JSON lines in `pb.log`, replayed at
//! start. Three records: an epoch change (`{"t":"epoch","epoch":E,"primary":P}`), a
//! log entry (`{"t":"entry",...}`: the key's whole new value, so applying it needs no
//! read) and a truncation (`{"t":"truncate","from":I}`: entries from index I on are
//! gone, written when a backup drops the divergent tail an old primary left it).
//!
//! Every record is written with `write(2)` before the caller goes on (so it survives
//! `kill -9`); with `--fsync always` it is also fsynced first.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// 1-based position in the log.
    pub index: u64,
    /// The epoch of the primary that wrote it.
    pub epoch: u64,
    /// The key written.
    pub key: String,
    /// The key's value from this entry on.
    pub value: Value,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Record {
    Epoch { epoch: u64, primary: Option<String> },
    Entry(Entry),
    Truncate { from: u64 },
}

pub use crate::record_log::LogError;
use crate::record_log::RecordLog;

/// The log, its entries in memory and the key-value state they build.
#[derive(Debug)]
pub struct Log {
    log: RecordLog,
    /// Every entry, `entries[i].index == i + 1`.
    pub entries: Vec<Entry>,
    /// The last epoch recorded and its primary (`None` before the first record).
    pub epoch: Option<(u64, Option<String>)>,
    /// Each key's value after the last entry.
    pub state: BTreeMap<String, Value>,
}

impl Log {
    /// Opens (creating) `dir/pb.log` and replays it; a torn last line is dropped.
    pub fn open(dir: &Path, fsync: bool) -> Result<Log, LogError> {
        let mut entries: Vec<Entry> = Vec::new();
        let mut epoch = None;
        let records = RecordLog::open(dir, "pb.log", fsync, |rec: Record| {
            match rec {
                Record::Epoch { epoch: e, primary } => epoch = Some((e, primary)),
                Record::Entry(e) => {
                    if e.index != entries.len() as u64 + 1 {
                        return Err(format!("entry {} after entry {}", e.index, entries.len()));
                    }
                    entries.push(e);
                }
                Record::Truncate { from } => entries.truncate(from.saturating_sub(1) as usize),
            }
            Ok(())
        })?;
        let mut log = Log {
            log: records,
            entries,
            epoch,
            state: BTreeMap::new(),
        };
        log.rebuild();
        Ok(log)
    }

    fn rebuild(&mut self) {
        self.state.clear();
        for e in &self.entries {
            self.state.insert(e.key.clone(), e.value.clone());
        }
    }

    fn write(&mut self, rec: &Record) -> Result<(), LogError> {
        self.log.append(rec)
    }

    /// The index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The epoch of the entry at `index` (0 for index 0 or past the end).
    pub fn epoch_at(&self, index: u64) -> u64 {
        if index == 0 {
            return 0;
        }
        self.entries
            .get(index as usize - 1)
            .map(|e| e.epoch)
            .unwrap_or(0)
    }

    /// Records a new epoch and its primary.
    pub fn set_epoch(&mut self, epoch: u64, primary: Option<String>) -> Result<(), LogError> {
        self.write(&Record::Epoch {
            epoch,
            primary: primary.clone(),
        })?;
        self.epoch = Some((epoch, primary));
        Ok(())
    }

    /// Appends `entry` (its index must be the next one) and applies it.
    pub fn append(&mut self, entry: Entry) -> Result<(), LogError> {
        debug_assert_eq!(entry.index, self.last_index() + 1);
        self.write(&Record::Entry(entry.clone()))?;
        self.state.insert(entry.key.clone(), entry.value.clone());
        self.entries.push(entry);
        Ok(())
    }

    /// Drops every entry from index `from` on.
    pub fn truncate(&mut self, from: u64) -> Result<(), LogError> {
        if from > self.last_index() {
            return Ok(());
        }
        self.write(&Record::Truncate { from })?;
        self.entries.truncate(from.saturating_sub(1) as usize);
        self.rebuild();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(index: u64, epoch: u64, key: &str, value: Value) -> Entry {
        Entry {
            index,
            epoch,
            key: key.into(),
            value,
        }
    }

    #[test]
    fn a_reopened_log_replays_entries_epochs_and_truncations() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = Log::open(dir.path(), false).unwrap();
            log.set_epoch(1, Some("n1".into())).unwrap();
            log.append(entry(1, 1, "a", json!(1))).unwrap();
            log.append(entry(2, 1, "b", json!(2))).unwrap();
            log.append(entry(3, 1, "a", json!(3))).unwrap();
            log.truncate(3).unwrap();
            log.set_epoch(2, Some("n2".into())).unwrap();
            log.append(entry(3, 2, "a", json!(4))).unwrap();
        }
        let log = Log::open(dir.path(), false).unwrap();
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.epoch_at(3), 2);
        assert_eq!(log.epoch_at(2), 1);
        assert_eq!(log.epoch, Some((2, Some("n2".into()))));
        assert_eq!(log.state["a"], json!(4));
        assert_eq!(log.state["b"], json!(2));
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_corrupt_middle_line_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut log = Log::open(dir.path(), false).unwrap();
            log.append(entry(1, 1, "a", json!(1))).unwrap();
        }
        let path = dir.path().join("pb.log");
        let mut text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{text}{{\"t\":\"entry\",\"ind")).unwrap();
        let mut log = Log::open(dir.path(), false).unwrap();
        assert_eq!(log.last_index(), 1);
        log.append(entry(2, 1, "a", json!(2))).unwrap();
        drop(log);
        assert_eq!(Log::open(dir.path(), false).unwrap().last_index(), 2);
        text = std::fs::read_to_string(&path).unwrap();
        text = format!("garbage\n{text}");
        std::fs::write(&path, text).unwrap();
        let err = Log::open(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("pb.log:1: corrupt log record"), "{err}");
    }
}

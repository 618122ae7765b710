//! The durable log of a multi-leader node: every update it has seen (its own and its
//! peers'), one JSON line each in `ml.log`, written before the node acts on it and
//! replayed at start (a torn last line is cut off; any other bad line is an error
//! naming the file and line).

use std::path::Path;

use super::update::Update;

pub use crate::record_log::LogError;
use crate::record_log::RecordLog;

/// The open log.
#[derive(Debug)]
pub struct Log(RecordLog);

impl Log {
    /// Opens (creating) `dir/ml.log`: the log and every update it held.
    pub fn open(dir: &Path, fsync: bool) -> Result<(Log, Vec<Update>), LogError> {
        let mut updates = Vec::new();
        let log = RecordLog::open(dir, "ml.log", fsync, |u| {
            updates.push(u);
            Ok(())
        })?;
        Ok((Log(log), updates))
    }

    /// Appends `u` (`write(2)`, and fsync with `--fsync always`).
    pub fn append(&mut self, u: &Update) -> Result<(), LogError> {
        self.0.append(u)
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

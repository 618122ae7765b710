//! Readers: turn a history file into a validated [`History`].
//!
//! Formats: faultline's own JSONL ([`jsonl`]), and (added by their own modules)
//! Jepsen's `history.edn` and Porcupine's etcd and kv logs. [`Format::Auto`] sniffs.
//! Every reader reports a malformed line as `FILE:LINE: what is wrong` and never
//! guesses.

pub mod edn;
pub mod jsonl;
pub mod porcupine_etcd;

use std::path::Path;

use crate::history::{History, HistoryError};

/// A history file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Decide from the file's first lines.
    Auto,
    /// faultline's JSON Lines (DESIGN.md).
    Jsonl,
    /// Jepsen's `history.edn`.
    JepsenEdn,
    /// Porcupine's etcd Jepsen logs (`INFO  jepsen.util - 2 :invoke :cas [2 4]`).
    PorcupineEtcd,
    /// Porcupine's kv logs (one EDN map per line).
    PorcupineKv,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "auto" => Ok(Format::Auto),
            "jsonl" => Ok(Format::Jsonl),
            "jepsen-edn" | "edn" => Ok(Format::JepsenEdn),
            "porcupine-etcd" => Ok(Format::PorcupineEtcd),
            "porcupine-kv" => Ok(Format::PorcupineKv),
            other => Err(format!(
                "unknown format \"{other}\"; expected one of auto, jsonl, jepsen-edn, porcupine-etcd, porcupine-kv"
            )),
        }
    }
}

/// Why a history could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is malformed or breaks the history rules.
    #[error(transparent)]
    History(#[from] HistoryError),
}

/// Reads the history at `path` in `format`.
pub fn read_path(path: &Path, format: Format) -> Result<History, ReadError> {
    let name = path.display().to_string();
    let io = |source| ReadError::Io {
        file: name.clone(),
        source,
    };
    let format = match format {
        Format::Auto => sniff(path).map_err(io)?,
        f => f,
    };
    match format {
        Format::Jsonl | Format::Auto => {
            let file = std::fs::File::open(path).map_err(io)?;
            jsonl::read(std::io::BufReader::with_capacity(1 << 20, file), &name)
        }
        Format::JepsenEdn | Format::PorcupineKv => {
            edn::read(&std::fs::read_to_string(path).map_err(io)?, &name)
        }
        Format::PorcupineEtcd => {
            porcupine_etcd::read(&std::fs::read_to_string(path).map_err(io)?, &name)
        }
    }
}

/// Decides a file's format from its first non-blank line: `{"` is JSONL, a
/// `jepsen.util -` log line is a Porcupine etcd log, `{:`, `[` or `#` is EDN.
pub fn sniff(path: &Path) -> std::io::Result<Format> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)?;
    for line in std::io::BufReader::new(file).lines().take(100) {
        let line = line?;
        let t = line.trim_start();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if t.starts_with("{\"") {
            return Ok(Format::Jsonl);
        }
        if t.contains("jepsen.util -") {
            return Ok(Format::PorcupineEtcd);
        }
        if t.starts_with('{') || t.starts_with('[') || t.starts_with('#') {
            return Ok(Format::JepsenEdn);
        }
    }
    Ok(Format::Jsonl)
}

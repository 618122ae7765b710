//! Readers: turn a history file into a validated [`History`].
//!
//! Formats: faultline's own JSONL ([`jsonl`]), and (added by their own modules)
//! Jepsen's `history.edn` and Porcupine's etcd and kv logs. [`Format::Auto`] sniffs.
//! Every reader reports a malformed line as `FILE:LINE: what is wrong` and never
//! guesses.

pub mod jsonl;

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
    let file = std::fs::File::open(path).map_err(io)?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    match format {
        Format::Auto | Format::Jsonl => jsonl::read(reader, &name),
        other => Err(ReadError::History(HistoryError {
            file: name,
            line: 0,
            message: format!("the {other:?} reader is not built yet; use --format jsonl"),
        })),
    }
}

//! Readers: turn a history file into a validated [`History`].
//!
//! Formats: faultline's own JSONL ([`jsonl`]), Jepsen's `history.edn` ([`edn`]),
//! Porcupine's etcd logs ([`porcupine_etcd`]) and kv logs ([`porcupine_kv`]).
//! [`Format::Auto`] sniffs ([`sniff`]).
//! Every reader reports a malformed line as `FILE:LINE: what is wrong` and never
//! guesses.

pub mod edn;
mod edn_syntax;
pub mod jsonl;
mod jsonl_raw;
pub mod porcupine_etcd;
pub mod porcupine_kv;

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
        Format::JepsenEdn => edn::read(&read_text(path, &name)?, &name),
        Format::PorcupineKv => porcupine_kv::read(&read_text(path, &name)?, &name),
        Format::PorcupineEtcd => porcupine_etcd::read(&read_text(path, &name)?, &name),
    }
}

/// The whole file as text; bytes that are not UTF-8 are an error naming their line.
fn read_text(path: &Path, name: &str) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        file: name.to_string(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        ReadError::History(not_utf8(name, line))
    })
}

/// The error for a line that is not UTF-8 text.
pub(crate) fn not_utf8(file: &str, line: usize) -> HistoryError {
    HistoryError {
        file: file.to_string(),
        line,
        message: "the line is not valid UTF-8 text; expected a UTF-8 text file".into(),
    }
}

/// Decides a file's format from its first non-blank, non-comment line: an object
/// whose first key is a string (`{"`) is JSONL; a `jepsen.util -` log line is a
/// Porcupine etcd log; `{:`, `[`, `(` or `#` is EDN (Jepsen's `history.edn`, which also
/// reads Porcupine's kv logs). Anything else is read as JSONL, whose reader then
/// names the first line it cannot parse.
pub fn sniff(path: &Path) -> std::io::Result<Format> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)?;
    for line in std::io::BufReader::new(file).split(b'\n').take(100) {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        let t = text.trim_start();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        if t.contains("jepsen.util -") {
            return Ok(Format::PorcupineEtcd);
        }
        if let Some(rest) = t.strip_prefix('{') {
            return Ok(if rest.trim_start().starts_with('"') {
                Format::Jsonl
            } else {
                Format::JepsenEdn
            });
        }
        if t.starts_with(['[', '(', '#']) {
            return Ok(Format::JepsenEdn);
        }
        return Ok(Format::Jsonl);
    }
    Ok(Format::Jsonl)
}

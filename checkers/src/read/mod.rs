//! Readers: turn a history file into a validated [`History`].
//!
//! Formats: faultline's own JSONL ([`jsonl`]), Jepsen's `history.edn` ([`edn`]),
//! Porcupine's etcd logs ([`porcupine_etcd`]) and kv logs ([`porcupine_kv`]).
//! [`Format::Auto`] sniffs ([`sniff`]).
//! Every reader reports a malformed line as `FILE:LINE: what is wrong` and never
//! guesses. [`read_path_with`] also refuses what cannot be judged (a history with no
//! client operation; with [`ReadOptions::model`], an operation the model does not
//! know) and applies the Jepsen/Knossos readings of [`ReadOptions`]; docs/formats.md
//! says what each reader accepts.

pub mod edn;
mod edn_syntax;
pub mod jsonl;
mod jsonl_raw;
mod jsonl_value;
pub mod porcupine_etcd;
pub mod porcupine_kv;

use std::path::Path;

use crate::history::{History, HistoryBuilder, HistoryError};

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

/// What an `ok` read that returned `nil` means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NilRead {
    /// faultline's meaning: the read saw `nil` (the register held nothing).
    #[default]
    Value,
    /// Knossos's meaning: the read's value is unknown; it matches any state.
    Any,
}

impl std::str::FromStr for NilRead {
    type Err = String;
    fn from_str(s: &str) -> Result<NilRead, String> {
        match s {
            "value" => Ok(NilRead::Value),
            "any" => Ok(NilRead::Any),
            other => Err(format!(
                "unknown --nil-read \"{other}\"; expected value (a nil read saw nil) or any (a nil read's value is unknown, as in Knossos)"
            )),
        }
    }
}

/// Whether Jepsen `independent` tuples (`:value [k v]`) are split into key and value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Independent {
    /// Split when every client op of an EDN history carries a `[k v]` tuple and no
    /// `:key` (see docs/formats.md).
    #[default]
    Auto,
    /// Always split (an error names the first op that is not a tuple).
    Always,
}

/// How a history is read, beyond its format.
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// The model the history will be judged against (its command-line name): client
    /// operations it does not know, or values of the wrong shape, are refused.
    pub model: Option<String>,
    /// What an `ok` read of `nil` means.
    pub nil_read: NilRead,
    /// Whether EDN `[k v]` tuples are keyed ops.
    pub independent: Independent,
}

impl ReadOptions {
    /// A builder for `file` with these options.
    pub(crate) fn builder(&self, file: &str) -> HistoryBuilder {
        HistoryBuilder::new(file)
            .admitting(self.model.as_deref())
            .nil_reads_match_any(self.nil_read == NilRead::Any)
    }
}

/// A history read with [`read_path_with`], and what the reading found.
#[derive(Clone, Debug)]
pub struct Reading {
    /// The history.
    pub history: History,
    /// The format it was read as.
    pub format: Format,
    /// How many `ok` reads returned `nil` (whichever meaning they were given).
    pub nil_reads: usize,
    /// Whether Jepsen `independent` tuples were split into keyed ops.
    pub independent: bool,
}

/// What a reader hands back: the history and what it found on the way.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub history: History,
    pub nil_reads: usize,
    pub independent: bool,
}

impl Parsed {
    /// The result of a builder, with nothing else found.
    pub(crate) fn of(builder: HistoryBuilder) -> Parsed {
        Parsed {
            nil_reads: builder.nil_reads(),
            independent: false,
            history: builder.finish(),
        }
    }
}

/// Reads the history at `path` in `format`.
pub fn read_path(path: &Path, format: Format) -> Result<History, ReadError> {
    parse_path(path, format, &ReadOptions::default()).map(|(p, _)| p.history)
}

/// Reads the history at `path` in `format` with `options`, and refuses a history
/// that holds no client operation (nothing could be judged).
pub fn read_path_with(
    path: &Path,
    format: Format,
    options: &ReadOptions,
) -> Result<Reading, ReadError> {
    let (parsed, format) = parse_path(path, format, options)?;
    judgeable(parsed, format, &path.display().to_string())
}

/// [`read_path_with`] on a file's bytes already in memory; errors name `file`.
/// [`Format::Auto`] sniffs the bytes as [`sniff`] sniffs a file.
pub fn read_bytes_with(
    bytes: &[u8],
    file: &str,
    format: Format,
    options: &ReadOptions,
) -> Result<Reading, ReadError> {
    let format = match format {
        Format::Auto => sniff_lines(Path::new(file), bytes).map_err(|source| ReadError::Io {
            file: file.to_string(),
            source,
        })?,
        f => f,
    };
    let parsed = match format {
        Format::Jsonl | Format::Auto => jsonl::read_options(bytes, file, options)?,
        _ => parse_text(&text_of(bytes.to_vec(), file)?, file, format, options)?,
    };
    judgeable(parsed, format, file)
}

/// The reading of `parsed`, unless it holds no client operation.
fn judgeable(parsed: Parsed, format: Format, file: &str) -> Result<Reading, ReadError> {
    if parsed.history.ops.is_empty() {
        let message = if parsed.history.event_count == 0 {
            "the history holds no events (the file is empty or blank); expected at least one client operation (an invoke and its completion)".to_string()
        } else {
            format!(
                "the history holds no client operation ({} nemesis events only); expected at least one client operation (an invoke and its completion)",
                parsed.history.event_count
            )
        };
        return Err(ReadError::History(HistoryError {
            file: file.to_string(),
            line: 1,
            message,
        }));
    }
    Ok(Reading {
        history: parsed.history,
        format,
        nil_reads: parsed.nil_reads,
        independent: parsed.independent,
    })
}

/// Reads `path` (sniffing the format when asked); hands back the format used.
fn parse_path(
    path: &Path,
    format: Format,
    options: &ReadOptions,
) -> Result<(Parsed, Format), ReadError> {
    let name = path.display().to_string();
    let io = |source| ReadError::Io {
        file: name.clone(),
        source,
    };
    let format = match format {
        Format::Auto => sniff(path).map_err(io)?,
        f => f,
    };
    let parsed = match format {
        Format::Jsonl | Format::Auto => {
            let file = std::fs::File::open(path).map_err(io)?;
            jsonl::read_options(
                std::io::BufReader::with_capacity(1 << 20, file),
                &name,
                options,
            )?
        }
        _ => parse_text(&read_text(path, &name)?, &name, format, options)?,
    };
    Ok((parsed, format))
}

/// Parses `text` in one of the whole-text formats (EDN, Porcupine kv and etcd).
fn parse_text(
    text: &str,
    file: &str,
    format: Format,
    options: &ReadOptions,
) -> Result<Parsed, ReadError> {
    match format {
        Format::PorcupineKv => porcupine_kv::read_options(text, file, options),
        Format::PorcupineEtcd => porcupine_etcd::read_options(text, file, options),
        _ => edn::read_options(text, file, options),
    }
}

/// The whole file as text; bytes that are not UTF-8 are an error naming their line.
fn read_text(path: &Path, name: &str) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        file: name.to_string(),
        source,
    })?;
    text_of(bytes, name)
}

/// `bytes` as text; bytes that are not UTF-8 are an error naming their line.
fn text_of(bytes: Vec<u8>, name: &str) -> Result<String, ReadError> {
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

/// Decides a file's format: a name ending `.jsonl` is JSONL and one ending `.edn` is
/// EDN, whatever the first line holds (so a bad line gets that format's message).
/// Otherwise from its first non-blank, non-comment line: an object
/// whose first key is a string (`{"`) is JSONL; a `jepsen.util -` log line is a
/// Porcupine etcd log; `{:`, `[`, `(` or `#` is EDN (Jepsen's `history.edn`, which also
/// reads Porcupine's kv logs). Anything else is read as JSONL, whose reader then
/// names the first line it cannot parse.
pub fn sniff(path: &Path) -> std::io::Result<Format> {
    let file = std::fs::File::open(path)?;
    sniff_lines(path, std::io::BufReader::new(file))
}

/// [`sniff`] on the name `path` and the lines of `reader`.
fn sniff_lines(path: &Path, reader: impl std::io::BufRead) -> std::io::Result<Format> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("jsonl") => return Ok(Format::Jsonl),
        Some("edn") => return Ok(Format::JepsenEdn),
        _ => {}
    }
    for line in reader.split(b'\n').take(100) {
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

//! What every history fuzz target does: read arbitrary bytes as one format and
//! demand an answer — a history or a typed [`ReadError`], never a panic — and, when
//! a model admits the history, check it (briefly) without panicking either.

use std::time::{Duration, Instant};

use checkers::factory::checker_for;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_bytes_with, Format, Independent, NilRead, ReadError, ReadOptions};
use checkers::{Budget, Consistency, Value};

/// The models a fuzzed history is admitted under and, when admitted, checked against.
const MODELS: [ModelKind; 3] = [ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv];

/// Reads `bytes` as `format`, plainly and under each of [`MODELS`] (with both meanings
/// of a nil read and forced independent tuples for EDN), and checks every admitted
/// history for linearizability within a few milliseconds.
pub fn read_and_check(bytes: &[u8], format: Format) {
    let plain = read_bytes_with(bytes, "fuzz", format, &ReadOptions::default());
    if let Err(e) = &plain {
        refused(e);
        return;
    }
    for kind in MODELS {
        for (nil_read, independent) in [
            (NilRead::Value, Independent::Auto),
            (NilRead::Any, Independent::Always),
        ] {
            let options = ReadOptions {
                model: Some(kind.as_str().to_string()),
                nil_read,
                independent,
            };
            match read_bytes_with(bytes, "fuzz", format, &options) {
                Ok(reading) => check(&reading.history, kind),
                Err(e) => refused(&e),
            }
        }
    }
}

/// A refusal must say which line and what is wrong.
fn refused(e: &ReadError) {
    let message = e.to_string();
    assert!(!message.is_empty(), "a refusal with no message");
}

/// Checks `history` against `kind` (initial value 0, as Knossos's cas-register).
fn check(history: &checkers::History, kind: ModelKind) {
    let spec = ModelSpec {
        kind,
        initial: Value::Int(0),
    };
    if let Some(checker) = checker_for(Consistency::Linearizable, &spec) {
        let budget = Budget {
            deadline: Some(Instant::now() + Duration::from_millis(20)),
            memory_bytes: Some(64 << 20),
        };
        let _ = checker.check(history, &budget);
    }
}

//! Workloads: for each kind of test (register, cas-register, kv, set, counter,
//! list-append, rw-register, dependent-update), the operation generator and the checkers that judge its history.
//!
//! A [`Workload`] is the seam between the driver and a kind of test: it names its
//! keys and the data they hold ([`DataKind`], so a client knows which store API to
//! call), gives the main phase a [`Generator`] over its concurrent slots (each slot
//! draws from its own random stream, so the same seed gives the same operations
//! wherever completions do not feed back), says how to read a key at the end
//! ([`Workload::final_read`], run as [`final_reads`]) and which checkers judge the
//! history ([`CheckSpec`]).
//!
//! Written values are unique per key: slot `s` of `S` writes `s + 1 + k * S` for its
//! `k`-th write, so a read names exactly one write.
//!
//! Modules: [`generator`] (the [`Generator`] seam, its [`generator::Context`] and
//! completions, and the combinators: phases, time limit, mix, stagger, until-ok,
//! routing by slot), [`final_reads`] (the final reads as until-ok generators),
//! [`keys`] (how keys are chosen: [`KeyDistribution`], uniform or zipf), and `kinds`
//! (each named workload, made by [`by_name`]); the transactional workloads
//! [`list_append`] and [`rw_register`] over the rotating keys of `txn_keys`; seed
//! 001's causality pattern as [`dependent_update`]; `seen` (the value each key was
//! last seen with, what a cas expects); and [`maelstrom`] (Maelstrom's workloads in
//! its own message shapes).

pub mod dependent_update;
pub mod final_reads;
pub mod generator;
pub mod keys;
mod kinds;
pub mod list_append;
pub mod maelstrom;
pub mod rw_register;
mod seen;
pub mod txn_keys;

use checkers::model::{ModelKind, ModelSpec};
use checkers::{Value, F};

pub use final_reads::final_reads;
pub use generator::Generator;
pub use keys::KeyDistribution;
pub use kinds::declared_models;

/// What the keys of a workload hold, i.e. which store API a client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    /// A register (read / write / cas) per key.
    Register,
    /// A set per key (add / read).
    Set,
    /// A counter per key (add a signed delta / read).
    Counter,
    /// Lists, read and appended by transactions (`txn`).
    List,
    /// Registers, read and written by transactions (`txn`: `["w", k, v]`, `["r", k, v]`).
    TxnRegister,
}

/// One operation to perform, as a generator makes it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpSpec {
    /// The function.
    pub f: F,
    /// The key (every faultline workload names one; `txn` names the first key it touches).
    pub key: Option<Value>,
    /// The value (shape per `f`, DESIGN.md).
    pub value: Value,
}

pub use checkers::Consistency;

/// One checker that judges a workload's history, with its model.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckSpec {
    /// The property.
    pub consistency: Consistency,
    /// The model the history is judged against.
    pub model: ModelSpec,
}

/// How a workload is shaped.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    /// How many keys (at least 1).
    pub keys: usize,
    /// How keys are chosen.
    pub distribution: KeyDistribution,
    /// The shape of transactions (list-append, rw-register).
    pub txn: TxnShape,
}

impl Default for WorkloadConfig {
    fn default() -> WorkloadConfig {
        WorkloadConfig {
            keys: 5,
            distribution: KeyDistribution::Uniform,
            txn: TxnShape::default(),
        }
    }
}

/// How transactional workloads are shaped (Elle's defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxnShape {
    /// `--txn-length`: at most this many micro-ops per transaction (at least 1).
    pub txn_length: usize,
    /// `--active-keys`: how many keys are in use at a time (at least 1).
    pub active_keys: usize,
    /// `--appends-per-key`: about how many appends (rw-register: writes) a key gets
    /// before a fresh key replaces it (at least 1).
    pub appends_per_key: usize,
}

impl Default for TxnShape {
    fn default() -> TxnShape {
        TxnShape {
            txn_length: 4,
            active_keys: 3,
            appends_per_key: 32,
        }
    }
}

/// A kind of test.
pub trait Workload: Send + Sync {
    /// The workload's name (`kv`, `register`, ...).
    fn name(&self) -> &'static str;
    /// What the keys hold.
    fn data(&self) -> DataKind;
    /// Every key the workload uses, in order.
    fn keys(&self) -> &[Value];
    /// The main phase's generator for `slots` concurrent slots (numbered `0..slots`),
    /// for `seed`: endless, the scheduler's time limit ends it.
    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator>;
    /// The operation that reads `key` at the end of the run.
    fn final_read(&self, key: &Value) -> OpSpec;
    /// The checkers that judge this workload's history.
    fn checks(&self) -> Vec<CheckSpec>;
}

/// Why a workload could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// No workload has this name.
    #[error("unknown workload \"{0}\"; expected one of {names} (or, with --store maelstrom, {m})", names = NAMES.join(", "), m = maelstrom::NAMES.join(", "))]
    Unknown(String),
    /// The configuration is out of range.
    #[error("{0}")]
    Config(String),
}

/// The names [`by_name`] accepts.
pub const NAMES: &[&str] = &[
    "register",
    "cas-register",
    "kv",
    "set",
    "counter",
    "list-append",
    "rw-register",
    "dependent-update",
];

/// The workloads a store speaking the reference store's HTTP-KV API serves: every one
/// but rw-register, whose reads of an absent key must be `null` (the API answers a list
/// txn read with `[]`).
pub const HTTP_KV_NAMES: &[&str] = &[
    "register",
    "cas-register",
    "kv",
    "set",
    "counter",
    "list-append",
];

/// The workload called `name`, shaped by `config`.
pub fn by_name(name: &str, config: &WorkloadConfig) -> Result<Box<dyn Workload>, WorkloadError> {
    if config.keys == 0 {
        return Err(WorkloadError::Config(
            "--keys must be at least 1".to_string(),
        ));
    }
    if let KeyDistribution::Zipf(s) = config.distribution {
        if !(s.is_finite() && s > 0.0) {
            return Err(WorkloadError::Config(format!(
                "zipf exponent {s} must be a positive number"
            )));
        }
    }
    let t = config.txn;
    for (flag, v, what) in [
        ("txn-length", t.txn_length, "micro-op per transaction"),
        ("active-keys", t.active_keys, "key in use at a time"),
        (
            "appends-per-key",
            t.appends_per_key,
            "append per key before it rotates",
        ),
    ] {
        if v == 0 {
            return Err(WorkloadError::Config(format!(
                "--{flag} 0: expected at least 1 {what}"
            )));
        }
    }
    kinds::make(name, config)
        .or_else(|| maelstrom::make(name, config))
        .ok_or_else(|| WorkloadError::Unknown(name.to_string()))
}

/// The model spec of `kind` with its natural initial value (empty set, zero counter,
/// absent register).
pub fn model(kind: ModelKind) -> ModelSpec {
    let initial = match kind {
        ModelKind::Set | ModelKind::Queue => Value::List(Vec::new()),
        ModelKind::Counter => Value::Int(0),
        _ => Value::Null,
    };
    ModelSpec { kind, initial }
}

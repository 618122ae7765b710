//! The eight workloads: their operation mixes, final reads and checkers (the two
//! transactional ones live in [`crate::list_append`] and [`crate::rw_register`],
//! seed 001's dependent update in [`crate::dependent_update`]).
//!
//! | workload | ops | checkers |
//! |---|---|---|
//! | `register` | read 50%, write 50% | linearizable, sequential (register) |
//! | `cas-register` | read 40%, write 30%, cas 30% | linearizable, sequential (cas-register) |
//! | `kv` | read 40%, write 40%, cas 20% over several keys | linearizable, sequential, eventual (kv) |
//! | `set` | add 80% (unique elements), read 20% | eventual (set) |
//! | `counter` | add 70% (delta in -5..=5, not 0), read 30% | eventual (counter) |
//! | `list-append` | txn of 1..=`--txn-length` micro-ops, append 50% / read 50%, rotating keys | list-append |
//! | `rw-register` | txn of 1..=`--txn-length` micro-ops, write 50% / read 50%, rotating keys | rw-register |
//! | `dependent-update` | by slot: write `x`; read `x`, then write `y` after each new `x`; read `y` then `x` | causal, eventual (kv) |
//!
//! A cas expects the value the key was last seen with: the value of the latest `ok`
//! completion on the key by any slot (a read's value, a write's value, a cas's new
//! value), `null` before any. That is the one thing completions feed back: which
//! operations each slot makes (functions, keys, written values) comes from the slot's
//! own random stream and is the same for the same seed; only a cas's expected value
//! depends on what completed before it.

use std::sync::Arc;

use checkers::model::ModelKind;
use checkers::{Value, F};

use crate::generator::{each_slot, key_name, Completion, Context, Draw, Generator, Next};
use crate::keys::KeyChooser;
use crate::seen::Seen;
use crate::{model, CheckSpec, Consistency, DataKind, OpSpec, Workload, WorkloadConfig};

/// The models that apply to the histories of a read/write workload: unique values
/// written, so the causal, PRAM and session checkers' assumption holds.
const READ_WRITE_MODELS: &[Consistency] = &[
    Consistency::Linearizable,
    Consistency::Sequential,
    Consistency::Causal,
    Consistency::CausalMemory,
    Consistency::CausalConvergence,
    Consistency::Pram,
    Consistency::ReadYourWrites,
    Consistency::MonotonicReads,
    Consistency::MonotonicWrites,
    Consistency::WritesFollowReads,
    Consistency::Eventual,
];

/// Sets and counters are not read/write histories: no causal or session model.
const COLLECTION_MODELS: &[Consistency] = &[
    Consistency::Linearizable,
    Consistency::Sequential,
    Consistency::Eventual,
];

/// Which models apply to the histories of workload `name` (what `--consistency all`
/// stands for, with [`checkers::factory::applicable_among`]); `None` for a workload
/// that declares none (every model its data admits, e.g. each isolation level for
/// list-append) or an unknown name.
pub fn declared_models(name: &str) -> Option<&'static [Consistency]> {
    match name {
        "register" | "cas-register" | "kv" | "dependent-update" => Some(READ_WRITE_MODELS),
        "set" | "counter" => Some(COLLECTION_MODELS),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Register,
    CasRegister,
    Kv,
    Set,
    Counter,
}

/// Makes the workload called `name`, or `None`.
pub(crate) fn make(name: &str, config: &WorkloadConfig) -> Option<Box<dyn Workload>> {
    let kind = match name {
        "register" => Kind::Register,
        "cas-register" => Kind::CasRegister,
        "kv" => Kind::Kv,
        "set" => Kind::Set,
        "counter" => Kind::Counter,
        "list-append" => return Some(Box::new(crate::list_append::ListAppend::new(config))),
        "rw-register" => return Some(Box::new(crate::rw_register::RwRegister::new(config))),
        "dependent-update" => {
            return Some(Box::new(crate::dependent_update::DependentUpdate::new(
                config,
            )))
        }
        _ => return None,
    };
    Some(Box::new(Standard {
        kind,
        keys: (0..config.keys).map(key_name).collect(),
        config: config.clone(),
    }))
}

struct Standard {
    kind: Kind,
    keys: Vec<Value>,
    config: WorkloadConfig,
}

impl Workload for Standard {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::Register => "register",
            Kind::CasRegister => "cas-register",
            Kind::Kv => "kv",
            Kind::Set => "set",
            Kind::Counter => "counter",
        }
    }

    fn data(&self) -> DataKind {
        match self.kind {
            Kind::Register | Kind::CasRegister | Kind::Kv => DataKind::Register,
            Kind::Set => DataKind::Set,
            Kind::Counter => DataKind::Counter,
        }
    }

    fn keys(&self) -> &[Value] {
        &self.keys
    }

    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator> {
        let chooser = KeyChooser::new(self.keys.len(), self.config.distribution);
        let (kind, keys) = (self.kind, Arc::new(self.keys.clone()));
        let seen = Arc::new(Seen::new(self.keys.len()));
        Box::new(each_slot(move |slot| Gen {
            kind,
            draw: Draw::new(chooser.clone(), slot, slots, seed),
            keys: keys.clone(),
            seen: seen.clone(),
        }))
    }

    fn final_read(&self, key: &Value) -> OpSpec {
        OpSpec {
            f: F::Read,
            key: Some(key.clone()),
            value: Value::Null,
        }
    }

    fn checks(&self) -> Vec<CheckSpec> {
        let spec = |consistency, kind| CheckSpec {
            consistency,
            model: model(kind),
        };
        use Consistency::*;
        match self.kind {
            Kind::Register => vec![
                spec(Linearizable, ModelKind::Register),
                spec(Sequential, ModelKind::Register),
            ],
            Kind::CasRegister => vec![
                spec(Linearizable, ModelKind::CasRegister),
                spec(Sequential, ModelKind::CasRegister),
            ],
            Kind::Kv => vec![
                spec(Linearizable, ModelKind::Kv),
                spec(Sequential, ModelKind::Kv),
                spec(Eventual, ModelKind::Kv),
            ],
            Kind::Set => vec![spec(Eventual, ModelKind::Set)],
            Kind::Counter => vec![spec(Eventual, ModelKind::Counter)],
        }
    }
}

/// One slot's operations, drawn from its own [`Draw`]; a cas expects the value its
/// key was last seen with ([`Seen`], from every slot's completions).
struct Gen {
    kind: Kind,
    draw: Draw,
    keys: Arc<Vec<Value>>,
    seen: Arc<Seen>,
}

impl Gen {
    /// The index of `key`: keys are [`key_name`]s, so `k12` is 12 (checked).
    fn key_index(&self, key: &Value) -> Option<usize> {
        let i: usize = key.as_str()?.strip_prefix('k')?.parse().ok()?;
        (self.keys.get(i) == Some(key)).then_some(i)
    }

    fn read(&self, k: usize) -> OpSpec {
        OpSpec {
            f: F::Read,
            key: Some(self.keys[k].clone()),
            value: Value::Null,
        }
    }

    fn write(&self, k: usize, v: i64) -> OpSpec {
        OpSpec {
            f: F::Write,
            key: Some(self.keys[k].clone()),
            value: Value::Int(v),
        }
    }

    fn cas(&self, k: usize, new: i64) -> OpSpec {
        OpSpec {
            f: F::Cas,
            key: Some(self.keys[k].clone()),
            value: Value::List(vec![self.seen.get(k), Value::Int(new)]),
        }
    }

    fn add(&self, k: usize, v: i64) -> OpSpec {
        OpSpec {
            f: F::Add,
            key: Some(self.keys[k].clone()),
            value: Value::Int(v),
        }
    }
}

impl Generator for Gen {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        let draw = &mut self.draw;
        let k = draw.key();
        let roll = draw.between(0, 99);
        let op = match self.kind {
            Kind::Register => {
                if roll < 50 {
                    self.read(k)
                } else {
                    let v = draw.unique();
                    self.write(k, v)
                }
            }
            Kind::CasRegister | Kind::Kv => {
                let (reads, writes) = if self.kind == Kind::Kv {
                    (40, 80)
                } else {
                    (40, 70)
                };
                if roll < reads {
                    self.read(k)
                } else if roll < writes {
                    let v = draw.unique();
                    self.write(k, v)
                } else {
                    let v = draw.unique();
                    self.cas(k, v)
                }
            }
            Kind::Set => {
                if roll < 80 {
                    let v = draw.unique();
                    self.add(k, v)
                } else {
                    self.read(k)
                }
            }
            Kind::Counter => {
                if roll < 70 {
                    let mut d = draw.between(-5, 4);
                    if d >= 0 {
                        d += 1;
                    }
                    self.add(k, d)
                } else {
                    self.read(k)
                }
            }
        };
        Next::Op(op)
    }

    fn update(&mut self, _ctx: &Context<'_>, c: &Completion) {
        if !matches!(self.kind, Kind::CasRegister | Kind::Kv) {
            return;
        }
        if let Some(k) = c.op.key.as_ref().and_then(|key| self.key_index(key)) {
            self.seen.observe(k, c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::testing::{against_registers, assert_same_up_to_cas_expectations, SimOp};
    use crate::{by_name, KeyDistribution, NAMES};
    use std::collections::HashSet;

    fn ops(name: &str, slot: usize, seed: u64, n: usize) -> Vec<OpSpec> {
        let w = by_name(name, &WorkloadConfig::default()).unwrap();
        crate::generator::testing::ops_of(&mut *w.generator(4, seed), slot, 4, n)
    }

    #[test]
    fn the_same_seed_gives_the_same_operations() {
        for name in NAMES {
            assert_eq!(ops(name, 1, 42, 200), ops(name, 1, 42, 200), "{name}");
            assert_ne!(ops(name, 1, 42, 200), ops(name, 1, 43, 200), "{name}");
        }
    }

    fn written(op: &OpSpec) -> Vec<(Value, i64)> {
        match op.f {
            F::Write | F::Add => vec![(op.key.clone().unwrap(), op.value.as_int().unwrap())],
            F::Cas => vec![(
                op.key.clone().unwrap(),
                op.value.as_list().unwrap()[1].as_int().unwrap(),
            )],
            F::Txn => op
                .value
                .as_list()
                .unwrap()
                .iter()
                .filter_map(|m| {
                    let m = m.as_list().unwrap();
                    (m[0].as_str() == Some("append"))
                        .then(|| (m[1].clone(), m[2].as_int().unwrap()))
                })
                .collect(),
            _ => vec![],
        }
    }

    #[test]
    fn written_values_are_unique_across_slots() {
        for name in ["register", "cas-register", "kv", "set", "list-append"] {
            let mut seen = HashSet::new();
            for slot in 0..4 {
                for op in ops(name, slot, 9, 500) {
                    for (k, v) in written(&op) {
                        assert!(seen.insert((k, v)), "{name}: value {v} written twice");
                    }
                }
            }
            assert!(seen.len() > 500, "{name} wrote only {}", seen.len());
        }
    }

    #[test]
    fn kv_mixes_reads_writes_and_cas_over_several_keys() {
        let all = ops("kv", 0, 1, 1000);
        let count = |f: F| all.iter().filter(|o| o.f == f).count();
        assert!(count(F::Read) > 300 && count(F::Write) > 300 && count(F::Cas) > 100);
        let keys: HashSet<_> = all.iter().map(|o| o.key.clone()).collect();
        assert_eq!(keys.len(), 5);
    }

    /// Runs `name` over 4 slots against a linearizable in-memory register per key;
    /// the ops and the fraction of cas that succeeded.
    fn against_a_register(name: &str, seed: u64, latency_ms: u64) -> (Vec<SimOp>, f64) {
        let w = by_name(name, &WorkloadConfig::default()).unwrap();
        let latency = std::time::Duration::from_millis(latency_ms);
        against_registers(&mut *w.generator(4, seed), latency, false)
    }

    #[test]
    fn a_cas_expects_the_value_its_key_was_last_seen_with_so_most_succeed() {
        for name in ["cas-register", "kv"] {
            let (ops, ok) = against_a_register(name, 4, 3);
            assert!(
                ops.iter().filter(|o| o.op.f == F::Cas).count() > 500,
                "{name}"
            );
            assert!(ok > 0.5, "{name}: only {ok:.2} of cas succeeded");
        }
    }

    #[test]
    fn only_a_cas_expected_value_depends_on_completions() {
        // Other latencies, other interleavings: the same functions, keys and written
        // values per slot; only what a cas expects may differ.
        let (a, _) = against_a_register("kv", 11, 3);
        let (b, _) = against_a_register("kv", 11, 7);
        assert_same_up_to_cas_expectations(&a, &b);
    }

    #[test]
    fn counter_deltas_are_signed_and_never_zero() {
        let adds: Vec<i64> = ops("counter", 0, 3, 1000)
            .into_iter()
            .filter(|o| o.f == F::Add)
            .map(|o| o.value.as_int().unwrap())
            .collect();
        assert!(adds.iter().all(|&d| d != 0 && (-5..=5).contains(&d)));
        assert!(adds.iter().any(|&d| d < 0) && adds.iter().any(|&d| d > 0));
    }

    #[test]
    fn zipf_keys_make_one_key_hot() {
        let config = WorkloadConfig {
            keys: 20,
            distribution: KeyDistribution::Zipf(1.5),
            ..WorkloadConfig::default()
        };
        let w = by_name("kv", &config).unwrap();
        let ops = crate::generator::testing::ops_of(&mut *w.generator(1, 5), 0, 1, 2000);
        let hot = ops.iter().filter(|o| o.key == Some(key_name(0))).count();
        assert!(hot > 600, "k0 chosen {hot} times of 2000");
    }

    #[test]
    fn kv_is_judged_for_linearizability_sequential_consistency_and_convergence() {
        let w = by_name("kv", &WorkloadConfig::default()).unwrap();
        let c: Vec<_> = w.checks().iter().map(|c| c.consistency).collect();
        assert_eq!(
            c,
            [
                Consistency::Linearizable,
                Consistency::Sequential,
                Consistency::Eventual
            ]
        );
        assert_eq!(w.final_read(&key_name(2)).f, F::Read);
    }

    #[test]
    fn consistency_all_on_a_workload_means_the_models_it_declares_that_its_data_admits() {
        for name in NAMES {
            let w = by_name(name, &WorkloadConfig::default()).unwrap();
            let spec = &w.checks()[0].model;
            let all = checkers::factory::applicable(spec);
            let among = checkers::factory::applicable_among(spec, declared_models(name));
            assert!(!among.is_empty(), "{name}: no model applies");
            assert!(among.iter().all(|c| all.contains(c)), "{name}: {among:?}");
            if let Some(declared) = declared_models(name) {
                assert!(among.iter().all(|c| declared.contains(c)), "{name}");
                // Every default check of the workload is among what it declares.
                for c in w.checks() {
                    assert!(
                        declared.contains(&c.consistency),
                        "{name}: {}",
                        c.consistency
                    );
                }
            }
        }
        let kv = checkers::factory::applicable_among(&model(ModelKind::Kv), declared_models("kv"));
        for c in [
            Consistency::Causal,
            Consistency::Pram,
            Consistency::ReadYourWrites,
        ] {
            assert!(kv.contains(&c), "{c:?} applies to kv: {kv:?}");
        }
        // A declaration narrows what the data alone admits.
        let narrowed = checkers::factory::applicable_among(
            &model(ModelKind::Kv),
            Some(&[Consistency::Eventual]),
        );
        assert_eq!(narrowed, [Consistency::Eventual]);
        let requests = [
            checkers::consistency::ConsistencyRequest::One(Consistency::Pram),
            checkers::consistency::ConsistencyRequest::All,
        ];
        let set = checkers::factory::expand_among(
            &requests,
            &model(ModelKind::Set),
            declared_models("set"),
        );
        assert_eq!(set[0], Consistency::Pram, "a model asked for by name stays");
        assert!(
            set[1..].iter().all(|c| COLLECTION_MODELS.contains(c)),
            "{set:?}"
        );
    }

    #[test]
    fn unknown_workloads_and_zero_keys_are_refused() {
        assert!(by_name("bank", &WorkloadConfig::default()).is_err());
        let zero = WorkloadConfig {
            keys: 0,
            ..WorkloadConfig::default()
        };
        assert!(by_name("kv", &zero).is_err());
        let no_ops = WorkloadConfig {
            txn: crate::TxnShape {
                txn_length: 0,
                ..crate::TxnShape::default()
            },
            ..WorkloadConfig::default()
        };
        let e = by_name("list-append", &no_ops).err().unwrap().to_string();
        assert!(e.contains("--txn-length 0"), "{e}");
    }
}

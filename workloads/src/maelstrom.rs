//! Maelstrom's workloads, by Maelstrom's names and in its message shapes (spoken by
//! `--store maelstrom`; the other stores serve the faultline names).
//!
//! | workload | ops (history `f`) | checkers |
//! |---|---|---|
//! | `echo` | `echo` of a unique string | echo (every `ok` reply carries the payload sent) |
//! | `unique-ids` | `generate` | unique-ids (ids distinct; availability) |
//! | `broadcast` | `add` 80% (a unique integer message), `read` | eventual (set) |
//! | `g-set` | `add` 80% (a unique integer element), `read` | eventual (set) |
//! | `g-counter` | `add` 70% (a delta in 1..=5), `read` | eventual (counter) |
//! | `pn-counter` | `add` 70% (a delta in -5..=5, not 0), `read` | eventual (counter) |
//! | `lin-kv` | `read` 40%, `write` 40%, `cas` 20% over integer keys; a cas expects what its key was last seen with | linearizable (kv) |
//! | `kafka` | `send` 50%, `poll` 25%, `commit_offsets` 15%, `list_committed_offsets` 10% | kafka |
//! | `txn-list-append` | `txn` of 1-4 appends and reads over integer keys | strict-serializable (list-append) |
//! | `txn-rw-register` | `txn` of 1-4 writes and reads over integer keys | strict-serializable (rw-register) |
//!
//! Broadcast, g-set and the counters have no keys in Maelstrom: their ops all name
//! the one key `k0`. Kafka's logs are keys `k0`, `k1`, ...; a send's value is
//! `[key, msg]` and its `ok` value `[key, msg, offset]` (the shapes of
//! `checkers::kafka`). Polls ask every log from offset 0, and each slot commits
//! offsets that only grow.

use checkers::model::ModelKind;
use checkers::{Value, F};

use std::sync::Arc;

use crate::generator::{each_slot, key_name, Completion, Context, Draw, Generator, Next};
use crate::keys::KeyChooser;
use crate::seen::Seen;
use crate::{model, CheckSpec, Consistency, DataKind, OpSpec, Workload, WorkloadConfig};

/// The Maelstrom names [`make`] accepts.
pub const NAMES: &[&str] = &[
    "echo",
    "unique-ids",
    "broadcast",
    "g-set",
    "g-counter",
    "pn-counter",
    "lin-kv",
    "kafka",
    "txn-list-append",
    "txn-rw-register",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Echo,
    UniqueIds,
    Broadcast,
    GSet,
    GCounter,
    PnCounter,
    LinKv,
    Kafka,
    TxnListAppend,
    TxnRwRegister,
}

/// Makes the Maelstrom workload called `name`, or `None`.
pub(crate) fn make(name: &str, config: &WorkloadConfig) -> Option<Box<dyn Workload>> {
    let kind = match name {
        "echo" => Kind::Echo,
        "unique-ids" => Kind::UniqueIds,
        "broadcast" => Kind::Broadcast,
        "g-set" => Kind::GSet,
        "g-counter" => Kind::GCounter,
        "pn-counter" => Kind::PnCounter,
        "lin-kv" => Kind::LinKv,
        "kafka" => Kind::Kafka,
        "txn-list-append" => Kind::TxnListAppend,
        "txn-rw-register" => Kind::TxnRwRegister,
        _ => return None,
    };
    let keys = match kind {
        Kind::Echo | Kind::UniqueIds => Vec::new(),
        Kind::Broadcast | Kind::GSet | Kind::GCounter | Kind::PnCounter => vec![key_name(0)],
        Kind::Kafka => (0..config.keys).map(key_name).collect(),
        Kind::LinKv | Kind::TxnListAppend | Kind::TxnRwRegister => {
            (0..config.keys as i64).map(Value::Int).collect()
        }
    };
    Some(Box::new(Maelstrom {
        kind,
        name: NAMES
            .iter()
            .find(|n| **n == name)
            .copied()
            .unwrap_or("echo"),
        keys,
        config: config.clone(),
    }))
}

struct Maelstrom {
    kind: Kind,
    name: &'static str,
    keys: Vec<Value>,
    config: WorkloadConfig,
}

impl Workload for Maelstrom {
    fn name(&self) -> &'static str {
        self.name
    }

    fn data(&self) -> DataKind {
        match self.kind {
            Kind::Broadcast | Kind::GSet => DataKind::Set,
            Kind::GCounter | Kind::PnCounter => DataKind::Counter,
            Kind::TxnListAppend | Kind::TxnRwRegister => DataKind::List,
            Kind::Echo | Kind::UniqueIds | Kind::LinKv | Kind::Kafka => DataKind::Register,
        }
    }

    fn keys(&self) -> &[Value] {
        &self.keys
    }

    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator> {
        let chooser = KeyChooser::new(self.keys.len().max(1), self.config.distribution);
        let (kind, keys) = (self.kind, self.keys.clone());
        let seen = Arc::new(Seen::new(keys.len()));
        Box::new(each_slot(move |slot| Gen {
            kind,
            draw: Draw::new(chooser.clone(), slot, slots, seed),
            keys: keys.clone(),
            last_written: vec![None; keys.len()],
            committed: vec![0; keys.len()],
            seen: seen.clone(),
        }))
    }

    fn final_read(&self, key: &Value) -> OpSpec {
        match self.kind {
            Kind::Kafka => OpSpec {
                f: F::parse("poll"),
                key: Some(key.clone()),
                value: Value::List(vec![Value::List(vec![key.clone(), Value::Int(0)])]),
            },
            Kind::TxnListAppend | Kind::TxnRwRegister => OpSpec {
                f: F::Txn,
                key: Some(key.clone()),
                value: Value::List(vec![Value::List(vec![
                    Value::str("r"),
                    key.clone(),
                    Value::Null,
                ])]),
            },
            _ => OpSpec {
                f: F::Read,
                key: Some(key.clone()),
                value: Value::Null,
            },
        }
    }

    fn checks(&self) -> Vec<CheckSpec> {
        let spec = |consistency, kind| CheckSpec {
            consistency,
            model: model(kind),
        };
        use Consistency::*;
        match self.kind {
            Kind::Echo => vec![spec(Linearizable, ModelKind::Echo)],
            Kind::UniqueIds => vec![spec(Linearizable, ModelKind::UniqueIds)],
            Kind::Broadcast | Kind::GSet => vec![spec(Eventual, ModelKind::Set)],
            Kind::GCounter | Kind::PnCounter => vec![spec(Eventual, ModelKind::Counter)],
            Kind::LinKv => vec![spec(Linearizable, ModelKind::Kv)],
            Kind::Kafka => vec![spec(Linearizable, ModelKind::Kafka)],
            Kind::TxnListAppend => vec![spec(StrictSerializable, ModelKind::ListAppend)],
            Kind::TxnRwRegister => vec![spec(StrictSerializable, ModelKind::RwRegister)],
        }
    }
}

struct Gen {
    kind: Kind,
    draw: Draw,
    keys: Vec<Value>,
    last_written: Vec<Option<i64>>,
    committed: Vec<i64>,
    /// lin-kv: what each key was last seen with, by any slot (what a cas expects).
    seen: Arc<Seen>,
}

impl Gen {
    fn op(f: F, key: Option<Value>, value: Value) -> OpSpec {
        OpSpec { f, key, value }
    }

    fn lin_kv(&mut self) -> OpSpec {
        let k = self.draw.key();
        let key = Some(self.keys[k].clone());
        let roll = self.draw.between(0, 99);
        if roll < 40 {
            return Gen::op(F::Read, key, Value::Null);
        }
        let new = self.draw.unique();
        let own = self.last_written[k].replace(new);
        // Maelstrom's cas always expects a value: before the slot wrote one, write.
        // Which it is depends on the slot's own stream only; the value a cas expects
        // is the one the key was last seen with by any slot (else the slot's own).
        match own {
            Some(own) if roll >= 80 => {
                let expected = match self.seen.get(k) {
                    Value::Null => Value::Int(own),
                    seen => seen,
                };
                Gen::op(F::Cas, key, Value::List(vec![expected, Value::Int(new)]))
            }
            _ => Gen::op(F::Write, key, Value::Int(new)),
        }
    }

    fn kafka(&mut self) -> OpSpec {
        let k = self.draw.key();
        let key = self.keys[k].clone();
        let roll = self.draw.between(0, 99);
        let pair = |a: Value, b: Value| Value::List(vec![a, b]);
        if roll < 50 {
            let msg = self.draw.unique();
            Gen::op(
                F::parse("send"),
                Some(key.clone()),
                pair(key, Value::Int(msg)),
            )
        } else if roll < 75 {
            Gen::op(
                F::parse("poll"),
                Some(key.clone()),
                Value::List(vec![pair(key, Value::Int(0))]),
            )
        } else if roll < 90 {
            self.committed[k] += self.draw.between(1, 3);
            let offset = Value::Int(self.committed[k]);
            Gen::op(
                F::parse("commit_offsets"),
                Some(key.clone()),
                Value::List(vec![pair(key, offset)]),
            )
        } else {
            Gen::op(
                F::parse("list_committed_offsets"),
                Some(key.clone()),
                Value::List(vec![key]),
            )
        }
    }

    fn txn(&mut self, appends: bool) -> OpSpec {
        let n = self.draw.between(1, 4);
        let mut micro = Vec::with_capacity(n as usize);
        let mut first = None;
        for _ in 0..n {
            let k = self.draw.key();
            first.get_or_insert(k);
            let key = self.keys[k].clone();
            if self.draw.chance(0.5) {
                let v = Value::Int(self.draw.unique());
                let f = if appends { "append" } else { "w" };
                micro.push(Value::List(vec![Value::str(f), key, v]));
            } else {
                micro.push(Value::List(vec![Value::str("r"), key, Value::Null]));
            }
        }
        Gen::op(
            F::Txn,
            first.map(|k| self.keys[k].clone()),
            Value::List(micro),
        )
    }
}

impl Generator for Gen {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        Next::Op(self.next_op())
    }

    fn update(&mut self, _ctx: &Context<'_>, c: &Completion) {
        if self.kind != Kind::LinKv {
            return;
        }
        // lin-kv keys are the integers 0..keys, so a key is its own index.
        if let Some(k) = c.op.key.as_ref().and_then(Value::as_int) {
            if let Ok(k) = usize::try_from(k) {
                self.seen.observe(k, c);
            }
        }
    }
}

impl Gen {
    fn next_op(&mut self) -> OpSpec {
        let k0 = || Some(key_name(0));
        match self.kind {
            Kind::Echo => {
                let n = self.draw.unique();
                Gen::op(F::parse("echo"), None, Value::str(&format!("echo {n}")))
            }
            Kind::UniqueIds => Gen::op(F::parse("generate"), None, Value::Null),
            Kind::Broadcast | Kind::GSet => {
                if self.draw.chance(0.8) {
                    let v = self.draw.unique();
                    Gen::op(F::Add, k0(), Value::Int(v))
                } else {
                    Gen::op(F::Read, k0(), Value::Null)
                }
            }
            Kind::GCounter | Kind::PnCounter => {
                if self.draw.chance(0.7) {
                    let d = if self.kind == Kind::GCounter {
                        self.draw.between(1, 5)
                    } else {
                        let d = self.draw.between(-5, 4);
                        if d >= 0 {
                            d + 1
                        } else {
                            d
                        }
                    };
                    Gen::op(F::Add, k0(), Value::Int(d))
                } else {
                    Gen::op(F::Read, k0(), Value::Null)
                }
            }
            Kind::LinKv => self.lin_kv(),
            Kind::Kafka => self.kafka(),
            Kind::TxnListAppend => self.txn(true),
            Kind::TxnRwRegister => self.txn(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::by_name;
    use crate::generator::testing::{against_registers, assert_same_up_to_cas_expectations, SimOp};

    fn ops(name: &str, n: usize) -> Vec<OpSpec> {
        let w = by_name(name, &WorkloadConfig::default()).unwrap();
        crate::generator::testing::ops_of(&mut *w.generator(2, 5), 0, 2, n)
    }

    #[test]
    fn every_maelstrom_workload_is_made_by_its_maelstrom_name() {
        for name in NAMES {
            let w = by_name(name, &WorkloadConfig::default()).unwrap();
            assert_eq!(w.name(), *name);
            assert!(!ops(name, 10).is_empty());
        }
    }

    #[test]
    fn a_g_counter_only_adds_positive_deltas_and_a_pn_counter_both_signs() {
        let deltas = |name| -> Vec<i64> {
            ops(name, 500)
                .into_iter()
                .filter(|o| o.f == F::Add)
                .map(|o| o.value.as_int().unwrap())
                .collect()
        };
        assert!(deltas("g-counter").iter().all(|&d| (1..=5).contains(&d)));
        let pn = deltas("pn-counter");
        assert!(pn.iter().any(|&d| d < 0) && pn.iter().any(|&d| d > 0));
        assert!(pn.iter().all(|&d| d != 0));
    }

    #[test]
    fn lin_kv_keys_and_values_are_integers_and_sets_hold_integers() {
        for o in ops("lin-kv", 200) {
            assert!(o.key.as_ref().unwrap().as_int().is_some());
            if o.f == F::Write {
                assert!(o.value.as_int().is_some());
            }
        }
        for o in ops("g-set", 100).into_iter().filter(|o| o.f == F::Add) {
            assert!(o.value.as_int().is_some());
        }
    }

    #[test]
    fn kafka_mixes_its_four_functions_and_each_slot_commits_growing_offsets() {
        let all = ops("kafka", 1000);
        for f in ["send", "poll", "commit_offsets", "list_committed_offsets"] {
            assert!(all.iter().any(|o| o.f.as_str() == f), "no {f}");
        }
        let mut last = std::collections::HashMap::new();
        for o in all.iter().filter(|o| o.f.as_str() == "commit_offsets") {
            let pair = o.value.as_list().unwrap()[0].as_list().unwrap().to_vec();
            let prev = last.insert(pair[0].clone(), pair[1].as_int().unwrap());
            assert!(prev.is_none_or(|p| p < pair[1].as_int().unwrap()));
        }
    }

    fn lin_kv_cas_success(seed: u64, latency_ms: u64) -> (Vec<SimOp>, f64) {
        let w = by_name("lin-kv", &WorkloadConfig::default()).unwrap();
        let latency = std::time::Duration::from_millis(latency_ms);
        against_registers(&mut *w.generator(4, seed), latency, true)
    }

    #[test]
    fn a_lin_kv_cas_expects_what_its_key_was_last_seen_with_so_most_succeed() {
        let (ops, ok) = lin_kv_cas_success(4, 3);
        assert!(ops.iter().filter(|o| o.op.f == F::Cas).count() > 300);
        assert!(ok > 0.5, "only {ok:.2} of cas succeeded");
    }

    #[test]
    fn only_a_lin_kv_cas_expected_value_depends_on_completions() {
        let (a, _) = lin_kv_cas_success(11, 3);
        let (b, _) = lin_kv_cas_success(11, 7);
        assert_same_up_to_cas_expectations(&a, &b);
    }
}

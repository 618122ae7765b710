//! `list-append`, in Elle's shape: transactions of 1..=`txn_length` micro-ops, each an
//! append of a value unique to its key (`["append", k, v]`) or a read of the key's
//! whole list (`["r", k, null]`), half and half, over a small pool of active keys that
//! rotate once a key has had about `appends_per_key` appends ([`crate::txn_keys`]).
//! Judged strict-serializable with the list-append model by default; `--consistency`
//! asks for any other model of the transactional lattice.
//!
//! [`TxnGen`] is the generator both transactional workloads share: rw-register
//! ([`crate::rw_register`]) writes registers (`["w", k, v]`) where this one appends.

use checkers::model::ModelKind;
use checkers::{Value, F};

use crate::generator::{each_slot, stream, Draw, Generator, OpStream};
use crate::keys::KeyChooser;
use crate::txn_keys::KeyPool;
use crate::{model, CheckSpec, Consistency, DataKind, OpSpec, TxnShape, Workload, WorkloadConfig};

/// The list-append workload.
pub struct ListAppend {
    config: WorkloadConfig,
    keys: Vec<Value>,
}

impl ListAppend {
    /// The workload `config` shapes (validated by [`crate::by_name`]).
    pub fn new(config: &WorkloadConfig) -> ListAppend {
        ListAppend {
            config: config.clone(),
            keys: KeyPool::first_keys(config.txn.active_keys),
        }
    }
}

/// The final read of `key` by a transactional workload: one read micro-op.
pub(crate) fn final_txn_read(key: &Value) -> OpSpec {
    OpSpec {
        f: F::Txn,
        key: Some(key.clone()),
        value: Value::List(vec![Value::List(vec![
            Value::str("r"),
            key.clone(),
            Value::Null,
        ])]),
    }
}

impl Workload for ListAppend {
    fn name(&self) -> &'static str {
        "list-append"
    }

    fn data(&self) -> DataKind {
        DataKind::List
    }

    /// The first generation of active keys (read at the end; retired keys were read
    /// while they were active).
    fn keys(&self) -> &[Value] {
        &self.keys
    }

    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator> {
        TxnGen::each_slot(&self.config, "append", slots, seed)
    }

    fn final_read(&self, key: &Value) -> OpSpec {
        final_txn_read(key)
    }

    fn checks(&self) -> Vec<CheckSpec> {
        vec![CheckSpec {
            consistency: Consistency::StrictSerializable,
            model: model(ModelKind::ListAppend),
        }]
    }
}

/// One slot's transactions: reads and writes (`write` names the write micro-op,
/// `append` or `w`) over its [`KeyPool`].
#[derive(Debug)]
pub struct TxnGen {
    draw: Draw,
    pool: KeyPool,
    shape: TxnShape,
    write: &'static str,
}

impl TxnGen {
    /// The generator of `slot` of `slots` for `seed`, writing with `write`.
    pub fn new(
        config: &WorkloadConfig,
        write: &'static str,
        slot: usize,
        slots: usize,
        seed: u64,
    ) -> TxnGen {
        let shape = config.txn;
        TxnGen {
            draw: Draw::new(
                KeyChooser::new(shape.active_keys, config.distribution),
                slot,
                slots,
                seed,
            ),
            pool: KeyPool::new(shape.active_keys, shape.appends_per_key, slots),
            shape,
            write,
        }
    }
}

impl TxnGen {
    /// The generator of every one of `slots` slots, each with its own [`TxnGen`].
    pub fn each_slot(
        config: &WorkloadConfig,
        write: &'static str,
        slots: usize,
        seed: u64,
    ) -> Box<dyn Generator> {
        let config = config.clone();
        Box::new(each_slot(move |slot| {
            stream(TxnGen::new(&config, write, slot, slots, seed))
        }))
    }
}

impl OpStream for TxnGen {
    fn next_op(&mut self) -> OpSpec {
        let n = self.draw.between(1, self.shape.txn_length as i64);
        let mut micro = Vec::with_capacity(n as usize);
        let mut first = None;
        for _ in 0..n {
            let p = self.pool.position(&mut self.draw);
            let key = self.pool.key(p);
            first.get_or_insert_with(|| key.clone());
            if self.draw.chance(0.5) {
                let v = self.draw.unique();
                self.pool.wrote(p);
                micro.push(Value::List(vec![
                    Value::str(self.write),
                    key,
                    Value::Int(v),
                ]));
            } else {
                micro.push(Value::List(vec![Value::str("r"), key, Value::Null]));
            }
        }
        self.pool.rotate();
        OpSpec {
            f: F::Txn,
            key: first,
            value: Value::List(micro),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    fn config(txn_length: usize, active_keys: usize, appends_per_key: usize) -> WorkloadConfig {
        WorkloadConfig {
            txn: TxnShape {
                txn_length,
                active_keys,
                appends_per_key,
            },
            ..WorkloadConfig::default()
        }
    }

    fn txns(
        config: &WorkloadConfig,
        slot: usize,
        slots: usize,
        seed: u64,
        n: usize,
    ) -> Vec<Vec<Value>> {
        let w = ListAppend::new(config);
        crate::generator::testing::ops_of(&mut *w.generator(slots, seed), slot, slots, n)
            .into_iter()
            .map(|o| o.value.as_list().unwrap().to_vec())
            .collect()
    }

    fn mop(m: &Value) -> (String, Value, Value) {
        let m = m.as_list().unwrap();
        (
            m[0].as_str().unwrap().to_string(),
            m[1].clone(),
            m[2].clone(),
        )
    }

    #[test]
    fn the_same_seed_gives_the_same_transactions_and_another_seed_others() {
        let c = config(4, 3, 16);
        assert_eq!(txns(&c, 2, 4, 7, 300), txns(&c, 2, 4, 7, 300));
        assert_ne!(txns(&c, 2, 4, 7, 300), txns(&c, 2, 4, 8, 300));
    }

    #[test]
    fn transactions_have_one_to_txn_length_micro_ops_reads_and_appends_mixed() {
        let all = txns(&config(3, 3, 16), 0, 1, 5, 2000);
        let lens: HashSet<usize> = all.iter().map(Vec::len).collect();
        assert_eq!(lens, HashSet::from([1, 2, 3]));
        let kinds: Vec<String> = all.iter().flatten().map(|m| mop(m).0).collect();
        let appends = kinds.iter().filter(|k| *k == "append").count();
        let reads = kinds.iter().filter(|k| *k == "r").count();
        assert_eq!(appends + reads, kinds.len());
        assert!(
            appends > kinds.len() / 3 && reads > kinds.len() / 3,
            "{appends} {reads}"
        );
        for (f, _, v) in all.iter().flatten().map(mop) {
            assert_eq!(
                f == "r",
                v.is_null(),
                "a read carries null, an append a value"
            );
        }
    }

    #[test]
    fn appended_values_are_unique_per_key_across_slots() {
        let c = config(4, 2, 10);
        let mut seen = HashSet::new();
        for slot in 0..5 {
            for (f, k, v) in txns(&c, slot, 5, 11, 400).iter().flatten().map(mop) {
                if f == "append" {
                    assert!(
                        seen.insert((k, v.as_int().unwrap())),
                        "a value appended twice"
                    );
                }
            }
        }
        assert!(seen.len() > 1000);
    }

    #[test]
    fn keys_rotate_so_each_key_gets_about_appends_per_key_appends_and_few_are_active() {
        let (slots, per_key) = (4, 12);
        let c = config(4, 3, per_key);
        let mut appends: HashMap<Value, usize> = HashMap::new();
        for slot in 0..slots {
            for (f, k, _) in txns(&c, slot, slots, 3, 500).iter().flatten().map(mop) {
                if f == "append" {
                    *appends.entry(k).or_default() += 1;
                }
            }
        }
        assert!(
            appends.len() > 30,
            "only {} keys: no rotation",
            appends.len()
        );
        // A slot may put one more transaction's appends on a key before it moves on.
        for (k, n) in &appends {
            assert!(*n <= per_key + slots * 4, "{k:?} had {n} appends");
        }
        // At any point of one slot's stream, at most `active_keys` keys are in use.
        let stream = txns(&c, 0, slots, 3, 500);
        for t in stream {
            let keys: HashSet<Value> = t.iter().map(|m| mop(m).1).collect();
            assert!(keys.len() <= 3);
        }
    }
}

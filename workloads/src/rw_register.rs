//! `rw-register`: transactions of 1..=`txn_length` micro-ops, each a write of a value
//! unique to its key (`["w", k, v]`) or a read of the register (`["r", k, null]`,
//! answered with the value or `null` for a key never written), half and half, over
//! the rotating pool of active keys list-append uses (`appends_per_key` counts writes
//! here). Judged strict-serializable with the rw-register model by default; Elle's
//! rw-register inference knows far less than list-append's (a read names its writer,
//! but the order of writes is mostly unknown), so list-append finds more.

use checkers::model::ModelKind;
use checkers::Value;

use crate::generator::Generator;
use crate::list_append::{final_txn_read, TxnGen};
use crate::txn_keys::KeyPool;
use crate::{model, CheckSpec, Consistency, DataKind, OpSpec, Workload, WorkloadConfig};

/// The rw-register workload.
pub struct RwRegister {
    config: WorkloadConfig,
    keys: Vec<Value>,
}

impl RwRegister {
    /// The workload `config` shapes (validated by [`crate::by_name`]).
    pub fn new(config: &WorkloadConfig) -> RwRegister {
        RwRegister {
            config: config.clone(),
            keys: KeyPool::first_keys(config.txn.active_keys),
        }
    }
}

impl Workload for RwRegister {
    fn name(&self) -> &'static str {
        "rw-register"
    }

    fn data(&self) -> DataKind {
        DataKind::TxnRegister
    }

    fn keys(&self) -> &[Value] {
        &self.keys
    }

    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator> {
        TxnGen::each_slot(&self.config, "w", slots, seed)
    }

    fn final_read(&self, key: &Value) -> OpSpec {
        final_txn_read(key)
    }

    fn checks(&self) -> Vec<CheckSpec> {
        vec![CheckSpec {
            consistency: Consistency::StrictSerializable,
            model: model(ModelKind::RwRegister),
        }]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn writes_are_unique_per_key_and_reads_carry_null() {
        let w = RwRegister::new(&WorkloadConfig::default());
        let mut seen = HashSet::new();
        for slot in 0..3 {
            let mut g = w.generator(3, 21);
            for op in crate::generator::testing::ops_of(&mut *g, slot, 3, 300) {
                for m in op.value.as_list().unwrap() {
                    let m = m.as_list().unwrap();
                    match m[0].as_str().unwrap() {
                        "w" => assert!(seen.insert((m[1].clone(), m[2].as_int().unwrap()))),
                        "r" => assert!(m[2].is_null()),
                        other => panic!("unexpected micro-op {other}"),
                    }
                }
            }
        }
        assert!(seen.len() > 300);
    }

    #[test]
    fn rw_register_is_judged_with_the_rw_register_model() {
        let w = RwRegister::new(&WorkloadConfig::default());
        assert_eq!(w.checks()[0].model.kind, ModelKind::RwRegister);
        assert_eq!(w.name(), "rw-register");
    }
}

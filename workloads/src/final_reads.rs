//! The final reads as a generator: on every node, each key read until a read
//! completes `ok` or the deadline passes (Jepsen's `until-ok` inside its final
//! generator), one key after another.

use std::time::Duration;

use crate::generator::{each_slot, phases, until_ok, Generator};
use crate::Workload;

/// How the final reads are paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FinalReads {
    /// How many nodes: slot `n` reads from node `n`.
    pub nodes: usize,
    /// No read is retried at or after this time (from the start of the final reads);
    /// every key is still read once on every node.
    pub deadline: Duration,
    /// The wait after a read that did not succeed before the next try.
    pub retry: Duration,
}

/// The final reads of `workload`'s keys: slot `n` of `plan.nodes` reads every key in
/// order, each until it is `ok` or `plan.deadline` has passed.
pub fn final_reads(workload: &dyn Workload, plan: FinalReads) -> Box<dyn Generator> {
    let reads: Vec<_> = workload
        .keys()
        .iter()
        .map(|k| workload.final_read(k))
        .collect();
    Box::new(each_slot(move |slot| {
        let node_reads = if slot < plan.nodes {
            reads.clone()
        } else {
            Vec::new()
        };
        phases(
            node_reads
                .into_iter()
                .map(|op| Box::new(until_ok(op, plan.deadline, plan.retry)) as Box<dyn Generator>)
                .collect(),
        )
    }))
}

#[cfg(test)]
mod tests {
    use checkers::{Outcome, Value, F};

    use super::*;
    use crate::generator::testing::simulate;
    use crate::{by_name, WorkloadConfig};

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn every_key_is_read_on_every_node_and_failed_reads_are_retried_until_the_deadline() {
        let w = by_name("kv", &WorkloadConfig::default()).unwrap();
        let plan = FinalReads {
            nodes: 3,
            deadline: MS(1000),
            retry: MS(100),
        };
        // Node 2 never answers; k1 fails twice everywhere, then reads.
        let mut k1 = 0;
        let ops = simulate(
            &mut *final_reads(&*w, plan),
            3,
            MS(10),
            MS(60_000),
            |op, _| {
                assert_eq!(op.f, F::Read);
                if op.key == Some(Value::str("k1")) {
                    k1 += 1;
                    if k1 <= 2 {
                        return (Outcome::Fail, Value::Null);
                    }
                }
                (Outcome::Ok, Value::Int(1))
            },
        );
        for slot in 0..2 {
            let keys: std::collections::HashSet<_> = ops
                .iter()
                .filter(|o| o.slot == slot)
                .map(|o| o.op.key.clone())
                .collect();
            assert_eq!(keys.len(), 5, "node {slot} read {keys:?}");
        }
        assert_eq!(
            ops.iter()
                .filter(|o| o.op.key == Some(Value::str("k1")))
                .count(),
            3 + 2
        );

        // A node that never answers ok: every key tried, retried until the deadline only.
        let mut never = final_reads(&*w, plan);
        let ops = simulate(&mut *never, 1, MS(10), MS(60_000), |_, _| {
            (Outcome::Info, Value::Null)
        });
        assert!(ops
            .iter()
            .all(|o| o.invoked < MS(1000) || o.op.key != ops[0].op.key));
        let keys: std::collections::HashSet<_> = ops.iter().map(|o| o.op.key.clone()).collect();
        assert_eq!(keys.len(), 5, "every key is read at least once");
        assert!(ops.last().unwrap().invoked < MS(1100));
    }
}

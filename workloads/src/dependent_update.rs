//! `dependent-update`: seed 001's causality problem as a workload. A writer writes
//! `x`; a follower reads `x` and, once it has read a value it has not acted on yet,
//! writes `y` (an update that depends on that `x`); an observer reads `y` and then
//! `x`. A store that lets `y` overtake the `x` it depends on shows the observer `y`'s
//! effect without its cause, and the read of `x` that follows is judged by the causal
//! checkers as WriteCORead (it returned an older `x`) or WriteCOInitRead (no `x` at
//! all): the write of `x` is in that read's causal past through the follower's read of
//! it, the follower's write of `y` and the observer's read of `y`.
//!
//! Roles go by slot: slot `s` is a writer, follower or observer as `s % 3` is 0, 1 or
//! 2. The driver puts slot `s` on node `s % nodes`, so with `--nodes 3` the roles sit
//! on n1, n2 and n3 (the multi-leader store's `--link-delay-ms` makes n1 → n3 slow and
//! n1 → n2 → n3 fast, so the overtaking is certain there); with fewer than three slots
//! there is no observer and nothing to see. Keys come in pairs `x0`/`y0`, `x1`/`y1`,
//! ...: `--keys K` gives `max(1, K / 2)` pairs, each operation on a pair chosen at
//! random. Only reads and writes of unique values, so every read names the write it
//! read and the causal, PRAM and session checkers judge the history exactly.

use checkers::model::ModelKind;
use checkers::{Outcome, Value, F};

use crate::generator::{each_slot, Completion, Context, Draw, Generator, Next};
use crate::keys::{KeyChooser, KeyDistribution};
use crate::{model, CheckSpec, Consistency, DataKind, OpSpec, Workload, WorkloadConfig};

/// The dependent-update workload.
pub struct DependentUpdate {
    /// `x0, y0, x1, y1, ...`.
    keys: Vec<Value>,
}

impl DependentUpdate {
    /// The workload `config` shapes (validated by [`crate::by_name`]).
    pub fn new(config: &WorkloadConfig) -> DependentUpdate {
        let pairs = (config.keys / 2).max(1);
        let keys = (0..pairs)
            .flat_map(|i| [Value::str(&format!("x{i}")), Value::str(&format!("y{i}"))])
            .collect();
        DependentUpdate { keys }
    }

    fn pairs(&self) -> usize {
        self.keys.len() / 2
    }
}

impl Workload for DependentUpdate {
    fn name(&self) -> &'static str {
        "dependent-update"
    }

    fn data(&self) -> DataKind {
        DataKind::Register
    }

    fn keys(&self) -> &[Value] {
        &self.keys
    }

    fn generator(&self, slots: usize, seed: u64) -> Box<dyn Generator> {
        let pairs = self.pairs();
        let keys = self.keys.clone();
        Box::new(each_slot(move |slot| {
            let draw = Draw::new(
                KeyChooser::new(pairs, KeyDistribution::Uniform),
                slot,
                slots,
                seed,
            );
            let role = match slot % 3 {
                0 => Role::Writer,
                1 => Role::Follower {
                    acted: vec![None; pairs],
                    due: Vec::new(),
                },
                _ => Role::Observer { then_x: None },
            };
            Slot {
                role,
                draw,
                keys: keys.clone(),
            }
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
        [Consistency::Causal, Consistency::Eventual]
            .into_iter()
            .map(|consistency| CheckSpec {
                consistency,
                model: model(ModelKind::Kv),
            })
            .collect()
    }
}

/// What one slot does.
#[derive(Debug)]
enum Role {
    /// Writes `x` of a random pair.
    Writer,
    /// Reads `x` of a random pair; after reading a value of `x_i` it had not acted on,
    /// writes `y_i`.
    Follower {
        /// Per pair, the value of `x` it last wrote `y` after.
        acted: Vec<Option<i64>>,
        /// Pairs whose `y` is to be written next, oldest first.
        due: Vec<usize>,
    },
    /// Reads `y` of a random pair, then `x` of the same pair.
    Observer {
        /// The pair whose `x` is read next.
        then_x: Option<usize>,
    },
}

/// One slot's generator.
struct Slot {
    role: Role,
    draw: Draw,
    keys: Vec<Value>,
}

impl Slot {
    fn x(&self, pair: usize) -> Value {
        self.keys[2 * pair].clone()
    }

    fn y(&self, pair: usize) -> Value {
        self.keys[2 * pair + 1].clone()
    }

    /// The pair whose `x` is `key`.
    fn pair_of_x(&self, key: &Value) -> Option<usize> {
        self.keys.iter().step_by(2).position(|k| k == key)
    }
}

fn read(key: Value) -> OpSpec {
    OpSpec {
        f: F::Read,
        key: Some(key),
        value: Value::Null,
    }
}

fn write(key: Value, v: i64) -> OpSpec {
    OpSpec {
        f: F::Write,
        key: Some(key),
        value: Value::Int(v),
    }
}

impl Generator for Slot {
    fn op(&mut self, _ctx: &Context<'_>) -> Next {
        let op = match &mut self.role {
            Role::Writer => {
                let pair = self.draw.key();
                let v = self.draw.unique();
                write(self.x(pair), v)
            }
            Role::Follower { due, .. } => {
                if due.is_empty() {
                    let pair = self.draw.key();
                    read(self.x(pair))
                } else {
                    let pair = due.remove(0);
                    let v = self.draw.unique();
                    write(self.y(pair), v)
                }
            }
            Role::Observer { then_x } => match then_x.take() {
                Some(pair) => read(self.x(pair)),
                None => {
                    let pair = self.draw.key();
                    *then_x = Some(pair);
                    read(self.y(pair))
                }
            },
        };
        Next::Op(op)
    }

    fn update(&mut self, _ctx: &Context<'_>, c: &Completion) {
        if c.outcome != Outcome::Ok || c.op.f != F::Read {
            return;
        }
        let Some(pair) = c.op.key.as_ref().and_then(|k| self.pair_of_x(k)) else {
            return;
        };
        let Role::Follower { acted, due } = &mut self.role else {
            return;
        };
        let Some(v) = c.value.as_int() else {
            return;
        };
        if acted[pair] != Some(v) {
            acted[pair] = Some(v);
            if !due.contains(&pair) {
                due.push(pair);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::by_name;
    use crate::generator::testing::{simulate, SimOp};
    use std::collections::HashMap;
    use std::time::Duration;

    fn workload(keys: usize) -> Box<dyn Workload> {
        let config = WorkloadConfig {
            keys,
            ..WorkloadConfig::default()
        };
        by_name("dependent-update", &config).unwrap()
    }

    /// 3 slots against one linearizable copy per key, 5 seconds of 2 ms operations.
    fn against_one_copy(seed: u64) -> Vec<SimOp> {
        let w = workload(4);
        let mut store: HashMap<Value, Value> = HashMap::new();
        simulate(
            &mut *w.generator(3, seed),
            3,
            Duration::from_millis(2),
            Duration::from_secs(5),
            |op, _| {
                let key = op.key.clone().unwrap();
                match op.f {
                    F::Write => {
                        store.insert(key, op.value.clone());
                        (Outcome::Ok, op.value.clone())
                    }
                    _ => (Outcome::Ok, store.get(&key).cloned().unwrap_or(Value::Null)),
                }
            },
        )
    }

    fn key(o: &SimOp) -> &str {
        o.op.key.as_ref().unwrap().as_str().unwrap()
    }

    #[test]
    fn keys_come_in_x_y_pairs_at_least_one() {
        let names = |k| {
            workload(k)
                .keys()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(1), ["x0", "y0"]);
        assert_eq!(names(5), ["x0", "y0", "x1", "y1"]);
    }

    #[test]
    fn writers_write_x_followers_read_x_and_observers_read_y_then_x() {
        let ops = against_one_copy(3);
        let of = |slot| ops.iter().filter(move |o: &&SimOp| o.slot == slot);
        assert!(of(0).all(|o| o.op.f == F::Write && key(o).starts_with('x')));
        assert!(of(1).all(|o| match o.op.f {
            F::Read => key(o).starts_with('x'),
            _ => key(o).starts_with('y'),
        }));
        let observed: Vec<&SimOp> = of(2).collect();
        assert!(observed.len() > 100);
        for pair in observed.chunks_exact(2) {
            assert!(pair.iter().all(|o| o.op.f == F::Read));
            assert!(key(pair[0]).starts_with('y') && key(pair[1]).starts_with('x'));
            assert_eq!(key(pair[0])[1..], key(pair[1])[1..], "the same pair");
        }
    }

    #[test]
    fn a_follower_writes_y_once_after_each_new_x_it_reads() {
        let ops = against_one_copy(5);
        let follower: Vec<&SimOp> = ops.iter().filter(|o| o.slot == 1).collect();
        let writes = follower.iter().filter(|o| o.op.f == F::Write).count();
        assert!(writes > 50, "{writes} writes of y");
        // Every write of y_i comes right after a read of x_i (one pair is due at a
        // time when reads and writes alternate with one writer).
        let mut last_read: Option<&str> = None;
        for o in &follower {
            match o.op.f {
                F::Read => last_read = Some(key(o)),
                _ => {
                    let read = last_read.expect("a read before the first write");
                    assert_eq!(read[1..], key(o)[1..], "y follows the x it depends on");
                }
            }
        }
    }

    #[test]
    fn a_follower_that_reads_nothing_new_writes_nothing() {
        // Every read answers null (nothing written anywhere): no dependent update.
        let w = workload(4);
        let ops = simulate(
            &mut *w.generator(3, 1),
            3,
            Duration::from_millis(2),
            Duration::from_secs(1),
            crate::generator::testing::all_ok,
        );
        assert!(ops
            .iter()
            .filter(|o| o.slot == 1)
            .all(|o| o.op.f == F::Read));
    }

    #[test]
    fn written_values_are_unique() {
        let ops = against_one_copy(7);
        let mut seen = std::collections::HashSet::new();
        for o in ops.iter().filter(|o| o.op.f == F::Write) {
            assert!(seen.insert(o.op.value.as_int().unwrap()), "{:?}", o.op);
        }
        assert!(seen.len() > 500);
    }

    #[test]
    fn it_is_judged_causal_and_eventual_on_the_kv_model() {
        let w = workload(2);
        let c: Vec<_> = w.checks().iter().map(|c| c.consistency).collect();
        assert_eq!(c, [Consistency::Causal, Consistency::Eventual]);
        assert!(w.checks().iter().all(|c| c.model.kind == ModelKind::Kv));
        assert_eq!(w.data(), DataKind::Register);
    }
}

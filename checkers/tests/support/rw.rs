//! Read/write histories for the causal, PRAM and session tests: written by hand as
//! each process's ops in program order, or simulated by replicated stores of each
//! strength; and checking them by name through the factory.

#![allow(dead_code)]

use checkers::consistency::Consistency;
use checkers::model::{ModelKind, ModelSpec};
use checkers::{factory, Budget, CheckResult, Event, EventKind, History, Process, Value, F};

/// One op of a hand-written or simulated history.
#[derive(Clone, Debug, PartialEq)]
pub struct RwOp {
    /// The process.
    pub process: u64,
    /// Read or write.
    pub write: bool,
    /// The key.
    pub key: &'static str,
    /// The value written or read (`None`: the initial value).
    pub value: Option<i64>,
    /// ok / fail / info.
    pub outcome: EventKind,
}

/// Parses `"w x 1"`, `"r y 2"`, `"r x _"` (initial), `"w! x 3"` (failed), `"w? x 3"`
/// (indeterminate) for process `p`.
pub fn op(p: u64, s: &str) -> RwOp {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let (f, key, v) = (parts[0], parts[1], parts[2]);
    let key: &'static str = Box::leak(key.to_string().into_boxed_str());
    RwOp {
        process: p,
        write: f.starts_with('w'),
        key,
        value: (v != "_").then(|| v.parse().expect("an integer value")),
        outcome: if f.ends_with('!') {
            EventKind::Fail
        } else if f.ends_with('?') {
            EventKind::Info
        } else {
            EventKind::Ok
        },
    }
}

/// A history of processes, each a list of ops in program order; ops of different
/// processes are interleaved round-robin (for these models real time does not matter).
pub fn sessions(procs: &[&[&str]]) -> History {
    let mut ops = Vec::new();
    let longest = procs.iter().map(|p| p.len()).max().unwrap_or(0);
    for j in 0..longest {
        for (i, p) in procs.iter().enumerate() {
            if let Some(s) = p.get(j) {
                ops.push(op(i as u64 + 1, s));
            }
        }
    }
    history(&ops)
}

/// Events of `ops` (each completes before the next is invoked).
pub fn history(ops: &[RwOp]) -> History {
    let mut events = Vec::new();
    for o in ops {
        let f = if o.write { F::Write } else { F::Read };
        let v = o.value.map_or(Value::Null, Value::Int);
        for kind in [EventKind::Invoke, o.outcome] {
            let index = events.len() as u64;
            events.push(Event {
                index,
                time: index * 10,
                process: Process::Client(o.process),
                kind,
                f: f.clone(),
                key: Some(Value::str(o.key)),
                value: if kind == EventKind::Invoke && !o.write {
                    Value::Null
                } else {
                    v.clone()
                },
                node: None,
                error: None,
                latency: None,
            });
        }
    }
    History::from_events(events).expect("a well-formed history")
}

/// Checks `history` (a kv history) for `model` through the factory.
pub fn check(model: Consistency, history: &History) -> CheckResult {
    let spec = ModelSpec::new(ModelKind::Kv);
    factory::check(model, &spec, history, &Budget::unlimited())
}

/// A tiny deterministic generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// How a simulated store delivers a write to the other replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// At once, everywhere (one copy: linearizable).
    Atomic,
    /// One global order of writes; each replica applies a prefix of it (sequential
    /// with stale reads).
    Stale,
    /// Causal delivery (a write only after every write it depends on).
    Causal,
    /// FIFO per writer (PRAM).
    Fifo,
    /// Any order (eventual at best).
    Any,
}

/// Simulates `n` ops of `procs` processes on `keys` keys of `store`; each process has
/// its own replica. Written values are unique (a counter).
pub fn simulate(seed: u64, store: Store, procs: u64, keys: u64, n: usize) -> Vec<RwOp> {
    const KEYS: [&str; 3] = ["x", "y", "z"];
    let mut rng = Rng(seed | 1);
    let p = procs as usize;
    // replica state per process: key -> value.
    let mut state: Vec<Vec<Option<i64>>> = vec![vec![None; keys as usize]; p];
    // For Stale/Causal/Fifo/Any: every write, in issue order: (writer, key, value, deps).
    let mut log: Vec<(usize, usize, i64, Vec<usize>)> = Vec::new();
    let mut applied: Vec<Vec<bool>> = vec![Vec::new(); p];
    let mut clock: Vec<Vec<usize>> = vec![vec![0; p]; p]; // per replica: writes seen per writer
    let mut ops = Vec::new();
    let mut next_value = 1i64;
    let deliverable = |r: usize,
                       w: usize,
                       log: &Vec<(usize, usize, i64, Vec<usize>)>,
                       applied: &Vec<Vec<bool>>,
                       clock: &Vec<Vec<usize>>|
     -> bool {
        let (writer, _, _, deps) = &log[w];
        match store {
            Store::Atomic | Store::Any => true,
            Store::Stale => (0..w).all(|i| applied[r][i]),
            Store::Fifo => (0..w).all(|i| log[i].0 != *writer || applied[r][i]),
            Store::Causal => deps.iter().enumerate().all(|(q, &d)| clock[r][q] >= d),
        }
    };
    while ops.len() < n {
        if rng.below(3) == 0 && !log.is_empty() {
            // Deliver one pending write somewhere.
            let r = rng.below(procs) as usize;
            let pending: Vec<usize> = (0..log.len())
                .filter(|&w| !applied[r][w] && deliverable(r, w, &log, &applied, &clock))
                .collect();
            if let Some(&w) = pending.get(rng.below(pending.len().max(1) as u64) as usize) {
                let (writer, key, value, _) = log[w].clone();
                state[r][key] = Some(value);
                applied[r][w] = true;
                clock[r][writer] += 1;
            }
            continue;
        }
        let q = rng.below(procs) as usize;
        let key = rng.below(keys) as usize;
        if rng.below(2) == 0 {
            let value = next_value;
            next_value += 1;
            let deps = clock[q].clone();
            log.push((q, key, value, deps));
            for a in applied.iter_mut() {
                a.push(false);
            }
            let w = log.len() - 1;
            let everywhere = store == Store::Atomic;
            for r in 0..p {
                if r == q || everywhere {
                    state[r][key] = Some(value);
                    applied[r][w] = true;
                    clock[r][q] += 1;
                }
            }
            if store == Store::Stale {
                // Applying out of order locally would break the global order: the
                // writer applies every earlier write first.
                for i in 0..w {
                    if !applied[q][i] {
                        applied[q][i] = true;
                        let (wr, k, v, _) = log[i].clone();
                        state[q][k] = Some(v);
                        clock[q][wr] += 1;
                    }
                }
                state[q][key] = Some(value);
            }
            ops.push(RwOp {
                process: q as u64 + 1,
                write: true,
                key: KEYS[key],
                value: Some(value),
                outcome: EventKind::Ok,
            });
        } else {
            ops.push(RwOp {
                process: q as u64 + 1,
                write: false,
                key: KEYS[key],
                value: state[q][key],
                outcome: EventKind::Ok,
            });
        }
    }
    ops
}

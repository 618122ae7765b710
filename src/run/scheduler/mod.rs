//! The process pool: `C` worker slots, each running one logical process at a time
//! against its node (slot `s` talks to node `s mod nodes`), one operation outstanding,
//! all asking one shared [`Generator`] what to do next.
//!
//! [`Pool::drive`] is the one scheduler loop every phase runs (the main phase's
//! workload generator with the fault schedule beside it, the final reads): a slot
//! asks the generator with a
//! [`Context`] (time since the phase began, its slot and process, the free slots),
//! waits for the global rate limit if there is one, records the invoke, performs the
//! operation with a timeout, records the completion and tells the generator
//! ([`Generator::update`]). `Pending` parks the slot until another slot's operation
//! completes or the time the generator named; `Done` ends the slot. After an `info`
//! completion the process id is retired and the slot continues as process `id + C`
//! (Jepsen's rule), with a fresh client. A timed-out read is recorded as `fail` (a read
//! has no effect); anything else that times out is `info`.
//!
//! A phase may have a nemesis slot ([`Phase::nemesis`]): one more slot, after the
//! client slots, whose operations (start a fault, stop it) a [`NemesisClient`]
//! carries out. The scheduler records nothing for them — the nemesis records its own
//! `{"process":"nemesis","type":"info"}` events — and they are not rate limited; the
//! generator is told how each ended like any other. The main phase's generator is
//! [`generator::on_nemesis`]: the workload's generator on the client slots, the fault
//! schedule on the nemesis slot, both run by one [`Pool::drive`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use checkers::{EventKind, Outcome, Process, F};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use workloads::final_reads::FinalReads;
use workloads::generator::{self, Context, Generator, Next, SlotSet};
use workloads::{DataKind, OpSpec, Workload};

use crate::client::{Client, Completion, Ending, Invocation};
use crate::recorder::{Entry, Recorder};
use crate::subject::ClientFactory;

use super::rate::RateLimit;

/// How long a final read that did not succeed waits before it is tried again.
pub const FINAL_READ_RETRY: Duration = Duration::from_millis(200);

/// How long a `Pending` slot with no time to wake at sleeps at most before asking
/// again (it is woken sooner by any completion).
const PENDING_POLL: Duration = Duration::from_millis(100);

/// What the workers share.
#[derive(Clone)]
pub struct Pool {
    /// Makes the clients (the started subject's).
    pub clients: Arc<dyn ClientFactory>,
    /// The workload (generators, data kind).
    pub workload: Arc<dyn Workload>,
    /// The recorder.
    pub recorder: Recorder,
    /// How many slots.
    pub concurrency: usize,
    /// How many nodes (slot `s` uses node `s mod nodes`).
    pub nodes: usize,
    /// The run's seed.
    pub seed: u64,
    /// Per-operation timeout.
    pub op_timeout: Duration,
    /// The global rate limit.
    pub rate: Arc<RateLimit>,
    /// The highest process id used so far.
    pub max_process: Arc<AtomicU64>,
    /// Why the run must stop as unable to run (an unsupported operation), if so.
    pub abort: Arc<Mutex<Option<String>>>,
}

/// The process id the nemesis slot asks as (in its [`Context`]); never a client's,
/// and nothing is recorded under it.
pub const NEMESIS_PROCESS: u64 = u64::MAX;

/// Carries out the nemesis slot's operations, recording in the history itself what
/// they did.
pub trait NemesisClient: Send + Sync {
    /// Performs `op` (a short blocking call); why it failed, if it did.
    fn perform(&self, op: &OpSpec) -> Result<(), String>;
    /// The nemesis slot is done (its generator is, or the phase stopped): heal what
    /// is still active, recording its stop.
    fn finish(&self);
}

/// A nemesis for the main phase: the generator of the nemesis slot and the client
/// that performs what it gives.
pub struct NemesisSlot {
    /// What the nemesis slot does.
    pub generator: Box<dyn Generator>,
    /// Who does it.
    pub client: Arc<dyn NemesisClient>,
}

/// Which process ids a slot performs as.
#[derive(Clone, Debug)]
pub enum ProcessIds {
    /// Slot `s` of `C` starts as process `s` and continues as `id + C` after an
    /// `info` completion.
    PerSlot,
    /// Every operation on a fresh process id (and client) taken from this counter.
    FreshPerOp(Arc<AtomicU64>),
}

/// A phase for [`Pool::drive`]: its generator, over how many slots.
pub struct Phase {
    /// What to do.
    pub generator: Box<dyn Generator>,
    /// How many slots ask it (slot `s` talks to node `s mod nodes`).
    pub slots: usize,
    /// Which process ids the slots perform as.
    pub ids: ProcessIds,
    /// Whether the slots wait for the global rate limit.
    pub rate_limited: bool,
    /// The nemesis slot's client, if the phase has one: then slot `slots` (after the
    /// client slots) is the nemesis slot.
    pub nemesis: Option<Arc<dyn NemesisClient>>,
}

/// The generator and what its contexts are built from, behind one lock.
struct Driven {
    generator: Box<dyn Generator>,
    serving: SlotSet,
    free: SlotSet,
    /// How many slots are parked on `Pending`.
    waiting: usize,
}

/// What the slots of one [`Pool::drive`] share.
struct Driver {
    state: Mutex<Driven>,
    wake: Notify,
    start: Instant,
}

impl Driven {
    /// Tells the generator how `c` ended and frees its slot; wakes parked slots.
    fn report(&mut self, wake: &Notify, c: &generator::Completion) {
        self.free.insert(c.slot);
        let ctx = Context::new(c.time, c.slot, c.process, &self.serving, &self.free);
        self.generator.update(&ctx, c);
        if self.waiting > 0 {
            wake.notify_waiters();
        }
    }
}

impl Driver {
    fn lock(&self) -> std::sync::MutexGuard<'_, Driven> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

impl Pool {
    /// Performs `spec` as `process` with `client`, recording invoke and completion;
    /// gives back the invocation with how it ended.
    pub async fn perform(
        &self,
        client: &mut dyn Client,
        process: u64,
        data: DataKind,
        spec: OpSpec,
    ) -> (Invocation, Completion) {
        self.max_process.fetch_max(process, Ordering::Relaxed);
        let op = Invocation {
            process,
            data,
            f: spec.f,
            key: spec.key,
            value: spec.value,
        };
        let invoked = self.recorder.record(Entry {
            process: Process::Client(process),
            kind: EventKind::Invoke,
            f: &op.f,
            key: op.key.as_ref(),
            value: &op.value,
            node: None,
            error: None,
            invoked_at: None,
        });
        let c = match tokio::time::timeout(self.op_timeout, client.invoke(&op)).await {
            Ok(c) => c,
            Err(_) => timed_out(&op, self.op_timeout),
        };
        if c.is_unsupported() {
            let mut a = self.abort.lock().unwrap_or_else(|e| e.into_inner());
            a.get_or_insert_with(|| {
                format!(
                    "the store does not support {} ({}): this workload cannot run against it",
                    op.f,
                    c.error.as_deref().unwrap_or("unsupported")
                )
            });
        }
        let kind = match c.ending {
            Ending::Ok => EventKind::Ok,
            Ending::Fail => EventKind::Fail,
            Ending::Info => EventKind::Info,
        };
        let value = if c.ending == Ending::Ok {
            &c.value
        } else {
            &op.value
        };
        self.recorder.record(Entry {
            process: Process::Client(process),
            kind,
            f: &op.f,
            key: op.key.as_ref(),
            value,
            node: c.node.as_deref(),
            error: c.error.as_deref(),
            invoked_at: Some(invoked),
        });
        (op, c)
    }

    async fn client(&self, node: usize, process: u64) -> Box<dyn Client> {
        self.clients.client(node, process)
    }

    /// Runs the workload's generator on every client slot, and `nemesis`'s on the
    /// nemesis slot if there is one, until `stop` turns true; returns when all have
    /// finished their outstanding operation.
    pub async fn run_main(&self, stop: watch::Receiver<bool>, nemesis: Option<NemesisSlot>) {
        let clients = self.workload.generator(self.concurrency, self.seed);
        let (generator, nemesis) = match nemesis {
            Some(n) => (
                Box::new(generator::on_nemesis(
                    self.concurrency,
                    clients,
                    n.generator,
                )) as Box<dyn Generator>,
                Some(n.client),
            ),
            None => (clients, None),
        };
        let phase = Phase {
            generator,
            slots: self.concurrency,
            ids: ProcessIds::PerSlot,
            rate_limited: self.rate.is_limited(),
            nemesis,
        };
        self.drive(phase, stop).await;
    }

    /// The final reads: every key on every node (slot `n` reads from node `n`), each
    /// on a fresh process id, each retried after [`FINAL_READ_RETRY`] until it is
    /// `ok` or `deadline` has passed since they began (every key is read at least
    /// once). Not rate limited.
    pub async fn final_reads(&self, deadline: Duration) {
        let nodes = self.nodes.max(1);
        let next = Arc::new(AtomicU64::new(self.max_process.load(Ordering::Relaxed) + 1));
        let plan = FinalReads {
            nodes,
            deadline,
            retry: FINAL_READ_RETRY,
        };
        let phase = Phase {
            generator: workloads::final_reads(&*self.workload, plan),
            slots: nodes,
            ids: ProcessIds::FreshPerOp(next),
            rate_limited: false,
            nemesis: None,
        };
        let (_keep, never) = watch::channel(false);
        self.drive(phase, never).await;
    }

    /// The scheduler loop: runs `phase` on its slots (and its nemesis slot) until each
    /// is told `Done` or `stop` turns true; returns when every slot has finished its
    /// outstanding operation.
    pub async fn drive(&self, mut phase: Phase, stop: watch::Receiver<bool>) {
        let total = phase.slots + usize::from(phase.nemesis.is_some());
        let start = Instant::now();
        let driver = |generator: Box<dyn Generator>, serving: SlotSet| {
            Arc::new(Driver {
                state: Mutex::new(Driven {
                    generator,
                    free: serving.clone(),
                    serving,
                    waiting: 0,
                }),
                wake: Notify::new(),
                start,
            })
        };
        // Independent per-slot generators run each on its own slot, lock-free of the
        // others; anything else is shared by all slots behind one lock.
        let drivers: Vec<Arc<Driver>> = match phase.generator.split(total) {
            Some(parts) => parts
                .into_iter()
                .enumerate()
                .map(|(slot, g)| driver(g, SlotSet::one(slot)))
                .collect(),
            None => {
                let shared = driver(phase.generator, SlotSet::all(total));
                vec![shared; total]
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (slot, driver) in drivers.into_iter().enumerate() {
            let pool = self.clone();
            let stop = stop.clone();
            if let (true, Some(client)) = (slot == phase.slots, phase.nemesis.clone()) {
                tasks.spawn(async move { pool.nemesis_slot(&driver, slot, &*client, stop).await });
                continue;
            }
            let ids = phase.ids.clone();
            let (slots, limited) = (phase.slots, phase.rate_limited);
            tasks.spawn(async move { pool.slot(&driver, slot, slots, ids, limited, stop).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// What `slot` should do next, waiting while the generator is pending; `None`
    /// when it is done or `stop` turned true. `finished`, the slot's previous
    /// operation, is reported to the generator first, under the same lock (one lock
    /// per operation).
    async fn ask(
        &self,
        driver: &Driver,
        slot: usize,
        process: u64,
        stop: &mut watch::Receiver<bool>,
        mut finished: Option<generator::Completion>,
    ) -> Option<OpSpec> {
        loop {
            let (until, parked) = {
                let mut guard = driver.lock();
                let d = &mut *guard;
                if let Some(c) = finished.take() {
                    d.report(&driver.wake, &c);
                }
                let ctx = Context::new(driver.elapsed(), slot, process, &d.serving, &d.free);
                let until = match d.generator.op(&ctx) {
                    Next::Pending { until } => until,
                    done_or_op => {
                        // Giving an op or being done may let a parked slot go on (phases).
                        if d.waiting > 0 {
                            driver.wake.notify_waiters();
                        }
                        let Next::Op(spec) = done_or_op else {
                            return None;
                        };
                        d.free.remove(slot);
                        return Some(spec);
                    }
                };
                // Registered before the lock is released: no wake-up is lost.
                let mut parked = Box::pin(driver.wake.notified());
                parked.as_mut().enable();
                d.waiting += 1;
                (until, parked)
            };
            let wake_at = until.map_or(Instant::now() + PENDING_POLL, |u| driver.start + u);
            let stopped = tokio::select! {
                _ = parked => false,
                _ = tokio::time::sleep_until(wake_at) => false,
                _ = super::until_interrupted(stop) => true,
            };
            driver.lock().waiting -= 1;
            if stopped {
                return None;
            }
        }
    }

    async fn slot(
        &self,
        driver: &Driver,
        slot: usize,
        slots: usize,
        ids: ProcessIds,
        limited: bool,
        mut stop: watch::Receiver<bool>,
    ) {
        let data = self.workload.data();
        let node = slot % self.nodes.max(1);
        let fresh = |ids: &ProcessIds| match ids {
            ProcessIds::PerSlot => None,
            ProcessIds::FreshPerOp(next) => Some(next.fetch_add(1, Ordering::Relaxed)),
        };
        let mut process = fresh(&ids).unwrap_or(slot as u64);
        let mut client = self.client(node, process).await;
        // The slot's last operation, until it is reported to the generator.
        let mut finished: Option<generator::Completion> = None;
        loop {
            if *stop.borrow() {
                break;
            }
            if limited {
                // Reported now, not after the wait: the generator hears it at once.
                if let Some(c) = finished.take() {
                    driver.lock().report(&driver.wake, &c);
                }
                let mut s = stop.clone();
                tokio::select! {
                    _ = self.rate.wait() => {}
                    _ = s.wait_for(|v| *v) => break,
                }
            }
            let Some(spec) = self
                .ask(driver, slot, process, &mut stop, finished.take())
                .await
            else {
                break;
            };
            let (op, c) = self.perform(&mut *client, process, data, spec).await;
            let time = driver.elapsed();
            let outcome = match c.ending {
                Ending::Ok => Outcome::Ok,
                Ending::Fail => Outcome::Fail,
                Ending::Info => Outcome::Info,
            };
            let value = if outcome == Outcome::Ok {
                c.value
            } else {
                op.value.clone()
            };
            finished = Some(generator::Completion {
                slot,
                process,
                op: OpSpec {
                    f: op.f,
                    key: op.key,
                    value: op.value,
                },
                outcome,
                value,
                time,
            });
            if let Some(p) = fresh(&ids) {
                process = p;
                client = self.client(node, process).await;
            } else if outcome == Outcome::Info {
                process += slots as u64;
                client = self.client(node, process).await;
            }
            if !limited {
                // Let other tasks (the recorder's peers, the nemesis) in even when the
                // client answers at once.
                tokio::task::yield_now().await;
            }
        }
        if let Some(c) = finished {
            driver.lock().report(&driver.wake, &c);
        }
    }
}

impl Pool {
    /// The nemesis slot: asks like any slot, has `client` perform what it is given
    /// (which records its own history events) and tells the generator how it ended;
    /// heals what is still active when it is done.
    async fn nemesis_slot(
        &self,
        driver: &Driver,
        slot: usize,
        client: &dyn NemesisClient,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut finished: Option<generator::Completion> = None;
        while !*stop.borrow() {
            let Some(spec) = self
                .ask(driver, slot, NEMESIS_PROCESS, &mut stop, finished.take())
                .await
            else {
                break;
            };
            let outcome = match client.perform(&spec) {
                Ok(()) => Outcome::Ok,
                Err(why) => {
                    tracing::debug!("nemesis {}: {why}", spec.f);
                    Outcome::Info
                }
            };
            finished = Some(generator::Completion {
                slot,
                process: NEMESIS_PROCESS,
                value: spec.value.clone(),
                op: spec,
                outcome,
                time: driver.elapsed(),
            });
            tokio::task::yield_now().await;
        }
        client.finish();
        if let Some(c) = finished {
            driver.lock().report(&driver.wake, &c);
        }
    }
}

/// The completion of an operation that did not answer within `timeout`.
fn timed_out(op: &Invocation, timeout: Duration) -> Completion {
    let why = format!("timeout after {timeout:?}");
    if op.f == F::Read {
        Completion::fail(op.value.clone(), why)
    } else {
        Completion::info(op.value.clone(), why)
    }
}

#[cfg(test)]
mod tests;

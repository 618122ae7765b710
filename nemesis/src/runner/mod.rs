//! The nemesis of a run: prepares what faults need before the nodes start (network
//! layout, clocks), then starts and stops faults as a schedule's
//! [`Timeline`](crate::schedule::Timeline) cues them ([`Nemesis::perform`]), records each start
//! and stop as a history event, and heals everything — at the end, on error, and on
//! drop (a panic unwinding through the driver). Every active fault is in the state
//! file while it lasts ([`crate::state`]), for `faultline cleanup`. A failover is the
//! store's own ([`crate::Failover`], attached with [`Nemesis::attach_failover`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::clock::{ClockChange, ClockError, ClockMechanism, NodeClocks};
use crate::failover::Failover;
use crate::host::remote::RemoteHosts;
use crate::layout::{Layout, Mechanism};
use crate::network::{self, Network, NetworkError};
use crate::node::{Events, Node};
use crate::owner::{Owner, ENV_NODE, ENV_OWNER};
use crate::router::Router;
use crate::schedule::{Action, Cue, Plan, Schedule, Step, Timeline};
use crate::state::{State, StateFile};
use crate::Fault;

mod action;
mod clock;
mod failover;
mod hosts;

/// Why the nemesis failed.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    /// The network could not be set up or changed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A state or clock file could not be written.
    #[error("nemesis state: {0}")]
    Io(#[from] std::io::Error),
    /// A fault cannot work on this cluster.
    #[error("{0}")]
    Unsupported(String),
    /// A node did not take a fault or its heal.
    #[error("{0}")]
    Node(String),
    /// A node's clock could not be changed or restored.
    #[error(transparent)]
    Clock(#[from] ClockError),
}

/// How to set up a nemesis.
#[derive(Clone, Debug)]
pub struct Options {
    /// What to inject.
    pub plan: Plan,
    /// The run's seed.
    pub seed: u64,
    /// The network mechanism; chosen automatically when `None`.
    pub mechanism: Option<Mechanism>,
    /// The run directory (state file, clock files), if any.
    pub run_dir: Option<PathBuf>,
    /// Ports per node (listen addresses in proxy mode).
    pub services: usize,
    /// Loopback ports the nodes listen on in proxy mode (`ports[i][s]`), if fixed.
    pub ports: Option<Vec<Vec<u16>>>,
    /// Whether the subject routes its nodes' messages itself and partitions through a
    /// [`Router`] ([`Nemesis::attach_router`]): no network is set up then, and faults
    /// that need the nodes started from a layout (clock, packet) are refused.
    pub routed: bool,
}

/// A run's nemesis.
pub struct Nemesis {
    plan: Plan,
    seed: u64,
    names: Vec<String>,
    state: StateFile,
    network: Option<Network>,
    router: Option<Arc<dyn Router>>,
    mechanism_reason: String,
    clocks: NodeClocks,
    layout: Option<Layout>,
    nodes: Vec<Arc<dyn Node>>,
    /// The store's own failover, for [`Fault::Failover`].
    failover: Option<Arc<dyn Failover>>,
    active: Mutex<Vec<Active>>,
    torn_down: bool,
    /// The SSH hosts the nodes run on (`names[i]` on `hosts[i]`), if any.
    hosts: Option<Arc<RemoteHosts>>,
}

impl std::fmt::Debug for Nemesis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nemesis")
            .field("plan", &self.plan)
            .field("names", &self.names)
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

/// A fault that started and is not healed yet.
#[derive(Clone, Debug)]
struct Active {
    step: Step,
    /// What its stop event says, when that is not just its targets (a failover: what
    /// the store did).
    stop_value: Option<Value>,
}

/// Runs `f` (a short blocking call: a kill, an nft command) without stalling tokio.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl Nemesis {
    /// Prepares the faults of `options` for a cluster of `names`: the network (for
    /// partitions and packet faults) and clocks (for clock faults). Call before the
    /// nodes start, then start each node from [`Nemesis::layout`] when it is `Some`.
    pub async fn prepare(options: Options, names: &[String]) -> Result<Nemesis, NemesisError> {
        Nemesis::prepare_on(options, names, None).await
    }

    /// [`Nemesis::prepare`] for nodes that run on SSH hosts (`names[i]` on
    /// `hosts[i]`), when `hosts` is given: the layout puts each node on its host,
    /// partitions are firewall rules there, and the state file records every host
    /// and its faults (so `faultline cleanup` reaches them).
    pub async fn prepare_on(
        options: Options,
        names: &[String],
        hosts: Option<Arc<RemoteHosts>>,
    ) -> Result<Nemesis, NemesisError> {
        if let Some(hosts) = hosts {
            return Nemesis::prepare_hosts(options, names, hosts).await;
        }
        let id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
        let state = StateFile::create(&id, options.run_dir.as_deref())?;
        let faults = &options.plan.faults;
        let mut nemesis = Nemesis {
            plan: options.plan.clone(),
            seed: options.seed,
            names: names.to_vec(),
            state,
            network: None,
            router: None,
            mechanism_reason: String::new(),
            clocks: NodeClocks::default(),
            layout: None,
            nodes: Vec::new(),
            failover: None,
            active: Mutex::new(Vec::new()),
            torn_down: false,
            hosts: None,
        };
        if options.routed {
            if let Some(f) = faults
                .iter()
                .find(|f| f.needs_layout() && **f != Fault::Partition)
            {
                return Err(NemesisError::Unsupported(format!(
                    "--nemesis {f}: this subject's nodes route their messages through faultline and are not started from a nemesis network or clock; use partition, kill, stop or pause (and the subject's own latency and loss options)"
                )));
            }
            nemesis.mechanism_reason = "the subject routes its nodes' messages itself".into();
        } else if faults.iter().any(|f| f.needs_layout()) {
            let wants_delay = faults.contains(&Fault::Packet);
            let (mechanism, why) = blocking(|| network::choose(options.mechanism, wants_delay));
            nemesis.mechanism_reason = why;
            let (net, mut layout) = Network::create(
                mechanism,
                &id,
                names,
                options.services,
                options.ports.as_deref(),
                &crate::state::state_dir(),
            )
            .await?;
            if let Network::Namespaces(n) = &net {
                let (namespaces, interfaces, lock) = n.resources();
                nemesis.state.update(|s| {
                    s.namespaces = namespaces;
                    s.interfaces = interfaces;
                    s.locks = vec![lock];
                })?;
            }
            nemesis.network = Some(net);
            let owner = Owner::current().to_string();
            if faults.contains(&Fault::Clock) {
                let dir = match &options.run_dir {
                    Some(d) => d.join("clock"),
                    None => std::env::temp_dir().join(format!("fl-clock-{id}")),
                };
                if crate::clock::libfaketime().is_none() && !crate::clock::vdso::SUPPORTED {
                    return Err(NemesisError::Unsupported(
                        "--nemesis clock needs libfaketime (Debian: apt-get install faketime libfaketime)".into(),
                    ));
                }
                nemesis.clocks = NodeClocks::create(names, &dir)?;
                let files = nemesis.clocks.files();
                nemesis.state.update(|s| s.clock_files = files)?;
            }
            for node in &mut layout.nodes {
                node.env.push((ENV_OWNER.into(), owner.clone()));
                node.env.push((ENV_NODE.into(), node.name.clone()));
                node.env.extend(nemesis.clocks.env(&node.name));
            }
            nemesis.layout = Some(layout);
        }
        Ok(nemesis)
    }

    /// The layout to start the nodes from, when the faults need one.
    pub fn layout(&self) -> Option<&Layout> {
        self.layout.as_ref()
    }

    /// What `test.json` should say about the nemesis.
    pub fn describe(&self) -> Value {
        json!({
            "faults": self.plan.faults,
            "interval_ms": self.plan.interval.as_millis() as u64,
            "mechanism": self.mechanism(),
            "mechanism_reason": self.mechanism_reason,
            "firewall": match &self.network {
                Some(Network::Namespaces(n)) => Some(n.firewall()),
                _ => None,
            },
            "state_file": self.state.get().run_dir.map(|d| d.join(crate::state::RUN_STATE_FILE)),
            "hosts": self.hosts.as_ref().map(|h| h.names()),
            "layout": self.layout,
        })
    }

    /// The started nodes, for process faults. An error when a process fault was asked
    /// for and there are none (an external cluster).
    pub fn attach(&mut self, nodes: Vec<Arc<dyn Node>>) -> Result<(), NemesisError> {
        if nodes.is_empty() {
            if let Some(f) = self.plan.faults.iter().find(|f| f.needs_processes()) {
                return Err(NemesisError::Unsupported(format!(
                    "--nemesis {f} needs nodes that faultline started; this cluster has none"
                )));
            }
        }
        // Without a layout nothing was started under the names given to `prepare`: the
        // nodes are called what the subject calls them (Maelstrom's n0, n1, ...).
        if self.layout.is_none() && !nodes.is_empty() {
            self.names = nodes.iter().map(|n| n.name().to_string()).collect();
        }
        self.nodes = nodes;
        Ok(())
    }

    /// The subject's own router, for partitions when [`Options::routed`].
    pub fn attach_router(&mut self, router: Arc<dyn Router>) {
        self.router = Some(router);
    }

    /// How partitions are made: `namespaces`, `proxies`, `router`, or none yet.
    fn mechanism(&self) -> Option<&'static str> {
        match (&self.network, &self.router) {
            (Some(n), _) => Some(n.mechanism().as_str()),
            (None, Some(_)) => Some("router"),
            (None, None) => None,
        }
    }

    fn node(&self, name: &str) -> Option<&Arc<dyn Node>> {
        self.nodes.iter().find(|n| n.name() == name)
    }

    /// The seeded schedule of the faults on the nodes (after [`Nemesis::attach`]: by
    /// the names the nodes go by).
    pub fn schedule(&self) -> Schedule {
        Schedule::new(self.plan.clone(), self.names.clone(), self.seed)
    }

    /// Injects faults on the schedule until `stop` turns true, then heals everything:
    /// the schedule's [`Timeline`] driven alone, each cue carried out with
    /// [`Nemesis::perform`]. (A run drives the same timeline from its scheduler, on
    /// the nemesis slot; this is the nemesis crate's own entry point.)
    pub async fn run(
        &self,
        events: &dyn Events,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), NemesisError> {
        let mut timeline = Timeline::new(self.schedule());
        let start = tokio::time::Instant::now();
        let mut result = Ok(());
        loop {
            match timeline.next(start.elapsed()) {
                Cue::Done => break,
                Cue::Wait(until) => {
                    // Nothing is outstanding here: a wait is always until a time.
                    let d = until.map_or(Duration::ZERO, |u| u.saturating_sub(start.elapsed()));
                    if wait(&mut stop, d).await {
                        break;
                    }
                }
                cue => {
                    let done = self.perform(&cue, events);
                    timeline.ended(done.is_ok(), start.elapsed());
                    if let Err(e) = done {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        let healed = self.heal(Some(events));
        result.and(healed)
    }

    /// Carries out one cue of a [`Timeline`]: a start ([`Nemesis::inject`]), a stop
    /// ([`Nemesis::heal`], recording the stop), or a strobing clock's flip (whose
    /// failure is only logged: the stop resets the clocks). A wait or the end does
    /// nothing.
    pub fn perform(&self, cue: &Cue, events: &dyn Events) -> Result<(), NemesisError> {
        match cue {
            Cue::Start(step) => self.inject(step, events),
            Cue::Stop(_) => self.heal(Some(events)),
            Cue::Strobe { step, on } => {
                self.strobe(step, *on);
                Ok(())
            }
            Cue::Wait(_) | Cue::Done => Ok(()),
        }
    }

    /// Sets `step`'s strobing clocks to their offsets (`on`) or to the true time.
    fn strobe(&self, step: &Step, on: bool) {
        let Action::Clock(changes) = &step.action else {
            return;
        };
        for (name, change) in changes {
            if let ClockChange::Strobe { ms, .. } = change {
                let ms = if on { *ms } else { 0 };
                if let Err(e) = blocking(|| self.set_clock(name, Some(ms))) {
                    tracing::warn!("strobing {name}'s clock: {e}");
                }
            }
        }
    }

    /// Starts one fault now (outside the schedule, e.g. from a test), recording its
    /// start; [`Nemesis::heal`] stops it.
    pub fn inject(&self, step: &Step, events: &dyn Events) -> Result<(), NemesisError> {
        let failover = step.action == Action::Failover;
        if failover {
            self.store_failover()?;
        }
        let mut value = self.value(&step.action);
        let desc = format!("{} {:?}", step.fault, self.targets(&step.action, &value));
        self.state.update(|s| s.active.push(desc))?;
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Active {
                step: step.clone(),
                stop_value: None,
            });
        if failover {
            // Recorded before the store acts: the fault is the whole failover, the
            // old primary's last moments as primary included.
            events.record(&format!("start-{}", step.fault), value.clone());
        }
        let applied = blocking(|| self.apply(&step.action, &mut value));
        if failover {
            self.keep_stop_value(value);
            return applied;
        }
        applied?;
        if let (Action::Clock(changes), Some(layout)) = (&step.action, &self.layout) {
            // What each node's clock really says now (when it tells: the reference
            // store's /health has wall_clock_ms).
            let observed: serde_json::Map<String, Value> = blocking(|| {
                changes
                    .iter()
                    .filter_map(|(name, _)| {
                        let addr = layout.node(name)?.client_addr();
                        Some((name.clone(), json!(crate::clock::observe_offset_ms(addr)?)))
                    })
                    .collect()
            });
            if !observed.is_empty() {
                value["observed_offset_ms"] = Value::Object(observed);
            }
        }
        tracing::info!(fault = %step.fault, "fault started: {value}");
        events.record(&format!("start-{}", step.fault), value);
        if let Action::Clock(changes) = &step.action {
            for (name, _) in changes {
                if self.clock_mechanism_of(name) != ClockMechanism::Faketime {
                    continue;
                }
                if let Some(p) = self.node(name).and_then(|n| n.program()) {
                    if crate::clock::ignores_libfaketime(&p) {
                        events.note(&format!(
                            "clock fault on {name}: {} is a Go program, which reads the clock through the vDSO and ignores libfaketime; its clock did not move (Linux time namespaces shift only monotonic clocks, so they cannot help either)",
                            p.display()
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Heals every active fault (recording a stop event for each when `events` is
    /// given), and then, to be sure, every kind of fault at once: partitions and packet
    /// faults cleared, clocks reset, paused nodes resumed, stopped nodes restarted.
    /// Idempotent; synchronous, so it can run from `Drop`.
    pub fn heal(&self, events: Option<&dyn Events>) -> Result<(), NemesisError> {
        let active = std::mem::take(&mut *self.active.lock().unwrap_or_else(|e| e.into_inner()));
        let mut first_error: Option<NemesisError> = None;
        let mut note = |r: Result<(), NemesisError>| {
            if let Err(e) = r {
                tracing::error!("healing: {e}");
                first_error.get_or_insert(e);
            }
        };
        for a in active.iter().rev() {
            let step = &a.step;
            let value = if step.action == Action::Failover {
                let (healed, value) = self.heal_failover(a.stop_value.clone());
                note(healed);
                value
            } else {
                note(blocking(|| self.heal_action(&step.action)));
                self.value(&step.action)
            };
            if let Some(ev) = events {
                ev.record(&format!("stop-{}", step.fault), value);
            }
        }
        // Everything, whether or not it was recorded as active.
        note(self.heal_any_failover());
        if let Some(r) = &self.router {
            note(r.heal().map_err(NemesisError::Node));
        }
        if let Some(net) = &self.network {
            note(blocking(|| net.heal_partition()).map_err(Into::into));
            note(blocking(|| net.clear_packets()).map_err(Into::into));
        }
        if !self.clocks.is_empty() {
            note(blocking(|| self.clocks.reset_all()).map_err(Into::into));
            let patches = self.clocks.patches();
            note(
                self.state
                    .update(|s| s.vdso_patches = patches)
                    .map_err(Into::into),
            );
        }
        // All at once: on SSH hosts each resume is a few round trips.
        let resumed: Vec<Result<(), String>> = blocking(|| {
            std::thread::scope(|s| {
                let handles: Vec<_> = self
                    .nodes
                    .iter()
                    .map(|n| s.spawn(move || n.resume()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|_| Err("resume panicked".into())))
                    .collect()
            })
        });
        for r in resumed {
            note(r.map_err(NemesisError::Node));
        }
        note(
            self.state
                .update(|s: &mut State| {
                    s.active.clear();
                    s.paused.clear();
                    for r in &mut s.hosts {
                        r.paused.clear();
                    }
                })
                .map_err(Into::into),
        );
        first_error.map_or(Ok(()), Err)
    }

    /// Heals, then removes the network and marks the state healed. Call after the nodes
    /// stopped. Idempotent; also done on drop.
    pub fn teardown(&mut self) -> Result<(), NemesisError> {
        if self.torn_down {
            return Ok(());
        }
        self.torn_down = true;
        let healed = self.heal(None);
        if let Some(net) = &mut self.network {
            blocking(|| net.teardown());
        }
        self.state.update(|s| {
            s.namespaces.clear();
            s.interfaces.clear();
            s.locks.clear();
            s.clock_files.clear();
            // The nodes on the hosts were stopped before the teardown; their firewall
            // tables went with the network.
            s.hosts.clear();
        })?;
        self.state.finish()?;
        healed
    }

    /// The state file's path in the run directory, if any.
    pub fn state_path(&self) -> Option<PathBuf> {
        self.state
            .get()
            .run_dir
            .map(|d| Path::new(&d).join(crate::state::RUN_STATE_FILE))
    }
}

impl Drop for Nemesis {
    fn drop(&mut self) {
        let _ = self.teardown();
    }
}

/// Waits `d`, or less if `stop` turns true; whether the phase is over.
async fn wait(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    if *stop.borrow() {
        return true;
    }
    {
        let turned = async {
            if stop.wait_for(|v| *v).await.is_err() {
                // The sender is gone without saying stop: only the time counts.
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = turned => {}
        }
    }
    let over = *stop.borrow();
    over
}

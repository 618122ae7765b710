//! The nemesis hook of the run flow. Before the nodes start, [`NemesisHook::prepare`]
//! sets up what the faults need (the network layout for partitions and packet faults,
//! fake clocks for clock faults) and hands the subject the [`Layout`] to start its
//! nodes from. For the main phase [`NemesisHook::start`] attaches the cluster's node
//! processes, the store's own failover if it has one, and the recorder, and gives the
//! phase its nemesis slot: the seeded fault schedule as a generator
//! ([`schedule::FaultSchedule`]) and the client that carries out its operations
//! ([`client::FaultClient`]; each start and stop is a `nemesis` event), run by the
//! scheduler beside the clients. The heal leaves no fault behind; dropping the hook
//! tears the network down.
//!
//! The faults themselves live in the `nemesis` crate, and so does the node process
//! type the subjects start ([`nemesis::NodeProcess`]); this file adapts the recorder.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nemesis::clock::ClockMechanism;
use nemesis::{Events, Fault, Layout, Mechanism, Nemesis, Node, Options, Plan, Topology};
use workloads::generator::time_limit;

use crate::cluster::NodeProcess;
use crate::recorder::Recorder;
use crate::run::scheduler::NemesisSlot;
use crate::subject::NetworkNeeds;

pub mod client;
pub mod schedule;

use client::FaultClient;
use schedule::FaultSchedule;

/// What a nemesis gets to work with.
#[derive(Clone)]
pub struct NemesisContext {
    /// The faults asked for (`partition`, `kill`, ...).
    pub faults: Vec<String>,
    /// Seconds between faults (`--nemesis-interval`).
    pub interval: Duration,
    /// The run's seed (for a reproducible fault schedule).
    pub seed: u64,
    /// The node names, in order.
    pub node_names: Vec<String>,
    /// The node processes faultline started (empty for an external cluster).
    pub nodes: Vec<Arc<NodeProcess>>,
    /// Other node processes the subject lets the nemesis fault (Maelstrom nodes).
    pub other_nodes: Vec<Arc<dyn Node>>,
    /// The subject's own message router, for partitions, if it has one.
    pub router: Option<Arc<dyn nemesis::Router>>,
    /// The store's own failover, for `--nemesis failover`, if it has one.
    pub failover: Option<Arc<dyn nemesis::Failover>>,
    /// Where to record `{"process":"nemesis", ...}` events.
    pub recorder: Recorder,
    /// The main phase's time limit: no fault starts or stops after it (the main
    /// phase's stop, at the limit or sooner, ends the schedule too).
    pub time_limit: Duration,
}

/// A fault schedule for the main phase, and its heal.
#[async_trait::async_trait]
pub trait NemesisHook: Send {
    /// Before the nodes start: prepares what the faults need for nodes `names`, whose
    /// store needs `needs` from a network; the layout the subject must start its nodes
    /// from, if the faults need one.
    async fn prepare(
        &mut self,
        names: &[String],
        needs: NetworkNeeds,
        run_dir: &Path,
    ) -> anyhow::Result<Option<Layout>>;
    /// The nodes will run on these SSH hosts (`--hosts`): call before
    /// [`NemesisHook::prepare`].
    fn on_hosts(&mut self, _hosts: Arc<nemesis::host::remote::RemoteHosts>) {}
    /// The main phase's nemesis slot: the fault schedule and the client that
    /// performs it, for the scheduler to run beside the clients.
    async fn start(&mut self, ctx: NemesisContext) -> anyhow::Result<NemesisSlot>;
    /// After the main phase: the error that stopped the schedule (a fault that could
    /// not start, stop or heal), if one did.
    fn outcome(&mut self) -> anyhow::Result<()>;
    /// Heals every fault it started. Called after the main phase, also after errors
    /// and Ctrl-C; must be idempotent.
    async fn heal(&mut self) -> anyhow::Result<()>;
    /// What `test.json` records about the faults (mechanism, layout, state file).
    fn describe(&self) -> serde_json::Value;
}

/// The faults `--nemesis` accepts.
pub const FAULTS: &[&str] = &[
    "kill",
    "stop",
    "pause",
    "partition",
    "clock",
    "packet",
    "failover",
];

/// The environment variable that forces the network mechanism (`proxies` or
/// `namespaces`); chosen automatically otherwise.
pub const NETWORK_ENV: &str = "FAULTLINE_NETWORK";

/// Splits `partition:TOPOLOGY` items off the fault list: the faults, and the partition
/// topologies asked for (empty: the default mix).
pub(crate) fn split_topologies(faults: &[String]) -> anyhow::Result<(Vec<String>, Vec<Topology>)> {
    let mut plain = Vec::new();
    let mut topologies = Vec::new();
    for item in faults.iter().flat_map(|s| s.split(',')) {
        match item.trim().split_once(':') {
            Some(("partition", topology)) => {
                topologies.push(
                    topology.parse::<Topology>().map_err(|e| {
                        anyhow::anyhow!("--nemesis {item}: {e} (e.g. partition:one)")
                    })?,
                );
                plain.push("partition".to_string());
            }
            _ => plain.push(item.trim().to_string()),
        }
    }
    Ok((plain, topologies))
}

/// The hook for `faults`; `None` when no faults are asked for. An item
/// `partition:TOPOLOGY` (`one`, `halves`, `random-halves`, `majorities-ring`, `bridge`)
/// asks for partitions of that topology only; plain `partition` draws from all of them.
pub fn hook_for(
    faults: &[String],
    interval: Duration,
    seed: u64,
    clock_mechanism: ClockMechanism,
) -> anyhow::Result<Option<Box<dyn NemesisHook>>> {
    let (faults, topologies) = split_topologies(faults)?;
    let parsed = Fault::parse_list(&faults).map_err(|e| anyhow::anyhow!("--nemesis: {e}"))?;
    if parsed.is_empty() {
        return Ok(None);
    }
    let mut plan = Plan::new(parsed, interval);
    if !topologies.is_empty() {
        plan.topologies = topologies;
    }
    let mechanism = match std::env::var(NETWORK_ENV) {
        Ok(m) if !m.is_empty() => Some(
            m.parse::<Mechanism>()
                .map_err(|e| anyhow::anyhow!("{NETWORK_ENV}: {e}"))?,
        ),
        _ => None,
    };
    Ok(Some(Box::new(Faults {
        plan,
        seed,
        mechanism,
        clock_mechanism,
        nemesis: None,
        client: None,
        hosts: None,
    })))
}

/// The nemesis crate's faults, driven by the run flow.
pub struct Faults {
    plan: Plan,
    seed: u64,
    mechanism: Option<Mechanism>,
    /// How clock faults reach each node (`--clock-mechanism`).
    clock_mechanism: ClockMechanism,
    nemesis: Option<Arc<Nemesis>>,
    /// The client of the main phase's nemesis slot, once started.
    client: Option<Arc<FaultClient>>,
    /// The SSH hosts the nodes run on, if any.
    hosts: Option<Arc<nemesis::host::remote::RemoteHosts>>,
}

impl Faults {
    async fn ensure(
        &mut self,
        names: &[String],
        needs: NetworkNeeds,
        run_dir: Option<&Path>,
    ) -> anyhow::Result<()> {
        if self.nemesis.is_none() {
            let mechanism = match (needs.mechanism, self.mechanism) {
                (Some(needed), Some(asked)) if needed != asked => anyhow::bail!(
                    "{NETWORK_ENV}={}: this store's nodes can only be partitioned with {}; unset {NETWORK_ENV}",
                    asked.as_str(),
                    needed.as_str()
                ),
                (needed, asked) => needed.or(asked),
            };
            let n = Nemesis::prepare_on(
                Options {
                    plan: self.plan.clone(),
                    seed: self.seed,
                    mechanism,
                    run_dir: run_dir.map(Path::to_path_buf),
                    services: needs.services,
                    ports: None,
                    routed: needs.routed,
                },
                names,
                self.hosts.clone(),
            )
            .await?;
            let mut n = n;
            n.set_clock_mechanism(self.clock_mechanism);
            self.nemesis = Some(Arc::new(n));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl NemesisHook for Faults {
    fn on_hosts(&mut self, hosts: Arc<nemesis::host::remote::RemoteHosts>) {
        self.hosts = Some(hosts);
    }

    async fn prepare(
        &mut self,
        names: &[String],
        needs: NetworkNeeds,
        run_dir: &Path,
    ) -> anyhow::Result<Option<Layout>> {
        self.ensure(names, needs, Some(run_dir)).await?;
        Ok(self.nemesis.as_ref().and_then(|n| n.layout().cloned()))
    }

    async fn start(&mut self, ctx: NemesisContext) -> anyhow::Result<NemesisSlot> {
        self.ensure(&ctx.node_names, NetworkNeeds::default(), None)
            .await?;
        let shared = self.nemesis.as_mut().expect("prepared above");
        let nemesis = Arc::get_mut(shared)
            .ok_or_else(|| anyhow::anyhow!("the nemesis is already running"))?;
        nemesis.attach(
            ctx.nodes
                .iter()
                .map(|n| n.clone() as Arc<dyn Node>)
                .chain(ctx.other_nodes.iter().cloned())
                .collect(),
        )?;
        if let Some(router) = &ctx.router {
            nemesis.attach_router(router.clone());
        }
        if let Some(failover) = &ctx.failover {
            nemesis.attach_failover(failover.clone());
        }
        let schedule = nemesis.schedule();
        let events = RecorderEvents(ctx.recorder.clone());
        let client = Arc::new(FaultClient::new(shared.clone(), events));
        self.client = Some(client.clone());
        Ok(NemesisSlot {
            generator: Box::new(time_limit(ctx.time_limit, FaultSchedule::new(schedule))),
            client,
        })
    }

    fn outcome(&mut self) -> anyhow::Result<()> {
        match self.client.take().and_then(|c| c.take_error()) {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    async fn heal(&mut self) -> anyhow::Result<()> {
        if let Some(n) = &self.nemesis {
            n.heal(None)?;
        }
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        self.nemesis
            .as_deref()
            .map_or(serde_json::Value::Null, Nemesis::describe)
    }
}

/// Nemesis events into the history.
pub(crate) struct RecorderEvents(Recorder);

impl Events for RecorderEvents {
    fn record(&self, f: &str, value: serde_json::Value) {
        self.0.nemesis(f, &checkers::Value::from_json(&value));
    }

    fn note(&self, message: &str) {
        // Said once to the person (the log gets it at debug level, not a second time).
        tracing::debug!("{message}");
        eprintln!("faultline: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_item_with_a_topology_asks_for_partitions_of_that_topology_only() {
        let (faults, topologies) =
            split_topologies(&["kill,partition:one".into(), "partition:halves".into()]).unwrap();
        assert_eq!(faults, ["kill", "partition", "partition"]);
        assert_eq!(topologies, [Topology::One, Topology::Halves]);
    }

    #[test]
    fn an_unknown_topology_is_an_error_that_names_the_item() {
        let e = split_topologies(&["partition:triangle".into()]).unwrap_err();
        assert!(e.to_string().contains("partition:triangle"), "{e}");
    }
}

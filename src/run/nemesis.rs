//! The nemesis hook of the run flow. Before the nodes start, [`NemesisHook::prepare`]
//! sets up what the faults need (the network layout for partitions and packet faults,
//! fake clocks for clock faults) and hands the subject the [`Layout`] to start its
//! nodes from. During the main phase a task runs the seeded fault schedule with the
//! cluster's node processes, the store's own failover if it has one, and the recorder
//! (each start and stop is a `nemesis` event). The heal leaves no fault behind;
//! dropping the hook tears the network down.
//!
//! The faults themselves live in the `nemesis` crate, and so does the node process
//! type the subjects start ([`nemesis::NodeProcess`]); this file adapts the recorder.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nemesis::clock::ClockMechanism;
use nemesis::{Events, Fault, Layout, Mechanism, Nemesis, Node, Options, Plan, Topology};
use tokio::sync::watch;

use crate::cluster::NodeProcess;
use crate::recorder::Recorder;
use crate::subject::NetworkNeeds;

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
    /// Turns `true` when the main phase ends (time limit, Ctrl-C, abort).
    pub stop: watch::Receiver<bool>,
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
    /// Injects faults until `ctx.stop` turns true.
    async fn run(&mut self, ctx: NemesisContext) -> anyhow::Result<()>;
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
    nemesis: Option<Nemesis>,
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
            self.nemesis = Some(n);
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

    async fn run(&mut self, ctx: NemesisContext) -> anyhow::Result<()> {
        self.ensure(&ctx.node_names, NetworkNeeds::default(), None)
            .await?;
        let nemesis = self.nemesis.as_mut().expect("prepared above");
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
        let events = RecorderEvents(ctx.recorder.clone());
        nemesis.run(&events, ctx.stop.clone()).await?;
        Ok(())
    }

    async fn heal(&mut self) -> anyhow::Result<()> {
        if let Some(n) = &self.nemesis {
            n.heal(None)?;
        }
        Ok(())
    }

    fn describe(&self) -> serde_json::Value {
        self.nemesis
            .as_ref()
            .map_or(serde_json::Value::Null, Nemesis::describe)
    }
}

/// Nemesis events into the history.
struct RecorderEvents(Recorder);

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

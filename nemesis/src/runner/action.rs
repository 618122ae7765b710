//! What each scheduled action does to the cluster: carrying it out (`apply`),
//! healing it (`heal_action`) and the value its history events carry
//! (`value`: its exact targets, every value has `nodes`).

use serde_json::{json, Value};

use super::{Nemesis, NemesisError};
use crate::clock::ClockChange;
use crate::network::Network;
use crate::node::Node;
use crate::partition::Partition;
use crate::schedule::Action;

impl Nemesis {
    fn partition(&self, p: &Partition) -> Result<(), NemesisError> {
        match &self.router {
            Some(r) => r.partition(p).map_err(NemesisError::Node),
            None => Ok(self.network("a partition")?.partition(p)?),
        }
    }

    pub(super) fn heal_partition(&self) -> Result<(), NemesisError> {
        match &self.router {
            Some(r) => r.heal().map_err(NemesisError::Node),
            None => Ok(self.network("a partition")?.heal_partition()?),
        }
    }

    pub(super) fn value(&self, action: &Action) -> Value {
        let mut v = self.value_without_hosts(action);
        if self.hosts.is_some() {
            let hosts: serde_json::Map<String, Value> = action
                .nodes()
                .iter()
                .filter_map(|n| Some((n.clone(), json!(self.host_of(n)?))))
                .collect();
            v["hosts"] = Value::Object(hosts);
        }
        v
    }

    fn value_without_hosts(&self, action: &Action) -> Value {
        let mechanism = self.mechanism();
        match action {
            Action::Kill(n) | Action::Stop(n) | Action::Pause(n) => json!({ "nodes": n }),
            Action::Partition(p) => json!({
                "kind": p.kind, "groups": p.groups, "grudge": p.grudge,
                "nodes": action.nodes(), "mechanism": mechanism,
            }),
            Action::Clock(changes) => json!({
                "nodes": action.nodes(),
                "changes": changes.iter().map(|(n, c)| (n.clone(), json!(c))).collect::<serde_json::Map<_, _>>(),
                "clock_mechanism": changes.iter().map(|(n, _)| (n.clone(), json!(self.clock_mechanism_of(n)))).collect::<serde_json::Map<_, _>>(),
            }),
            Action::Packet(nodes, f) => {
                let mut v = f.to_json();
                v["nodes"] = json!(nodes);
                v["mechanism"] = json!(mechanism);
                v
            }
            Action::Failover => self.failover_value(),
        }
    }

    pub(super) fn network(&self, what: &str) -> Result<&Network, NemesisError> {
        self.network.as_ref().ok_or_else(|| {
            NemesisError::Unsupported(format!(
                "{what} needs the network prepared before the nodes start"
            ))
        })
    }

    pub(super) fn apply(&self, action: &Action, value: &mut Value) -> Result<(), NemesisError> {
        let each = |nodes: &[String], f: &dyn Fn(&dyn Node) -> Result<(), String>| {
            for name in nodes {
                let node = self
                    .node(name)
                    .ok_or_else(|| NemesisError::Node(format!("no node {name} to fault")))?;
                f(node.as_ref()).map_err(NemesisError::Node)?;
            }
            Ok::<(), NemesisError>(())
        };
        match action {
            Action::Kill(nodes) => each(nodes, &|n| n.kill()),
            Action::Stop(nodes) => each(nodes, &|n| n.stop()),
            Action::Pause(nodes) => {
                if self.hosts.is_some() {
                    // Recorded before the signal: a driver killed right after it
                    // leaves cleanup the groups to continue on their hosts.
                    let paused: Vec<(String, i32)> = nodes
                        .iter()
                        .filter_map(|name| self.node(name))
                        .map(|n| (n.name().to_string(), n.pid()))
                        .collect();
                    self.state.update(|s| {
                        for (node, pid) in paused {
                            if let Some(r) = s.hosts.iter_mut().find(|r| r.nodes.contains(&node)) {
                                r.paused.push((node, pid));
                            }
                        }
                    })?;
                    each(nodes, &|n| n.pause())?;
                    return Ok(());
                }
                each(nodes, &|n| n.pause())?;
                let paused: Vec<(String, i32, u64)> = nodes
                    .iter()
                    .filter_map(|name| self.node(name))
                    .map(|n| {
                        (
                            n.name().to_string(),
                            n.pid(),
                            crate::owner::start_time(n.pid()).unwrap_or(0),
                        )
                    })
                    .collect();
                self.state.update(|s| s.paused.extend(paused))?;
                Ok(())
            }
            Action::Partition(p) => self.partition(p),
            Action::Packet(nodes, f) => {
                Ok(self
                    .network("a packet fault")?
                    .set_packet(nodes, &self.names, f)?)
            }
            Action::Clock(changes) => {
                for (name, change) in changes {
                    match change {
                        ClockChange::Bump { ms } | ClockChange::Strobe { ms, .. } => {
                            self.set_clock(name, Some(*ms))?
                        }
                        ClockChange::Reset => self.set_clock(name, None)?,
                    }
                }
                Ok(())
            }
            Action::Failover => self.fail_over(value),
        }
    }

    pub(super) fn heal_action(&self, action: &Action) -> Result<(), NemesisError> {
        match action {
            Action::Kill(nodes) | Action::Stop(nodes) => {
                for name in nodes {
                    if let Some(n) = self.node(name) {
                        if !n.is_running() {
                            n.restart().map_err(NemesisError::Node)?;
                        }
                    }
                }
                Ok(())
            }
            Action::Pause(nodes) => {
                for name in nodes {
                    if let Some(n) = self.node(name) {
                        n.resume().map_err(NemesisError::Node)?;
                    }
                }
                Ok(())
            }
            Action::Partition(_) => self.heal_partition(),
            Action::Packet(..) => Ok(self.network("a packet fault")?.clear_packets()?),
            Action::Clock(changes) => {
                for (name, _) in changes {
                    self.set_clock(name, None)?;
                }
                Ok(())
            }
            Action::Failover => self.heal_failover(None).0,
        }
    }
}

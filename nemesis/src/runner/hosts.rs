//! The nemesis of a run whose nodes are on SSH hosts (`--hosts`): node `names[i]` on
//! host `i`, its layout from [`remote::layout`], partitions as faultline's firewall
//! table on each host ([`HostNet`]), and every host recorded in the state file with
//! its firewall and paused nodes before anything is installed there.

use std::sync::{Arc, Mutex};

use super::Nemesis;
use crate::clock::NodeClocks;
use crate::host::remote::{self, HostNet, HostRecord, RemoteHosts};
use crate::network::{Network, NetworkError};
use crate::owner::{Owner, ENV_NODE, ENV_OWNER};
use crate::state::StateFile;
use crate::{Fault, NemesisError, Options};

impl Nemesis {
    pub(super) async fn prepare_hosts(
        options: Options,
        names: &[String],
        hosts: Arc<RemoteHosts>,
    ) -> Result<Nemesis, NemesisError> {
        let id = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
        let faults = &options.plan.faults;
        if let Some(f) = faults
            .iter()
            .find(|f| matches!(f, Fault::Clock | Fault::Packet))
        {
            return Err(NemesisError::Unsupported(format!(
                "--nemesis {f}: not yet built over SSH (--hosts); use partition, kill, stop or pause"
            )));
        }
        if hosts.hosts.len() < names.len() {
            return Err(NemesisError::Unsupported(format!(
                "{} nodes on {} hosts: one node per host",
                names.len(),
                hosts.hosts.len()
            )));
        }
        let state = StateFile::create(&id, options.run_dir.as_deref())?;
        let mut records: Vec<HostRecord> = names
            .iter()
            .zip(&hosts.hosts)
            .map(|(name, h)| HostRecord {
                destination: h.addr.destination(),
                ssh: hosts.settings.clone(),
                firewall: None,
                nodes: vec![name.clone()],
                paused: Vec::new(),
            })
            .collect();
        // Recorded before anything is installed, so a driver killed in between leaves
        // cleanup the hosts to look at.
        state.update(|s| s.hosts = records.clone())?;
        let mut network = None;
        if faults.contains(&Fault::Partition) {
            let (h, n) = (hosts.clone(), names.to_vec());
            let net = tokio::task::spawn_blocking(move || HostNet::create(&h, &n))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?
                .map_err(NetworkError::from)?;
            for (r, (_, fw)) in records.iter_mut().zip(net.firewalls()) {
                r.firewall = Some(fw);
            }
            state.update(|s| s.hosts = records.clone())?;
            network = Some(Network::Hosts(net));
        }
        let owner = Owner::current().to_string();
        let mut layout = remote::layout(&hosts, names, options.services);
        for node in &mut layout.nodes {
            node.env.push((ENV_OWNER.into(), owner.clone()));
            node.env.push((ENV_NODE.into(), node.name.clone()));
        }
        Ok(Nemesis {
            plan: options.plan.clone(),
            seed: options.seed,
            names: names.to_vec(),
            state,
            network,
            router: None,
            mechanism_reason: "--hosts: firewall rules on each host over SSH".into(),
            clocks: NodeClocks::default(),
            layout: Some(layout),
            nodes: Vec::new(),
            failover: None,
            active: Mutex::new(Vec::new()),
            torn_down: false,
            hosts: Some(hosts),
        })
    }

    /// The host of node `name`, when the nodes run on SSH hosts.
    pub(super) fn host_of(&self, name: &str) -> Option<String> {
        let hosts = self.hosts.as_ref()?;
        let i = self.names.iter().position(|n| n == name)?;
        hosts.hosts.get(i).map(|h| h.addr.destination())
    }
}

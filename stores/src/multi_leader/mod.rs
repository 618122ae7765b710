//! `--mode multi-leader`: every node takes writes on its own copy and answers at once;
//! updates replicate asynchronously along `--topology` (circular, star, all-to-all),
//! conflicts resolve by `--resolution` (lww, siblings, crdt — see [`update`]) and with
//! `--causality version-vectors` a node applies an update only after every update it
//! depends on (causal delivery; it buffers the rest), with `none` on arrival.
//!
//! Modules: [`update`] (updates and how a key absorbs them), [`topology`] (who passes
//! an update to whom), [`log`] (the durable log of every update a node has seen),
//! [`links`] (the per-peer senders and `POST /ml/replicate`), [`client`] (HTTP-KV).

pub mod client;
pub mod links;
pub mod log;
pub mod topology;
pub mod update;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;

use self::update::{KeyState, Resolution, Update};
use crate::config::{Args, Fsync};

/// What the replicas agree on, behind one lock.
#[derive(Debug, Default)]
pub struct State {
    /// Per origin, how many of its updates are applied, contiguously from 1.
    pub applied: BTreeMap<String, u64>,
    /// Every update seen (applied or waiting), as (origin, seq).
    pub seen: BTreeSet<(String, u64)>,
    /// Updates waiting for their dependencies (version vectors only).
    pub waiting: Vec<Update>,
    /// Per key.
    pub keys: BTreeMap<String, KeyState>,
    /// With `--causality none`, updates applied out of order per origin.
    pub applied_loose: BTreeSet<(String, u64)>,
}

impl State {
    /// Whether `u` can be applied now under causal delivery.
    pub fn deliverable(&self, u: &Update) -> bool {
        let have = |o: &str| self.applied.get(o).copied().unwrap_or(0);
        have(&u.origin) + 1 == u.seq && u.deps.iter().all(|(o, n)| o == &u.origin || have(o) >= *n)
    }

    fn apply(&mut self, u: Update, how: Resolution) {
        let a = self.applied.entry(u.origin.clone()).or_insert(0);
        if u.seq == *a + 1 {
            *a = u.seq;
            while self.applied_loose.remove(&(u.origin.clone(), *a + 1)) {
                *a += 1;
            }
        } else if u.seq > *a {
            self.applied_loose.insert((u.origin.clone(), u.seq));
        }
        self.keys.entry(u.key.clone()).or_default().absorb(u, how);
    }

    /// Takes in `u` (already known to be new): applies it (and whatever waited for
    /// it) or, under causal delivery, keeps it waiting.
    pub fn take(&mut self, u: Update, how: Resolution, causal: bool) {
        self.seen.insert((u.origin.clone(), u.seq));
        if !causal {
            self.apply(u, how);
            return;
        }
        self.waiting.push(u);
        while let Some(i) = self.waiting.iter().position(|w| self.deliverable(w)) {
            let w = self.waiting.swap_remove(i);
            self.apply(w, how);
        }
    }
}

/// One multi-leader node.
#[derive(Debug)]
pub struct Node {
    /// `--node`.
    pub name: String,
    /// The command line.
    pub args: Args,
    /// Peer name → address.
    pub peers: BTreeMap<String, String>,
    /// Every member, sorted.
    pub members: Vec<String>,
    state: Mutex<(State, log::Log)>,
    /// Per peer, the queue its sender drains.
    pub links: links::Links,
    /// For peer requests.
    pub http: reqwest::Client,
}

impl Node {
    /// The state and log, locked.
    pub fn lock(&self) -> MutexGuard<'_, (State, log::Log)> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How conflicts resolve.
    pub fn resolution(&self) -> Resolution {
        use crate::config::{Causality, Resolve};
        match self.args.resolution {
            Resolve::Lww => Resolution::Lww {
                causal: self.args.causality == Causality::VersionVectors,
            },
            Resolve::Siblings => Resolution::Siblings,
            Resolve::Crdt => Resolution::Crdt,
        }
    }

    /// Whether delivery is causal.
    pub fn causal(&self) -> bool {
        self.args.causality == crate::config::Causality::VersionVectors
    }

    /// Takes in an update from a peer or a client: logs it, applies it and passes it
    /// on along the topology. An update seen before is ignored. `Err`: the log failed.
    pub fn receive(&self, u: Update) -> Result<bool, log::LogError> {
        {
            let mut g = self.lock();
            let (st, log) = &mut *g;
            if st.seen.contains(&(u.origin.clone(), u.seq)) {
                return Ok(false);
            }
            log.append(&u)?;
            st.take(u.clone(), self.resolution(), self.causal());
        }
        self.pass_on(&u);
        Ok(true)
    }

    /// Makes a new update of `key` at this node from what `effect` computes out of the
    /// key's current state, logs it, applies it and passes it on. `Err(Some(x))`: the
    /// effect refused (x says why); `Err(None)`: the log failed.
    pub fn originate<E>(
        &self,
        key: &str,
        effect: impl FnOnce(Option<&KeyState>) -> Result<update::Effect, E>,
    ) -> Result<(), Option<E>> {
        let u = {
            let mut g = self.lock();
            let (st, log) = &mut *g;
            let effect = effect(st.keys.get(key)).map_err(Some)?;
            let seq = st.applied.get(&self.name).copied().unwrap_or(0) + 1;
            let mut deps = st.applied.clone();
            deps.insert(self.name.clone(), seq);
            let u = Update {
                origin: self.name.clone(),
                seq,
                ts: crate::node::wall_clock_ms(),
                deps,
                key: key.to_string(),
                effect,
            };
            if let Err(e) = log.append(&u) {
                tracing::error!(error = %e, "log append failed");
                return Err(None);
            }
            st.take(u.clone(), self.resolution(), self.causal());
            u
        };
        self.pass_on(&u);
        Ok(())
    }

    /// Queues `u` for the peers the topology says.
    pub fn pass_on(&self, u: &Update) {
        for peer in topology::next_hops(self.args.topology, &self.members, &self.name, &u.origin) {
            self.links.send(&peer, u.clone());
        }
    }
}

/// Runs a multi-leader node until SIGTERM/SIGINT.
pub async fn run(
    args: Args,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (log, replayed) = log::Log::open(&args.data_dir, args.fsync == Fsync::Always)
        .with_context(|| format!("opening data dir {}", args.data_dir.display()))?;
    let peers = args.peer_map();
    let mut members: Vec<String> = peers.keys().cloned().collect();
    members.push(args.node.clone());
    members.sort();
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let node = Arc::new(Node {
        name: args.node.clone(),
        links: links::Links::new(&peers),
        http: reqwest::Client::builder()
            .pool_idle_timeout(std::time::Duration::from_secs(5))
            .build()?,
        peers,
        members,
        state: Mutex::new((State::default(), log)),
        args,
    });
    {
        let mut g = node.lock();
        for u in &replayed {
            if !g.0.seen.contains(&(u.origin.clone(), u.seq)) {
                g.0.take(u.clone(), node.resolution(), node.causal());
            }
        }
    }
    // What this node had to pass on may not have left before it stopped: again (the
    // receivers ignore what they have seen).
    for u in &replayed {
        node.pass_on(u);
    }
    links::spawn_senders(&node);
    tracing::info!(node = %node.name, topology = ?node.args.topology,
        resolution = ?node.args.resolution, causality = ?node.args.causality,
        replayed = replayed.len(), "faultline-store (multi-leader) up");
    let app = client::routes()
        .merge(links::routes())
        .with_state(node.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("stopped cleanly");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::update::Effect;
    use super::*;
    use serde_json::json;

    fn up(origin: &str, seq: u64, deps: &[(&str, u64)], value: i64) -> Update {
        let mut d: BTreeMap<String, u64> = deps.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        d.insert(origin.to_string(), seq);
        Update {
            origin: origin.into(),
            seq,
            ts: 1,
            deps: d,
            key: format!("k{origin}"),
            effect: Effect::Set(json!(value)),
        }
    }

    #[test]
    fn causal_delivery_holds_an_update_until_what_it_depends_on_arrives() {
        let x = up("n1", 1, &[], 1);
        let y = up("n2", 1, &[("n1", 1)], 2);
        let mut st = State::default();
        let how = Resolution::Lww { causal: true };
        st.take(y.clone(), how, true);
        assert!(st.keys.is_empty(), "y waits for x");
        st.take(x.clone(), how, true);
        assert_eq!(st.keys["kn2"].value(), Some(json!(2)));
        assert_eq!(st.applied["n1"], 1);
        // Without causal delivery y shows before x exists.
        let mut st = State::default();
        st.take(y, how, false);
        assert_eq!(st.keys["kn2"].value(), Some(json!(2)));
        assert!(!st.keys.contains_key("kn1"));
        st.take(x, how, false);
        assert_eq!(st.applied["n1"], 1);
    }
}

//! The resolved configuration of a run: everything `faultline run` decided, written
//! to `test.json` (and read back by `faultline run --from test.json`), with the exact
//! command line that runs the same test again. It is the serializable view of a
//! [`super::plan::RunPlan`], which checks it.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A run, fully resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The test's name (directory under the results root).
    pub name: String,
    /// `--store`.
    pub store: String,
    /// `--cluster FILE`.
    pub cluster: Option<PathBuf>,
    /// `--addrs` (for `--store http`).
    pub addrs: Vec<String>,
    /// `--bin` (a store program, e.g. for maelstrom).
    pub bin: Option<PathBuf>,
    /// `--workload`.
    pub workload: String,
    /// `--nodes`.
    pub nodes: usize,
    /// `--concurrency`: logical client processes at a time.
    pub concurrency: usize,
    /// `--rate`: operations per second across all clients (0: unlimited).
    pub rate: f64,
    /// `--time-limit`: length of the main phase.
    #[serde(with = "humantime_serde_compat")]
    pub time_limit: Duration,
    /// `--op-timeout`: an operation not answered in time is indeterminate.
    #[serde(with = "humantime_serde_compat")]
    pub op_timeout: Duration,
    /// `--keys`: how many keys the workload uses.
    pub keys: usize,
    /// `--key-dist`: uniform or zipf[:S].
    pub key_distribution: String,
    /// `--txn-length`: most micro-ops per transaction (list-append, rw-register).
    #[serde(default = "default_txn_length")]
    pub txn_length: usize,
    /// `--active-keys`: keys in use at a time (list-append, rw-register).
    #[serde(default = "default_active_keys")]
    pub active_keys: usize,
    /// `--appends-per-key`: appends (writes) a key gets before it rotates.
    #[serde(default = "default_appends_per_key")]
    pub appends_per_key: usize,
    /// `--seed`.
    pub seed: u64,
    /// `--results`: the results root.
    pub results: PathBuf,
    /// `--nemesis`: the faults.
    pub nemesis: Vec<String>,
    /// `--nemesis-interval`.
    #[serde(with = "humantime_serde_compat")]
    pub nemesis_interval: Duration,
    /// The store's own options (`--n`, `--w`, `--conflict`, ...).
    pub store_options: Vec<(String, String)>,
    /// `--base-port`.
    pub base_port: Option<u16>,
    /// `--ready-timeout`.
    #[serde(with = "humantime_serde_compat")]
    pub ready_timeout: Duration,
    /// `--quiesce`: the wait between heal and final reads.
    #[serde(with = "humantime_serde_compat")]
    pub quiesce: Duration,
    /// `--check-timeout`: the checkers' budget.
    #[serde(with = "humantime_serde_compat")]
    pub check_timeout: Duration,
    /// `--consistency`: the models to check (empty: the workload's own checks).
    #[serde(default)]
    pub consistency: Vec<String>,
    /// `--clock-mechanism`: how clock faults reach a node (auto, faketime, vdso).
    #[serde(default)]
    pub clock_mechanism: nemesis::clock::ClockMechanism,
    /// `--hosts`: the machines to run the nodes on over SSH (`[user@]address[:port]`),
    /// one node each; empty: this machine.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// `--ssh-key`: the private key to log in to the hosts with.
    #[serde(default)]
    pub ssh_key: Option<PathBuf>,
    /// `--ssh-option KEY=VALUE`: OpenSSH options for the hosts.
    #[serde(default)]
    pub ssh_options: Vec<(String, String)>,
}

impl RunConfig {
    /// The command line that runs this test again, same seed.
    pub fn command(&self) -> String {
        let mut a: Vec<String> = vec!["faultline".into(), "run".into()];
        let mut flag = |k: &str, v: String| {
            a.push(format!("--{k}"));
            a.push(v);
        };
        match &self.cluster {
            Some(c) => flag("cluster", c.display().to_string()),
            None => flag("store", self.store.clone()),
        }
        if !self.addrs.is_empty() {
            flag("addrs", self.addrs.join(","));
        }
        if !self.hosts.is_empty() {
            flag("hosts", self.hosts.join(","));
        }
        if let Some(k) = &self.ssh_key {
            flag("ssh-key", k.display().to_string());
        }
        for (k, v) in &self.ssh_options {
            flag("ssh-option", format!("{k}={v}"));
        }
        if let Some(b) = &self.bin {
            flag("bin", b.display().to_string());
        }
        flag("workload", self.workload.clone());
        flag("nodes", self.nodes.to_string());
        flag("concurrency", self.concurrency.to_string());
        flag("rate", self.rate.to_string());
        flag("time-limit", fmt_duration(self.time_limit));
        flag("op-timeout", fmt_duration(self.op_timeout));
        flag("keys", self.keys.to_string());
        flag("key-dist", self.key_distribution.clone());
        if matches!(self.workload.as_str(), "list-append" | "rw-register") {
            flag("txn-length", self.txn_length.to_string());
            flag("active-keys", self.active_keys.to_string());
            flag("appends-per-key", self.appends_per_key.to_string());
        }
        flag("seed", self.seed.to_string());
        flag("name", self.name.clone());
        flag("results", self.results.display().to_string());
        if self.nemesis.is_empty() {
            // Without the flag a re-run would get the store's default faults.
            flag("nemesis", "none".to_string());
        } else {
            flag("nemesis", self.nemesis.join(","));
            flag("nemesis-interval", fmt_duration(self.nemesis_interval));
            if self.clock_mechanism != nemesis::clock::ClockMechanism::Auto {
                flag("clock-mechanism", self.clock_mechanism.to_string());
            }
        }
        for (k, v) in &self.store_options {
            flag(k, v.clone());
        }
        if let Some(p) = self.base_port {
            flag("base-port", p.to_string());
        }
        flag("ready-timeout", fmt_duration(self.ready_timeout));
        flag("quiesce", fmt_duration(self.quiesce));
        flag("check-timeout", fmt_duration(self.check_timeout));
        for c in &self.consistency {
            flag("consistency", c.clone());
        }
        shlex::try_join(a.iter().map(String::as_str)).unwrap_or_else(|_| a.join(" "))
    }
}

fn default_txn_length() -> usize {
    workloads::TxnShape::default().txn_length
}

fn default_active_keys() -> usize {
    workloads::TxnShape::default().active_keys
}

fn default_appends_per_key() -> usize {
    workloads::TxnShape::default().appends_per_key
}

/// The shape of transactions this run's workload makes.
impl RunConfig {
    /// `--txn-length`, `--active-keys` and `--appends-per-key` as the workloads take them.
    pub fn txn_shape(&self) -> workloads::TxnShape {
        workloads::TxnShape {
            txn_length: self.txn_length,
            active_keys: self.active_keys,
            appends_per_key: self.appends_per_key,
        }
    }
}

/// A duration as `faultline run` accepts it (`10s`, `1m 30s`, `250ms`).
pub fn fmt_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

/// Durations in JSON as humantime strings (`"10s"`).
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::fmt_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

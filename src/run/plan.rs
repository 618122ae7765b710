//! The typed plan of a run: a [`RunConfig`] (what the user asked for, serializable)
//! checked once and turned into the objects the run needs — the store kind, the
//! workload, the faults, the checks — before any directory, process, namespace or
//! state file exists.
//!
//! Every setting that cannot work is refused here with a [`PlanError`]: one line that
//! says what to change. `faultline run` prints it and exits 3 without starting
//! anything. The checks, in order: durations (each more than zero; the nemesis
//! interval at least [`NEMESIS_INTERVAL_FLOOR`]), concurrency and rate, the store kind
//! and which store options it takes, the workload and whether the store serves it, the
//! store's own settings ([`StoreKind::check`]: quorums against the node count, conflict
//! modes, installed binaries, ...), the faults and whether the store can take them
//! (partitions need two nodes), and the consistency models asked for.

use std::sync::Arc;
use std::time::Duration;

use checkers::ConsistencyRequest;
use nemesis::Fault;
use workloads::{CheckSpec, KeyDistribution, Workload, WorkloadConfig};

use super::config::{fmt_duration, RunConfig};
use super::nemesis::split_topologies;
use crate::subject::kind::{self, StoreKind, StoreSettings};
use nemesis::host::remote::{HostAddr, SshSettings};

/// The shortest time between faults `--nemesis-interval` accepts. Each fault lasts one
/// interval and its heal takes milliseconds (a restart, a rule change); below this
/// the run would be all fault transitions and no fault windows.
pub const NEMESIS_INTERVAL_FLOOR: Duration = Duration::from_millis(100);

/// A setting that cannot work, as one line that says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

/// A run, checked: everything it needs, built once.
#[derive(Clone)]
pub struct RunPlan {
    /// The serializable view written to `test.json` (the store's default options
    /// filled in, so that `faultline run --from test.json` runs exactly this again).
    pub config: RunConfig,
    /// The kind of store under test.
    pub kind: &'static dyn StoreKind,
    /// The workload.
    pub workload: Arc<dyn Workload>,
    /// The faults the nemesis injects (empty: none).
    pub faults: Vec<Fault>,
    /// What the checkers decide: the workload's own checks, or `--consistency`'s.
    pub checks: Vec<CheckSpec>,
    /// The SSH hosts to run the nodes on (`--hosts`), parsed; empty: this machine.
    pub hosts: Vec<HostAddr>,
    /// How to log in to them (`--ssh-key`, `--ssh-option`).
    pub ssh: SshSettings,
}

impl std::fmt::Debug for RunPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunPlan")
            .field("config", &self.config)
            .field("kind", &self.kind.name())
            .field("faults", &self.faults)
            .field("checks", &self.checks)
            .finish()
    }
}

fn refuse<T>(message: impl Into<String>) -> Result<T, PlanError> {
    Err(PlanError(message.into()))
}

fn positive(flag: &str, d: Duration, example: &str) -> Result<(), PlanError> {
    if d.is_zero() {
        return refuse(format!(
            "--{flag} {}: expected a duration above zero (e.g. {example})",
            fmt_duration(d)
        ));
    }
    Ok(())
}

impl RunPlan {
    /// Checks `config` and builds the plan; nothing is started or written.
    pub fn new(mut config: RunConfig) -> Result<RunPlan, PlanError> {
        positive("time-limit", config.time_limit, "10s")?;
        positive("op-timeout", config.op_timeout, "1s")?;
        positive("ready-timeout", config.ready_timeout, "30s")?;
        positive("check-timeout", config.check_timeout, "10s")?;
        if config.concurrency == 0 {
            return refuse("--concurrency 0: expected at least 1 client process");
        }
        if !(config.rate.is_finite() && config.rate >= 0.0) {
            return refuse(format!(
                "--rate {}: expected operations per second, 0 or more (0: as fast as possible)",
                config.rate
            ));
        }

        // The store kind and its options.
        let kind: &'static dyn StoreKind = match &config.cluster {
            Some(file) => {
                if !file.is_file() {
                    return refuse(format!("--cluster {}: no such file", file.display()));
                }
                kind::CLUSTER_FILE
            }
            None => kind::by_name(&config.store).ok_or_else(|| {
                PlanError(format!(
                    "unknown store \"{}\"; expected one of {}",
                    config.store,
                    kind::names()
                ))
            })?,
        };
        if !config.hosts.is_empty() && (config.cluster.is_some() || kind.name() != "leaderless") {
            return refuse(format!(
                "--hosts: --store {} does not run over SSH yet; only --store leaderless does (see docs/remote.md)",
                kind.name()
            ));
        }
        for (flag, _) in &config.store_options {
            if !kind.options().contains(&flag.as_str()) {
                return refuse(match kind::owner_of(flag) {
                    Some(owner) => format!(
                        "--{flag} is an option of --store {}, not of --store {}; remove it",
                        owner.name(),
                        kind.name()
                    ),
                    None => format!(
                        "--{flag} is not an option of --store {}; remove it",
                        kind.name()
                    ),
                });
            }
        }

        // The workload.
        let distribution: KeyDistribution =
            config.key_distribution.parse().map_err(|e: String| {
                PlanError(format!("--key-dist {}: {e}", config.key_distribution))
            })?;
        let workload: Arc<dyn Workload> = Arc::from(
            workloads::by_name(
                &config.workload,
                &WorkloadConfig {
                    keys: config.keys,
                    distribution,
                    txn: config.txn_shape(),
                },
            )
            .map_err(|e| PlanError(e.to_string()))?,
        );
        if !kind.workloads().contains(&config.workload.as_str()) {
            return refuse(format!(
                "--workload {}: --store {} serves {}",
                config.workload,
                kind.name(),
                kind.workloads().join(", ")
            ));
        }

        // The store's own settings, then its defaults made explicit.
        let defaults = {
            let settings = StoreSettings {
                nodes: config.nodes,
                addrs: &config.addrs,
                bin: config.bin.as_deref(),
                options: &config.store_options,
                workload: &config.workload,
            };
            kind.check(&settings).map_err(PlanError)?;
            kind.defaults(&settings)
        };
        for (flag, value) in defaults {
            if !config.store_options.iter().any(|(k, _)| *k == flag) {
                config.store_options.push((flag, value));
            }
        }

        // The faults.
        let (plain, _topologies) =
            split_topologies(&config.nemesis).map_err(|e| PlanError(e.to_string()))?;
        let faults = Fault::parse_list(&plain).map_err(|e| PlanError(format!("--nemesis: {e}")))?;
        let settings = StoreSettings {
            nodes: config.nodes,
            addrs: &config.addrs,
            bin: config.bin.as_deref(),
            options: &config.store_options,
            workload: &config.workload,
        };
        let takes = kind.faults(&settings);
        for f in &faults {
            if !takes.contains(f) {
                let what = if takes.is_empty() {
                    "no faults (faultline did not start its nodes); use --nemesis none".to_string()
                } else {
                    format!(
                        "only {}",
                        takes
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return refuse(format!(
                    "--nemesis {f}: --store {} takes {what}",
                    kind.name()
                ));
            }
        }
        // Network and clock faults start the nodes from a nemesis layout; a store that
        // routes its messages itself takes partitions there instead.
        let needs = kind.network_needs();
        if let Some(f) = faults.iter().find(|f| {
            f.needs_layout() && !needs.from_layout && !(needs.routed && **f == Fault::Partition)
        }) {
            return refuse(format!(
                "--nemesis {f}: --store {} cannot start its nodes on a nemesis network or clock; use kill, stop or pause with it",
                kind.name()
            ));
        }
        if !faults.is_empty() && config.nemesis_interval < NEMESIS_INTERVAL_FLOOR {
            return refuse(format!(
                "--nemesis-interval {}: expected at least {} (each fault lasts one interval)",
                fmt_duration(config.nemesis_interval),
                fmt_duration(NEMESIS_INTERVAL_FLOOR)
            ));
        }
        if faults.contains(&Fault::Partition) && config.cluster.is_none() && config.nodes < 2 {
            return refuse(format!(
                "--nemesis partition: needs at least 2 nodes to cut apart (--nodes {})",
                config.nodes
            ));
        }
        let needs_namespaces =
            kind.network_needs().mechanism == Some(nemesis::Mechanism::Namespaces);
        if needs_namespaces
            && faults
                .iter()
                .any(|f| matches!(f, Fault::Partition | Fault::Packet))
            && !nix::unistd::geteuid().is_root()
        {
            return refuse(format!(
                "--nemesis {}: --store {} is partitioned in network namespaces, which needs root; run as root or use kill, stop or pause",
                config.nemesis.join(","),
                kind.name()
            ));
        }

        // The hosts.
        let (hosts, ssh) = Self::hosts(&config, &faults)?;

        // The checks.
        let checks = Self::checks(&config.consistency, workload.as_ref())?;
        Ok(RunPlan {
            config,
            kind,
            workload,
            faults,
            checks,
            hosts,
            ssh,
        })
    }

    /// `--hosts`, `--ssh-key`, `--ssh-option`, checked (nothing is contacted yet):
    /// well-formed and distinct hosts, one per node, a store that runs over SSH, faults
    /// built over SSH, a key file that exists, OpenSSH options faultline can pass.
    fn hosts(
        config: &RunConfig,
        faults: &[Fault],
    ) -> Result<(Vec<HostAddr>, SshSettings), PlanError> {
        let ssh = SshSettings {
            key: config.ssh_key.clone(),
            options: config.ssh_options.clone(),
        };
        if config.hosts.is_empty() {
            if config.ssh_key.is_some() || !config.ssh_options.is_empty() {
                return refuse(
                    "--ssh-key and --ssh-option are for --hosts; add --hosts or remove them",
                );
            }
            return Ok((Vec::new(), ssh));
        }
        let hosts = config
            .hosts
            .iter()
            .map(|h| HostAddr::parse(h).map_err(PlanError))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, h) in hosts.iter().enumerate() {
            if hosts[..i].iter().any(|o| o.address == h.address) {
                return refuse(format!(
                    "--hosts: {} is named twice; one node per host, each host once",
                    h.address
                ));
            }
        }
        if config.nodes != hosts.len() {
            return refuse(format!(
                "--nodes {} with {} --hosts: one node per host; name {} hosts or leave --nodes out",
                config.nodes,
                hosts.len(),
                config.nodes
            ));
        }
        if config.base_port.is_some() {
            return refuse(format!(
                "--base-port: nodes on --hosts listen on port {} of their host; remove --base-port",
                nemesis::host::remote::HOST_BASE_PORT
            ));
        }
        if let Some(f) = faults
            .iter()
            .find(|f| matches!(f, Fault::Clock | Fault::Packet))
        {
            return refuse(format!(
                "--nemesis {f}: not yet over SSH (--hosts); use partition, kill, stop or pause"
            ));
        }
        if let Some(k) = &config.ssh_key {
            if !k.is_file() {
                return refuse(format!("--ssh-key {}: no such file", k.display()));
            }
        }
        ssh.target(&hosts[0].destination()).map_err(PlanError)?;
        Ok((hosts, ssh))
    }

    /// What a run of `config` checks, without checking the rest of it (to re-check a
    /// recorded run, whose store may not be installed here).
    pub fn checks_of(config: &RunConfig) -> Result<Vec<CheckSpec>, PlanError> {
        let distribution: KeyDistribution =
            config.key_distribution.parse().map_err(|e: String| {
                PlanError(format!("--key-dist {}: {e}", config.key_distribution))
            })?;
        let workload = workloads::by_name(
            &config.workload,
            &WorkloadConfig {
                keys: config.keys,
                distribution,
                txn: config.txn_shape(),
            },
        )
        .map_err(|e| PlanError(e.to_string()))?;
        Self::checks(&config.consistency, workload.as_ref())
    }

    /// The workload's own checks, or the models `requests` name for its model.
    fn checks(requests: &[String], workload: &dyn Workload) -> Result<Vec<CheckSpec>, PlanError> {
        let own = workload.checks();
        if requests.is_empty() {
            return Ok(own);
        }
        let parsed = requests
            .iter()
            .flat_map(|r| r.split(','))
            .map(|r| {
                r.trim()
                    .parse::<ConsistencyRequest>()
                    .map_err(|e| PlanError(format!("--consistency {r}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let Some(model) = own.first().map(|c| c.model.clone()) else {
            return refuse(format!(
                "--consistency: the {} workload has no model to check against",
                workload.name()
            ));
        };
        let declared = workloads::declared_models(workload.name());
        Ok(checkers::factory::expand_among(&parsed, &model, declared)
            .into_iter()
            .map(|consistency| CheckSpec {
                consistency,
                model: model.clone(),
            })
            .collect())
    }

    /// The line the run starts with: what will run, with every default made explicit.
    pub fn summary(&self) -> String {
        let c = &self.config;
        let mut s = format!(
            "--store {} --workload {} --nodes {}",
            self.kind.name(),
            c.workload,
            c.nodes
        );
        for (k, v) in &c.store_options {
            s.push_str(&format!(" --{k} {v}"));
        }
        if self.faults.is_empty() {
            s.push_str(" --nemesis none");
        } else {
            s.push_str(&format!(
                " --nemesis {} --nemesis-interval {}",
                c.nemesis.join(","),
                fmt_duration(c.nemesis_interval)
            ));
        }
        s.push_str(&format!(
            " --time-limit {} --seed {}",
            fmt_duration(c.time_limit),
            c.seed
        ));
        s
    }
}

/// Builds [`RunConfig`]s for tests and programs: the defaults `faultline run` has,
/// changed one setting at a time.
#[derive(Clone, Debug)]
pub struct RunConfigBuilder(RunConfig);

impl RunConfigBuilder {
    /// A run of `workload` on `store`, named `name`, written under `results`, with
    /// `faultline run`'s defaults otherwise (seed 1, no faults).
    pub fn new(name: &str, store: &str, workload: &str, results: &std::path::Path) -> Self {
        RunConfigBuilder(RunConfig {
            name: name.to_string(),
            store: store.to_string(),
            cluster: None,
            addrs: Vec::new(),
            bin: None,
            workload: workload.to_string(),
            nodes: 3,
            concurrency: 5,
            rate: 200.0,
            time_limit: Duration::from_secs(10),
            op_timeout: Duration::from_secs(1),
            keys: 5,
            key_distribution: "uniform".to_string(),
            txn_length: workloads::TxnShape::default().txn_length,
            active_keys: workloads::TxnShape::default().active_keys,
            appends_per_key: workloads::TxnShape::default().appends_per_key,
            seed: 1,
            results: results.to_path_buf(),
            nemesis: Vec::new(),
            nemesis_interval: Duration::from_secs(2),
            store_options: Vec::new(),
            base_port: None,
            ready_timeout: Duration::from_secs(30),
            quiesce: Duration::from_secs(2),
            check_timeout: Duration::from_secs(10),
            consistency: Vec::new(),
            clock_mechanism: nemesis::clock::ClockMechanism::Auto,
            hosts: Vec::new(),
            ssh_key: None,
            ssh_options: Vec::new(),
        })
    }

    /// Changes the configuration with `f`.
    pub fn with(mut self, f: impl FnOnce(&mut RunConfig)) -> Self {
        f(&mut self.0);
        self
    }

    /// Adds store option `--flag value`.
    pub fn option(mut self, flag: &str, value: &str) -> Self {
        self.0
            .store_options
            .push((flag.to_string(), value.to_string()));
        self
    }

    /// The faults (`kill`, `partition:one`, ...) and the interval between them.
    pub fn faults(mut self, faults: &[&str], interval: Duration) -> Self {
        self.0.nemesis = faults.iter().map(|f| f.to_string()).collect();
        self.0.nemesis_interval = interval;
        self
    }

    /// The configuration.
    pub fn config(self) -> RunConfig {
        self.0
    }

    /// The checked plan.
    pub fn plan(self) -> Result<RunPlan, PlanError> {
        RunPlan::new(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RunConfigBuilder {
        RunConfigBuilder::new(
            "t",
            "leaderless",
            "kv",
            std::path::Path::new("/nonexistent"),
        )
    }

    fn refused(b: RunConfigBuilder) -> String {
        b.plan().expect_err("refused").0
    }

    #[test]
    fn a_write_quorum_above_the_replica_count_is_refused() {
        let e = refused(base().option("w", "5"));
        assert!(e.contains("--w 5") && e.contains("1..=3"), "{e}");
    }

    #[test]
    fn a_store_option_of_another_store_is_refused_naming_its_owner() {
        let e = refused(
            base()
                .with(|c| c.store = "http".into())
                .option("conflict", "lww"),
        );
        assert_eq!(
            e,
            "--conflict is an option of --store leaderless, not of --store http; remove it"
        );
    }

    #[test]
    fn the_reference_stores_defaults_are_made_explicit() {
        let plan = RunConfigBuilder::new("t", "leaderless", "kv", std::path::Path::new("/x"))
            .plan()
            .unwrap();
        let opts = &plan.config.store_options;
        for (k, v) in [("n", "3"), ("w", "2"), ("r", "2"), ("conflict", "lww")] {
            assert!(opts.contains(&(k.to_string(), v.to_string())), "{opts:?}");
        }
        let plan = RunConfigBuilder::new("t", "leaderless", "set", std::path::Path::new("/x"))
            .option("n", "1")
            .plan()
            .unwrap();
        let opts = &plan.config.store_options;
        assert!(opts.contains(&("w".into(), "1".into())), "{opts:?}");
        assert!(
            opts.contains(&("conflict".into(), "siblings".into())),
            "{opts:?}"
        );
    }

    #[test]
    fn a_nemesis_interval_below_the_floor_is_refused_only_when_faults_are_asked_for() {
        let e = refused(base().faults(&["kill"], Duration::ZERO));
        assert!(e.contains("at least 100ms"), "{e}");
        base().faults(&[], Duration::ZERO).plan().unwrap();
    }

    #[test]
    fn consistency_all_stands_for_every_applicable_model_of_the_workload() {
        let plan = base()
            .with(|c| c.consistency = vec!["all".into()])
            .plan()
            .unwrap();
        let model = plan.workload.checks()[0].model.clone();
        let expected = checkers::factory::applicable(&model);
        let got: Vec<_> = plan.checks.iter().map(|c| c.consistency).collect();
        assert_eq!(got, expected);
        let e = refused(base().with(|c| c.consistency = vec!["strict-nonsense".into()]));
        assert!(e.starts_with("--consistency strict-nonsense"), "{e}");
    }
}

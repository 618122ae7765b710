//! `faultline run`: flags (or `--from test.json`) -> a resolved [`RunConfig`] -> a
//! checked [`RunPlan`] (every setting that cannot work is refused here, one line, exit
//! 3, before anything starts) -> the run flow ([`crate::run`]), then the verdict of
//! every checker, the run directory and the exit code (0 valid, 1 invalid, 2 unknown;
//! 3 when the test could not run).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tokio::sync::watch;

use crate::run::{self, PlanError, Progress, RunConfig, RunPlan};
use crate::subject::kind::{self, StoreSettings};

/// Arguments of `faultline run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    #[arg(long, default_value = "leaderless", help = kind::help())]
    pub store: String,
    /// Run again exactly the test a run directory's test.json describes (same seed,
    /// same options); the other test flags are ignored.
    #[arg(long, value_name = "TEST_JSON")]
    pub from: Option<PathBuf>,
    /// A consistency model to check (repeatable, or comma-separated), or `all`: every
    /// model that applies to the workload's model. Default: the workload's own checks.
    #[arg(long, value_name = "MODEL", value_delimiter = ',')]
    pub consistency: Vec<String>,
    /// A TOML file describing the cluster to start (instead of --store).
    #[arg(long, value_name = "FILE")]
    pub cluster: Option<PathBuf>,
    /// The nodes of an existing cluster, comma-separated base URLs (--store http).
    #[arg(long, value_delimiter = ',')]
    pub addrs: Vec<String>,
    /// A store program, for stores that run one (e.g. --store maelstrom --bin PATH).
    #[arg(long, value_name = "PATH")]
    pub bin: Option<PathBuf>,
    /// The workload: register, cas-register, kv, set, counter, list-append, rw-register.
    #[arg(long, default_value = "kv")]
    pub workload: String,
    /// How many nodes to start (default 3; with --hosts, one per host).
    /// `--node-count` is Maelstrom's spelling of the same.
    #[arg(long, alias = "node-count")]
    pub nodes: Option<usize>,
    /// Run the nodes on these machines over SSH, one node per host:
    /// `[user@]address[:port]`, comma-separated (--store leaderless; see docs/remote.md).
    /// Batch mode (no password prompts) and strict host-key checking.
    #[arg(long, value_delimiter = ',', value_name = "HOST")]
    pub hosts: Vec<String>,
    /// The private key to log in to the --hosts with (only it is offered).
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// An OpenSSH option for the --hosts, KEY=VALUE (repeatable), e.g.
    /// StrictHostKeyChecking=accept-new for a first contact, UserKnownHostsFile=FILE.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_ssh_option)]
    pub ssh_option: Vec<(String, String)>,
    /// How many logical client processes run at a time.
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
    /// Operations per second across all clients (0: as fast as possible).
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// How long the main phase runs (e.g. 10s, 2m; more than zero).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub time_limit: Duration,
    /// An operation not answered within this is indeterminate (info).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub op_timeout: Duration,
    /// How many keys the workload uses.
    #[arg(long, default_value_t = 5)]
    pub keys: usize,
    /// How keys are chosen: uniform, zipf or zipf:S.
    #[arg(long, default_value = "uniform")]
    pub key_dist: String,
    /// list-append, rw-register: at most this many micro-ops per transaction.
    #[arg(long, default_value_t = workloads::TxnShape::default().txn_length)]
    pub txn_length: usize,
    /// list-append, rw-register: how many keys are in use at a time.
    #[arg(long, default_value_t = workloads::TxnShape::default().active_keys)]
    pub active_keys: usize,
    /// list-append, rw-register: about how many appends (writes) a key gets before a
    /// fresh key takes its place.
    #[arg(long, default_value_t = workloads::TxnShape::default().appends_per_key)]
    pub appends_per_key: usize,
    /// The seed of the operation generators (random when absent; always printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The test's name (default: STORE-WORKLOAD).
    #[arg(long)]
    pub name: Option<String>,
    /// Where runs are written.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Faults to inject, comma-separated: kill, stop, pause, partition, clock, packet
    /// (see docs/nemesis.md); `partition:one` (or `:halves`, `:random-halves`,
    /// `:majorities-ring`, `:bridge`) for partitions of that topology only; `none` for a
    /// run without faults. Default: kill,pause on a cluster faultline starts, none on
    /// one it only reaches by address (--addrs, --store http).
    #[arg(long, value_delimiter = ',')]
    pub nemesis: Vec<String>,
    /// How clock faults reach a node: `vdso` patches the running process's vDSO (any
    /// program, Go and static binaries included), `faketime` preloads libfaketime at
    /// start, `auto` picks vdso where libfaketime cannot reach.
    #[arg(long, default_value = "auto", value_parser = parse_clock_mechanism)]
    pub clock_mechanism: nemesis::clock::ClockMechanism,
    /// Time between faults, and how long each lasts (seconds, or a duration such as 5s;
    /// at least 100ms).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub nemesis_interval: Duration,
    /// Also write a machine summary to this file (verdict, exit code, each checker's
    /// headline, op counts, paths; the full evidence stays in results.json).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write JUnit XML (one test case per checker) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The first node's port (the next nodes use the following ports); free ports
    /// are chosen when absent.
    #[arg(long)]
    pub base_port: Option<u16>,
    /// How long nodes may take to become ready.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub ready_timeout: Duration,
    /// How long to wait after healing before the final reads, and how long the final
    /// reads may retry (default 2s; 10s for --store maelstrom, as Maelstrom waits).
    #[arg(long, value_parser = parse_duration)]
    pub quiesce: Option<Duration>,
    /// The checkers' time budget (what is not decided by then is unknown).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub check_timeout: Duration,
    /// The store's own options, passed through to every node.
    #[command(flatten)]
    pub store_options: StoreOptions,
}

/// The reference store's options (see stores/README.md), passed through.
#[derive(Args, Debug, Clone, Default)]
pub struct StoreOptions {
    /// Replicas per key.
    #[arg(long)]
    pub n: Option<usize>,
    /// Write quorum.
    #[arg(long)]
    pub w: Option<usize>,
    /// Read quorum.
    #[arg(long)]
    pub r: Option<usize>,
    /// Conflict resolution: siblings or lww.
    #[arg(long)]
    pub conflict: Option<String>,
    /// Read repair: on or off.
    #[arg(long)]
    pub read_repair: Option<String>,
    /// Sloppy quorum: on or off.
    #[arg(long)]
    pub sloppy_quorum: Option<String>,
    /// Hinted handoff: on or off.
    #[arg(long)]
    pub hinted_handoff: Option<String>,
    /// Anti-entropy interval in milliseconds.
    #[arg(long)]
    pub anti_entropy_interval_ms: Option<u64>,
    /// fsync policy: always, interval or never.
    #[arg(long)]
    pub fsync: Option<String>,
    /// Delay of replication messages in milliseconds.
    #[arg(long)]
    pub replication_delay_ms: Option<u64>,
    /// The store's own request timeout in milliseconds.
    #[arg(long)]
    pub request_timeout_ms: Option<u64>,
    /// etcd: serve reads from the member's local state (serializable), not linearizable.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub etcd_serializable_reads: Option<bool>,
    /// redis: after every write, WAIT until this many replicas acknowledged it.
    #[arg(long)]
    pub redis_wait: Option<u32>,
    /// redis: who carries out --nemesis failover, manual (faultline) or sentinel (three redis-sentinels).
    #[arg(long)]
    pub redis_failover: Option<String>,
    /// redis: how long the old primary still serves clients after a manual failover's promotion.
    #[arg(long)]
    pub redis_detection_ms: Option<u64>,
    /// maelstrom: delay every node-to-node message by this many milliseconds (the mean,
    /// as --maelstrom-latency-dist draws it). `--latency` is Maelstrom's spelling.
    #[arg(long, alias = "latency")]
    pub maelstrom_latency_ms: Option<u64>,
    /// maelstrom: how each message's delay is drawn: constant (exactly the latency),
    /// uniform (0 to twice it) or exponential (its mean). `--latency-dist` is Maelstrom's
    /// spelling of the same.
    #[arg(long, alias = "latency-dist")]
    pub maelstrom_latency_dist: Option<String>,
    /// maelstrom: speak --workload set as Maelstrom's broadcast (Maelstrom's own workloads, e.g. --workload lin-kv, set this themselves).
    #[arg(long)]
    pub maelstrom_workload: Option<String>,
    /// maelstrom: drop each node-to-node message with this probability.
    #[arg(long)]
    pub maelstrom_loss: Option<f64>,
    /// maelstrom: how strong the seq-kv and lww-kv services are: maelstrom (as
    /// Maelstrom's: seq-kv serves stale reads in one sequential order, lww-kv is five
    /// last-write-wins replicas) or strong (every service linearizable).
    #[arg(long)]
    pub maelstrom_services: Option<String>,
    /// postgres: the isolation level of every transaction (read-committed,
    /// repeatable-read, serializable).
    #[arg(long)]
    pub isolation: Option<String>,
    /// primary-backup: when the primary answers a write: sync, semi-sync or async.
    #[arg(long)]
    pub replication: Option<String>,
    /// primary-backup: who serves reads: primary, backups or any.
    #[arg(long)]
    pub read_from: Option<String>,
    /// primary-backup: promote a backup after this much primary silence (ms; 0 = never).
    #[arg(long)]
    pub failover_timeout_ms: Option<String>,
    /// primary-backup: fence an old primary (on) or not (off).
    #[arg(long)]
    pub fencing: Option<String>,
    /// primary-backup: delay before the primary ships new entries to a backup (ms).
    #[arg(long)]
    pub backup_lag_ms: Option<String>,
    /// multi-leader: who passes updates to whom: circular, star or all-to-all.
    #[arg(long)]
    pub topology: Option<String>,
    /// multi-leader: conflict resolution: lww, siblings or crdt.
    #[arg(long)]
    pub resolution: Option<String>,
    /// multi-leader: causal delivery: none or version-vectors.
    #[arg(long)]
    pub causality: Option<String>,
    /// multi-leader: delay on every link but the one to the next node by name (ms).
    #[arg(long)]
    pub link_delay_ms: Option<String>,
    /// maelstrom: the broadcast topology: line, grid (the default), tree2, tree3, tree4 or total.
    #[arg(long)]
    pub maelstrom_topology: Option<String>,
    /// two-phase-commit: durable prepare records and decision log (on) or none (off, the weak mode).
    #[arg(long)]
    pub prepare_log: Option<String>,
    /// two-phase-commit, for tests: the probability that a coordinator crashes and restarts mid-commit.
    #[arg(long)]
    pub crash_mid_commit: Option<String>,
}

impl StoreOptions {
    /// The options given, as (flag, value) in a fixed order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let mut put = |k: &str, x: Option<String>| {
            if let Some(x) = x {
                v.push((k.to_string(), x));
            }
        };
        put("n", self.n.map(|x| x.to_string()));
        put("w", self.w.map(|x| x.to_string()));
        put("r", self.r.map(|x| x.to_string()));
        put("conflict", self.conflict.clone());
        put("read-repair", self.read_repair.clone());
        put("sloppy-quorum", self.sloppy_quorum.clone());
        put("hinted-handoff", self.hinted_handoff.clone());
        put(
            "anti-entropy-interval-ms",
            self.anti_entropy_interval_ms.map(|x| x.to_string()),
        );
        put("fsync", self.fsync.clone());
        put(
            "replication-delay-ms",
            self.replication_delay_ms.map(|x| x.to_string()),
        );
        put(
            "request-timeout-ms",
            self.request_timeout_ms.map(|x| x.to_string()),
        );
        put(
            "etcd-serializable-reads",
            self.etcd_serializable_reads
                .filter(|&on| on)
                .map(|_| "true".to_string()),
        );
        put("redis-wait", self.redis_wait.map(|x| x.to_string()));
        put("isolation", self.isolation.clone());
        put("redis-failover", self.redis_failover.clone());
        put(
            "redis-detection-ms",
            self.redis_detection_ms.map(|x| x.to_string()),
        );
        put(
            "maelstrom-latency-ms",
            self.maelstrom_latency_ms.map(|x| x.to_string()),
        );
        put("maelstrom-loss", self.maelstrom_loss.map(|x| x.to_string()));
        put("maelstrom-services", self.maelstrom_services.clone());
        put(
            "maelstrom-latency-dist",
            self.maelstrom_latency_dist.clone(),
        );
        put("maelstrom-workload", self.maelstrom_workload.clone());
        put("replication", self.replication.clone());
        put("read-from", self.read_from.clone());
        put("failover-timeout-ms", self.failover_timeout_ms.clone());
        put("fencing", self.fencing.clone());
        put("backup-lag-ms", self.backup_lag_ms.clone());
        put("topology", self.topology.clone());
        put("resolution", self.resolution.clone());
        put("causality", self.causality.clone());
        put("link-delay-ms", self.link_delay_ms.clone());
        put("maelstrom-topology", self.maelstrom_topology.clone());
        put("prepare-log", self.prepare_log.clone());
        put("crash-mid-commit", self.crash_mid_commit.clone());
        v
    }
}

/// A duration: `10s`, `1m30s`, `250ms`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("\"{s}\" is not a duration ({e}); expected e.g. 10s, 1m30s, 250ms"))
}

/// `KEY=VALUE` of `--ssh-option`.
fn parse_ssh_option(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "\"{s}\": expected KEY=VALUE, e.g. StrictHostKeyChecking=accept-new"
        )),
    }
}

/// Examples at the end of `faultline run --help`.
pub fn after_help() -> &'static str {
    "Examples:
  faultline run --workload register --nemesis partition,kill --time-limit 20s
  faultline run --store etcd --workload cas-register --consistency all
  faultline run --hosts root@10.0.0.1,root@10.0.0.2,root@10.0.0.3 --ssh-key ~/.ssh/id_ed25519 --nemesis partition,kill
  faultline run --from results/leaderless-kv/latest/test.json"
}

impl RunArgs {
    /// The resolved configuration (a random seed when none was given), or the one a
    /// `test.json` holds (`--from`).
    pub fn resolve(&self) -> Result<RunConfig, PlanError> {
        if let Some(path) = &self.from {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PlanError(format!("--from {}: {e}", path.display())))?;
            return serde_json::from_str(&text).map_err(|e| {
                PlanError(format!(
                    "--from {}: not a faultline test.json ({e})",
                    path.display()
                ))
            });
        }
        let store = if self.cluster.is_some() {
            "cluster-file".to_string()
        } else {
            self.store.clone()
        };
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("{store}-{}", self.workload));
        Ok(RunConfig {
            name,
            store: self.store.clone(),
            cluster: self.cluster.clone(),
            addrs: self.addrs.clone(),
            bin: self.bin.clone(),
            workload: self.workload.clone(),
            nodes: self.node_count(),
            concurrency: self.concurrency,
            rate: self.rate,
            time_limit: self.time_limit,
            op_timeout: self.op_timeout,
            keys: self.keys,
            key_distribution: self.key_dist.clone(),
            txn_length: self.txn_length,
            active_keys: self.active_keys,
            appends_per_key: self.appends_per_key,
            seed: self
                .seed
                .unwrap_or_else(|| u64::from(rand::random::<u32>())),
            results: self.results.clone(),
            nemesis: self.faults(),
            nemesis_interval: self.nemesis_interval,
            store_options: self.store_options.pairs(),
            base_port: self.base_port,
            ready_timeout: self.ready_timeout,
            quiesce: self.quiesce.unwrap_or_else(|| {
                kind::by_name(&self.store)
                    .filter(|_| self.cluster.is_none())
                    .map_or(kind::DEFAULT_QUIESCE, |k| k.default_quiesce())
            }),
            check_timeout: self.check_timeout,
            consistency: self.consistency.clone(),
            clock_mechanism: self.clock_mechanism,
            hosts: self.hosts.clone(),
            ssh_key: self.ssh_key.clone(),
            ssh_options: self.ssh_option.clone(),
        })
    }

    /// `--nodes`, else one per `--hosts` host, else 3.
    fn node_count(&self) -> usize {
        self.nodes.unwrap_or(if self.hosts.is_empty() {
            3
        } else {
            self.hosts.len()
        })
    }

    /// The faults to inject: as asked, or the default — kill and pause, where the
    /// store kind can take them (none on a cluster faultline only reaches by address).
    fn faults(&self) -> Vec<String> {
        if self.nemesis.is_empty() {
            let kind = match &self.cluster {
                Some(_) => Some(kind::CLUSTER_FILE),
                None => kind::by_name(&self.store),
            };
            let options = self.store_options.pairs();
            let settings = StoreSettings {
                nodes: self.node_count(),
                addrs: &self.addrs,
                bin: self.bin.as_deref(),
                options: &options,
                workload: &self.workload,
            };
            return kind
                .map(|k| k.default_faults(&settings))
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.as_str().to_string())
                .collect();
        }
        self.nemesis
            .iter()
            .filter(|f| f.as_str() != "none")
            .cloned()
            .collect()
    }
}

/// What a person sees on stderr: phases, and a status line on a terminal.
struct Terminal {
    quiet: bool,
    tty: bool,
}

impl Progress for Terminal {
    fn phase(&self, name: &str) {
        if self.quiet {
            return;
        }
        if self.tty {
            eprint!("\r\x1b[2K");
        }
        eprintln!("faultline: {name}");
    }

    fn status(&self, line: &str) {
        if !self.quiet && self.tty {
            eprint!("\r\x1b[2K{line}");
        }
    }
}

/// Resolves at the next signal `s` receives; never, if it could not be listened for.
async fn next_signal(s: Option<&mut tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Runs `faultline run`; returns the exit code. A setting that cannot work is one
/// line on stderr and exit 3, before anything is created or started.
pub fn main(args: RunArgs, quiet: bool) -> anyhow::Result<i32> {
    let plan = match args.resolve().and_then(RunPlan::new) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("faultline run: {e}");
            return Ok(3);
        }
    };
    if !quiet {
        eprintln!("faultline run: {}", plan.summary());
        eprintln!(
            "faultline run: seed {} (same seed, same operations)",
            plan.config.seed
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let progress: Arc<dyn Progress> = Arc::new(Terminal {
        quiet,
        tty: std::io::stderr().is_terminal(),
    });
    let outcome = rt.block_on(async {
        let (tx, rx) = watch::channel(false);
        // Registered here, before the run starts (a listener made inside the spawned
        // task would not exist until that task first runs, and a Ctrl-C before that
        // would kill the process unhealed).
        use tokio::signal::unix::{signal, SignalKind};
        let mut int = signal(SignalKind::interrupt()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            tokio::select! {
                _ = next_signal(int.as_mut()) => {}
                _ = next_signal(term.as_mut()) => {}
            }
            eprintln!("\nfaultline: interrupted; stopping the clients and the nodes, keeping what was recorded");
            let _ = tx.send(true);
        });
        run::run(&plan, progress, rx).await
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    let outcome = outcome?;
    let r = &outcome.results;
    // report.html, results/index.html, and the --junit / --json files.
    let written = crate::report::after_run(
        &outcome.run_dir,
        r,
        args.json.as_deref(),
        args.junit.as_deref(),
    )?;
    if let Err(e) = &written.index {
        eprintln!("faultline: the results index could not be written: {e:#}");
    }
    let report = &written.report;
    if !quiet {
        for (i, c) in r.checkers.iter().enumerate() {
            let headline = written.headlines.get(i);
            println!("{}", crate::report::headline::terminal_line(c, headline));
        }
    }
    println!("{}", r.verdict_line());
    if !quiet {
        println!("run: {}", outcome.run_dir.display());
    }
    match report {
        Ok(p) if !quiet => println!("report: {}", p.display()),
        Ok(_) => {}
        Err(e) => eprintln!("faultline: the report could not be written: {e:#}"),
    }
    if let Some(stop) = &r.interrupted {
        // Said even with --quiet: the verdict is over a partial history.
        eprintln!(
            "faultline: the run stopped in the {}: {}; what was recorded until then was checked",
            stop.phase, stop.reason
        );
        return Ok(3);
    }
    Ok(r.verdict.exit_code())
}

fn parse_clock_mechanism(s: &str) -> Result<nemesis::clock::ClockMechanism, String> {
    s.parse::<nemesis::clock::ClockMechanism>()
}

//! The run flow of `faultline run` (DESIGN.md, "Data flow of one run"):
//!
//! cluster up and ready -> main phase (clients + the nemesis, when asked) -> heal ->
//! quiesce -> final reads from every node -> cluster down -> checkers -> results.
//!
//! The history is streamed to `history.jsonl` throughout and fsync'd at every phase
//! change. Just before the final reads a nemesis note `final-reads` marks the final
//! phase (the eventual checker relies on it). An interrupt (Ctrl-C) at any point stops
//! the clients, heals, stops the nodes and keeps what was recorded. The cluster is
//! stopped before the checkers run, so a long check holds no processes.

pub mod check;
pub mod config;
pub mod nemesis;
pub mod plan;
pub mod rate;
pub mod recheck;
pub mod scheduler;
mod status;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use anyhow::Context;
use checkers::{Value, Verdict};
use tokio::sync::{watch, RwLock};

pub use config::RunConfig;
pub use plan::{PlanError, RunConfigBuilder, RunPlan};

use crate::recorder::Recorder;
use crate::results::{self, files, Interruption, RunResults};
use crate::subject::{Subject, SubjectConfig};

/// How a run ended.
#[derive(Debug)]
pub struct RunOutcome {
    /// What `results.json` says.
    pub results: RunResults,
    /// The run directory.
    pub run_dir: PathBuf,
    /// Whether the run was interrupted (Ctrl-C) or stopped by an error before it
    /// finished (`results.interrupted` says where).
    pub interrupted: bool,
    /// The error that stopped the run early, if one did (the history recorded until
    /// then was still checked).
    pub failure: Option<anyhow::Error>,
}

/// Callbacks for what a person sees while a run goes.
pub trait Progress: Send + Sync {
    /// A phase begins.
    fn phase(&self, name: &str);
    /// A one-line status while the main phase runs (counts so far).
    fn status(&self, line: &str);
}

/// Progress that shows nothing.
#[derive(Debug, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&self, _name: &str) {}
    fn status(&self, _line: &str) {}
}

/// Runs the test `plan` describes (checked before: see [`RunPlan::new`]). `interrupt`
/// turns true on Ctrl-C.
///
/// Errors mean the test could not run (exit 3): nothing is left running either way.
pub async fn run(
    plan: &RunPlan,
    progress: Arc<dyn Progress>,
    interrupt: watch::Receiver<bool>,
) -> anyhow::Result<RunOutcome> {
    let wall_start = Instant::now();
    let config = &plan.config;
    let workload = plan.workload.clone();
    let mut hook = nemesis::hook_for(
        &config.nemesis,
        config.nemesis_interval,
        config.seed,
        config.clock_mechanism,
    )?;

    // The SSH hosts, connected before anything is created (a host that cannot be
    // reached is an error naming it, exit 3).
    let hosts = if plan.hosts.is_empty() {
        None
    } else {
        let (h, s) = (plan.hosts.clone(), plan.ssh.clone());
        let connected = tokio::task::spawn_blocking(move || {
            ::nemesis::host::remote::RemoteHosts::connect(&h, &s)
        })
        .await
        .context("connecting to the hosts")??;
        Some(Arc::new(connected))
    };
    if let (Some(h), Some(hosts)) = (hook.as_mut(), &hosts) {
        h.on_hosts(hosts.clone());
    }

    let started = SystemTime::now();
    let (started_rfc, stamp) = results::stamps(started);
    let run_dir =
        results::create_run_dir(&config.results, &config.name, &stamp).with_context(|| {
            format!(
                "cannot create a run directory under {}",
                config.results.display()
            )
        })?;
    let nodes_dir = run_dir.join(files::NODES);
    // What the faults need before the nodes start (network layout, clocks).
    let node_names: Vec<String> = (1..=config.nodes).map(|i| format!("n{i}")).collect();
    let network = match hook.as_mut() {
        Some(h) => match h
            .prepare(&node_names, plan.kind.network_needs(), &run_dir)
            .await
        {
            Ok(layout) => layout,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&run_dir);
                return Err(e.context("cannot prepare the faults"));
            }
        },
        None => None,
    };
    let subject_config = SubjectConfig {
        store: config.store.clone(),
        cluster_file: config.cluster.clone(),
        nodes: config.nodes,
        addrs: config.addrs.clone(),
        bin: config.bin.clone(),
        store_options: config.store_options.clone(),
        base_port: config.base_port,
        ready_timeout: config.ready_timeout,
        nodes_dir: nodes_dir.clone(),
        op_timeout: config.op_timeout,
        network: network.clone(),
        hosts: hosts.clone(),
    };
    let mut subject = match plan.kind.open(&subject_config) {
        Ok(s) if network.is_some() && !s.supports_layout() => {
            let _ = std::fs::remove_dir_all(&run_dir);
            anyhow::bail!(
                "--nemesis {}: the {} subject cannot start its nodes on a nemesis network or clock yet; use kill, stop or pause with it",
                config.nemesis.join(","),
                s.name()
            );
        }
        Ok(s) => s,
        Err(e) => {
            // Nothing ran: leave no empty run directory behind.
            let _ = std::fs::remove_dir_all(&run_dir);
            return Err(e.into());
        }
    };
    write_test_json(&run_dir, config, subject.as_ref(), hook.as_deref())?;
    let start = Instant::now();
    let recorder = Recorder::create(&run_dir.join(files::HISTORY), start)
        .context("cannot create history.jsonl")?;
    subject.record_faults_to(recorder.clone());

    // Which phase the run is in, and the one a Ctrl-C arrived in.
    let phases = Phases::new(progress.clone(), interrupt.clone());

    // Cluster up.
    phases.enter("starting the cluster");
    let mut int = interrupt.clone();
    let up = tokio::select! {
        r = subject.start() => r.map(|_| true),
        _ = until_interrupted(&mut int) => Ok(false),
    };
    match up {
        Ok(true) => {}
        Ok(false) => {
            subject.stop().await;
            recorder.finish()?;
            anyhow::bail!("interrupted while the cluster was starting; nodes stopped");
        }
        Err(e) => {
            subject.stop().await;
            recorder.finish()?;
            return Err(e.into());
        }
    }
    write_test_json(&run_dir, config, subject.as_ref(), hook.as_deref())?;
    let node_names = subject.nodes();
    let node_procs = subject
        .cluster()
        .map(|c| c.nodes().to_vec())
        .unwrap_or_default();
    let fault_nodes = subject.fault_nodes();
    let router = subject.router();
    let failover = subject.failover();
    let subject: Arc<RwLock<Box<dyn Subject>>> = Arc::new(RwLock::new(subject));
    let pool = scheduler::Pool {
        subject: subject.clone(),
        workload: workload.clone(),
        recorder: recorder.clone(),
        concurrency: config.concurrency,
        nodes: node_names.len().max(1),
        seed: config.seed,
        op_timeout: config.op_timeout,
        rate: Arc::new(rate::RateLimit::new(config.rate)),
        max_process: Arc::new(AtomicU64::new(0)),
        abort: Arc::new(Mutex::new(None)),
    };
    let flow = async {
        recorder.sync()?;

        // Main phase: clients and the nemesis until the time limit.
        phases.enter("main phase");
        let (stop_tx, stop_rx) = watch::channel(false);
        let nemesis_ctx = nemesis::NemesisContext {
            faults: config.nemesis.clone(),
            interval: config.nemesis_interval,
            seed: config.seed,
            node_names: node_names.clone(),
            nodes: node_procs.clone(),
            other_nodes: fault_nodes.clone(),
            router: router.clone(),
            failover: failover.clone(),
            recorder: recorder.clone(),
            time_limit: config.time_limit,
        };
        // The nemesis is one more slot of the main phase (a failure to start it fails
        // the run after the phase, as one during it does).
        let (nemesis_slot, nemesis_started) = match hook.as_mut() {
            Some(h) => match h.start(nemesis_ctx).await {
                Ok(slot) => (Some(slot), Ok(())),
                Err(e) => (None, Err(e)),
            },
            None => (None, Ok(())),
        };
        let timer = {
            let mut int = interrupt.clone();
            let abort = pool.abort.clone();
            let limit = config.time_limit;
            let recorder = recorder.clone();
            let progress = progress.clone();
            async move {
                let deadline = tokio::time::Instant::now() + limit;
                let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep_until(deadline) => break,
                        _ = until_interrupted(&mut int) => break,
                        _ = tick.tick() => {
                            if abort.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
                                break;
                            }
                            progress.status(&status::line(&recorder, limit));
                        }
                    }
                }
                let _ = stop_tx.send(true);
            }
        };
        tokio::join!(pool.run_main(stop_rx.clone(), nemesis_slot), timer);
        let nemesis_result =
            nemesis_started.and_then(|()| hook.as_mut().map_or(Ok(()), |h| h.outcome()));
        recorder.sync()?;
        anyhow::Ok(nemesis_result)
    };
    let main = flow.await;

    // Heal, always.
    phases.enter("healing faults");
    let healed = match hook.as_mut() {
        Some(h) => h.heal().await,
        None => Ok(()),
    };
    let aborted = pool.abort.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let interrupted = *interrupt.borrow();
    let (mut failed_in, mut failure) = match (main, healed, aborted) {
        (Err(e), _, _) => ("main phase", Some(e)),
        (Ok(Err(e)), _, _) => ("main phase", Some(e.context("the nemesis failed"))),
        (_, Err(e), _) => ("healing faults", Some(e.context("healing faults failed"))),
        (_, _, Some(a)) => ("main phase", Some(anyhow::anyhow!(a))),
        _ => ("", None),
    };

    // Quiesce, then the final reads.
    if failure.is_none() && !interrupted {
        phases.enter("quiescing");
        let mut int = interrupt.clone();
        tokio::select! {
            _ = tokio::time::sleep(config.quiesce) => {}
            _ = until_interrupted(&mut int) => {}
        }
    }
    if failure.is_none() && !*interrupt.borrow() {
        phases.enter("final reads");
        recorder.nemesis(checkers::history::FINAL_READS, &Value::Null);
        if let Err(e) = recorder.sync() {
            failed_in = "final reads";
            failure = Some(anyhow::Error::from(e).context("cannot write history.jsonl"));
        } else {
            let mut int = interrupt.clone();
            tokio::select! {
                // Retried until ok for at most the quiesce budget.
                _ = pool.final_reads(config.quiesce) => {}
                _ = until_interrupted(&mut int) => {}
            }
        }
    }
    drop(pool);

    // Every node down on its own at the end: said in the history, so the checks say so.
    if let Some(note) = check::nodes_exited_note(&node_procs, &fault_nodes) {
        recorder.nemesis(checkers::factory::NODES_EXITED, &note);
    }
    // Cluster down.
    phases.enter("stopping the cluster");
    subject.write().await.stop().await;
    // Again, now that the subject can describe the whole run (Maelstrom's network counts).
    let _ = write_test_json(
        &run_dir,
        config,
        subject.read().await.as_ref(),
        hook.as_deref(),
    );
    let synced = recorder.finish();
    if let Err(e) = synced {
        // Without a complete history file there is nothing sound to check.
        return Err(match failure {
            Some(f) => f.context(format!("and history.jsonl could not be written: {e}")),
            None => anyhow::Error::from(e).context("cannot write history.jsonl"),
        });
    }

    // Checkers: also after an error or a Ctrl-C, over what was recorded.
    phases.enter("checking");
    let check::Checked {
        results: checks,
        unjudgeable,
    } = check::check_history(
        &run_dir.join(files::HISTORY),
        plan.checks.clone(),
        config.check_timeout,
    )
    .await?;
    let verdict = if checks.is_empty() {
        Verdict::Unknown
    } else {
        checkers::factory::overall(&checks)
    };
    let interruption = match (&failure, phases.interrupted_in()) {
        (Some(e), _) => Some(Interruption {
            phase: failed_in.to_string(),
            reason: format!("{e:#}"),
        }),
        (None, Some(phase)) => Some(Interruption {
            phase: phase.to_string(),
            reason: "interrupted (Ctrl-C or SIGTERM)".to_string(),
        }),
        (None, None) => None,
    };
    let results = RunResults {
        name: config.name.clone(),
        run_dir: run_dir.display().to_string(),
        started: started_rfc,
        duration_ms: wall_start.elapsed().as_millis() as u64,
        verdict,
        store: subject.read().await.name().to_string(),
        workload: config.workload.clone(),
        nemesis: config.nemesis.clone(),
        seed: config.seed,
        checkers: checks,
        ops: recorder.counts(),
        command: config.command(),
        interrupted: interruption,
        verdict_reason: unjudgeable.filter(|_| verdict == Verdict::Unknown),
    };
    phases.enter("writing results");
    results::write_json(&run_dir.join(files::RESULTS), &results)
        .context("cannot write results.json")?;
    results::update_latest(&run_dir).context("cannot update the latest link")?;
    let interrupted = results.interrupted.is_some();
    Ok(RunOutcome {
        results,
        run_dir,
        interrupted,
        failure,
    })
}

/// The phase a run is in, said to the person as it begins; and the phase a Ctrl-C
/// first arrived in.
struct Phases {
    progress: Arc<dyn Progress>,
    current: Arc<Mutex<&'static str>>,
    interrupted_in: Arc<Mutex<Option<&'static str>>>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Phases {
    fn new(progress: Arc<dyn Progress>, mut interrupt: watch::Receiver<bool>) -> Phases {
        let current = Arc::new(Mutex::new("starting"));
        let interrupted_in = Arc::new(Mutex::new(None));
        let watcher = {
            let (current, interrupted_in) = (current.clone(), interrupted_in.clone());
            tokio::spawn(async move {
                until_interrupted(&mut interrupt).await;
                let phase = *current.lock().unwrap_or_else(|e| e.into_inner());
                *interrupted_in.lock().unwrap_or_else(|e| e.into_inner()) = Some(phase);
            })
        };
        Phases {
            progress,
            current,
            interrupted_in,
            watcher,
        }
    }

    fn enter(&self, phase: &'static str) {
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = phase;
        self.progress.phase(phase);
    }

    fn interrupted_in(&self) -> Option<&'static str> {
        *self
            .interrupted_in
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

fn write_test_json(
    run_dir: &std::path::Path,
    config: &RunConfig,
    subject: &dyn Subject,
    faults: Option<&dyn nemesis::NemesisHook>,
) -> anyhow::Result<()> {
    let mut json = serde_json::to_value(config)?;
    if let Some(o) = json.as_object_mut() {
        if let Some(f) = faults {
            o.insert("faults".into(), f.describe());
        }
        o.insert("command".into(), config.command().into());
        o.insert("subject".into(), subject.describe());
        o.insert("faultline_version".into(), env!("CARGO_PKG_VERSION").into());
    }
    results::write_json(&run_dir.join(files::TEST), &json).context("cannot write test.json")
}

/// Resolves when `rx` turns true; never, if its sender is gone without doing so.
pub async fn until_interrupted(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

//! Before anything runs: the SSH hosts connected, the nemesis hook made, the run
//! directory created, what the faults need before the nodes start (network layout,
//! clocks), the subject opened, `test.json` written and the history file created.
//! An error here leaves no run directory behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use crate::recorder::Recorder;
use crate::results::{self, files};
use crate::run::nemesis::{self, NemesisHook};
use crate::run::RunPlan;
use crate::subject::{Subject, SubjectConfig};

use super::test_json;

/// What the run starts from.
pub struct Prepared {
    /// The run directory.
    pub run_dir: PathBuf,
    /// When the run started, as RFC 3339.
    pub started: String,
    /// The faults, prepared (`None`: no faults asked for).
    pub hook: Option<Box<dyn NemesisHook>>,
    /// The subject, opened, not started.
    pub subject: Box<dyn Subject>,
    /// The history's recorder (`history.jsonl` exists).
    pub recorder: Recorder,
}

/// Prepares the run `plan` describes; on an error nothing is left (no run directory,
/// no process; the hook's drop undoes what it prepared).
pub async fn prepare(plan: &RunPlan) -> anyhow::Result<Prepared> {
    let config = &plan.config;
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

    let (started, stamp) = results::stamps(SystemTime::now());
    let run_dir =
        results::create_run_dir(&config.results, &config.name, &stamp).with_context(|| {
            format!(
                "cannot create a run directory under {}",
                config.results.display()
            )
        })?;
    match prepared_in(plan, &run_dir, hook.as_deref_mut(), hosts).await {
        Ok((subject, recorder)) => Ok(Prepared {
            run_dir,
            started,
            hook,
            subject,
            recorder,
        }),
        Err(e) => {
            // Nothing ran: leave no run directory behind.
            let _ = std::fs::remove_dir_all(&run_dir);
            Err(e)
        }
    }
}

/// The steps inside the new run directory `run_dir`.
async fn prepared_in(
    plan: &RunPlan,
    run_dir: &Path,
    mut hook: Option<&mut (dyn NemesisHook + 'static)>,
    hosts: Option<Arc<::nemesis::host::remote::RemoteHosts>>,
) -> anyhow::Result<(Box<dyn Subject>, Recorder)> {
    let config = &plan.config;
    // What the faults need before the nodes start (network layout, clocks).
    let node_names: Vec<String> = (1..=config.nodes).map(|i| format!("n{i}")).collect();
    let network = match &mut hook {
        Some(h) => h
            .prepare(&node_names, plan.kind.network_needs(), run_dir)
            .await
            .context("cannot prepare the faults")?,
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
        nodes_dir: run_dir.join(files::NODES),
        op_timeout: config.op_timeout,
        network,
        hosts,
    };
    let subject = plan.kind.open(&subject_config)?;
    test_json::write(run_dir, config, subject.as_ref(), hook.as_deref())?;
    let recorder = Recorder::create(&run_dir.join(files::HISTORY), Instant::now())
        .context("cannot create history.jsonl")?;
    Ok((subject, recorder))
}

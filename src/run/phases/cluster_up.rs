//! Cluster up: the subject starts its nodes (or reaches them) and waits until they are
//! ready, under a [`RunningCluster`] guard that stops them whatever happens next.

use crate::run::nemesis::NemesisHook;
use crate::subject::{Started, Subject};

use super::names::CLUSTER_UP;
use super::{test_json, RunContext};
use crate::run::until_interrupted;

/// The subject, and what it started: stopped by [`RunningCluster::stop`] on every path
/// of the run; if that was skipped (a panic, an early return), dropping the guard kills
/// the node processes at once.
pub struct RunningCluster {
    subject: Box<dyn Subject>,
    started: Option<Started>,
    stopped: bool,
}

impl RunningCluster {
    /// The guard over `subject`, not started yet.
    pub fn new(subject: Box<dyn Subject>) -> RunningCluster {
        RunningCluster {
            subject,
            started: None,
            stopped: false,
        }
    }

    /// The subject.
    pub fn subject(&self) -> &dyn Subject {
        self.subject.as_ref()
    }

    /// What the subject started, once it did.
    pub fn started(&self) -> Option<&Started> {
        self.started.as_ref()
    }

    /// Stops everything the subject started (idempotent, also after a failed start).
    pub async fn stop(&mut self) {
        self.subject.stop().await;
        self.stopped = true;
    }
}

impl Drop for RunningCluster {
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        if let Some(s) = &self.started {
            for p in &s.faults.processes {
                let _ = p.kill_now();
            }
            for n in &s.faults.other_nodes {
                let _ = n.kill();
            }
        }
    }
}

/// Starts the cluster unless Ctrl-C comes first; `test.json` again once it is up.
/// `Ok(false)`: interrupted before it was ready. Either way what did start is the
/// guard's to stop.
pub async fn run(
    ctx: &RunContext<'_>,
    cluster: &mut RunningCluster,
    hook: Option<&dyn NemesisHook>,
) -> anyhow::Result<bool> {
    ctx.tracker.enter(CLUSTER_UP).await?;
    let mut int = ctx.interrupt.clone();
    let started = tokio::select! {
        r = cluster.subject.start(ctx.recorder.clone()) => r?,
        _ = until_interrupted(&mut int) => return Ok(false),
    };
    cluster.started = Some(started);
    test_json::write(&ctx.run_dir, &ctx.plan.config, cluster.subject(), hook)?;
    ctx.recorder.sync()?;
    Ok(true)
}

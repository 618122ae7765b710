//! The main phase: the workload's clients (the scheduler's [`Pool`]) and the nemesis's
//! fault schedule, until the time limit, a Ctrl-C or an abort; a status line every
//! half second.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::run::nemesis::{NemesisContext, NemesisHook};
use crate::run::scheduler::Pool;
use crate::run::{rate, status, until_interrupted};
use crate::subject::Started;

use super::names::MAIN;
use super::RunContext;

/// The clients' pool over what the subject started (also used by the final reads).
pub fn pool(ctx: &RunContext<'_>, started: &Started) -> Pool {
    let config = &ctx.plan.config;
    Pool {
        clients: started.clients.clone(),
        workload: ctx.plan.workload.clone(),
        recorder: ctx.recorder.clone(),
        concurrency: config.concurrency,
        nodes: started.nodes.len().max(1),
        seed: config.seed,
        op_timeout: config.op_timeout,
        rate: Arc::new(rate::RateLimit::new(config.rate)),
        max_process: Arc::new(AtomicU64::new(0)),
        abort: Arc::new(Mutex::new(None)),
    }
}

/// Runs the clients and the nemesis until the time limit; an error if the nemesis
/// failed or the clients aborted the test.
pub async fn run(
    ctx: &RunContext<'_>,
    started: &Started,
    hook: Option<&mut (dyn NemesisHook + 'static)>,
    pool: &Pool,
) -> anyhow::Result<()> {
    ctx.tracker.enter(MAIN).await?;
    let config = &ctx.plan.config;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut hook = hook;
    let nemesis_ctx = NemesisContext {
        faults: config.nemesis.clone(),
        interval: config.nemesis_interval,
        seed: config.seed,
        node_names: started.nodes.clone(),
        nodes: started.faults.processes.clone(),
        other_nodes: started.faults.other_nodes.clone(),
        router: started.faults.router.clone(),
        failover: started.faults.failover.clone(),
        recorder: ctx.recorder.clone(),
        time_limit: config.time_limit,
    };
    // The nemesis is one more slot of the main phase (a failure to start it fails
    // the run after the phase, as one during it does).
    let (nemesis_slot, nemesis_started) = match hook.as_deref_mut() {
        Some(h) => match h.start(nemesis_ctx).await {
            Ok(slot) => (Some(slot), Ok(())),
            Err(e) => (None, Err(e)),
        },
        None => (None, Ok(())),
    };
    let timer = {
        let mut int = ctx.interrupt.clone();
        let abort = pool.abort.clone();
        let limit = config.time_limit;
        let recorder = ctx.recorder.clone();
        let progress = ctx.progress.clone();
        async move {
            let deadline = tokio::time::Instant::now() + limit;
            let mut tick = tokio::time::interval(Duration::from_millis(500));
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
    let nemesis = nemesis_started.and_then(|()| hook.map_or(Ok(()), |h| h.outcome()));
    ctx.recorder.sync()?;
    nemesis.map_err(|e| e.context("the nemesis failed"))?;
    let aborted = pool.abort.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match aborted {
        Some(a) => Err(anyhow::anyhow!(a)),
        None => Ok(()),
    }
}

//! Quiesce: the cluster gets `--quiesce` without clients or faults to settle
//! (replication, anti-entropy) before the final reads; a Ctrl-C ends it early.

use crate::run::until_interrupted;

use super::names::QUIESCE;
use super::RunContext;

/// Waits the quiesce time, or until Ctrl-C.
pub async fn run(ctx: &RunContext<'_>) -> anyhow::Result<()> {
    ctx.tracker.enter(QUIESCE).await?;
    let mut int = ctx.interrupt.clone();
    tokio::select! {
        _ = tokio::time::sleep(ctx.plan.config.quiesce) => {}
        _ = until_interrupted(&mut int) => {}
    }
    Ok(())
}

//! Final reads: a nemesis note `final-reads` marks the final phase in the history (the
//! eventual checker relies on it), then every key is read from every node, retried
//! until ok for at most the quiesce budget; a Ctrl-C ends them early.

use anyhow::Context;
use checkers::Value;

use crate::run::scheduler::Pool;
use crate::run::until_interrupted;

use super::names::FINAL_READS;
use super::RunContext;

/// Marks the final phase and reads every key from every node.
pub async fn run(ctx: &RunContext<'_>, pool: &Pool) -> anyhow::Result<()> {
    ctx.tracker.enter(FINAL_READS).await?;
    ctx.recorder
        .nemesis(checkers::history::FINAL_READS, &Value::Null);
    ctx.recorder.sync().context("cannot write history.jsonl")?;
    let mut int = ctx.interrupt.clone();
    tokio::select! {
        _ = pool.final_reads(ctx.plan.config.quiesce) => {}
        _ = until_interrupted(&mut int) => {}
    }
    Ok(())
}

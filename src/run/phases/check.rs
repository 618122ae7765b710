//! Check: the checkers decide the recorded history ([`crate::run::check`]) — also after
//! an error or a Ctrl-C, over what was recorded until then.

use crate::results::files;
use crate::run::check::{check_history, Checked};

use super::names::CHECK;
use super::RunContext;

/// Every check over `history.jsonl`.
pub async fn run(ctx: &RunContext<'_>) -> anyhow::Result<Checked> {
    ctx.tracker.enter(CHECK).await?;
    check_history(
        &ctx.run_dir.join(files::HISTORY),
        ctx.plan.checks.clone(),
        ctx.plan.config.check_timeout,
    )
    .await
}

//! Heal: every fault the nemesis started is undone, always — after the main phase,
//! after an error in it and after a Ctrl-C. (Should this be skipped, the nemesis
//! hook's drop heals and tears the network down inside the nemesis crate.)

use crate::run::nemesis::NemesisHook;

use super::names::HEAL;
use super::RunContext;

/// Heals every fault; an error if one could not be healed.
pub async fn run(
    ctx: &RunContext<'_>,
    hook: Option<&mut (dyn NemesisHook + 'static)>,
) -> anyhow::Result<()> {
    let entered = ctx.tracker.enter(HEAL).await;
    let healed = match hook {
        Some(h) => h
            .heal()
            .await
            .map_err(|e| e.context("healing faults failed")),
        None => Ok(()),
    };
    entered.and(healed)
}

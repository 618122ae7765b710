//! `test.json`: the run's configuration as the plan has it, with the faults' and the
//! subject's own descriptions. Written before the cluster starts, again once it is up
//! and again once it is down (when the subject can describe the whole run, e.g.
//! Maelstrom's network counts).

use std::path::Path;

use anyhow::Context;

use crate::results::{self, files};
use crate::run::nemesis::NemesisHook;
use crate::run::RunConfig;
use crate::subject::Subject;

/// Writes `run_dir/test.json`.
pub fn write(
    run_dir: &Path,
    config: &RunConfig,
    subject: &dyn Subject,
    faults: Option<&dyn NemesisHook>,
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

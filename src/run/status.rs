//! The status line shown on a terminal while the main phase runs.

use std::time::Duration;

use crate::recorder::Recorder;

/// `[ 4.5s/10s] 1234 ops  1200 ok  10 fail  24 info  (270 ops/s)`.
pub fn line(recorder: &Recorder, limit: Duration) -> String {
    let c = recorder.counts();
    let t = Duration::from_nanos(recorder.now());
    let secs = t.as_secs_f64().max(1e-9);
    format!(
        "[{:>5.1}s/{}] {} ops  {} ok  {} fail  {} info  ({:.0} ops/s)",
        secs,
        super::config::fmt_duration(limit),
        c.total,
        c.ok,
        c.fail,
        c.info,
        c.total as f64 / secs
    )
}

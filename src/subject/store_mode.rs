//! The reference store `faultline-store` in one of its other modes (`primary-backup`,
//! `multi-leader`, `two-phase-commit`) as a subject: the nodes are started exactly as
//! the leaderless store's are (same program, same addresses and layouts, same start
//! API) — a [`Leaderless`] cluster whose nodes get `--mode MODE` — so every mode moves
//! with the way nodes are started. Each mode's store kind (its options, workloads and
//! faults) lives in its own module and opens a [`StoreMode`].

use crate::recorder::Recorder;

use super::leaderless::Leaderless;
use super::{Started, Subject, SubjectConfig, SubjectError};

/// A cluster of `faultline-store --mode MODE` nodes.
#[derive(Debug)]
pub struct StoreMode {
    mode: &'static str,
    inner: Leaderless,
}

impl StoreMode {
    /// A cluster of `mode` nodes as `config` describes it (nothing started yet).
    pub fn new(config: &SubjectConfig, mode: &'static str) -> Result<StoreMode, SubjectError> {
        let mut config = config.clone();
        config
            .store_options
            .insert(0, ("mode".to_string(), mode.to_string()));
        Ok(StoreMode {
            mode,
            inner: Leaderless::new(&config)?,
        })
    }
}

#[async_trait::async_trait]
impl Subject for StoreMode {
    fn name(&self) -> &str {
        self.mode
    }

    async fn start(&mut self, recorder: Recorder) -> Result<Started, SubjectError> {
        self.inner.start(recorder).await
    }

    async fn stop(&mut self) {
        self.inner.stop().await
    }

    fn describe(&self) -> serde_json::Value {
        let mut d = self.inner.describe();
        d["store"] = serde_json::json!(self.mode);
        d
    }
}

//! The nemesis's failover steps: the store's own [`Failover`] carries them out, the
//! nemesis records them. `start-failover` names the primary taken down and how
//! (`{"nodes":["n1"],"how":"manual"}`), written before the store acts; `stop-failover`
//! adds what happened (`promoted`, `result`, or `error`) and what the heal did
//! (`healed`, or `heal_error`).

use std::sync::Arc;

use serde_json::{json, Value};

use super::{blocking, Nemesis, NemesisError};
use crate::failover::Failover;
use crate::schedule::Action;

impl Nemesis {
    /// The store's own failover, for `--nemesis failover`.
    pub fn attach_failover(&mut self, failover: Arc<dyn Failover>) {
        self.failover = Some(failover);
    }

    pub(super) fn store_failover(&self) -> Result<&Arc<dyn Failover>, NemesisError> {
        self.failover.as_ref().ok_or_else(|| {
            NemesisError::Unsupported(
                "--nemesis failover: this store offers no failover (stores with a primary do, e.g. --store redis)"
                    .into(),
            )
        })
    }

    /// What a failover's start event says: the primary it takes down, and how.
    pub(super) fn failover_value(&self) -> Value {
        match &self.failover {
            Some(f) => json!({ "nodes": [f.primary()], "how": f.how() }),
            None => json!({ "nodes": [] }),
        }
    }

    /// The nodes a fault hits, as the state file names them.
    pub(super) fn targets(&self, action: &Action, value: &Value) -> Vec<String> {
        match action {
            Action::Failover => value["nodes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|n| n.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
            _ => action.nodes(),
        }
    }

    /// The store fails its primary over; `value` gets what happened.
    pub(super) fn fail_over(&self, value: &mut Value) -> Result<(), NemesisError> {
        let failover = self.store_failover()?;
        match failover.fail_over() {
            Ok(p) => {
                tracing::info!(fault = "failover", "fault started: {}", p.said);
                value["promoted"] = json!(p.new);
                value["result"] = json!(p.said);
                Ok(())
            }
            Err(e) => {
                value["error"] = json!(e);
                Err(NemesisError::Node(format!("the failover failed: {e}")))
            }
        }
    }

    /// Keeps what the failover just started did, for its stop event.
    pub(super) fn keep_stop_value(&self, value: Value) {
        let mut active = self.active.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(a) = active
            .iter_mut()
            .rev()
            .find(|a| a.step.action == Action::Failover)
        {
            a.stop_value = Some(value);
        }
    }

    /// Heals a failover: the store brings the old primary back as a replica. The
    /// result, and the stop event's value (`stop_value`, or the current primary, with
    /// what the heal did).
    pub(super) fn heal_failover(
        &self,
        stop_value: Option<Value>,
    ) -> (Result<(), NemesisError>, Value) {
        let mut value = stop_value.unwrap_or_else(|| self.failover_value());
        let Some(failover) = &self.failover else {
            return (Ok(()), value);
        };
        let healed = match blocking(|| failover.heal()) {
            Ok(Some(said)) => {
                tracing::info!(fault = "failover", "fault healed: {said}");
                value["healed"] = json!(said);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => {
                value["heal_error"] = json!(e);
                Err(NemesisError::Node(format!("healing the failover: {e}")))
            }
        };
        (healed, value)
    }

    /// Heals a failover the store still has outstanding, whether or not it was
    /// recorded as active (nothing to do without one).
    pub(super) fn heal_any_failover(&self) -> Result<(), NemesisError> {
        match &self.failover {
            Some(f) => blocking(|| f.heal())
                .map(|_| ())
                .map_err(|e| NemesisError::Node(format!("healing the failover: {e}"))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::schedule::{Plan, Step};
    use crate::{Events, Fault, Options};

    /// The events recorded, by name.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<String>>);

    impl Events for Recorded {
        fn record(&self, f: &str, _value: Value) {
            self.0.lock().unwrap().push(f.to_string());
        }
    }

    #[tokio::test]
    async fn a_failover_on_a_store_that_offers_none_is_refused_and_records_nothing() {
        let options = Options {
            plan: Plan::new(vec![Fault::Failover], Duration::from_secs(1)),
            seed: 1,
            mechanism: None,
            run_dir: None,
            services: 1,
            ports: None,
            routed: false,
        };
        let mut nemesis = Nemesis::prepare(options, &["n1".into(), "n2".into()])
            .await
            .unwrap();
        assert!(nemesis.layout().is_none(), "a failover needs no network");
        let step = Step {
            fault: Fault::Failover,
            action: Action::Failover,
            gap: Duration::ZERO,
            hold: Duration::ZERO,
        };
        let events = Recorded::default();
        let e = nemesis.inject(&step, &events).unwrap_err();
        assert!(matches!(e, NemesisError::Unsupported(_)), "{e}");
        assert!(e.to_string().contains("--nemesis failover"), "{e}");
        nemesis.heal(Some(&events)).unwrap();
        assert!(events.0.lock().unwrap().is_empty(), "no fault window");
        assert!(nemesis.state.get().active.is_empty());
        nemesis.teardown().unwrap();
    }
}

//! This node incarnation as a writer: its actor id, its dot counter, and the versions
//! it coordinated that no later context has covered yet.
//!
//! Every start of a node is a new actor (`n1#9f3a02c1`), so a dot is never reused —
//! not after a restart, not after the data dir was wiped or restored from a stale copy
//! (which would otherwise let old contexts silently obsolete new writes). Version
//! vectors gain one entry per incarnation that wrote a key.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::config::Conflict;
use crate::version::{Version, VersionVector};

struct State {
    dot: u64,
    issued: HashMap<String, Vec<Version>>,
}

/// A writer identity with its dot counter.
pub struct Actor {
    /// The actor id: node name, `#`, a random incarnation number.
    pub id: String,
    state: Mutex<State>,
}

impl Actor {
    /// A fresh actor for node `node`.
    pub fn new(node: &str) -> Actor {
        Actor::with_id(format!("{node}#{:08x}", rand::random::<u32>()))
    }

    fn with_id(id: String) -> Actor {
        Actor {
            id,
            state: Mutex::new(State {
                dot: 0,
                issued: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh dot counter value (unique within this actor).
    pub fn next_dot(&self) -> u64 {
        let mut st = self.lock();
        st.dot += 1;
        st.dot
    }

    /// Creates a new version of `key`: a fresh dot, the client's context, the value and
    /// timestamp. Returns what must be replicated: the new version plus (siblings mode)
    /// this actor's earlier versions of the key that the context does not cover — so a
    /// replica never holds one of this actor's dots without its uncovered predecessors,
    /// which is what makes a context "covering this actor up to c" sound.
    pub fn issue(
        &self,
        key: &str,
        ctx: VersionVector,
        value: Value,
        ts: u64,
        mode: Conflict,
    ) -> Vec<Version> {
        let mut st = self.lock();
        st.dot += 1;
        let version = Version {
            ctx,
            value,
            ts,
            actor: self.id.clone(),
            dot: st.dot,
        };
        if mode == Conflict::Lww {
            return vec![version];
        }
        let own = st.issued.entry(key.to_string()).or_default();
        own.retain(|v| !v.covered_by(&version.ctx));
        own.push(version);
        own.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_coordinator_resends_its_own_versions_the_new_context_does_not_cover() {
        let a = Actor::with_id("n1#0".into());
        let s = Conflict::Siblings;
        assert_eq!(a.issue("k", VersionVector::new(), json!(1), 1, s).len(), 1);
        let second = a.issue("k", VersionVector::new(), json!(2), 2, s);
        assert_eq!(
            second.len(),
            2,
            "a blind write does not cover the earlier one"
        );
        let ctx: VersionVector = [("n1#0".to_string(), second[1].dot)].into();
        let third = a.issue("k", ctx, json!(3), 3, s);
        assert_eq!(
            third.iter().map(|v| v.value.clone()).collect::<Vec<_>>(),
            vec![json!(3)]
        );
        assert_eq!(
            a.issue("other", VersionVector::new(), json!(4), 4, s).len(),
            1
        );
    }

    #[test]
    fn every_incarnation_is_a_new_actor() {
        assert_ne!(Actor::new("n1").id, Actor::new("n1").id);
        assert!(Actor::new("n1").id.starts_with("n1#"));
    }

    #[test]
    fn lww_replicates_only_the_new_version() {
        let a = Actor::with_id("n1#0".into());
        a.issue("k", VersionVector::new(), json!(1), 1, Conflict::Lww);
        assert_eq!(
            a.issue("k", VersionVector::new(), json!(2), 2, Conflict::Lww)
                .len(),
            1
        );
    }
}

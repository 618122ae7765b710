//! `--store multi-leader`: the reference store `faultline-store` in its multi-leader
//! mode (stores/src/multi_leader): `--nodes` local processes, each taking writes and
//! replicating them asynchronously. Its options (`--topology`, `--resolution`,
//! `--causality`, `--link-delay-ms`) are passed through to every node; their promises
//! are in stores/README.md. (`--conflict` is the leaderless store's option, so the
//! conflict resolution here is `--resolution`.)
//!
//! Its nodes are started as the leaderless store's are ([`StoreMode`]).

use super::kind::{number, one_of, StoreKind, StoreSettings};
use super::store_mode::StoreMode;
use super::{Subject, SubjectConfig, SubjectError};

/// `--store multi-leader`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

/// Its options, as `faultline run` flags and the store's own.
pub const OPTIONS: &[&str] = &["topology", "resolution", "causality", "link-delay-ms"];

impl StoreKind for Kind {
    fn name(&self) -> &'static str {
        "multi-leader"
    }

    fn about(&self) -> &'static str {
        "the reference store with every node a leader, replicating asynchronously"
    }

    fn options(&self) -> &'static [&'static str] {
        OPTIONS
    }

    fn workloads(&self) -> &'static [&'static str] {
        &[
            "register",
            "cas-register",
            "kv",
            "set",
            "counter",
            "dependent-update",
        ]
    }

    /// Its nodes start from the nemesis network's layout (listen and peer addresses).
    fn network_needs(&self) -> super::NetworkNeeds {
        super::NetworkNeeds {
            from_layout: true,
            ..super::NetworkNeeds::default()
        }
    }

    fn faults(&self, _settings: &StoreSettings) -> &'static [nemesis::Fault] {
        nemesis::Fault::ON_ANY_STORE
    }

    fn check(&self, s: &StoreSettings) -> Result<(), String> {
        if s.external() {
            return Err("--store primary-backup starts its own nodes; remove --addrs".into());
        }
        if s.nodes == 0 {
            return Err("--nodes 0: expected at least 1".into());
        }
        for (k, v) in s.options {
            match k.as_str() {
                "topology" => {
                    one_of(k, v, &["circular", "star", "all-to-all"])?;
                }
                "resolution" => {
                    one_of(k, v, &["lww", "siblings", "crdt"])?;
                }
                "causality" => {
                    one_of(k, v, &["none", "version-vectors"])?;
                }
                "link-delay-ms" => {
                    number::<u64>(k, v)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// All-to-all, last write wins for registers and a CRDT for sets and counters,
    /// no causal delivery.
    fn defaults(&self, s: &StoreSettings) -> Vec<(String, String)> {
        let resolution = if matches!(s.workload, "set" | "counter") {
            "crdt"
        } else {
            "lww"
        };
        [
            ("topology", "all-to-all"),
            ("resolution", resolution),
            ("causality", "none"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(StoreMode::new(config, "multi-leader")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings<'a>(options: &'a [(String, String)], nodes: usize) -> StoreSettings<'a> {
        StoreSettings {
            nodes,
            addrs: &[],
            bin: None,
            options,
            workload: "register",
        }
    }

    #[test]
    fn bad_option_values_are_refused_with_the_flag_named() {
        let o = vec![("topology".to_string(), "mesh".to_string())];
        let e = KIND.check(&settings(&o, 3)).unwrap_err();
        assert!(
            e.contains("--topology mesh") && e.contains("all-to-all"),
            "{e}"
        );
        let o = vec![("link-delay-ms".to_string(), "slow".to_string())];
        assert!(KIND
            .check(&settings(&o, 3))
            .unwrap_err()
            .contains("expected a number"));
        let o = vec![("causality".to_string(), "version-vectors".to_string())];
        assert!(KIND.check(&settings(&o, 3)).is_ok());
    }
}

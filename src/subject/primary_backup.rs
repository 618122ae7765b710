//! `--store primary-backup`: the reference store `faultline-store` in its
//! primary-backup mode (stores/src/primary_backup): `--nodes` local processes, the
//! first by name the primary of epoch 1, the others its backups. Its options
//! (`--replication`, `--read-from`, `--failover-timeout-ms`, `--fencing`,
//! `--backup-lag-ms`) are passed through to every node; their promises are in
//! stores/README.md.
//!
//! Its nodes are started as the leaderless store's are ([`StoreMode`]).

use super::kind::{number, one_of, StoreKind, StoreSettings};
use super::store_mode::StoreMode;
use super::{Subject, SubjectConfig, SubjectError};

/// `--store primary-backup`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

/// Its options, as `faultline run` flags and the store's own.
pub const OPTIONS: &[&str] = &[
    "replication",
    "read-from",
    "failover-timeout-ms",
    "fencing",
    "backup-lag-ms",
];

impl StoreKind for Kind {
    fn name(&self) -> &'static str {
        "primary-backup"
    }

    fn about(&self) -> &'static str {
        "the reference store as one primary shipping its log to backups, with failover"
    }

    fn options(&self) -> &'static [&'static str] {
        OPTIONS
    }

    fn workloads(&self) -> &'static [&'static str] {
        &["register", "cas-register", "kv", "set", "counter"]
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
                "replication" => {
                    one_of(k, v, &["sync", "semi-sync", "async"])?;
                }
                "read-from" => {
                    one_of(k, v, &["primary", "backups", "any"])?;
                }
                "fencing" => {
                    one_of(k, v, &["on", "off"])?;
                }
                "failover-timeout-ms" | "backup-lag-ms" => {
                    number::<u64>(k, v)?;
                }
                _ => {}
            }
        }
        if s.option("read-from") == Some("backups") && s.nodes < 2 {
            return Err("--read-from backups needs a backup: --nodes 2 or more".into());
        }
        Ok(())
    }

    /// Synchronous replication to every backup, reads from the primary, failover after
    /// 1.5 s of silence, fencing on.
    fn defaults(&self, _s: &StoreSettings) -> Vec<(String, String)> {
        [
            ("replication", "sync"),
            ("read-from", "primary"),
            ("failover-timeout-ms", "1500"),
            ("fencing", "on"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(StoreMode::new(config, "primary-backup")?))
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
        let o = vec![("replication".to_string(), "eventually".to_string())];
        let e = KIND.check(&settings(&o, 3)).unwrap_err();
        assert!(
            e.contains("--replication eventually") && e.contains("semi-sync"),
            "{e}"
        );
        let o = vec![("failover-timeout-ms".to_string(), "soon".to_string())];
        assert!(KIND
            .check(&settings(&o, 3))
            .unwrap_err()
            .contains("expected a number"));
        let o = vec![("read-from".to_string(), "backups".to_string())];
        assert!(KIND.check(&settings(&o, 1)).is_err());
        assert!(KIND.check(&settings(&o, 3)).is_ok());
    }
}

//! `--store two-phase-commit`: the reference store `faultline-store` in its
//! two-phase-commit mode (stores/src/two_phase_commit): `--nodes` local processes, the
//! keys hash-sharded over them, every list-append or rw-register txn coordinated by
//! the node its client talks to, by two-phase commit over the nodes' peer
//! connections. Its options (`--prepare-log on|off`, and `--crash-mid-commit P`, the
//! test crash point) are passed through to every node; their promises are in
//! stores/README.md.
//!
//! Its nodes are started as the leaderless store's are ([`StoreMode`]).

use super::kind::{number, one_of, StoreKind, StoreSettings};
use super::store_mode::StoreMode;
use super::{Subject, SubjectConfig, SubjectError};

/// `--store two-phase-commit`.
pub struct Kind;

/// The kind the store table registers.
pub static KIND: Kind = Kind;

/// Its options, as `faultline run` flags and the store's own.
pub const OPTIONS: &[&str] = &["prepare-log", "crash-mid-commit"];

impl StoreKind for Kind {
    fn name(&self) -> &'static str {
        "two-phase-commit"
    }

    fn about(&self) -> &'static str {
        "the reference store with keys sharded over the nodes and txns by two-phase commit"
    }

    fn options(&self) -> &'static [&'static str] {
        OPTIONS
    }

    fn workloads(&self) -> &'static [&'static str] {
        &["list-append", "rw-register"]
    }

    /// Every fault: no promise of the store rests on a clock (timeouts only delay).
    /// Its nodes start from the nemesis network's layout (listen and peer addresses).
    fn network_needs(&self) -> super::NetworkNeeds {
        super::NetworkNeeds {
            from_layout: true,
            ..super::NetworkNeeds::default()
        }
    }

    fn faults(&self, _settings: &StoreSettings) -> &'static [nemesis::Fault] {
        nemesis::Fault::ALL
    }

    fn check(&self, s: &StoreSettings) -> Result<(), String> {
        if s.external() {
            return Err("--store two-phase-commit starts its own nodes; remove --addrs".into());
        }
        if s.nodes == 0 {
            return Err("--nodes 0: expected at least 1".into());
        }
        for (k, v) in s.options {
            match k.as_str() {
                "prepare-log" => {
                    one_of(k, v, &["on", "off"])?;
                }
                "crash-mid-commit" => {
                    let p: f64 = number(k, v)?;
                    if !(0.0..=1.0).contains(&p) {
                        return Err(format!("--{k} {v}: expected a probability in 0..=1"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Correct 2PC: prepare records and the decision log on.
    fn defaults(&self, _s: &StoreSettings) -> Vec<(String, String)> {
        vec![("prepare-log".to_string(), "on".to_string())]
    }

    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError> {
        Ok(Box::new(StoreMode::new(config, "two-phase-commit")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(options: &[(String, String)]) -> StoreSettings<'_> {
        StoreSettings {
            nodes: 3,
            addrs: &[],
            bin: None,
            options,
            workload: "list-append",
        }
    }

    #[test]
    fn bad_option_values_are_refused_with_the_flag_named() {
        let o = vec![("prepare-log".to_string(), "maybe".to_string())];
        let e = KIND.check(&settings(&o)).unwrap_err();
        assert!(
            e.contains("--prepare-log maybe") && e.contains("on or off"),
            "{e}"
        );
        for bad in ["often", "1.5", "-0.1"] {
            let o = vec![("crash-mid-commit".to_string(), bad.to_string())];
            let e = KIND.check(&settings(&o)).unwrap_err();
            assert!(e.contains("--crash-mid-commit"), "{e}");
        }
        let o = vec![
            ("prepare-log".to_string(), "off".to_string()),
            ("crash-mid-commit".to_string(), "0.2".to_string()),
        ];
        assert!(KIND.check(&settings(&o)).is_ok());
    }
}

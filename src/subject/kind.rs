//! The kinds of store `--store` names, declared in one table ([`KINDS`]).
//!
//! A [`StoreKind`] says, before anything starts, everything the plan needs to know
//! about a store: its name and one-line description (the `--help` text of `--store` is
//! generated from the table), which store options it takes and whether their values
//! make sense for the run ([`StoreKind::check`]), what its nodes need from a nemesis
//! network, which faults it can take, which workloads it serves, and how to open the
//! [`Subject`] that starts it. Adding a store kind is one module that implements this
//! trait and one line in [`KINDS`].

use std::path::Path;

use nemesis::Fault;

use super::{NetworkNeeds, Subject, SubjectConfig, SubjectError};

/// What a store kind is told about the run, to check its settings before anything
/// starts.
#[derive(Clone, Copy, Debug)]
pub struct StoreSettings<'a> {
    /// `--nodes`.
    pub nodes: usize,
    /// `--addrs` (an existing cluster, reached by address).
    pub addrs: &'a [String],
    /// `--bin`.
    pub bin: Option<&'a Path>,
    /// The store options given, as (flag without dashes, value), each checked to be
    /// one of [`StoreKind::options`] already.
    pub options: &'a [(String, String)],
    /// `--workload`.
    pub workload: &'a str,
}

impl StoreSettings<'_> {
    /// The value given for store option `flag`, if any.
    pub fn option(&self, flag: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == flag)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the cluster runs already and faultline only reaches it by address.
    pub fn external(&self) -> bool {
        !self.addrs.is_empty()
    }
}

/// A kind of store under test, as the run plan sees it.
pub trait StoreKind: Sync {
    /// Its `--store` name (`leaderless`, `etcd`, ...).
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// The store options it takes (flags without dashes).
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// The workloads it serves.
    fn workloads(&self) -> &'static [&'static str];
    /// The faults it can take with `settings` (none on a cluster faultline did not start).
    fn faults(&self, settings: &StoreSettings) -> &'static [Fault];
    /// The faults a run gets when `--nemesis` is not given: kill and pause, where the
    /// store can take them.
    fn default_faults(&self, settings: &StoreSettings) -> Vec<Fault> {
        let takes = self.faults(settings);
        [Fault::Kill, Fault::Pause]
            .into_iter()
            .filter(|f| takes.contains(f))
            .collect()
    }
    /// What its nodes need from a nemesis network.
    fn network_needs(&self) -> NetworkNeeds {
        NetworkNeeds::default()
    }
    /// Checks the option values and the other settings it depends on; the error is one
    /// line that says what to change.
    fn check(&self, settings: &StoreSettings) -> Result<(), String>;
    /// The store option values it runs with when none is given, shown in the run's
    /// first lines and written to `test.json` (e.g. the reference store's quorums).
    fn defaults(&self, _settings: &StoreSettings) -> Vec<(String, String)> {
        Vec::new()
    }
    /// How long a run waits after healing before the final reads when `--quiesce` is
    /// not given (the final reads may retry as long again).
    fn default_quiesce(&self) -> std::time::Duration {
        DEFAULT_QUIESCE
    }
    /// The subject that starts (or reaches) it.
    fn open(&self, config: &SubjectConfig) -> Result<Box<dyn Subject>, SubjectError>;
}

/// How long a run waits after healing before its final reads, unless the store kind
/// or `--quiesce` says otherwise.
pub const DEFAULT_QUIESCE: std::time::Duration = std::time::Duration::from_secs(2);

/// Every store kind `--store` names. One line per kind.
pub static KINDS: &[&dyn StoreKind] = &[
    &super::leaderless::KIND,
    &super::http::KIND,
    &super::etcd::KIND,
    &super::redis::KIND,
    &super::maelstrom::KIND,
    &super::postgres::KIND,
    &super::primary_backup::KIND,
    &super::multi_leader::KIND,
    &super::two_phase_commit::KIND,
];

/// The kind `--cluster FILE` starts (not named by `--store`).
pub static CLUSTER_FILE: &dyn StoreKind = &super::cluster_file::KIND;

/// The kind called `name`.
pub fn by_name(name: &str) -> Option<&'static dyn StoreKind> {
    KINDS.iter().copied().find(|k| k.name() == name)
}

/// The names of every kind, comma-separated.
pub fn names() -> String {
    KINDS
        .iter()
        .map(|k| k.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The store kind whose option `flag` is, if any.
pub fn owner_of(flag: &str) -> Option<&'static dyn StoreKind> {
    KINDS.iter().copied().find(|k| k.options().contains(&flag))
}

/// The `--help` text of `--store`, generated from [`KINDS`].
pub fn help() -> String {
    let mut s = String::from("The store under test (default leaderless):");
    for k in KINDS {
        s.push_str(&format!("\n  {:<11} {}", k.name(), k.about()));
    }
    s.push_str("\nSee docs/subjects.md.");
    s
}

/// The table of store kinds as Markdown, for docs/subjects.md (a test keeps the page
/// equal to it): each kind's options, the faults it takes on a cluster faultline
/// starts, and the workloads it serves.
pub fn markdown_table() -> String {
    let mut s = String::from(
        "| `--store` | what | store options | faults | workloads |\n|---|---|---|---|---|\n",
    );
    let code = |items: Vec<&str>| {
        if items.is_empty() {
            "none".to_string()
        } else {
            items
                .iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for k in KINDS {
        let settings = StoreSettings {
            nodes: 3,
            addrs: &[],
            bin: None,
            options: &[],
            workload: "",
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            k.name(),
            k.about(),
            code(k.options().to_vec()),
            code(k.faults(&settings).iter().map(|f| f.as_str()).collect()),
            code(k.workloads().to_vec()),
        ));
    }
    s
}

/// A store option's value as a number, or a one-line error naming the flag.
pub fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("--{flag} {value}: expected a number"))
}

/// A store option's value as one of `choices`, or a one-line error naming them.
pub fn one_of<'a>(flag: &str, value: &'a str, choices: &[&str]) -> Result<&'a str, String> {
    if choices.contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "--{flag} {value}: expected {}",
            choices.join(" or ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name_and_its_options_belong_to_it_alone() {
        for (i, a) in KINDS.iter().enumerate() {
            for b in &KINDS[i + 1..] {
                assert_ne!(a.name(), b.name());
                for o in a.options() {
                    assert!(
                        !b.options().contains(o),
                        "{o} in {} and {}",
                        a.name(),
                        b.name()
                    );
                }
            }
        }
    }

    #[test]
    fn docs_subjects_md_holds_the_table_of_store_kinds_as_generated() {
        let page = include_str!("../../docs/subjects.md");
        assert!(
            page.contains(&markdown_table()),
            "docs/subjects.md is out of date; put this table in it:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn the_help_names_every_kind() {
        let h = help();
        for k in KINDS {
            assert!(h.contains(k.name()), "{h}");
        }
    }
}

//! Which mechanism carries a clock offset into a node: libfaketime preloaded at start
//! ([`ClockMechanism::Faketime`]) or the running process's vDSO patched
//! ([`ClockMechanism::Vdso`]), and how `auto` picks one per process.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// A clock mechanism, as `--clock-mechanism` names it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum ClockMechanism {
    /// Per process: `vdso` where libfaketime cannot reach (see [`ClockMechanism::resolve`]),
    /// else `faketime`.
    #[default]
    Auto,
    /// libfaketime, preloaded when the node starts.
    Faketime,
    /// The running process's vDSO, patched through ptrace.
    Vdso,
}

impl ClockMechanism {
    /// Every name `--clock-mechanism` accepts.
    pub const NAMES: &'static [&'static str] = &["auto", "faketime", "vdso"];

    /// The mechanism for one node process: `program` is its executable, and
    /// `preloaded` says whether it was started with libfaketime in its environment.
    /// `Auto` picks `vdso` when the process was not started with the preload, when the
    /// program is a Go program or a static executable (neither calls libc's clock
    /// functions), or when libfaketime is not installed — provided this machine can
    /// patch a vDSO ([`super::vdso::SUPPORTED`]); otherwise `faketime`. Never `Auto`.
    pub fn resolve(self, program: &Path, preloaded: bool) -> ClockMechanism {
        match self {
            ClockMechanism::Faketime | ClockMechanism::Vdso => self,
            ClockMechanism::Auto => {
                let libfaketime_cannot_reach = !preloaded
                    || super::libfaketime().is_none()
                    || super::ignores_libfaketime(program)
                    || super::vdso::elf::is_static_executable(program);
                if libfaketime_cannot_reach && super::vdso::SUPPORTED {
                    ClockMechanism::Vdso
                } else {
                    ClockMechanism::Faketime
                }
            }
        }
    }
}

impl fmt::Display for ClockMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClockMechanism::Auto => "auto",
            ClockMechanism::Faketime => "faketime",
            ClockMechanism::Vdso => "vdso",
        })
    }
}

impl FromStr for ClockMechanism {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ClockMechanism::Auto),
            "faketime" => Ok(ClockMechanism::Faketime),
            "vdso" => Ok(ClockMechanism::Vdso),
            other => Err(format!(
                "unknown clock mechanism {other:?}: expected one of {}",
                ClockMechanism::NAMES.join(", ")
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanisms_parse_from_and_print_as_their_cli_names() {
        for name in ClockMechanism::NAMES {
            assert_eq!(name.parse::<ClockMechanism>().unwrap().to_string(), *name);
        }
        assert!("ntp"
            .parse::<ClockMechanism>()
            .unwrap_err()
            .contains("auto"));
    }

    #[test]
    fn a_fixed_choice_is_kept_and_auto_picks_vdso_for_a_process_started_without_the_preload() {
        let sh = Path::new("/bin/sh");
        assert_eq!(
            ClockMechanism::Faketime.resolve(sh, false),
            ClockMechanism::Faketime
        );
        assert_eq!(ClockMechanism::Vdso.resolve(sh, true), ClockMechanism::Vdso);
        if super::super::vdso::SUPPORTED {
            assert_eq!(
                ClockMechanism::Auto.resolve(sh, false),
                ClockMechanism::Vdso
            );
            if Path::new("/usr/bin/etcd").exists() {
                // A Go program ignores the preload even when it has it.
                let etcd = Path::new("/usr/bin/etcd");
                assert_eq!(
                    ClockMechanism::Auto.resolve(etcd, true),
                    ClockMechanism::Vdso
                );
            }
        }
        if super::super::libfaketime().is_some()
            && !super::super::vdso::elf::is_static_executable(sh)
        {
            assert_eq!(
                ClockMechanism::Auto.resolve(sh, true),
                ClockMechanism::Faketime
            );
        }
    }
}

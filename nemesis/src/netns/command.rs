//! Running `ip`, `nft`, `iptables` and `tc`, in the root namespace or inside a node's
//! namespace (through [`crate::host`]: `setns` between fork and exec), and finding faultline's
//! namespaces and interfaces on the machine.

use std::path::PathBuf;

use super::NetnsError;
use crate::host::{Host, Local, Namespace, COMMAND_TIMEOUT};

/// Where a program is (the `PATH`, then `/usr/sbin` and `/sbin`).
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    crate::host::local::which(program).filter(|p| p.is_file())
}

/// Runs `program args` (in namespace `ns` when given, else in the driver's), feeding
/// `input` on stdin: a [`Host`] command that must exit 0.
pub(crate) fn run(
    ns: Option<&str>,
    program: &str,
    args: &[&str],
    input: Option<&str>,
) -> Result<String, NetnsError> {
    let host: Box<dyn Host> = match ns {
        Some(ns) => Box::new(Namespace::new(ns)),
        None => Box::new(Local),
    };
    host.run_ok(program, args, input.map(str::as_bytes), COMMAND_TIMEOUT)
        .map_err(|e| NetnsError::Command {
            command: format!(
                "{}{}",
                ns.map(|n| format!("ip netns exec {n} "))
                    .unwrap_or_default(),
                crate::host::command_line(program, args)
            ),
            message: match e {
                crate::host::HostError::Failed { stderr, .. } => stderr,
                other => other.to_string(),
            },
        })
}

pub(crate) fn ip(args: &[&str]) -> Result<String, NetnsError> {
    run(None, "ip", args, None)
}

/// Whether this kernel has the netem queueing discipline (delay in namespaces).
pub fn has_netem() -> bool {
    let ns = format!("fl-netem-{}", std::process::id());
    if ip(&["netns", "add", &ns]).is_err() {
        return false;
    }
    let ok = run(
        Some(&ns),
        "tc",
        &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
        None,
    )
    .is_ok();
    let _ = ip(&["netns", "del", &ns]);
    ok
}

/// Deletes these namespaces and root-namespace interfaces (missing ones are fine).
pub fn remove(namespaces: &[String], interfaces: &[String]) {
    for ns in namespaces {
        let _ = ip(&["netns", "del", ns]);
    }
    for i in interfaces {
        let _ = ip(&["link", "del", i]);
    }
}

/// Every faultline namespace on this machine (`fl-` names in `ip netns list`).
pub fn faultline_namespaces() -> Vec<String> {
    ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("fl-"))
        .map(str::to_string)
        .collect()
}

/// Every faultline interface in the root namespace (`fl-` names).
pub fn faultline_interfaces() -> Vec<String> {
    ip(&["-o", "link", "show"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .filter(|n| n.starts_with("fl-"))
        .collect()
}

//! Running `ip`, `nft`, `iptables` and `tc`, in the root namespace or inside a node's
//! namespace (entered with `setns` between fork and exec), and finding faultline's
//! namespaces and interfaces on the machine.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::NetnsError;

/// Where a program is (the `PATH`, then `/usr/sbin` and `/sbin`).
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Runs `program args` (in namespace `ns` when given), feeding `input` on stdin.
pub(crate) fn run(
    ns: Option<&str>,
    program: &str,
    args: &[&str],
    input: Option<&str>,
) -> Result<String, NetnsError> {
    let command = format!(
        "{}{program} {}",
        ns.map(|n| format!("ip netns exec {n} "))
            .unwrap_or_default(),
        args.join(" ")
    );
    let fail = |message: String| NetnsError::Command {
        command: command.clone(),
        message,
    };
    let exe = which(program).unwrap_or_else(|| PathBuf::from(program));
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(ns) = ns {
        let file = std::fs::File::open(Path::new("/run/netns").join(ns))
            .map_err(|e| fail(format!("no namespace {ns}: {e}")))?;
        // SAFETY: only the setns system call runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .map_err(std::io::Error::from)
            });
        }
    }
    let mut child = cmd.spawn().map_err(|e| fail(e.to_string()))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(fail(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ))
    }
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

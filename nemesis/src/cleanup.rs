//! Heals whatever a faultline run left behind when it could not heal itself (its
//! driver was killed): reads every state file, then looks for anything named as
//! faultline's. Only what belongs to a faultline process that is gone is touched;
//! a live run's namespaces, nodes and faults are left alone. Idempotent.
//!
//! - state files (the state dir, and `nemesis-state.json` under given results dirs),
//!   grouped by run (a run's two copies are one run, healed and reported once):
//!   paused processes resumed, clock files reset, patched vDSOs restored (the original
//!   bytes put back, in processes that still run), namespaces and interfaces removed;
//!   on every SSH host a state names (`--hosts`), over SSH as the run logged in:
//!   faultline's firewall table removed, paused nodes resumed, the run's nodes killed
//!   (a host that cannot be reached is an error naming it);
//! - orphan nodes: processes whose environment names a dead owner
//!   ([`crate::owner::ENV_OWNER`]; every node a faultline run starts carries it) are
//!   continued and killed with their process group, once per group;
//! - namespaces `fl-*` and root-namespace interfaces `fl-*` of no live run: removed;
//! - subnet locks of dead owners: removed.
//!
//! Proxies live inside the driver and die with it; nothing to do for them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;

use crate::owner::{self, Owner};
use crate::state::{self, State};

/// What a cleanup did and found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// What was healed or removed.
    pub healed: Vec<String>,
    /// What belongs to a run that is still going (left alone).
    pub live: Vec<String>,
    /// What could not be healed.
    pub errors: Vec<String>,
}

/// Every state file in the state dir and under `results` (recursively).
pub fn state_files(results: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(state::state_dir()) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    for r in results {
        walk(r, 0, &mut files);
    }
    files
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 4 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() && p.file_name().is_some_and(|n| n != "nodes" && n != "data") {
            walk(&p, depth + 1, out);
        } else if ft.is_file() && p.file_name().is_some_and(|n| n == state::RUN_STATE_FILE) {
            out.push(p);
        }
    }
}

/// One run's state, as read from all its copies.
struct Run {
    state: State,
    paths: Vec<PathBuf>,
}

/// The state files grouped by run (owner and id): a run's copies are one run. Of the
/// copies, the one that is not marked healed wins (the state-dir copy is removed on a
/// heal, so a healed run-dir copy beside a live state-dir copy means a heal that did
/// not finish).
fn runs(paths: Vec<PathBuf>, report: &mut Report) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for path in paths {
        let s = match state::read(&path) {
            Ok(s) => s,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        match runs
            .iter_mut()
            .find(|r| r.state.id == s.id && r.state.owner == s.owner)
        {
            Some(r) => {
                if r.state.healed && !s.healed {
                    r.state = s;
                }
                r.paths.push(path);
            }
            None => runs.push(Run {
                state: s,
                paths: vec![path],
            }),
        }
    }
    runs
}

fn shown(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    match names.len() {
        1 => format!("file {}", names[0]),
        _ => format!("files {}", names.join(" and ")),
    }
}

fn owner_alive(s: &State) -> bool {
    s.owner
        .is_some_and(|o| o.is_alive() && o != Owner::current())
}

/// Heals everything left by dead faultline runs. `results`: run directories to search
/// for state files besides the state dir.
pub fn cleanup(results: &[PathBuf]) -> Report {
    let mut report = Report::default();
    let mut live_ids: BTreeSet<String> = BTreeSet::new();

    // 1. State files: each run once, though it has two copies (the state dir's and
    //    the run directory's) — the same run, healed once, reported once.
    for run in runs(state_files(results), &mut report) {
        let s = &run.state;
        if owner_alive(s) {
            live_ids.insert(s.id.clone());
            if !s.healed && !s.is_empty() {
                report.live.push(format!(
                    "run {} (pid {}) is still going: {}",
                    s.id,
                    s.owner.map_or(0, |o| o.pid),
                    shown(&run.paths)
                ));
            }
            continue;
        }
        if s.healed && s.is_empty() && run.paths.iter().all(|p| !p.starts_with(state::state_dir()))
        {
            continue;
        }
        let unreached = heal_state(s, &mut report);
        // A host that could not be reached stays in the state (alone), so that the
        // next cleanup tries it again.
        let done = State {
            owner: s.owner,
            id: s.id.clone(),
            run_dir: s.run_dir.clone(),
            healed: unreached.is_empty(),
            hosts: unreached,
            ..State::default()
        };
        let mut closed = Vec::new();
        for path in &run.paths {
            let r = if path.starts_with(state::state_dir()) && done.healed {
                std::fs::remove_file(path)
            } else {
                serde_json::to_vec_pretty(&done)
                    .map_err(std::io::Error::other)
                    .and_then(|b| std::fs::write(path, b))
            };
            match r {
                Ok(()) => closed.push(path.clone()),
                Err(e) => report.errors.push(format!("{}: {e}", path.display())),
            }
        }
        if !done.healed {
            report.live.push(format!(
                "run {}: kept in its state {} for the hosts not reached",
                s.id,
                shown(&closed)
            ));
        } else if !closed.is_empty() {
            report
                .healed
                .push(format!("run {}: state {} closed", s.id, shown(&closed)));
        }
    }

    // 2. Subnet locks (they name the run ids of live networks too).
    if let Ok(rd) = std::fs::read_dir(state::state_dir()) {
        for e in rd.flatten() {
            let p = e.path();
            if !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("subnet-"))
            {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let mut words = text.split_whitespace();
            let owner = words.next().and_then(Owner::parse);
            let id = words.next().unwrap_or("").to_string();
            if owner.is_some_and(|o| o.is_alive() && o != Owner::current()) {
                live_ids.insert(id);
            } else if std::fs::remove_file(&p).is_ok() {
                report
                    .healed
                    .push(format!("subnet lock {} released", p.display()));
            }
        }
    }

    // 3. Orphan nodes: every process group holding a process tagged with a dead
    //    owner, killed once (a paused one is continued first, so nothing waits on it).
    let mut groups: BTreeSet<i32> = BTreeSet::new();
    let mut killed = Vec::new();
    for (pid, owner, node) in tagged_processes() {
        if owner.is_alive() {
            continue;
        }
        let group = nix::unistd::getpgid(Some(Pid::from_raw(pid)))
            .map(Pid::as_raw)
            .unwrap_or(pid);
        if !groups.insert(group) {
            continue;
        }
        let paused = matches!(crate::process::proc_state(pid), Some('T' | 't'));
        let _ = killpg(Pid::from_raw(group), Signal::SIGCONT);
        let r = killpg(Pid::from_raw(group), Signal::SIGKILL)
            .or_else(|_| kill(Pid::from_raw(pid), Signal::SIGKILL));
        match r {
            Ok(()) => {
                killed.push(pid);
                report.healed.push(format!(
                    "orphan node {node} (pid {pid}{}, owner {owner} is gone) killed",
                    if paused { ", paused" } else { "" }
                ))
            }
            Err(e) => report
                .errors
                .push(format!("cannot kill orphan node {node} (pid {pid}): {e}")),
        }
    }
    // Wait (briefly) until they are gone, so the cleanup is done when it returns.
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < until
        && killed.iter().any(|p| owner::start_time(*p).is_some())
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }

    // 3b. The SSH master connections of dead drivers (they outlive a killed driver).
    close_stale_ssh_masters(&mut report);

    // 4. Namespaces and interfaces named as faultline's, of no live run.
    if nix::unistd::geteuid().is_root() {
        let is_live = |name: &str| {
            let id = name
                .trim_start_matches("fl-")
                .split('-')
                .next()
                .unwrap_or("");
            if id == "netem" {
                // fl-netem-<pid>: a probe of has_netem by that process.
                let pid = name
                    .rsplit('-')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
                return owner::start_time(pid).is_some();
            }
            live_ids.contains(id)
        };
        let namespaces: Vec<String> = crate::netns::faultline_namespaces()
            .into_iter()
            .filter(|n| !is_live(n))
            .collect();
        let interfaces: Vec<String> = crate::netns::faultline_interfaces()
            .into_iter()
            .filter(|n| !is_live(n))
            .collect();
        crate::netns::remove(&namespaces, &interfaces);
        for n in &namespaces {
            report.healed.push(format!("namespace {n} removed"));
        }
        for i in &interfaces {
            report.healed.push(format!("interface {i} removed"));
        }
        let left_ns: Vec<String> = crate::netns::faultline_namespaces()
            .into_iter()
            .filter(|n| namespaces.contains(n))
            .collect();
        let left_if: Vec<String> = crate::netns::faultline_interfaces()
            .into_iter()
            .filter(|n| interfaces.contains(n))
            .collect();
        for x in left_ns.iter().chain(&left_if) {
            report.errors.push(format!("{x} could not be removed"));
        }
    }
    report
}

/// Heals what one state file records (what [`cleanup`] does for each state file of a
/// dead owner), without the machine-wide sweeps of namespaces and orphan nodes.
pub fn heal_recorded(s: &State) -> Report {
    let mut report = Report::default();
    heal_state(s, &mut report);
    report
}

/// Heals what `s` records; the hosts that could not be reached.
fn heal_state(s: &State, report: &mut Report) -> Vec<crate::host::remote::HostRecord> {
    let mut unreached = Vec::new();
    for (node, pid, start) in &s.paused {
        if owner::start_time(*pid) == Some(*start) {
            match killpg(Pid::from_raw(*pid), Signal::SIGCONT) {
                Ok(()) => report
                    .healed
                    .push(format!("node {node} (pid {pid}) resumed")),
                Err(e) => report
                    .errors
                    .push(format!("cannot resume {node} (pid {pid}): {e}")),
            }
        }
    }
    for f in &s.clock_files {
        if f.exists() {
            match crate::clock::write_offset(f, 0) {
                Ok(()) => report.healed.push(format!("clock {} reset", f.display())),
                Err(e) => report
                    .errors
                    .push(format!("cannot reset clock {}: {e}", f.display())),
            }
        }
    }
    for p in &s.vdso_patches {
        if !p.is_alive() {
            continue;
        }
        let who = match &p.node {
            Some(n) => format!("node {n} (pid {})", p.pid),
            None => format!("pid {}", p.pid),
        };
        match p.restore() {
            Ok(()) => report.healed.push(format!("clock of {who}: vDSO restored")),
            Err(e) => report
                .errors
                .push(format!("cannot restore the vDSO of {who}: {e}")),
        }
    }
    if !s.namespaces.is_empty() || !s.interfaces.is_empty() {
        crate::netns::remove(&s.namespaces, &s.interfaces);
        for n in s.namespaces.iter().chain(&s.interfaces) {
            report.healed.push(format!("{n} removed"));
        }
    }
    for l in &s.locks {
        let _ = std::fs::remove_file(l);
    }
    if !s.hosts.is_empty() {
        let owner = s.owner.unwrap_or(Owner { pid: 0, start: 0 });
        // Every host at once: each is a login and a few commands.
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = s
                .hosts
                .iter()
                .map(|r| {
                    let run_dir = s.run_dir.as_deref();
                    scope.spawn(move || crate::host::remote::heal_left_behind(r, &owner, run_dir))
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        // Every connection of this cleanup is closed now.
        crate::host::ssh::remove_control_dir();
        for (r, result) in s.hosts.iter().zip(results) {
            match result {
                Ok(Ok(done)) => report.healed.extend(done),
                Ok(Err(e)) => {
                    report.errors.push(format!(
                        "host {} could not be reached, nothing healed there (kept for the next cleanup): {e}",
                        r.destination
                    ));
                    unreached.push(r.clone());
                }
                Err(_) => report
                    .errors
                    .push(format!("host {}: the heal panicked", r.destination)),
            }
        }
    }
    for a in &s.active {
        report.healed.push(format!("fault healed: {a}"));
    }
    unreached
}

/// Ends the OpenSSH master processes whose control socket is in the directory of a
/// faultline process that is gone (`<state dir>/ssh-<pid>-<start>/`), and removes
/// those directories.
fn close_stale_ssh_masters(report: &mut Report) {
    let dir = state::state_dir();
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let prefix = crate::host::ssh::CONTROL_DIR_PREFIX;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(owner) = name
            .strip_prefix(prefix)
            .and_then(|rest| Owner::parse(&rest.replacen('-', ":", 1)))
        else {
            continue;
        };
        if owner.is_alive() {
            continue;
        }
        let path = e.path();
        let needle = path.display().to_string();
        for pid in processes_with_arg_under(&needle) {
            if kill(Pid::from_raw(pid), Signal::SIGTERM).is_ok() {
                report.healed.push(format!(
                    "SSH master connection (pid {pid}) of faultline process {} closed",
                    owner.pid
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}

/// The processes with a command-line argument under directory `dir`.
fn processes_with_arg_under(dir: &str) -> Vec<i32> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline
            .split(|b| *b == 0)
            .any(|a| a.starts_with(dir.as_bytes()) && a.get(dir.len()) == Some(&b'/'))
        {
            v.push(pid);
        }
    }
    v
}

/// Every process carrying faultline's owner tags: (pid, owner, node).
pub fn tagged_processes() -> Vec<(i32, Owner, String)> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Some((owner, node)) = owner::tags_of(pid) {
            v.push((pid, owner, node));
        }
    }
    v
}

//! `faultline run --hosts` end to end, on fake remote machines: network namespaces on
//! a bridge of their own, each running its own `sshd` on its own address with a host
//! key and a client key made for the test (the harness of `nemesis/tests/ssh_host.rs`,
//! with a bridge so the hosts reach each other). faultline reaches them only through
//! SSH; the test observes them from this machine (their namespaces' nftables, this
//! machine's /proc, which the namespaces share).
//!
//! Root and `/usr/sbin/sshd` (Debian `openssh-server`, scripts/setup.sh) are needed;
//! without them each test prints why and passes. A guard removes the hosts (sshd and
//! whatever runs in the namespaces, the namespaces, the bridge) even when an
//! assertion fails. Malformed hosts are refused without root.

mod run_common;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use run_common::{faultline, scratch, text};

/// Fake remote machines: namespaces on a bridge, each with an sshd.
struct Hosts {
    dir: PathBuf,
    bridge: String,
    namespaces: Vec<String>,
    addrs: Vec<String>,
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            // sshd, its sessions and anything a failed test left in the namespace.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sh(cmd: &[&str]) {
    let st = Command::new(cmd[0])
        .args(&cmd[1..])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "{cmd:?}");
}

fn keygen(path: &Path) {
    sh(&[
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-f",
        path.to_str().unwrap(),
    ]);
}

/// `n` fake hosts in subnet 10.78.`net`.0/24 (`None`, printed why, without root,
/// sshd or nft).
fn hosts(tag: &str, net: u8, n: usize) -> Option<Hosts> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root (network namespaces play the remote hosts)");
        return None;
    }
    if !Path::new("/usr/sbin/sshd").exists() {
        eprintln!(
            "skipped: needs /usr/sbin/sshd (apt-get install openssh-server; scripts/setup.sh)"
        );
        return None;
    }
    let id = std::process::id() % 100_000;
    let dir = scratch(&format!("ssh-{tag}"));
    let mut h = Hosts {
        dir: dir.clone(),
        bridge: format!("frb{tag}{id}"),
        namespaces: Vec::new(),
        addrs: Vec::new(),
    };
    sh(&["ip", "link", "add", &h.bridge, "type", "bridge"]);
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("10.78.{net}.1/24"),
        "dev",
        &h.bridge,
    ]);
    sh(&["ip", "link", "set", &h.bridge, "up"]);
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    keygen(&dir.join("other_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
    let mut known = String::new();
    std::fs::create_dir_all("/run/sshd").unwrap();
    for i in 0..n {
        let ns = format!("frs{tag}{i}x{id}");
        let (outer, inner) = (format!("fro{tag}{i}x{id}"), format!("fri{tag}{i}x{id}"));
        let addr = format!("10.78.{net}.{}", i + 2);
        sh(&["ip", "netns", "add", &ns]);
        h.namespaces.push(ns.clone());
        sh(&[
            "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
        ]);
        sh(&["ip", "link", "set", &inner, "netns", &ns]);
        sh(&["ip", "link", "set", &outer, "master", &h.bridge, "up"]);
        let inside = |args: &[&str]| {
            let mut v = vec!["ip", "netns", "exec", &ns];
            v.extend(args);
            sh(&v);
        };
        inside(&["ip", "addr", "add", &format!("{addr}/24"), "dev", &inner]);
        inside(&["ip", "link", "set", &inner, "up"]);
        inside(&["ip", "link", "set", "lo", "up"]);
        known.push_str(&format!("{addr} {host_key}"));
        let conf = dir.join(format!("sshd{i}.conf"));
        std::fs::write(
            &conf,
            format!(
                "ListenAddress {addr}\nHostKey {}\nUsePAM no\nPermitRootLogin prohibit-password\n\
                 AuthorizedKeysFile {}\nStrictModes no\nPidFile {}\nLogLevel ERROR\n",
                dir.join("host_key").display(),
                dir.join("authorized_keys").display(),
                dir.join(format!("sshd{i}.pid")).display()
            ),
        )
        .unwrap();
        inside(&["/usr/sbin/sshd", "-f", conf.to_str().unwrap()]);
        h.addrs.push(addr);
    }
    std::fs::write(dir.join("known_hosts"), known).unwrap();
    for addr in &h.addrs {
        let until = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(
            &format!("{addr}:22").parse().unwrap(),
            Duration::from_millis(200),
        )
        .is_err()
        {
            assert!(Instant::now() < until, "sshd on {addr} did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Some(h)
}

impl Hosts {
    fn list(&self) -> String {
        self.addrs
            .iter()
            .map(|a| format!("root@{a}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn known_hosts(&self) -> String {
        format!(
            "UserKnownHostsFile={}",
            self.dir.join("known_hosts").display()
        )
    }

    /// Whether faultline's nftables table is in host `i`'s namespace.
    fn has_rules(&self, i: usize) -> bool {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.namespaces[i],
                "nft",
                "list",
                "tables",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("faultline")
    }
}

/// Store processes of test `name` started from the copy faultline puts on the hosts
/// (their data under `/tmp/faultline/runs/<name>/`), and which of them are stopped.
fn store_processes(name: &str) -> (Vec<i32>, Vec<i32>) {
    let (mut all, mut stopped) = (Vec::new(), Vec::new());
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let runs = format!("/tmp/faultline/runs/{name}/");
        if !cmd.starts_with(b"/tmp/faultline/bin/faultline-store")
            || !String::from_utf8_lossy(&cmd).contains(&runs)
        {
            continue;
        }
        all.push(pid);
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('T')
        {
            stopped.push(pid);
        }
    }
    (all, stopped)
}

fn run_args<'a>(list: &'a str, key: &'a str, kh: &'a str, results: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--hosts",
        list,
        "--ssh-key",
        key,
        "--ssh-option",
        kh,
        "--results",
        results,
        "--nemesis-interval",
        "1s",
        "--ready-timeout",
        "20s",
        "--quiesce",
        "1s",
    ]
}

#[test]
fn a_leaderless_run_on_three_ssh_hosts_completes_with_its_logs_back_and_leaves_nothing() {
    let Some(h) = hosts("a", 101, 3) else { return };
    let (list, kh) = (h.list(), h.known_hosts());
    let key = h.dir.join("client_key").display().to_string();
    let results = h.dir.join("results").display().to_string();
    let mut args = run_args(&list, &key, &kh, &results);
    args.extend([
        "--nemesis",
        "partition,kill,pause",
        "--time-limit",
        "8s",
        "--name",
        "ssh-run",
    ]);
    let o = faultline(&args);
    let all = text(&o);
    assert!(matches!(o.status.code(), Some(0..=2)), "{all}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("verdict: "), "{all}");
    assert!(stdout.contains("linearizable (kv): "), "{all}");
    let dir = run_common::run_dir(&o);

    // The logs came back from /tmp/faultline/runs/... on the hosts.
    for n in ["n1", "n2", "n3"] {
        let log = std::fs::read_to_string(dir.join("nodes").join(n).join("stderr.log"))
            .unwrap_or_else(|e| panic!("{n}: {e}\n{all}"));
        assert!(log.contains("/tmp/faultline/runs/ssh-run/"), "{n}: {log}");
    }
    // Every fault step names its hosts.
    let history = std::fs::read_to_string(dir.join("history.jsonl")).unwrap();
    let starts: Vec<serde_json::Value> = history
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| {
            v["process"] == "nemesis" && v["f"].as_str().is_some_and(|f| f.starts_with("start-"))
        })
        .collect();
    assert!(!starts.is_empty(), "no fault started\n{all}");
    for s in &starts {
        let node = s["value"]["nodes"][0].as_str().unwrap();
        let i: usize = node[1..].parse::<usize>().unwrap() - 1;
        assert_eq!(
            s["value"]["hosts"][node].as_str(),
            Some(format!("root@{}", h.addrs[i]).as_str()),
            "{s}"
        );
    }
    // Nothing left on the hosts: no rules, no node, no run directory.
    for i in 0..3 {
        assert!(!h.has_rules(i), "rules left on host {i}");
    }
    assert_eq!(
        store_processes("ssh-run").0,
        Vec::<i32>::new(),
        "store nodes left"
    );
    assert!(!Path::new("/tmp/faultline/runs/ssh-run").exists());
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("nemesis-state.json")).unwrap())
            .unwrap();
    assert_eq!(state["healed"], true, "{state}");
}

#[test]
fn a_host_that_refuses_the_key_or_cannot_be_reached_is_exit_3_naming_it() {
    let Some(h) = hosts("b", 102, 2) else { return };
    let kh = h.known_hosts();
    let results = h.dir.join("results");
    let other = h.dir.join("other_key").display().to_string();
    let list = h.list();
    let o = faultline(&[
        "run",
        "--hosts",
        &list,
        "--ssh-key",
        &other,
        "--ssh-option",
        &kh,
        "--results",
        results.to_str().unwrap(),
        "--time-limit",
        "2s",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("root@{}", h.addrs[0])), "{err}");
    // An address where nothing answers.
    let key = h.dir.join("client_key").display().to_string();
    let list = format!("root@{},root@10.78.102.250", h.addrs[0]);
    let o = faultline(&[
        "run",
        "--hosts",
        &list,
        "--ssh-key",
        &key,
        "--ssh-option",
        &kh,
        "--ssh-option",
        "ConnectTimeout=2",
        "--results",
        results.to_str().unwrap(),
        "--time-limit",
        "2s",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("root@10.78.102.250"), "{err}");
    // No run directory was made.
    assert!(!results.exists() || std::fs::read_dir(&results).unwrap().count() == 0);
}

#[test]
fn malformed_hosts_and_settings_that_do_not_work_over_ssh_are_exit_3_before_anything_starts() {
    let dir = scratch("ssh-refused");
    let results = dir.join("results").display().to_string();
    for (args, says) in [
        (vec!["--hosts", "root@"], "--hosts root@"),
        (vec!["--hosts", "10.0.0.1:99999"], "port"),
        (vec!["--hosts", "10.0.0.1,10.0.0.1"], "named twice"),
        (vec!["--hosts", "a,b", "--nodes", "3"], "one node per host"),
        (
            vec!["--hosts", "a,b,c", "--store", "etcd"],
            "does not run over SSH yet",
        ),
        (
            vec!["--hosts", "a,b,c", "--nemesis", "clock"],
            "not yet over SSH",
        ),
        (
            vec!["--hosts", "a,b,c", "--ssh-option", "BatchMode=no"],
            "BatchMode",
        ),
        (
            vec!["--hosts", "a,b,c", "--ssh-key", "/nonexistent"],
            "no such file",
        ),
        (vec!["--ssh-key", "/etc/hostname"], "for --hosts"),
    ] {
        let mut a = vec!["run", "--results", &results];
        a.extend(args.iter().copied());
        let o = faultline(&a);
        assert_eq!(o.status.code(), Some(3), "{args:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!dir.join("results").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_driver_killed_mid_run_on_ssh_hosts_is_healed_there_by_cleanup() {
    let Some(h) = hosts("c", 103, 3) else { return };
    let (list, kh) = (h.list(), h.known_hosts());
    let key = h.dir.join("client_key").display().to_string();
    let results = h.dir.join("results").display().to_string();
    let state_dir = h.dir.join("state");
    let mut args = run_args(&list, &key, &kh, &results);
    // One long-held fault at a time: partition (rules), then pause, then kill.
    args.extend([
        "--nemesis",
        "partition:one,pause",
        "--time-limit",
        "60s",
        "--name",
        "ssh-killed",
    ]);
    let mut driver = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(&args)
        .env("FAULTLINE_STATE_DIR", &state_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Until a partition and a pause were both seen active at once, or 40 s.
    let until = Instant::now() + Duration::from_secs(40);
    let (mut saw_rules, mut saw_paused) = (false, false);
    while Instant::now() < until && !(saw_rules && saw_paused) {
        saw_rules |= (0..3).any(|i| h.has_rules(i));
        saw_paused |= !store_processes("ssh-killed").1.is_empty();
        if saw_rules && saw_paused {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Kill it while a fault is on: the rules table stays installed all run long.
    while Instant::now() < until && store_processes("ssh-killed").1.is_empty() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = driver.kill();
    let _ = driver.wait();
    // Whether the state file the driver left says a node is paused on a host.
    let paused_at_kill = std::fs::read_dir(&state_dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .any(|v| {
            v["hosts"].as_array().is_some_and(|hs| {
                hs.iter()
                    .any(|h| h["paused"].as_array().is_some_and(|p| !p.is_empty()))
            })
        });
    assert!(saw_rules, "no partition was ever seen on the hosts");
    assert!(
        (0..3).any(|i| h.has_rules(i)),
        "the rules table is gone before the kill"
    );

    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["cleanup", "--results", &results])
        .env("FAULTLINE_STATE_DIR", &state_dir)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        out.contains(&format!(
            "host root@{}: faultline's firewall rules removed",
            h.addrs[0]
        )),
        "{out}"
    );
    if paused_at_kill {
        assert!(out.contains("resumed"), "{out}");
    }
    for i in 0..3 {
        assert!(!h.has_rules(i), "rules left on host {i}\n{out}");
    }
    let (left, stopped) = store_processes("ssh-killed");
    assert_eq!((left, stopped), (vec![], vec![]), "{out}");
    assert!(
        !Path::new("/tmp/faultline/runs/ssh-killed").exists(),
        "{out}"
    );
    // A second cleanup finds nothing.
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["cleanup", "--results", &results])
        .env("FAULTLINE_STATE_DIR", &state_dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "nothing to clean up",
        "{}",
        text(&o)
    );
}

#[test]
fn cleanup_names_a_host_it_cannot_reach_and_keeps_it_for_the_next_cleanup() {
    // No root needed: the host is a closed port of this machine.
    let dir = scratch("ssh-unreached");
    let (state_dir, run_dir) = (dir.join("state"), dir.join("results/t/1"));
    std::fs::create_dir_all(&state_dir).unwrap();
    std::fs::create_dir_all(&run_dir).unwrap();
    let state = serde_json::json!({
        "owner": {"pid": 0, "start": 1}, "id": "abc123", "run_dir": run_dir,
        "namespaces": [], "interfaces": [], "locks": [], "paused": [], "clock_files": [],
        "active": ["partition [\"n1\"]"], "healed": false,
        "hosts": [{"destination": "root@127.0.0.1:1", "ssh": {"key": null, "options": []},
                   "firewall": "nft", "nodes": ["n1"], "paused": []}],
    });
    let path = run_dir.join("nemesis-state.json");
    std::fs::write(&path, serde_json::to_vec(&state).unwrap()).unwrap();
    let cleanup = || {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["cleanup", "--results"])
            .arg(dir.join("results"))
            .env("FAULTLINE_STATE_DIR", &state_dir)
            .output()
            .unwrap()
    };
    for _ in 0..2 {
        let o = cleanup();
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("host root@127.0.0.1:1 could not be reached"),
            "{}",
            text(&o)
        );
        let kept: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(kept["healed"], false);
        assert_eq!(kept["hosts"][0]["destination"], "root@127.0.0.1:1");
        assert_eq!(kept["active"], serde_json::json!([]));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! The SSH hosts of a run (`faultline run --hosts [user@]address[:port],...`): their
//! addresses parsed ([`HostAddr`]), one multiplexed connection to each
//! ([`RemoteHosts::connect`], in parallel; a host that cannot be reached is an error
//! naming it), a program copied to each only when its checksum differs
//! ([`RemoteHosts::install`]), the layout of one node per host ([`layout`]), the
//! partitions as firewall rules on each host ([`HostNet`]: each node's host drops
//! what comes from and goes to the peers it is cut from, so clients on the control
//! node still reach every node — Jepsen's model) and the heal of a host that a
//! killed driver left behind ([`heal_left_behind`], for `faultline cleanup`).
//!
//! On a host faultline keeps everything under [`REMOTE_ROOT`]: programs in `bin/`,
//! each run's node logs and data in `runs/<test>/<time>/<node>/`.

use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::firewall::{self, Firewall};
use super::{Host, HostError, Ssh, SshTarget, COMMAND_TIMEOUT};
use crate::layout::{Layout, Mechanism, NodeLayout};
use crate::owner::Owner;
use crate::partition::Partition;

/// Where faultline keeps its files on a host.
pub const REMOTE_ROOT: &str = "/tmp/faultline";

/// Where a run keeps its nodes' logs and data on each host:
/// `<REMOTE_ROOT>/runs/<test>/<time>` for the run directory `results/<test>/<time>`.
pub fn run_root(run_dir: &Path) -> PathBuf {
    let part = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into())
    };
    Path::new(REMOTE_ROOT)
        .join("runs")
        .join(part(run_dir.parent()))
        .join(part(Some(run_dir)))
}

/// A shell command removing run directory `root` on a host, and its test's directory
/// if no other run of it is left there.
pub fn remove_run_root_script(root: &Path) -> String {
    let quoted = |p: &Path| {
        let s = p.display().to_string();
        format!("'{}'", s.replace('\'', r"'\''"))
    };
    format!(
        "rm -rf {}; rmdir {} 2>/dev/null; true",
        quoted(root),
        quoted(root.parent().unwrap_or(root))
    )
}

/// A host as `--hosts` names it: `[user@]address[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostAddr {
    /// The login user, if given (else OpenSSH's default).
    pub user: Option<String>,
    /// The address or host name.
    pub address: String,
    /// The SSH port, if given.
    pub port: Option<u16>,
}

impl HostAddr {
    /// Parses `[user@]address[:port]` (an IPv6 address in brackets: `[::1]:22`).
    pub fn parse(s: &str) -> Result<HostAddr, String> {
        let bad = |why: &str| {
            Err(format!(
                "--hosts {s}: {why}; expected [user@]address[:port], e.g. root@10.0.0.1 or 10.0.0.1:2222"
            ))
        };
        let s = s.trim();
        let (user, rest) = match s.rsplit_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, s),
        };
        if let Some(u) = user {
            if u.is_empty()
                || !u
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return bad("the user is empty or has characters a login name cannot have");
            }
        }
        let (address, port) = if let Some(inner) = rest.strip_prefix('[') {
            match inner.split_once(']') {
                Some((a, "")) => (a, None),
                Some((a, p)) => match p.strip_prefix(':') {
                    Some(p) => (a, Some(p)),
                    None => return bad("junk after the bracketed address"),
                },
                None => return bad("an unclosed ["),
            }
        } else {
            match rest.rsplit_once(':') {
                Some((a, p)) if !a.contains(':') => (a, Some(p)),
                Some(_) => return bad("an IPv6 address needs brackets"),
                None => (rest, None),
            }
        };
        if address.is_empty()
            || !address
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
        {
            return bad("the address is empty or not a host name or IP address");
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => return bad("the port is not a number in 1..=65535"),
            },
        };
        Ok(HostAddr {
            user: user.map(str::to_string),
            address: address.to_string(),
            port,
        })
    }

    /// As OpenSSH takes it (`user@address:port`, the form `ssh://` URLs use).
    pub fn destination(&self) -> String {
        let mut s = String::new();
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        if self.address.contains(':') {
            s.push_str(&format!("[{}]", self.address));
        } else {
            s.push_str(&self.address);
        }
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }

    /// Its IPv4 address (a name is resolved here, on the control node): where its
    /// node listens and what its peers' firewall rules name.
    pub fn ipv4(&self) -> Result<Ipv4Addr, String> {
        if let Ok(ip) = self.address.parse::<Ipv4Addr>() {
            return Ok(ip);
        }
        (self.address.as_str(), 22)
            .to_socket_addrs()
            .map_err(|e| format!("{}: cannot resolve: {e}", self.address))?
            .find_map(|a| match a {
                SocketAddr::V4(v4) => Some(*v4.ip()),
                SocketAddr::V6(_) => None,
            })
            .ok_or_else(|| format!("{}: no IPv4 address (only IPv4 is supported)", self.address))
    }
}

impl std::fmt::Display for HostAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.destination())
    }
}

/// How to log in to the hosts: `--ssh-key` and `--ssh-option` (recorded in the state
/// file, so `faultline cleanup` logs in the same way).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SshSettings {
    /// The private key (only it is offered), if given.
    pub key: Option<PathBuf>,
    /// OpenSSH options `KEY=VALUE`.
    pub options: Vec<(String, String)>,
}

impl SshSettings {
    /// The target for `destination` with these settings (an error names a bad option).
    pub fn target(&self, destination: &str) -> Result<SshTarget, String> {
        let mut t = SshTarget::new(destination);
        t.key = self.key.clone();
        t.with_options(&self.options)
    }
}

/// One connected host.
#[derive(Clone, Debug)]
pub struct RemoteHost {
    /// How it was named.
    pub addr: HostAddr,
    /// Its IPv4 address.
    pub ip: Ipv4Addr,
    /// Its master connection.
    pub ssh: Ssh,
}

/// The hosts of a run, connected, in `--hosts` order (node `n<i>` runs on host `i`).
#[derive(Clone, Debug)]
pub struct RemoteHosts {
    /// The hosts.
    pub hosts: Vec<RemoteHost>,
    /// How they were logged in to.
    pub settings: SshSettings,
}

/// Runs `f` on every item at once (one thread each: each is a round trip to a host).
fn each<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let handles: Vec<_> = items.iter().map(|i| s.spawn(|| f(i))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a host call panicked"))
            .collect()
    })
}

impl RemoteHosts {
    /// Connects to every host at once; the first host (in order) that cannot be
    /// reached, refuses the key or asks for a password is the error, naming it.
    pub fn connect(addrs: &[HostAddr], settings: &SshSettings) -> Result<RemoteHosts, HostError> {
        let results = each(addrs, |a| -> Result<RemoteHost, HostError> {
            let fail = |message: String| HostError::Connect {
                host: a.destination(),
                message,
            };
            let ip = a.ipv4().map_err(fail)?;
            let target = settings.target(&a.destination()).map_err(fail)?;
            let ssh = Ssh::connect(&target)?;
            // A login that lands somewhere without a shell or without root is no host.
            let uid = ssh.run_ok("id", &["-u"], None, COMMAND_TIMEOUT)?;
            if uid.trim() != "0" {
                return Err(fail(format!(
                    "logged in as uid {} — faultline needs root there (firewall rules, signals to any node); log in as root (root@{})",
                    uid.trim(),
                    a.address
                )));
            }
            Ok(RemoteHost {
                addr: a.clone(),
                ip,
                ssh,
            })
        });
        let hosts = results.into_iter().collect::<Result<_, _>>();
        if hosts.is_err() {
            // The connections that did open are closed by now (dropped above).
            super::ssh::remove_control_dir();
        }
        Ok(RemoteHosts {
            hosts: hosts?,
            settings: settings.clone(),
        })
    }

    /// Copies the local program `local` to `<REMOTE_ROOT>/bin/<its name>` on every
    /// host where that file is missing or has another SHA-256; the remote path, and
    /// for each host whether it was copied.
    pub fn install(&self, local: &Path) -> Result<(PathBuf, Vec<bool>), HostError> {
        let name = local.file_name().unwrap_or_default();
        let remote = Path::new(REMOTE_ROOT).join("bin").join(name);
        let local_sum = sha256_local(local)?;
        let remote_s = remote.display().to_string();
        let same = |h: &RemoteHost| -> Result<bool, HostError> {
            let out = h
                .ssh
                .run("sha256sum", &[&remote_s], None, COMMAND_TIMEOUT)?;
            Ok(out.success()
                && out.stdout_text().split_whitespace().next() == Some(local_sum.as_str()))
        };
        // Every host's checksum at once; then the copies one after the other, each
        // host checked again first: hosts that share a file system (the test's fake
        // hosts do) then copy once.
        let first = each(&self.hosts, |h| same(h));
        let mut copied = Vec::new();
        let mut any_copied = false;
        for (h, was_same) in self.hosts.iter().zip(first) {
            let mut is_same = was_same?;
            if !is_same && any_copied {
                is_same = same(h)?;
            }
            if !is_same {
                h.ssh.put(local, &remote)?;
                h.ssh
                    .run_ok("chmod", &["755", &remote_s], None, COMMAND_TIMEOUT)?;
                any_copied = true;
            }
            copied.push(!is_same);
        }
        Ok((remote, copied))
    }

    /// Node `index`'s host, keeping node logs under `root` there.
    pub fn node_host(&self, index: usize, root: &Path) -> Option<Arc<dyn Host>> {
        self.hosts
            .get(index)
            .map(|h| Arc::new(h.ssh.with_node_root(root)) as Arc<dyn Host>)
    }

    /// The hosts' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.addr.destination()).collect()
    }
}

/// The SHA-256 of a local file, as `sha256sum` prints it.
fn sha256_local(path: &Path) -> Result<String, HostError> {
    let fail = |e: std::io::Error| HostError::File {
        host: "local".into(),
        path: path.display().to_string(),
        source: e,
    };
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .map_err(fail)?;
    if !out.status.success() {
        return Err(fail(std::io::Error::other(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string())
}

/// The first port a node listens on on its host (one per service after it).
pub const HOST_BASE_PORT: u16 = crate::network::NAMESPACE_BASE_PORT;

/// One node per host: node `names[i]` listens on host `i`'s address, port
/// [`HOST_BASE_PORT`] + service; clients and peers reach it there.
pub fn layout(hosts: &RemoteHosts, names: &[String], services: usize) -> Layout {
    let addrs = |ip: Ipv4Addr| -> Vec<SocketAddr> {
        (0..services.max(1))
            .map(|s| SocketAddr::from((ip, HOST_BASE_PORT + s as u16)))
            .collect()
    };
    let nodes = names
        .iter()
        .zip(&hosts.hosts)
        .map(|(name, h)| NodeLayout {
            name: name.clone(),
            listen: addrs(h.ip),
            client: addrs(h.ip),
            peers: names
                .iter()
                .zip(&hosts.hosts)
                .filter(|(p, _)| *p != name)
                .map(|(p, ph)| (p.clone(), addrs(ph.ip)))
                .collect(),
            netns: None,
            env: Vec::new(),
        })
        .collect();
    Layout {
        mechanism: Mechanism::Hosts,
        nodes,
    }
}

/// The partitions of a run on SSH hosts: faultline's firewall table on each host.
#[derive(Debug)]
pub struct HostNet {
    nodes: Vec<(String, RemoteHost, Firewall)>,
    torn_down: bool,
}

impl HostNet {
    /// Installs faultline's (empty) firewall table on the host of each of `names`
    /// (replacing one a killed run left); an error names a host without nft/iptables.
    pub fn create(hosts: &RemoteHosts, names: &[String]) -> Result<HostNet, HostError> {
        let pairs: Vec<(String, RemoteHost)> = names
            .iter()
            .cloned()
            .zip(hosts.hosts.iter().cloned())
            .collect();
        let installed = each(&pairs, |(name, h)| -> Result<_, HostError> {
            let fw = Firewall::detect_on(&h.ssh)?.ok_or_else(|| HostError::Command {
                host: h.ssh.name(),
                command: "nft".into(),
                message: "neither nft nor iptables is installed; partitions need one (Debian: apt-get install nftables)".into(),
            })?;
            firewall::uninstall(&h.ssh, fw);
            firewall::install(&h.ssh, fw)?;
            Ok((name.clone(), h.clone(), fw))
        });
        Ok(HostNet {
            nodes: installed.into_iter().collect::<Result<_, _>>()?,
            torn_down: false,
        })
    }

    /// Each host and its firewall, in node order.
    pub fn firewalls(&self) -> Vec<(String, Firewall)> {
        self.nodes
            .iter()
            .map(|(_, h, fw)| (h.ssh.name(), *fw))
            .collect()
    }

    /// Applies `p`: for every cut pair, each side's host drops everything from and to
    /// the other's address. All hosts at once.
    pub fn partition(&self, p: &Partition) -> Result<(), HostError> {
        let mut work: Vec<(usize, Vec<Ipv4Addr>)> = Vec::new();
        let index = |n: &str| self.nodes.iter().position(|(name, ..)| name == n);
        for (a, b) in p.cut_pairs() {
            for (x, y) in [(&a, &b), (&b, &a)] {
                let (Some(x), Some(y)) = (index(x), index(y)) else {
                    continue;
                };
                let ip = self.nodes[y].1.ip;
                match work.iter_mut().find(|(i, _)| *i == x) {
                    Some((_, ips)) => ips.push(ip),
                    None => work.push((x, vec![ip])),
                }
            }
        }
        first_error(each(&work, |(i, ips)| {
            let (_, h, fw) = &self.nodes[*i];
            firewall::drop_peers(&h.ssh, *fw, ips)
        }))
    }

    /// Removes every partition rule on every host.
    pub fn heal_partition(&self) -> Result<(), HostError> {
        first_error(each(&self.nodes, |(_, h, fw)| {
            firewall::heal_partition(&h.ssh, *fw)
        }))
    }

    /// Removes faultline's table from every host. Idempotent.
    pub fn teardown(&mut self) {
        if self.torn_down {
            return;
        }
        self.torn_down = true;
        each(&self.nodes, |(_, h, fw)| firewall::uninstall(&h.ssh, *fw));
    }
}

impl Drop for HostNet {
    fn drop(&mut self) {
        self.teardown();
    }
}

fn first_error(results: Vec<Result<(), HostError>>) -> Result<(), HostError> {
    results
        .into_iter()
        .collect::<Result<Vec<()>, _>>()
        .map(|_| ())
}

/// What a run recorded about one of its hosts in its state file.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostRecord {
    /// `[user@]address[:port]`.
    pub destination: String,
    /// How to log in.
    pub ssh: SshSettings,
    /// The firewall whose faultline table is installed there, if any.
    pub firewall: Option<Firewall>,
    /// The nodes on it.
    pub nodes: Vec<String>,
    /// Process groups paused there right now: (node, pid).
    pub paused: Vec<(String, i32)>,
}

/// Heals on its host what a run of dead `owner` left there: faultline's firewall
/// table removed, paused groups continued, every process tagged with `owner` killed
/// with its process group, the run's directory there ([`run_root`] of `run_dir`)
/// removed. What was done, or why the host could not be reached.
pub fn heal_left_behind(
    record: &HostRecord,
    owner: &Owner,
    run_dir: Option<&Path>,
) -> Result<Vec<String>, String> {
    let host = &record.destination;
    let target = record.ssh.target(host)?;
    let ssh = Ssh::connect(&SshTarget {
        connect_timeout: Duration::from_secs(5),
        ..target
    })
    .map_err(|e| e.to_string())?;
    let mut done = Vec::new();
    if let Some(fw) = record.firewall {
        firewall::uninstall(&ssh, fw);
        done.push(format!("host {host}: faultline's firewall rules removed"));
    }
    for (node, pid) in &record.paused {
        let _ = ssh.run(
            "kill",
            &["-s", "CONT", "--", &format!("-{pid}")],
            None,
            COMMAND_TIMEOUT,
        );
        done.push(format!("host {host}: node {node} (pid {pid}) resumed"));
    }
    for (pid, node) in kill_tagged(&ssh, owner).map_err(|e| e.to_string())? {
        done.push(format!(
            "host {host}: orphan node {node} (pid {pid}, owner {owner} is gone) killed"
        ));
    }
    if let Some(dir) = run_dir {
        let root = run_root(dir);
        let exists = ssh
            .run(
                "test",
                &["-d", &root.display().to_string()],
                None,
                COMMAND_TIMEOUT,
            )
            .is_ok_and(|o| o.success());
        if exists {
            ssh.run_ok(
                "sh",
                &["-c", &remove_run_root_script(&root)],
                None,
                COMMAND_TIMEOUT,
            )
            .map_err(|e| e.to_string())?;
            done.push(format!("host {host}: {} removed", root.display()));
        }
    }
    Ok(done)
}

/// Kills, on `host`, every process group holding a process whose environment names
/// `owner` (continued first); (pid, node) of each group leader found.
pub fn kill_tagged(host: &dyn Host, owner: &Owner) -> Result<Vec<(i32, String)>, HostError> {
    let script = r#"o="FAULTLINE_OWNER=$1"; seen=" "
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  e=$(tr '\0' '\n' < "$d/environ" 2>/dev/null) || continue
  printf '%s\n' "$e" | grep -qxF "$o" || continue
  n=$(printf '%s\n' "$e" | sed -n 's/^FAULTLINE_NODE=//p' | head -n 1)
  read -r l < "$d/stat" 2>/dev/null || continue
  set -- ${l##*) }
  g=$3
  case "$seen" in *" $g "*) continue;; esac
  seen="$seen$g "
  kill -s CONT -- "-$g" 2>/dev/null; kill -s KILL -- "-$g" 2>/dev/null || kill -s KILL "$p" 2>/dev/null
  echo "$g ${n:-?}"
done"#;
    let out = host.run_ok(
        "sh",
        &["-c", script, "sh", &owner.to_string()],
        None,
        Duration::from_secs(30),
    )?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let (pid, node) = l.split_once(' ')?;
            Some((pid.parse().ok()?, node.to_string()))
        })
        .collect())
}

#[cfg(test)]
mod tests;

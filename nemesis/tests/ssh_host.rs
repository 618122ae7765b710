//! The SSH host end to end: a network namespace of this machine running its own
//! `sshd` (on its own address on a veth, a host key and a client key made for the
//! test, `AuthorizedKeysFile` pointing at a test file) plays another machine, reached
//! only through `nemesis::host::Ssh`. Root only (namespaces); skipped without root or
//! without `/usr/sbin/sshd` (Debian `openssh-server`, see scripts/setup.sh). A guard
//! stops sshd and removes the namespace even when an assertion fails.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nemesis::host::firewall::{self, Firewall};
use nemesis::host::{Host, HostError, Namespace, ProcState, Ssh, SshTarget};
use nemesis::{NodeProcess, ProcessSpec};

/// One fake remote machine: a namespace with an sshd.
struct FakeHost {
    dir: PathBuf,
    outer: String,
    netns: String,
    addr: String,
    sshd: Option<Child>,
}

impl Drop for FakeHost {
    fn drop(&mut self) {
        if let Some(mut c) = self.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
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

/// `None` (the test is skipped) without root or sshd.
fn fake_host(name: &str) -> Option<FakeHost> {
    if !nix::unistd::geteuid().is_root() || !Path::new("/usr/sbin/sshd").exists() {
        eprintln!("skipped: needs root and /usr/sbin/sshd");
        return None;
    }
    let id = std::process::id();
    // A /24 of its own per fake host (tests run in parallel): a, b, c, then h3..h7.
    let idx = match name {
        "a" => 0,
        "b" => 1,
        "c" => 2,
        other => other
            .trim_start_matches('h')
            .parse::<u32>()
            .unwrap_or(7)
            .min(7),
    };
    let k = ((id % 30) * 8 + 10 + idx) as u8;
    let dir = std::env::temp_dir().join(format!("fl-ssh-{name}-{id}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (outer, inner) = (
        format!("vs{name}{}", id % 100_000),
        format!("vi{name}{}", id % 100_000),
    );
    let mut host = FakeHost {
        dir: dir.clone(),
        outer: outer.clone(),
        netns: format!("flssh{name}{id}"),
        addr: format!("10.77.{k}.2"),
        sshd: None,
    };
    sh(&["ip", "netns", "add", &host.netns]);
    sh(&[
        "ip", "link", "add", &outer, "type", "veth", "peer", "name", &inner,
    ]);
    sh(&["ip", "link", "set", &inner, "netns", &host.netns]);
    sh(&[
        "ip",
        "addr",
        "add",
        &format!("10.77.{k}.1/24"),
        "dev",
        &outer,
    ]);
    sh(&["ip", "link", "set", &outer, "up"]);
    let inside = |args: &[&str]| {
        let mut v = vec!["ip", "netns", "exec", &host.netns];
        v.extend(args);
        sh(&v);
    };
    inside(&[
        "ip",
        "addr",
        "add",
        &format!("{}/24", host.addr),
        "dev",
        &inner,
    ]);
    inside(&["ip", "link", "set", &inner, "up"]);
    inside(&["ip", "link", "set", "lo", "up"]);
    keygen(&dir.join("host_key"));
    keygen(&dir.join("client_key"));
    std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
    let known = format!(
        "{} {}",
        host.addr,
        std::fs::read_to_string(dir.join("host_key.pub")).unwrap()
    );
    std::fs::write(dir.join("known_hosts"), known).unwrap();
    std::fs::write(
        dir.join("sshd_config"),
        format!(
            "ListenAddress {}\nHostKey {}\nUsePAM no\nPermitRootLogin prohibit-password\n\
             AuthorizedKeysFile {}\nStrictModes no\nPidFile {}\nLogLevel ERROR\n",
            host.addr,
            dir.join("host_key").display(),
            dir.join("authorized_keys").display(),
            dir.join("sshd.pid").display()
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    host.sshd = Some(
        Command::new("ip")
            .args([
                "netns",
                "exec",
                &host.netns,
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-f",
            ])
            .arg(dir.join("sshd_config"))
            .stderr(std::fs::File::create(dir.join("sshd.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect_timeout(
        &format!("{}:22", host.addr).parse().unwrap(),
        Duration::from_millis(200),
    )
    .is_err()
    {
        assert!(Instant::now() < until, "sshd did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(host)
}

fn target(h: &FakeHost, key: &str) -> SshTarget {
    SshTarget {
        key: Some(h.dir.join(key)),
        known_hosts: Some(h.dir.join("known_hosts")),
        ..SshTarget::new(&format!("root@{}", h.addr))
    }
}

/// Whether a TCP connect from inside the fake host's namespace to `addr` succeeds
/// (a thread of this process enters the namespace; the host is not asked).
fn connects_from(h: &FakeHost, addr: std::net::SocketAddr) -> bool {
    let ns = std::fs::File::open(format!("/run/netns/{}", h.netns)).unwrap();
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
    })
    .join()
    .unwrap()
}

/// The address `last` in the fake host's /24.
fn sibling(h: &FakeHost, last: u8) -> String {
    let (net, _) = h.addr.rsplit_once('.').unwrap();
    format!("{net}.{last}")
}

fn local_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

#[test]
fn a_node_on_an_ssh_host_runs_there_in_its_own_group_and_is_paused_killed_and_restarted() {
    let Some(h) = fake_host("a") else { return };
    let ssh = Ssh::connect(&target(&h, "client_key")).unwrap();
    // Commands land in the host's namespace.
    let out = ssh
        .run_ok(
            "sh",
            &["-c", "ip netns identify $$"],
            None,
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(out.trim(), h.netns);
    let out = ssh
        .run(
            "sh",
            &["-c", "cat; exit 4"],
            Some(b"in"),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(
        (out.stdout.as_slice(), out.status.code()),
        (b"in".as_slice(), Some(4))
    );

    let logs = h.dir.join("nodes/n1");
    let node = NodeProcess::spawn_on(
        Arc::new(ssh.clone()),
        ProcessSpec {
            name: "n1".into(),
            program: "sh".into(),
            args: vec!["-c".into(), "echo started; exec sleep 60".into()],
            log_dir: logs.clone(),
            ..ProcessSpec::default()
        },
    )
    .unwrap();
    let pid = node.pid();
    // Observed on the host's kernel (this machine's /proc), not through the host.
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(env.split(|b| *b == 0).any(|v| v == b"FAULTLINE_NODE=n1"));
    assert_eq!(
        nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(pid)))
            .unwrap()
            .as_raw(),
        pid
    );
    node.pause().unwrap();
    assert_eq!(local_state(pid), Some('T'));
    assert_eq!(ssh.state(pid), ProcState::Stopped);
    node.resume().unwrap();
    assert_ne!(local_state(pid), Some('T'));
    node.kill(Duration::from_secs(5)).unwrap();
    assert!(!node.is_running());
    assert!(matches!(local_state(pid), None | Some('Z')));
    node.restart().unwrap();
    assert!(node.is_running() && node.pid() != pid);
    node.fetch_logs().unwrap();
    assert!(std::fs::read_to_string(logs.join("stdout.log"))
        .unwrap()
        .contains("started"));
    let copied = h.dir.join("back/copy");
    ssh.put(&logs.join("stdout.log"), &h.dir.join("remote/copy"))
        .unwrap();
    ssh.get(&h.dir.join("remote/copy"), &copied).unwrap();
    assert!(std::fs::read_to_string(copied).unwrap().contains("started"));
    drop(node);
}

#[test]
fn partition_rules_applied_over_ssh_cut_exactly_the_named_peer_and_heal() {
    let Some(a) = fake_host("b") else { return };
    let ssh = Ssh::connect(&target(&a, "client_key")).unwrap();
    let fw = Firewall::detect_on(&ssh)
        .unwrap()
        .expect("nft or iptables on the host");
    firewall::install(&ssh, fw).unwrap();
    // Two "peers" on the control side of the link: the control node (.1, which the
    // SSH connection comes from) and another address (.9), each with a listener.
    let peer: std::net::Ipv4Addr = sibling(&a, 9).parse().unwrap();
    sh(&["ip", "addr", "add", &format!("{peer}/24"), "dev", &a.outer]);
    let listen = |ip: &str| std::net::TcpListener::bind(format!("{ip}:0")).unwrap();
    let (l1, l9) = (listen(&sibling(&a, 1)), listen(&peer.to_string()));
    let (to1, to9) = (l1.local_addr().unwrap(), l9.local_addr().unwrap());
    assert!(connects_from(&a, to1) && connects_from(&a, to9));
    firewall::drop_peers(&ssh, fw, &[peer]).unwrap();
    assert!(!connects_from(&a, to9), "the cut peer is unreachable");
    assert!(connects_from(&a, to1), "the other peer still connects");
    assert!(ssh
        .run_ok("true", &[], None, Duration::from_secs(5))
        .is_ok());
    let listing = Namespace::new(&a.netns)
        .run_ok(
            "sh",
            &[
                "-c",
                "nft list table inet faultline 2>/dev/null || iptables -S",
            ],
            None,
            Duration::from_secs(5),
        )
        .unwrap();
    assert!(listing.contains(&peer.to_string()), "{listing}");
    firewall::heal_partition(&ssh, fw).unwrap();
    assert!(connects_from(&a, to9) && connects_from(&a, to1), "healed");
    firewall::uninstall(&ssh, fw);
}

#[test]
fn a_refused_key_and_an_unreachable_address_are_errors_naming_the_host() {
    let Some(h) = fake_host("c") else { return };
    keygen(&h.dir.join("stranger_key"));
    let e = Ssh::connect(&target(&h, "stranger_key")).unwrap_err();
    assert!(matches!(e, HostError::Connect { .. }), "{e}");
    assert!(e.to_string().contains(&h.addr), "{e}");
    let mut t = target(&h, "client_key");
    t.destination = format!("root@{}", sibling(&h, 3));
    t.connect_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let e = Ssh::connect(&t).unwrap_err();
    assert!(e.to_string().contains(&sibling(&h, 3)), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10), "{e}");
}

fn timed(rounds: u32, mut f: impl FnMut()) -> Duration {
    let started = Instant::now();
    for _ in 0..rounds {
        f();
    }
    started.elapsed() / rounds
}

/// The BENCHMARKS.md figures (not a timed test: it prints, asserts nothing about
/// speed). Long-ish (5 sshds): `cargo test --release -p nemesis --test ssh_host --
/// --ignored --nocapture host_timings`.
#[test]
#[ignore]
fn host_timings() {
    let hosts: Vec<FakeHost> = (3..8).filter_map(|i| fake_host(&format!("h{i}"))).collect();
    if hosts.len() < 5 {
        return;
    }
    let ssh: Vec<Ssh> = hosts
        .iter()
        .map(|h| Ssh::connect(&target(h, "client_key")).unwrap())
        .collect();
    let local: Vec<Namespace> = hosts.iter().map(|h| Namespace::new(&h.netns)).collect();
    let fw = Firewall::detect_on(&ssh[0]).unwrap().unwrap();
    for h in &ssh {
        firewall::install(h, fw).unwrap();
    }
    let addrs: Vec<std::net::Ipv4Addr> = hosts
        .iter()
        .map(|h| sibling(h, 9).parse().unwrap())
        .collect();
    let partition = |on: &[&dyn Host]| {
        std::thread::scope(|s| {
            for (i, h) in on.iter().enumerate() {
                let peers: Vec<_> = addrs
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, a)| *a)
                    .collect();
                s.spawn(move || {
                    firewall::drop_peers(*h, fw, &peers).unwrap();
                });
            }
        });
        std::thread::scope(|s| {
            for h in on {
                s.spawn(move || firewall::heal_partition(*h, fw).unwrap());
            }
        });
    };
    let on_ssh: Vec<&dyn Host> = ssh.iter().map(|h| h as &dyn Host).collect();
    let on_local: Vec<&dyn Host> = local.iter().map(|h| h as &dyn Host).collect();
    let p_local = timed(20, || partition(&on_local));
    let p_ssh = timed(20, || partition(&on_ssh));
    let spec = |h: &FakeHost| ProcessSpec {
        name: "n1".into(),
        program: "sleep".into(),
        args: vec!["60".into()],
        log_dir: h.dir.join("bench"),
        ..ProcessSpec::default()
    };
    let round_trip = |host: Arc<dyn Host>| {
        let mut start = Duration::ZERO;
        let mut cycle = Duration::ZERO;
        for _ in 0..10 {
            let t = Instant::now();
            let node = NodeProcess::spawn_on(host.clone(), spec(&hosts[0])).unwrap();
            start += t.elapsed();
            let t = Instant::now();
            node.kill(Duration::from_secs(5)).unwrap();
            node.restart().unwrap();
            cycle += t.elapsed();
        }
        (start / 10, cycle / 10)
    };
    let (start_local, cycle_local) = round_trip(Arc::new(local[0].clone()));
    let (start_ssh, cycle_ssh) = round_trip(Arc::new(ssh[0].clone()));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "partition apply+heal, 5 hosts: namespace {p_local:?}, ssh {p_ssh:?} ({:.1}x)",
        ratio(p_ssh, p_local)
    );
    println!(
        "node start: namespace {start_local:?}, ssh {start_ssh:?} ({:.1}x)",
        ratio(start_ssh, start_local)
    );
    println!(
        "kill+restart: namespace {cycle_local:?}, ssh {cycle_ssh:?} ({:.1}x)",
        ratio(cycle_ssh, cycle_local)
    );
    for h in &ssh {
        firewall::uninstall(h, fw);
    }
}

//! Shared by the nemesis tests: real probe nodes (`faultline-probe`) and ways to ask
//! them things over real sockets.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use nemesis::{NodeProcess, ProcessSpec};

/// The probe binary.
pub fn probe_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_faultline-probe"))
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "fl-nemesis-{name}-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The spec of a probe node listening on `addr`.
pub fn probe_spec(name: &str, addr: &str, dir: &std::path::Path) -> ProcessSpec {
    ProcessSpec {
        name: name.to_string(),
        program: probe_bin(),
        args: vec![addr.to_string()],
        log_dir: dir.join(name),
        ..ProcessSpec::default()
    }
}

/// Sends one request line to `addr` and returns the answer line, or why not.
pub fn ask(addr: &str, line: &str, timeout: Duration) -> Result<String, String> {
    let sa: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut s = TcpStream::connect_timeout(&sa, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    writeln!(s, "{line}").map_err(|e| e.to_string())?;
    let mut answer = String::new();
    match BufReader::new(s).read_line(&mut answer) {
        Ok(0) => Err("closed".into()),
        Ok(_) => Ok(answer.trim().to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Waits until `addr` answers PING, up to `deadline`.
pub fn wait_answers(addr: &str, deadline: Duration) -> bool {
    let until = std::time::Instant::now() + deadline;
    while std::time::Instant::now() < until {
        if ask(addr, "PING", Duration::from_millis(300)).as_deref() == Ok("PONG") {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// Starts a probe node on a free loopback port; returns it and its address.
pub fn start_probe(name: &str, dir: &std::path::Path) -> (NodeProcess, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let node = NodeProcess::spawn(probe_spec(name, &addr, dir)).unwrap();
    assert!(
        wait_answers(&addr, Duration::from_secs(10)),
        "probe {name} never answered"
    );
    (node, addr)
}

/// Whether a process with this PID exists (and is not a zombie).
pub fn pid_exists(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        }
        Err(_) => false,
    }
}

/// The scheduler state letter of a process (`S`, `R`, `T` stopped, ...).
pub fn pid_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim_start().chars().next()
}

/// Whether we run as root (namespace tests need it).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

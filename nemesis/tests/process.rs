//! Node processes and process faults, observed from outside: real processes, real
//! signals, real sockets.

mod common;

use std::time::{Duration, Instant};

use common::*;
use nemesis::{NodeProcess, ProcessSpec};
use nix::sys::signal::Signal;

#[test]
fn a_killed_node_is_gone_and_a_restart_brings_it_back_on_the_same_port() {
    let dir = scratch("kill");
    let (node, addr) = start_probe("n1", &dir);
    let pid = node.pid();
    assert!(pid_exists(pid));
    let status = node.kill(Duration::from_secs(5)).unwrap();
    assert_eq!(nemesis::process::describe(status), "killed by SIGKILL");
    assert!(!pid_exists(pid), "pid {pid} is still there after kill");
    assert!(ask(&addr, "PING", Duration::from_millis(300)).is_err());
    assert!(!node.is_running());
    assert_eq!(
        std::fs::read_to_string(dir.join("n1/exit-status")).unwrap(),
        "killed by SIGKILL\n"
    );
    node.restart().unwrap();
    assert_ne!(node.pid(), pid);
    assert!(wait_answers(&addr, Duration::from_secs(10)));
    assert!(!dir.join("n1/exit-status").exists());
    let pids = std::fs::read_to_string(dir.join("n1/pid")).unwrap();
    assert_eq!(pids.lines().count(), 2, "{pids}");
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_paused_node_does_not_answer_until_it_is_resumed() {
    let dir = scratch("pause");
    let (node, addr) = start_probe("n1", &dir);
    node.pause().unwrap();
    assert!(node.is_paused());
    assert_eq!(pid_state(node.pid()), Some('T'));
    assert!(
        ask(&addr, "PING", Duration::from_millis(300)).is_err(),
        "a paused node answered"
    );
    node.resume().unwrap();
    assert!(!node.is_paused());
    assert_eq!(
        ask(&addr, "PING", Duration::from_secs(2)).as_deref(),
        Ok("PONG")
    );
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restarting_a_running_node_is_refused() {
    let dir = scratch("restart-running");
    let (node, _addr) = start_probe("n1", &dir);
    assert!(node.restart().is_err());
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn shell(name: &str, script: &str, dir: &std::path::Path) -> NodeProcess {
    NodeProcess::spawn(ProcessSpec {
        name: name.into(),
        program: "/bin/sh".into(),
        args: vec!["-c".into(), script.into()],
        log_dir: dir.join(name),
        ..ProcessSpec::default()
    })
    .unwrap()
}

#[test]
fn a_graceful_stop_uses_the_signal_and_falls_back_to_sigkill() {
    let dir = scratch("stop");
    let polite = shell("polite", "exec sleep 100", &dir);
    let s = polite
        .stop(Signal::SIGTERM, Duration::from_secs(5))
        .unwrap();
    assert_eq!(nemesis::process::describe(s), "killed by SIGTERM");

    let stubborn = shell(
        "stubborn",
        "trap '' TERM; while :; do sleep 0.05; done",
        &dir,
    );
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    let s = stubborn
        .stop(Signal::SIGTERM, Duration::from_millis(300))
        .unwrap();
    assert_eq!(nemesis::process::describe(s), "killed by SIGKILL");
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert!(t.elapsed() < Duration::from_secs(5));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_kill_reaches_every_process_the_node_forked() {
    let dir = scratch("group");
    let node = NodeProcess::spawn(ProcessSpec {
        name: "n2".into(),
        program: "/bin/sh".into(),
        args: vec!["-c".into(), "sleep 1000 & echo $! > child.pid; wait".into()],
        cwd: Some(dir.clone()),
        log_dir: dir.join("n2"),
        ..ProcessSpec::default()
    })
    .unwrap();
    let file = dir.join("child.pid");
    let until = Instant::now() + Duration::from_secs(5);
    while !file.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    let child: i32 = std::fs::read_to_string(&file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_exists(child));
    node.kill(Duration::from_secs(5)).unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while pid_exists(child) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !pid_exists(child),
        "the forked child {child} survived the kill"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_dropped_node_is_killed() {
    let dir = scratch("drop");
    let (node, addr) = start_probe("n1", &dir);
    let pid = node.pid();
    drop(node);
    assert!(!pid_exists(pid));
    assert!(ask(&addr, "PING", Duration::from_millis(300)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_node_carries_its_owner_in_its_environment() {
    let dir = scratch("owner");
    let (node, _addr) = start_probe("n7", &dir);
    let (owner, name) = nemesis::owner::tags_of(node.pid()).unwrap();
    assert_eq!(owner, nemesis::owner::Owner::current());
    assert_eq!(name, "n7");
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let dir = scratch("missing");
    let e = NodeProcess::spawn(ProcessSpec {
        name: "n1".into(),
        program: dir.join("no-such-program"),
        log_dir: dir.join("n1"),
        ..ProcessSpec::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("could not start"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

//! A driver killed with SIGKILL in the middle of faults, then `cleanup`: nothing is
//! left behind — no node, no paused process, no namespace, no skewed clock — and a
//! second cleanup finds nothing to do.
//!
//! The "driver" is this test binary run again as a helper (see
//! `helper_driver_that_gets_killed`, which does nothing unless asked to).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use nemesis::partition::complete;
use nemesis::schedule::Step;
use nemesis::{
    Action, Events, Fault, Mechanism, Nemesis, Node, NodeProcess, Options, Partition, Plan,
    ProcessSpec,
};

struct Quiet;
impl Events for Quiet {
    fn record(&self, _f: &str, _value: serde_json::Value) {}
}

const HELPER_ENV: &str = "FL_CLEANUP_HELPER_DIR";

/// Only when run as the helper: sets up faults, says so, and waits to be killed.
#[test]
fn helper_driver_that_gets_killed() {
    let Ok(dir) = std::env::var(HELPER_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let names: Vec<String> = (1..=3).map(|i| format!("n{i}")).collect();
        let mechanism = if nemesis::netns::available().is_ok() {
            Mechanism::Namespaces
        } else {
            Mechanism::Proxies
        };
        let mut nemesis = Nemesis::prepare(
            Options {
                plan: Plan::new(
                    vec![Fault::Partition, Fault::Pause, Fault::Clock],
                    Duration::from_secs(1),
                ),
                seed: 1,
                mechanism: Some(mechanism),
                run_dir: Some(dir.clone()),
                services: 1,
                ports: None,
                routed: false,
            },
            &names,
        )
        .await
        .unwrap();
        let layout = nemesis.layout().unwrap().clone();
        let mut nodes = Vec::new();
        for n in &layout.nodes {
            let node = NodeProcess::spawn(ProcessSpec {
                env: n.env.clone(),
                netns: n.netns.clone(),
                ..probe_spec(&n.name, &n.listen_addr().to_string(), &dir)
            })
            .unwrap();
            assert!(wait_answers(
                &n.client_addr().to_string(),
                Duration::from_secs(10)
            ));
            nodes.push(Arc::new(node));
        }
        nemesis
            .attach(nodes.iter().map(|n| n.clone() as Arc<dyn Node>).collect())
            .unwrap();
        let step = |fault, action| Step {
            fault,
            action,
            gap: Duration::ZERO,
            hold: Duration::ZERO,
        };
        let lone = vec!["n1".to_string()];
        let rest = vec!["n2".to_string(), "n3".to_string()];
        for s in [
            step(Fault::Pause, Action::Pause(vec!["n2".into()])),
            step(
                Fault::Partition,
                Action::Partition(Partition {
                    kind: "one".into(),
                    groups: vec![lone.clone(), rest.clone()],
                    grudge: complete(&[lone, rest]),
                }),
            ),
            step(
                Fault::Clock,
                Action::Clock(vec![(
                    "n3".into(),
                    nemesis::clock::ClockChange::Bump { ms: 60_000 },
                )]),
            ),
        ] {
            nemesis.inject(&s, &Quiet).unwrap();
        }
        let pids: Vec<String> = nodes.iter().map(|n| n.pid().to_string()).collect();
        std::fs::write(dir.join("ready"), pids.join(" ")).unwrap();
        // Wait to be killed; never heal.
        std::mem::forget(nemesis);
        std::mem::forget(nodes);
        tokio::time::sleep(Duration::from_secs(120)).await;
    });
}

#[test]
fn after_a_killed_driver_cleanup_leaves_nothing_behind() {
    if std::env::var(HELPER_ENV).is_ok() {
        return;
    }
    let dir = scratch("cleanup");
    let mut helper = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "helper_driver_that_gets_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, &dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.join("ready");
    let until = Instant::now() + Duration::from_secs(30);
    while !ready.exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids: Vec<i32> = std::fs::read_to_string(&ready)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    let state = nemesis::state::read(&dir.join(nemesis::state::RUN_STATE_FILE)).unwrap();
    assert_eq!(pid_state(pids[1]), Some('T'), "n2 is paused");
    assert!(
        !state.active.is_empty() && !state.paused.is_empty(),
        "{state:?}"
    );
    helper.kill().unwrap();
    helper.wait().unwrap();

    let report = nemesis::cleanup::cleanup(std::slice::from_ref(&dir));
    assert!(report.errors.is_empty(), "{report:?}");
    for pid in &pids {
        let until = Instant::now() + Duration::from_secs(5);
        while pid_exists(*pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            !pid_exists(*pid),
            "node pid {pid} survived the cleanup: {report:?}"
        );
    }
    let after = nemesis::state::read(&dir.join(nemesis::state::RUN_STATE_FILE)).unwrap();
    assert!(after.healed && after.is_empty(), "{after:?}");
    for ns in &state.namespaces {
        assert!(
            !nemesis::netns::faultline_namespaces().contains(ns),
            "{ns} left"
        );
    }
    for i in &state.interfaces {
        assert!(
            !nemesis::netns::faultline_interfaces().contains(i),
            "{i} left"
        );
    }
    for f in &state.clock_files {
        assert_eq!(std::fs::read_to_string(f).unwrap().trim(), "+0.000");
    }
    // Idempotent: nothing more to do.
    let again = nemesis::cleanup::cleanup(std::slice::from_ref(&dir));
    assert!(
        again.healed.iter().all(|h| !h.contains(&state.id)) && again.errors.is_empty(),
        "{again:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

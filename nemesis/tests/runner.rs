//! The whole nemesis on real probe nodes: prepared layout, every fault on a seeded
//! schedule, each start and stop recorded, and everything healed at the end — also
//! when the nemesis is dropped in the middle of a fault (a panicking driver).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use nemesis::{Events, Fault, Mechanism, Nemesis, Node, NodeProcess, Options, Plan, ProcessSpec};
use serde_json::Value;

#[derive(Default)]
struct Log(Mutex<Vec<(String, Value)>>);

impl Events for Log {
    fn record(&self, f: &str, value: Value) {
        self.0.lock().unwrap().push((f.to_string(), value));
    }
}

struct Setup {
    nemesis: Nemesis,
    nodes: Vec<Arc<NodeProcess>>,
    dir: std::path::PathBuf,
}

async fn setup(name: &str, faults: &[Fault], mechanism: Mechanism, interval: Duration) -> Setup {
    let dir = scratch(name);
    let names: Vec<String> = (1..=3).map(|i| format!("n{i}")).collect();
    let nemesis = Nemesis::prepare(
        Options {
            plan: Plan::new(faults.to_vec(), interval),
            seed: 42,
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
    assert_eq!(layout.mechanism, mechanism);
    let mut nodes = Vec::new();
    for n in &layout.nodes {
        let addr = n.listen_addr().to_string();
        let node = NodeProcess::spawn(ProcessSpec {
            env: n.env.clone(),
            netns: n.netns.clone(),
            ..probe_spec(&n.name, &addr, &dir)
        })
        .unwrap();
        let client = n.client_addr().to_string();
        assert!(tokio::task::spawn_blocking(move || wait_answers(
            &client,
            Duration::from_secs(10)
        ))
        .await
        .unwrap());
        nodes.push(Arc::new(node));
    }
    let mut nemesis = nemesis;
    nemesis
        .attach(nodes.iter().map(|n| n.clone() as Arc<dyn Node>).collect())
        .unwrap();
    Setup {
        nemesis,
        nodes,
        dir,
    }
}

/// Every node reaches every peer through the address it was given, and every client
/// address answers.
async fn all_connected(s: &Setup) -> bool {
    let layout = s.nemesis.layout().unwrap().clone();
    tokio::task::spawn_blocking(move || {
        layout.nodes.iter().all(|n| {
            let at = n.client_addr().to_string();
            n.peers.values().all(|p| {
                ask(
                    &at,
                    &format!("CONNECT {} 500", p[0]),
                    Duration::from_secs(3),
                )
                .as_deref()
                    == Ok("OK")
            })
        })
    })
    .await
    .unwrap()
}

async fn a_full_schedule_is_recorded_and_healed(mechanism: Mechanism) {
    let faults = Fault::ON_ANY_STORE.to_vec();
    let s = setup(
        &format!("runner-{}", mechanism.as_str()),
        &faults,
        mechanism,
        Duration::from_millis(150),
    )
    .await;
    let log = Log::default();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stopper = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(4)).await;
        tx.send(true).unwrap();
    });
    s.nemesis.run(&log, rx).await.unwrap();
    stopper.await.unwrap();
    let events = log.0.lock().unwrap().clone();
    let starts: Vec<_> = events
        .iter()
        .filter(|e| e.0.starts_with("start-"))
        .collect();
    assert!(starts.len() >= 5, "{events:?}");
    // Each start is followed by its own stop, before the next start.
    for pair in events.chunks(2) {
        assert_eq!(pair.len(), 2, "{events:?}");
        assert_eq!(pair[0].0.replace("start-", "stop-"), pair[1].0);
        assert!(
            pair[0].1["nodes"].as_array().is_some_and(|a| !a.is_empty()),
            "{pair:?}"
        );
    }
    let kinds: std::collections::BTreeSet<_> = starts.iter().map(|e| e.0.clone()).collect();
    assert!(kinds.len() >= 4, "{kinds:?}");
    // Healed, observed: every node runs, none is stopped, every link works, clocks true.
    for n in &s.nodes {
        assert!(n.is_running());
        assert_ne!(pid_state(n.pid()), Some('T'));
    }
    assert!(all_connected(&s).await, "a link is still cut after the run");
    let layout = s.nemesis.layout().unwrap().clone();
    for n in &layout.nodes {
        let addr = n.client_addr().to_string();
        let theirs: i64 =
            tokio::task::spawn_blocking(move || ask(&addr, "TIME", Duration::from_secs(2)))
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap();
        let ours = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!(
            (theirs - ours).abs() < 500,
            "{} is off by {}ms",
            n.name,
            theirs - ours
        );
    }
    let state = nemesis::state::read(&s.dir.join(nemesis::state::RUN_STATE_FILE)).unwrap();
    assert!(
        state.active.is_empty() && state.paused.is_empty(),
        "{state:?}"
    );
    let dir = s.dir.clone();
    drop(s);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_proxies_a_full_schedule_is_recorded_and_healed() {
    a_full_schedule_is_recorded_and_healed(Mechanism::Proxies).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_namespaces_a_full_schedule_is_recorded_and_healed() {
    if let Err(why) = nemesis::netns::available() {
        eprintln!("skipped: {why}");
        return;
    }
    a_full_schedule_is_recorded_and_healed(Mechanism::Namespaces).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nemesis_dropped_in_the_middle_of_a_fault_heals_it() {
    let s = setup(
        "runner-drop",
        &[Fault::Pause, Fault::Partition],
        Mechanism::Proxies,
        Duration::from_millis(100),
    )
    .await;
    // Long holds: the run is cut off while a pause is active.
    let log = Log::default();
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let nodes = s.nodes.clone();
    let _ = tokio::time::timeout(Duration::from_millis(400), s.nemesis.run(&log, rx)).await;
    let paused_now = nodes
        .iter()
        .filter(|n| pid_state(n.pid()) == Some('T'))
        .count();
    let started = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.0 == "start-pause")
        .count();
    let stopped = log
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.0 == "stop-pause")
        .count();
    assert!(!log.0.lock().unwrap().is_empty());
    let dir = s.dir.clone();
    let state_before = nemesis::state::read(&dir.join(nemesis::state::RUN_STATE_FILE)).unwrap();
    if started > stopped {
        assert!(
            paused_now > 0,
            "a pause was active when the run was cut off"
        );
        assert!(
            !state_before.paused.is_empty(),
            "the state file lists the paused nodes"
        );
    }
    // (Proxies die with the nemesis; what must be healed by hand is the pause.)
    let Setup {
        nemesis, nodes: _n, ..
    } = s;
    drop(nemesis);
    for n in &nodes {
        assert_ne!(
            pid_state(n.pid()),
            Some('T'),
            "{} is still paused",
            n.name()
        );
    }
    let state = nemesis::state::read(&dir.join(nemesis::state::RUN_STATE_FILE)).unwrap();
    assert!(state.healed && state.paused.is_empty(), "{state:?}");
    drop(nodes);
    std::fs::remove_dir_all(&dir).unwrap();
}

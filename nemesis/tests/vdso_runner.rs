//! The nemesis runner's clock fault on a Go node (the Go probe, started as a node
//! process with the libfaketime environment it ignores): `auto` picks the vdso
//! mechanism for it, the start event says so and no "its clock did not move" note is
//! given, the node's printed wall clock moves by the bump, the state file records the
//! patch while it lasts, and the heal restores the original vDSO bytes and true time.

#[path = "probes/mod.rs"]
mod probes;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nemesis::clock::{vdso, ClockChange, ClockMechanism};
use nemesis::schedule::Step;
use nemesis::{
    Action, Events, Fault, Mechanism, Nemesis, Node, NodeProcess, Options, Plan, ProcessSpec,
};

#[derive(Default)]
struct Recorded {
    events: Mutex<Vec<(String, serde_json::Value)>>,
    notes: Mutex<Vec<String>>,
}

impl Events for Recorded {
    fn record(&self, f: &str, value: serde_json::Value) {
        self.events.lock().unwrap().push((f.to_string(), value));
    }
    fn note(&self, message: &str) {
        self.notes.lock().unwrap().push(message.to_string());
    }
}

/// The node's wall clock minus ours, from the last line of its stdout log (the probe
/// prints every 10 ms), in ms, after waiting for lines printed from now on.
fn skew_from_log(log: &std::path::Path) -> i64 {
    std::thread::sleep(Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let now = probes::now_ns();
        let wall = text.lines().rev().find_map(|l| {
            l.strip_prefix("wall=")?
                .split(' ')
                .next()?
                .parse::<i64>()
                .ok()
        });
        if let Some(w) = wall {
            return (w - now) / 1_000_000;
        }
        assert!(Instant::now() < deadline, "the node printed nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_clock_fault_on_a_go_node_goes_through_the_vdso_and_heals() {
    let dir = probes::temp_dir("runner");
    let program = probes::build_go(&dir);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let names = vec!["n1".to_string()];
        let mut nemesis = Nemesis::prepare(
            Options {
                plan: Plan::new(vec![Fault::Clock], Duration::from_secs(1)),
                seed: 7,
                mechanism: Some(Mechanism::Proxies),
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
        let env = layout.nodes[0].env.clone();
        let node = Arc::new(
            NodeProcess::spawn(ProcessSpec {
                name: "n1".into(),
                program: program.clone(),
                env,
                log_dir: dir.join("n1"),
                netns: layout.nodes[0].netns.clone(),
                ..ProcessSpec::default()
            })
            .unwrap(),
        );
        nemesis.attach(vec![node.clone() as Arc<dyn Node>]).unwrap();
        assert_eq!(nemesis.clock_mechanism_of("n1"), ClockMechanism::Vdso);
        let log = dir.join("n1/stdout.log");
        let s = skew_from_log(&log);
        assert!(s.abs() < 1_000, "before: {s} ms");

        let events = Recorded::default();
        let step = Step {
            fault: Fault::Clock,
            action: Action::Clock(vec![("n1".into(), ClockChange::Bump { ms: 30_000 })]),
            gap: Duration::ZERO,
            hold: Duration::from_secs(1),
        };
        nemesis.inject(&step, &events).unwrap();
        let s = skew_from_log(&log);
        assert!((s - 30_000).abs() < 1_000, "after bump +30s: {s} ms");
        let start = events.events.lock().unwrap()[0].clone();
        assert_eq!(start.0, "start-clock");
        assert_eq!(start.1["clock_mechanism"]["n1"], "vdso", "{}", start.1);
        assert!(
            events
                .notes
                .lock()
                .unwrap()
                .iter()
                .all(|n| !n.contains("did not move")),
            "{:?}",
            events.notes.lock().unwrap()
        );
        let state = nemesis::state::read(&nemesis.state_path().unwrap()).unwrap();
        assert_eq!(state.vdso_patches.len(), 1);
        assert_eq!(state.vdso_patches[0].pid, node.pid());

        nemesis.heal(Some(&events)).unwrap();
        let s = skew_from_log(&log);
        assert!(s.abs() < 1_000, "after heal: {s} ms");
        assert_eq!(
            vdso::vdso_bytes(node.pid()).unwrap(),
            vdso::vdso_bytes(std::process::id() as i32).unwrap()
        );
        let state = nemesis::state::read(&nemesis.state_path().unwrap()).unwrap();
        assert!(state.vdso_patches.is_empty());
        assert!(node.is_running(), "the Go node died");
        node.kill_now();
        nemesis.teardown().unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}

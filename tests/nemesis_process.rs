//! Process faults end to end on the reference store: kill -9 and SIGSTOP really hit
//! the nodes (operations against them stop succeeding while the fault lasts), every
//! start and stop is a nemesis event naming its nodes, and nothing is left killed,
//! paused or running after the run.

mod run_common;

use checkers::Outcome;
use run_common::{assert_no_node_left, faultline, history, run_dir, scratch, text};

#[test]
fn kill_and_pause_faults_hit_real_nodes_are_recorded_and_healed() {
    let dir = scratch("nemesis-process");
    let r = dir.join("results");
    let o = faultline(&[
        "run",
        "--workload",
        "set",
        "--nemesis",
        "kill,pause",
        "--nemesis-interval",
        "1s",
        "--time-limit",
        "7s",
        "--op-timeout",
        "500ms",
        "--seed",
        "5",
        "--results",
        r.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", text(&o));
    let run = run_dir(&o);
    let h = history(&run);
    let starts: Vec<_> = h
        .nemesis
        .iter()
        .filter(|e| e.f.as_str().starts_with("start-"))
        .collect();
    let stops: Vec<_> = h
        .nemesis
        .iter()
        .filter(|e| e.f.as_str().starts_with("stop-"))
        .collect();
    assert!(starts.len() >= 2, "faults started: {:?}", h.nemesis);
    assert_eq!(
        starts.len(),
        stops.len(),
        "every fault is healed: {:?}",
        h.nemesis
    );
    // Observed, not trusted: during each fault, operations routed to the faulty node
    // do not all succeed.
    let mut hit = 0;
    for (start, stop) in starts.iter().zip(&stops) {
        let nodes: Vec<String> = start
            .value
            .get("nodes")
            .and_then(|n| n.as_list())
            .unwrap_or(&[])
            .iter()
            .filter_map(|n| n.as_str().map(str::to_string))
            .collect();
        assert!(!nodes.is_empty(), "a fault names its nodes");
        let failed = h.ops.iter().filter(|op| {
            op.invoke_time > start.time
                && op.invoke_time < stop.time
                && op.outcome != Outcome::Ok
                && op
                    .node
                    .as_deref()
                    .is_some_and(|n| nodes.iter().any(|x| x == n))
        });
        hit += usize::from(failed.count() > 0);
    }
    assert!(
        hit >= 1,
        "no operation against a faulty node failed: {:?}",
        h.nemesis
    );
    assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Clock faults, observed: a probe node started with the clock environment reports a
//! wall clock that moves by the offset while it runs, and back on reset.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use nemesis::clock::NodeClock;
use nemesis::{NodeProcess, ProcessSpec};

fn skew_ms(addr: &str) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let theirs: i64 = ask(addr, "TIME", Duration::from_secs(2))
        .unwrap()
        .parse()
        .unwrap();
    theirs - now
}

#[test]
fn a_node_clock_moves_by_the_offset_while_it_runs_and_back_on_reset() {
    if nemesis::clock::libfaketime().is_none() {
        eprintln!("skipped: libfaketime is not installed (apt-get install libfaketime)");
        return;
    }
    let dir = scratch("clock");
    let clock = NodeClock::create("n1", &dir.join("clock")).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let node = NodeProcess::spawn(ProcessSpec {
        env: clock.env().unwrap(),
        ..probe_spec("n1", &addr, &dir)
    })
    .unwrap();
    assert!(wait_answers(&addr, Duration::from_secs(10)));
    assert!(
        skew_ms(&addr).abs() < 200,
        "skew before: {}",
        skew_ms(&addr)
    );
    clock.set_offset_ms(30_000).unwrap();
    let s = skew_ms(&addr);
    assert!((29_800..30_200).contains(&s), "skew after +30s: {s}");
    clock.set_offset_ms(-5_000).unwrap();
    let s = skew_ms(&addr);
    assert!((-5_200..-4_800).contains(&s), "skew after -5s: {s}");
    clock.set_offset_ms(0).unwrap();
    assert!(skew_ms(&addr).abs() < 200);
    // Monotonic time is not faked: the node keeps serving across the jumps.
    assert_eq!(
        ask(&addr, "PING", Duration::from_secs(2)).as_deref(),
        Ok("PONG")
    );
    drop(node);
    std::fs::remove_dir_all(&dir).unwrap();
}

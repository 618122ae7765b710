//! The session guarantees: a hand-written history for each way each one breaks (and
//! for what it allows), with the exact counterexample: the process and the ops.

mod support;

use checkers::consistency::Consistency::{self, *};
use checkers::Verdict;
use support::rw::{check, sessions};

fn broken(model: Consistency, procs: &[&[&str]], process: u64, says: &str) {
    let r = check(model, &sessions(procs));
    assert_eq!(r.verdict, Verdict::Invalid, "{model}: {}", r.summary);
    assert_eq!(r.evidence["process"], process, "{}", r.summary);
    assert!(r.summary.contains(says), "{model}: {}", r.summary);
}

fn holds(model: Consistency, procs: &[&[&str]]) {
    let r = check(model, &sessions(procs));
    assert_eq!(r.verdict, Verdict::Valid, "{model}: {}", r.summary);
}

#[test]
fn reading_the_initial_value_after_ones_own_write_breaks_read_your_writes() {
    broken(
        ReadYourWrites,
        &[&["w x 1", "r x _"]],
        1,
        "p1 wrote x=1 then p1 read x=⊥",
    );
}

#[test]
fn reading_ones_own_older_write_breaks_read_your_writes() {
    broken(
        ReadYourWrites,
        &[&["w x 1", "w x 2", "r x 1"]],
        1,
        "p1 wrote x=2 then p1 read x=1",
    );
}

#[test]
fn reading_another_process_write_after_ones_own_is_allowed_by_read_your_writes() {
    holds(ReadYourWrites, &[&["w x 1", "r x 2"], &["w x 2"]]);
    holds(ReadYourWrites, &[&["r x _", "w x 1", "r x 1"]]);
}

#[test]
fn reading_a_value_again_after_a_newer_one_breaks_monotonic_reads() {
    broken(
        MonotonicReads,
        &[&["w x 1"], &["w x 2"], &["r x 1", "r x 2", "r x 1"]],
        3,
        "p3 read x=1, then p3 read x=2, then p3 read x=1 again",
    );
}

#[test]
fn reading_the_initial_value_after_a_write_breaks_monotonic_reads() {
    broken(
        MonotonicReads,
        &[&["w x 1"], &["r x 1", "r x _"]],
        2,
        "p2 read x=1 then p2 read x=⊥",
    );
}

#[test]
fn reads_that_only_move_forward_keep_monotonic_reads() {
    holds(
        MonotonicReads,
        &[&["w x 1", "w x 2"], &["r x _", "r x 1", "r x 1", "r x 2"]],
    );
}

#[test]
fn seeing_a_later_write_and_then_missing_an_earlier_one_breaks_monotonic_writes() {
    broken(
        MonotonicWrites,
        &[&["w x 1", "w y 2"], &["r y 2", "r x _"]],
        2,
        "p1 wrote x=1, p1 wrote y=2, p2 read y=2, then p2 read x=⊥",
    );
    broken(
        MonotonicWrites,
        &[&["w x 1", "w x 2"], &["r x 2", "r x 1"]],
        2,
        "p2 read x=1",
    );
}

#[test]
fn seeing_writes_in_their_order_keeps_monotonic_writes() {
    holds(
        MonotonicWrites,
        &[&["w x 1", "w x 2"], &["r x 1", "r x 2", "r y _"]],
    );
    // Another process's write of x is not ordered against p1's by one session.
    holds(
        MonotonicWrites,
        &[&["w x 1", "w y 2"], &["r y 2", "r x 3"], &["w x 3"]],
    );
}

#[test]
fn missing_what_a_writer_had_read_breaks_writes_follow_reads() {
    broken(
        WritesFollowReads,
        &[&["w x 1"], &["r x 1", "w y 2"], &["r y 2", "r x _"]],
        3,
        "p1 wrote x=1, p2 read x=1, p2 wrote y=2, p3 read y=2, then p3 read x=⊥",
    );
}

#[test]
fn writes_follow_reads_is_one_step_and_not_monotonic_writes() {
    holds(
        WritesFollowReads,
        &[&["w x 1", "w y 2"], &["r y 2", "r x _"]],
    );
    holds(
        WritesFollowReads,
        &[&["w x 1"], &["r x 1", "w y 2"], &["r y 2", "r x 1"]],
    );
}

#[test]
fn a_session_check_of_a_non_register_history_is_unknown() {
    use checkers::model::{ModelKind, ModelSpec};
    let spec = ModelSpec::new(ModelKind::Set);
    assert!(checkers::factory::checker_for(ReadYourWrites, &spec).is_none());
}

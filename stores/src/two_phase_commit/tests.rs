//! Unit tests of one node across restarts: what a node reopened from its data dir
//! (as after `kill -9`) still knows as a participant and as a coordinator, with the
//! prepare log on and off. Single-node clusters, so every call is local.

use clap::Parser;
use serde_json::{json, Value};

use super::participant::{CommitAnswer, Mop};
use super::peer::{Decision, Vote};
use super::*;

fn args(dir: &std::path::Path, prepare_log: &str) -> Args {
    Args::parse_from([
        "faultline-store",
        "--node",
        "n1",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.to_str().unwrap(),
        "--mode",
        "two-phase-commit",
        "--prepare-log",
        prepare_log,
        "--fsync",
        "never",
    ])
}

fn append(key: &str, v: i64) -> Mop {
    Mop {
        f: "append".into(),
        key: key.into(),
        value: json!(v),
    }
}

fn read(key: &str) -> Mop {
    Mop {
        f: "r".into(),
        key: key.into(),
        value: Value::Null,
    }
}

#[tokio::test]
async fn with_the_prepare_log_a_restarted_participant_still_holds_its_prepared_txn() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (n, _) = open(args(dir.path(), "on")).unwrap();
        let v = n.prepare("n2.1.1", "n2", &[append("x", 1)]).await;
        assert!(matches!(v, Vote::Yes { wrote: true, .. }), "{v:?}");
        let v = n.prepare("n2.1.2", "n2", &[append("y", 1)]).await;
        assert!(matches!(v, Vote::Yes { .. }), "{v:?}");
        assert_eq!(n.commit("n2.1.2").unwrap(), CommitAnswer::Committed);
    } // dropped: as killed, nothing flushed beyond write(2)
    let (n, _) = open(args(dir.path(), "on")).unwrap();
    assert_eq!(n.incarnation, 2);
    let v = n.prepare("n3.1.1", "n3", &[read("x")]).await;
    assert!(
        matches!(&v, Vote::No { reason, .. } if reason.contains("locks")),
        "x is still locked by the in-doubt txn: {v:?}"
    );
    let v = n.prepare("n3.1.2", "n3", &[read("y")]).await;
    assert_eq!(
        v,
        Vote::Yes {
            reads: vec![json!([1])],
            wrote: false
        }
    );
    assert_eq!(n.commit("n2.1.1").unwrap(), CommitAnswer::Committed);
    assert_eq!(n.lock().participant.values["x"], json!([1]));
}

#[tokio::test]
async fn without_the_prepare_log_a_restarted_participant_forgets_its_prepared_txn() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (n, _) = open(args(dir.path(), "off")).unwrap();
        assert!(matches!(
            n.prepare("n2.1.1", "n2", &[append("x", 1)]).await,
            Vote::Yes { .. }
        ));
        assert!(matches!(
            n.prepare("n2.1.2", "n2", &[append("y", 1)]).await,
            Vote::Yes { .. }
        ));
        n.commit("n2.1.2").unwrap();
    }
    let (n, _) = open(args(dir.path(), "off")).unwrap();
    assert_eq!(
        n.commit("n2.1.1").unwrap(),
        CommitAnswer::Unknown,
        "the prepare was lost"
    );
    assert!(n.lock().participant.locks.is_empty());
    assert_eq!(
        n.lock().participant.values.get("y"),
        Some(&json!([1])),
        "committed data is durable in both modes"
    );
}

#[tokio::test]
async fn a_restarted_coordinator_recovers_its_commit_decisions_only_from_the_decision_log() {
    for (mode, after_restart) in [("on", Decision::Commit), ("off", Decision::Abort)] {
        let dir = tempfile::tempdir().unwrap();
        let txn = {
            let (n, _) = open(args(dir.path(), mode)).unwrap();
            let out = coordinator::transact(&n, vec![append("x", 1), read("x")])
                .await
                .unwrap();
            assert_eq!(out, vec![json!(1), json!([1])]);
            let txn = format!("n1.{}.1", n.incarnation);
            assert_eq!(n.decision(&txn), Decision::Commit);
            assert_eq!(n.decision("n1.1.99"), Decision::Abort, "presumed abort");
            txn
        };
        let (n, unended) = open(args(dir.path(), mode)).unwrap();
        assert_eq!(n.decision(&txn), after_restart, "--prepare-log {mode}");
        assert!(unended.is_empty(), "its one participant acknowledged");
        assert_eq!(n.lock().participant.values["x"], json!([1]));
    }
}

#[tokio::test]
async fn a_decided_commit_no_participant_acknowledged_is_finished_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (n, _) = open(args(dir.path(), "on")).unwrap();
        assert!(matches!(
            n.prepare("n1.1.1", "n1", &[append("x", 5)]).await,
            Vote::Yes { .. }
        ));
        n.lock()
            .log
            .append(&Record::Decided {
                txn: "n1.1.1".into(),
                participants: vec!["n1".into()],
            })
            .unwrap();
    } // crashed between the decision and the commit
    let (n, unended) = open(args(dir.path(), "on")).unwrap();
    assert_eq!(unended.len(), 1);
    assert_eq!(n.decision("n1.1.1"), Decision::Commit);
    for (txn, participants) in unended {
        coordinator::finish(n.clone(), txn, participants).await;
    }
    assert_eq!(n.lock().participant.values["x"], json!([5]));
    assert!(n.lock().participant.locks.is_empty());
    drop(n);
    let (_, unended) = open(args(dir.path(), "on")).unwrap();
    assert!(unended.is_empty(), "ended");
}

#[tokio::test]
async fn a_prepare_waits_for_a_lock_and_gets_it_when_the_holder_commits() {
    let dir = tempfile::tempdir().unwrap();
    let (n, _) = open(args(dir.path(), "on")).unwrap();
    assert!(matches!(
        n.prepare("a", "n1", &[append("x", 1)]).await,
        Vote::Yes { .. }
    ));
    let waiter = {
        let n = n.clone();
        tokio::spawn(async move { n.prepare("b", "n1", &[read("x")]).await })
    };
    tokio::time::sleep(LOCK_WAIT / 4).await;
    n.commit("a").unwrap();
    assert_eq!(
        waiter.await.unwrap(),
        Vote::Yes {
            reads: vec![json!([1])],
            wrote: false
        }
    );
    let v = n.prepare("c", "n1", &[append("x", 2)]).await;
    assert!(matches!(v, Vote::No { .. }), "b holds x shared: {v:?}");
}

//! Hand-written list-append and rw-register histories, one per anomaly (and its
//! process / realtime variants), with the verdicts the lattice gives them.

mod txn_support;

use checkers::txn::{DataModel, RegisterOrders};
use checkers::{Consistency::*, Verdict};
use serde_json::json;
use txn_support::{anomalies, anomalies_of, check, Builder};

fn has(found: &[String], a: &str) -> bool {
    found.iter().any(|f| f == a)
}

#[test]
fn a_serial_history_is_strict_serializable_with_nothing_found() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1], ["r", "x", [1]]]))
        .txn(1, json!([["r", "x", [1]], ["append", "y", 1]]))
        .txn(0, json!([["r", "y", [1]], ["r", "x", [1]]]));
    let h = b.history();
    assert!(anomalies(&h).is_empty(), "{:?}", anomalies(&h));
    let r = check(&h, StrictSerializable);
    assert_eq!(r.verdict, Verdict::Valid, "{}", r.summary);
    assert_eq!(
        r.evidence["strongest_consistent"],
        json!(["strict-serializable"])
    );
    assert!(r.evidence["searched"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["result"] == "absent"));
}

#[test]
fn write_cycles_are_g0_and_rule_out_read_uncommitted() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1], ["append", "y", 1]]))
        .invoke(1, json!([["append", "x", 2], ["append", "y", 2]]))
        .ok(0, json!([["append", "x", 1], ["append", "y", 1]]))
        .ok(1, json!([["append", "x", 2], ["append", "y", 2]]))
        .txn(2, json!([["r", "x", [1, 2]], ["r", "y", [2, 1]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "G0"), "{:?}", anomalies(&h));
    let r = check(&h, ReadUncommitted);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(r.evidence["not"], json!(["read-uncommitted"]));
}

#[test]
fn reading_a_failed_append_is_an_aborted_read() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1]]))
        .fail(0, json!([["append", "x", 1]]))
        .txn(1, json!([["r", "x", [1]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "G1a"));
    assert_eq!(check(&h, ReadCommitted).verdict, Verdict::Invalid);
    assert_eq!(check(&h, ReadUncommitted).verdict, Verdict::Valid);
}

#[test]
fn a_failed_append_that_nobody_read_never_happened() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1]]))
        .fail(0, json!([["append", "x", 1]]))
        .txn(1, json!([["r", "x", []]]))
        .txn(1, json!([["append", "x", 2]]))
        .txn(1, json!([["r", "x", [2]]]));
    let h = b.history();
    assert!(anomalies(&h).is_empty(), "{:?}", anomalies(&h));
}

#[test]
fn a_committed_append_on_top_of_a_failed_one_is_a_dirty_update() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1]]))
        .fail(0, json!([["append", "x", 1]]))
        .txn(1, json!([["append", "x", 2]]))
        .txn(2, json!([["r", "x", [1, 2]]]));
    let found = anomalies(&b.history());
    assert!(
        has(&found, "dirty-update") && has(&found, "G1a"),
        "{found:?}"
    );
}

#[test]
fn reading_the_middle_of_another_txn_is_an_intermediate_read() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1], ["append", "x", 2]]))
        .txn(1, json!([["r", "x", [1]]]));
    let found = anomalies(&b.history());
    assert!(has(&found, "G1b"), "{found:?}");
}

#[test]
fn two_txns_that_read_each_others_appends_are_g1c() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1], ["r", "y", [1]]]))
        .invoke(1, json!([["append", "y", 1], ["r", "x", [1]]]))
        .ok(0, json!([["append", "x", 1], ["r", "y", [1]]]))
        .ok(1, json!([["append", "y", 1], ["r", "x", [1]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "G1c"));
    let r = check(&h, ReadCommitted);
    assert_eq!(r.verdict, Verdict::Invalid);
    let ev = r.evidence["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["anomaly"] == "G1c")
        .unwrap();
    assert!(ev["explanation"].as_str().unwrap().contains("saw"), "{ev}");
    assert_eq!(ev["cycle"].as_array().unwrap().len(), 2);
}

#[test]
fn read_skew_is_g_single_and_says_who_did_not_see_what() {
    let mut b = Builder::default();
    b.invoke(1, json!([["r", "x", []], ["r", "y", [1]]]))
        .txn(0, json!([["append", "x", 1], ["append", "y", 1]]))
        .ok(1, json!([["r", "x", []], ["r", "y", [1]]]))
        .txn(2, json!([["r", "x", [1]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "G-single"), "{:?}", anomalies(&h));
    let r = check(&h, SnapshotIsolation);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert_eq!(check(&h, ReadCommitted).verdict, Verdict::Valid);
    let text = r.evidence.to_string();
    assert!(
        text.contains("T0 did not see T1's append of 1 to x (it read x = [])"),
        "{text}"
    );
    assert_eq!(
        r.evidence["not"],
        json!(["repeatable-read", "consistent-view"])
    );
}

#[test]
fn write_skew_is_g2_item_serializability_fails_and_snapshot_isolation_holds() {
    let mut b = Builder::default();
    b.invoke(0, json!([["r", "x", []], ["append", "y", 1]]))
        .invoke(1, json!([["r", "y", []], ["append", "x", 1]]))
        .ok(0, json!([["r", "x", []], ["append", "y", 1]]))
        .ok(1, json!([["r", "y", []], ["append", "x", 1]]))
        .txn(2, json!([["r", "x", [1]], ["r", "y", [1]]]));
    let h = b.history();
    let found = anomalies(&h);
    assert!(has(&found, "G2-item"), "{found:?}");
    assert!(!has(&found, "G-single") && !has(&found, "G-nonadjacent"));
    assert_eq!(check(&h, Serializable).verdict, Verdict::Invalid);
    assert_eq!(check(&h, RepeatableRead).verdict, Verdict::Invalid);
    assert_eq!(check(&h, SnapshotIsolation).verdict, Verdict::Valid);
}

#[test]
fn a_long_fork_is_g_nonadjacent_and_not_snapshot_isolation() {
    // T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1
    let mut b = Builder::default();
    b.invoke(0, json!([["r", "x", []], ["r", "w", [1]]]))
        .invoke(1, json!([["append", "x", 1], ["append", "y", 1]]))
        .invoke(2, json!([["r", "y", [1]], ["r", "z", []]]))
        .invoke(3, json!([["append", "z", 1], ["append", "w", 1]]))
        .ok(1, json!([["append", "x", 1], ["append", "y", 1]]))
        .ok(3, json!([["append", "z", 1], ["append", "w", 1]]))
        .ok(0, json!([["r", "x", []], ["r", "w", [1]]]))
        .ok(2, json!([["r", "y", [1]], ["r", "z", []]]))
        .txn(4, json!([["r", "x", [1]], ["r", "z", [1]]]));
    let h = b.history();
    let found = anomalies(&h);
    assert!(has(&found, "G-nonadjacent"), "{found:?}");
    assert!(!has(&found, "G-single"), "{found:?}");
    assert_eq!(check(&h, SnapshotIsolation).verdict, Verdict::Invalid);
    assert_eq!(check(&h, ReadAtomic).verdict, Verdict::Valid);
}

#[test]
fn a_stale_read_after_a_completed_append_is_g_single_realtime() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1]]))
        .txn(1, json!([["r", "x", []]]))
        .txn(2, json!([["r", "x", [1]]]));
    let h = b.history();
    let found = anomalies(&h);
    assert!(has(&found, "G-single-realtime"), "{found:?}");
    assert_eq!(check(&h, Serializable).verdict, Verdict::Valid);
    assert_eq!(check(&h, StrongSessionSerializable).verdict, Verdict::Valid);
    let r = check(&h, StrictSerializable);
    assert_eq!(r.verdict, Verdict::Invalid);
    assert!(r.evidence.to_string().contains("realtime"));
}

#[test]
fn not_reading_your_own_earlier_append_is_g_single_process() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1]]))
        .txn(0, json!([["r", "x", []]]))
        .txn(1, json!([["r", "x", [1]]]));
    let h = b.history();
    let found = anomalies(&h);
    assert!(has(&found, "G-single-process"), "{found:?}");
    assert_eq!(check(&h, Serializable).verdict, Verdict::Valid);
    assert_eq!(
        check(&h, StrongSessionSnapshotIsolation).verdict,
        Verdict::Invalid
    );
}

#[test]
fn a_txn_that_misses_its_own_append_is_internally_inconsistent() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1], ["r", "x", []]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "internal"));
    assert_eq!(check(&h, ReadAtomic).verdict, Verdict::Invalid);
    assert_eq!(check(&h, ReadCommitted).verdict, Verdict::Valid);
}

#[test]
fn reading_an_element_twice_is_duplicate_elements() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1]]))
        .txn(1, json!([["r", "x", [1, 1]]]));
    assert!(has(&anomalies(&b.history()), "duplicate-elements"));
}

#[test]
fn reads_that_disagree_on_order_are_an_incompatible_order() {
    let mut b = Builder::default();
    b.txn(0, json!([["append", "x", 1]]))
        .txn(1, json!([["append", "x", 2]]))
        .txn(2, json!([["r", "x", [1, 2]]]))
        .txn(3, json!([["r", "x", [2, 1]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "incompatible-order"));
    assert_eq!(check(&h, ReadCommitted).verdict, Verdict::Invalid);
}

#[test]
fn reading_an_append_made_later_in_the_same_txn_is_a_future_read() {
    let mut b = Builder::default();
    b.txn(0, json!([["r", "x", [1]], ["append", "x", 1]]));
    assert!(has(&anomalies(&b.history()), "future-read"));
}

#[test]
fn reading_an_element_nobody_appended_is_an_unwritten_read() {
    let mut b = Builder::default();
    b.txn(0, json!([["r", "x", [7]]]));
    let h = b.history();
    assert!(has(&anomalies(&h), "unwritten-read"));
    assert_eq!(check(&h, ReadUncommitted).verdict, Verdict::Invalid);
}

#[test]
fn two_txns_appending_on_one_unseen_version_are_a_lost_update() {
    let mut b = Builder::default();
    b.invoke(0, json!([["r", "x", []], ["append", "x", 1]]))
        .invoke(1, json!([["r", "x", []], ["append", "x", 2]]))
        .ok(0, json!([["r", "x", []], ["append", "x", 1]]))
        .ok(1, json!([["r", "x", []], ["append", "x", 2]]));
    let h = b.history();
    let found = anomalies(&h);
    assert!(has(&found, "lost-update"), "{found:?}");
    assert_eq!(check(&h, CursorStability).verdict, Verdict::Invalid);
    assert_eq!(check(&h, ReadCommitted).verdict, Verdict::Valid);
}

#[test]
fn an_info_txn_whose_append_was_read_joins_the_graph() {
    // T0 (info) appended x 1 and y 1; T1 saw x 1 but not y 1: read skew.
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1], ["append", "y", 1]]))
        .info(0, json!([["append", "x", 1], ["append", "y", 1]]))
        .txn(1, json!([["r", "x", [1]], ["r", "y", []]]))
        .txn(2, json!([["r", "y", [1]]]));
    let found = anomalies(&b.history());
    assert!(has(&found, "G-single"), "{found:?}");
}

#[test]
fn an_info_txn_nobody_observed_may_not_have_happened() {
    let mut b = Builder::default();
    b.invoke(0, json!([["append", "x", 1]]))
        .info(0, json!([["append", "x", 1]]))
        .txn(1, json!([["r", "x", []]]));
    assert!(anomalies(&b.history()).is_empty());
}

#[test]
fn an_unknown_micro_op_is_unknown_and_names_the_op() {
    let mut b = Builder::default();
    b.txn(0, json!([["cas", "x", 1]]));
    let r = checkers::factory::check(
        Serializable,
        &checkers::model::ModelSpec::new(checkers::model::ModelKind::ListAppend),
        &b.history(),
        &checkers::Budget::unlimited(),
    );
    assert_eq!(r.verdict, Verdict::Unknown);
    assert!(
        r.summary.contains("op 0") && r.summary.contains("cas"),
        "{}",
        r.summary
    );
}

#[test]
fn the_factory_decides_every_transactional_model_for_list_append() {
    let spec = checkers::model::ModelSpec::new(checkers::model::ModelKind::ListAppend);
    let all = checkers::factory::applicable(&spec);
    assert_eq!(all.len(), 12, "{all:?}");
    assert!(all.iter().all(|c| c.is_transactional()));
    assert!(checkers::factory::checker_for(Linearizable, &spec).is_none());
}

#[test]
fn elle_edn_txns_with_integer_keys_and_nil_reads_are_checked() {
    let edn = r#"{:type :invoke, :f :txn, :value [[:r 1 nil] [:r 2 nil]], :process 1, :time 0, :index 0}
{:type :invoke, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 0, :time 1, :index 1}
{:type :ok, :f :txn, :value [[:append 1 1] [:append 2 1]], :process 0, :time 2, :index 2}
{:type :ok, :f :txn, :value [[:r 1 []] [:r 2 [1]]], :process 1, :time 3, :index 3}
{:type :invoke, :f :txn, :value [[:r 1 nil]], :process 2, :time 4, :index 4}
{:type :ok, :f :txn, :value [[:r 1 [1]]], :process 2, :time 5, :index 5}
"#;
    let h = checkers::read::edn::read(edn, "t.edn").expect("Elle's shape reads");
    assert!(has(&anomalies(&h), "G-single"), "{:?}", anomalies(&h));
}

#[test]
fn design_md_jsonl_txns_are_read_and_checked() {
    let jsonl = r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"txn","value":[["append","x",1],["r","y",null]]}
{"index":1,"time":5,"process":0,"type":"ok","f":"txn","value":[["append","x",1],["r","y",[1,2]]]}
{"index":2,"time":6,"process":1,"type":"invoke","f":"txn","value":[["append","y",1],["append","y",2]]}
{"index":3,"time":7,"process":1,"type":"ok","f":"txn","value":[["append","y",1],["append","y",2]]}
"#;
    let h =
        checkers::read::jsonl::read(jsonl.as_bytes(), "t.jsonl").expect("DESIGN.md's shape reads");
    // T0 read y's appends before T2 made them: G1c-realtime? No — a future read
    // across txns: T2 -wr-> T0 and T0 completed before T2 began.
    let found = anomalies(&h);
    assert!(has(&found, "G1c-realtime"), "{found:?}");
}

// rw-register

fn register(h: &checkers::History) -> Vec<String> {
    anomalies_of(h, DataModel::RwRegister, RegisterOrders::default())
}

#[test]
fn register_read_skew_against_the_initial_state_is_g_single() {
    let mut b = Builder::default();
    b.invoke(1, json!([["r", "x", null], ["r", "y", 1]]))
        .txn(0, json!([["w", "x", 1], ["w", "y", 1]]))
        .ok(1, json!([["r", "x", null], ["r", "y", 1]]));
    let found = register(&b.history());
    assert!(has(&found, "G-single"), "{found:?}");
}

#[test]
fn register_write_skew_is_g2_item() {
    let mut b = Builder::default();
    b.invoke(0, json!([["r", "x", null], ["w", "y", 1]]))
        .invoke(1, json!([["r", "y", null], ["w", "x", 1]]))
        .ok(0, json!([["r", "x", null], ["w", "y", 1]]))
        .ok(1, json!([["r", "y", null], ["w", "x", 1]]));
    let found = register(&b.history());
    assert!(has(&found, "G2-item"), "{found:?}");
}

#[test]
fn register_aborted_and_intermediate_reads_are_found() {
    let mut b = Builder::default();
    b.invoke(0, json!([["w", "x", 1]]))
        .fail(0, json!([["w", "x", 1]]))
        .txn(1, json!([["w", "y", 1], ["w", "y", 2]]))
        .txn(2, json!([["r", "x", 1], ["r", "y", 1]]));
    let found = register(&b.history());
    assert!(has(&found, "G1a") && has(&found, "G1b"), "{found:?}");
}

#[test]
fn register_lost_update_is_found_without_a_cycle() {
    // Both read x = 5 and wrote x; with no version order between 5, 6 and 7 there
    // is no cycle, only the lost update.
    let mut b = Builder::default();
    b.txn(0, json!([["w", "x", 5]]))
        .invoke(1, json!([["r", "x", 5], ["w", "x", 6]]))
        .invoke(2, json!([["r", "x", 5], ["w", "x", 7]]))
        .ok(1, json!([["r", "x", 5], ["w", "x", 6]]))
        .ok(2, json!([["r", "x", 5], ["w", "x", 7]]));
    let found = register(&b.history());
    assert_eq!(found, vec!["lost-update".to_string()]);
}

#[test]
fn register_writes_follow_reads_orders_versions_when_switched_on() {
    // T1 read x = 1 and wrote 2; T2 read x = 1 after T1 finished and wrote 3... with
    // writes-follow-reads, T3 reading 1 then 2 ordered would show an rw edge.
    let mut b = Builder::default();
    b.txn(0, json!([["w", "x", 1]]))
        .invoke(1, json!([["r", "x", 1], ["w", "x", 2], ["r", "y", null]]))
        .txn(2, json!([["w", "y", 1], ["r", "x", 1]]))
        .ok(1, json!([["r", "x", 1], ["w", "x", 2], ["r", "y", null]]));
    let h = b.history();
    let off = register(&h);
    let on = anomalies_of(
        &h,
        DataModel::RwRegister,
        RegisterOrders {
            writes_follow_reads: true,
            process: false,
        },
    );
    // T2 -rw-> T1 (read x = 1, T1 wrote the next version 2) and T1 -rw-> T2 (read
    // y initial, T2 wrote y): a cycle only with the wfr order.
    assert!(!has(&off, "G2-item"), "{off:?}");
    assert!(has(&on, "G2-item"), "{on:?}");
}

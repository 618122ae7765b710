//! Shared by the txn tests: a small history builder for txn ops, and running the
//! transactional checker on a history.

#![allow(dead_code)]

use checkers::history::{Event, EventKind, Process, F};
use checkers::txn::{Analysis, DataModel, RegisterOrders};
use checkers::{CheckResult, Consistency, History, Value};
use serde_json::json;

/// Builds a history event by event: `invoke` then `ok` / `fail` / `info`.
#[derive(Default)]
pub struct Builder {
    events: Vec<Event>,
}

impl Builder {
    fn push(&mut self, p: u64, kind: EventKind, value: serde_json::Value) {
        let index = self.events.len() as u64;
        self.events.push(Event {
            index,
            time: index * 1_000_000,
            process: Process::Client(p),
            kind,
            f: F::Txn,
            key: None,
            value: Value::from_json(&value),
            node: None,
            error: None,
            latency: None,
        });
    }

    /// Process `p` invokes a txn (reads carry null).
    pub fn invoke(&mut self, p: u64, value: serde_json::Value) -> &mut Self {
        let v = nil_reads(&value);
        self.push(p, EventKind::Invoke, v);
        self
    }

    /// Process `p`'s txn completes ok with `value`.
    pub fn ok(&mut self, p: u64, value: serde_json::Value) -> &mut Self {
        self.push(p, EventKind::Ok, value);
        self
    }

    /// Process `p`'s txn fails.
    pub fn fail(&mut self, p: u64, value: serde_json::Value) -> &mut Self {
        let v = nil_reads(&value);
        self.push(p, EventKind::Fail, v);
        self
    }

    /// Process `p`'s txn is indeterminate.
    pub fn info(&mut self, p: u64, value: serde_json::Value) -> &mut Self {
        let v = nil_reads(&value);
        self.push(p, EventKind::Info, v);
        self
    }

    /// A whole txn: invoke then ok, nothing in between.
    pub fn txn(&mut self, p: u64, value: serde_json::Value) -> &mut Self {
        self.invoke(p, value.clone()).ok(p, value)
    }

    /// The history.
    pub fn history(&self) -> History {
        History::from_events(self.events.clone()).expect("a well-formed test history")
    }
}

/// The txn with every read's value replaced by null (what an invoke carries).
pub fn nil_reads(v: &serde_json::Value) -> serde_json::Value {
    match v.as_array() {
        Some(mops) => serde_json::Value::Array(
            mops.iter()
                .map(|m| {
                    let f = m[0].as_str().unwrap_or("");
                    if f == "r" {
                        json!([m[0], m[1], null])
                    } else {
                        m.clone()
                    }
                })
                .collect(),
        ),
        None => v.clone(),
    }
}

/// The anomalies the checker found in a list-append history.
pub fn anomalies(h: &History) -> Vec<String> {
    anomalies_of(h, DataModel::ListAppend, RegisterOrders::default())
}

/// The anomalies the checker found.
pub fn anomalies_of(h: &History, model: DataModel, orders: RegisterOrders) -> Vec<String> {
    let a = Analysis::new(h, model, orders).expect("analysable");
    a.found().iter().map(|a| a.as_str().to_string()).collect()
}

/// The check result for `c` on a list-append history.
pub fn check(h: &History, c: Consistency) -> CheckResult {
    let a = Analysis::new(h, DataModel::ListAppend, RegisterOrders::default()).expect("analysable");
    a.result(h, c, DataModel::ListAppend)
}

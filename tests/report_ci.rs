//! Reports for machines and for the record: a real run writes report.html, the
//! JUnit file (one test case per checker, the verdict in words as the failure
//! message), the JSON summary and the results index; `faultline check` writes a
//! report and JUnit for a history alone; the index lists every run newest first;
//! a report is drawn from whatever a run left, however incomplete.

mod report_fixture;

use std::path::Path;

use quick_xml::events::Event;
use report_fixture::{faultline, scratch, text, write_run};

/// (test cases, failures, errors, failure messages) of a JUnit file.
fn junit(path: &Path) -> (usize, usize, usize, Vec<String>) {
    let xml = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors, mut messages) = (0, 0, 0, Vec::new());
    loop {
        match reader.read_event().expect("JUnit XML parses") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_vec();
                match name.as_slice() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"error" => errors += 1,
                    _ => {}
                }
                if name == b"failure" {
                    let m = e.try_get_attribute("message").unwrap().expect("a message");
                    messages.push(m.unescape_value().unwrap().into_owned());
                }
            }
            _ => {}
        }
    }
    (cases, failures, errors, messages)
}

#[test]
fn a_real_invalid_run_writes_its_report_junit_json_summary_and_index() {
    let dir = scratch("run");
    let results = dir.join("results");
    let (junit_file, json_file) = (dir.join("junit.xml"), dir.join("summary.json"));
    // Weak quorums and slow replication: certainly not linearizable.
    let o = faultline(&[
        "run",
        "--quiet",
        "--nemesis",
        "none",
        "--workload",
        "register",
        "--w",
        "1",
        "--r",
        "1",
        "--replication-delay-ms",
        "200",
        "--conflict",
        "lww",
        "--time-limit",
        "2s",
        "--quiesce",
        "1s",
        "--seed",
        "11",
        "--check-timeout",
        "5s",
        "--results",
        results.to_str().unwrap(),
        "--junit",
        junit_file.to_str().unwrap(),
        "--json",
        json_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    assert_eq!(summary["verdict"], "invalid");
    assert_eq!(summary["exit_code"], 1);
    assert_eq!(summary["schema"], 1);
    // Availability: the ok fraction overall, and per fault window.
    let a = &summary["availability"];
    let (ops, ok) = (a["ops"].as_u64().unwrap(), a["ok"].as_u64().unwrap());
    assert!(ops > 0 && ok <= ops, "{a}");
    let f = a["ok_fraction"].as_f64().unwrap();
    assert!((f - ok as f64 / ops as f64).abs() < 1e-9, "{a}");
    assert!(a["per_fault"].is_array(), "{a}");
    let run = Path::new(summary["files"]["run_dir"].as_str().unwrap()).to_path_buf();
    let lin = summary["checkers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["checker"] == "linearizable")
        .expect("the linearizability checker ran");
    assert_eq!(lin["verdict"], "invalid");
    let headline = lin["headline"].as_str().unwrap();
    assert!(headline.starts_with("not linearizable"), "{headline}");
    assert!(lin["first_anomaly_s"].as_f64().is_some());

    let (cases, failures, errors, messages) = junit(&junit_file);
    assert_eq!(cases, summary["checkers"].as_array().unwrap().len());
    assert!(failures >= 1 && failures + errors >= 1);
    assert!(
        messages.iter().any(|m| m == headline),
        "{messages:?} vs {headline}"
    );
    assert!(
        run.join("junit.xml").is_file(),
        "the run keeps its junit.xml"
    );

    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("Invalid: a consistency violation was found"));
    assert!(
        report.contains("class=\"window\""),
        "the failing window is drawn"
    );
    let index = std::fs::read_to_string(results.join("index.html")).unwrap();
    assert!(index.contains("leaderless-register") && index.contains("report.html"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_writes_a_report_and_junit_for_a_history_alone() {
    let dir = scratch("check");
    let run = write_run(
        &dir,
        "register",
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        80,
    );
    let (report, junit_file) = (dir.join("check.html"), dir.join("check.xml"));
    let o = faultline(&[
        "check",
        run.join("history.jsonl").to_str().unwrap(),
        "--model",
        "register",
        "--consistency",
        "linearizable",
        "--consistency",
        "sequential",
        "--report",
        report.to_str().unwrap(),
        "--junit",
        junit_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(
        "not linearizable: 1 of 3 keys; first anomaly at 1.0 s, during a partition (n1 n2 | n3)"
    ));
    assert!(html.contains("faultline check"));
    let (cases, failures, errors, messages) = junit(&junit_file);
    assert_eq!((cases, failures, errors), (2, 1, 0));
    assert!(messages[0].starts_with("not linearizable"), "{messages:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_index_lists_every_run_newest_first_with_its_verdict() {
    let dir = scratch("index");
    let results = dir.join("results");
    // 30 rounds stop before the stale read: a valid run.
    write_run(&results, "a", "20260101T000000", "2026-01-01T00:00:00Z", 30);
    let newest = write_run(&results, "b", "20260103T000000", "2026-01-03T00:00:00Z", 80);
    write_run(&results, "a", "20260102T000000", "2026-01-02T00:00:00Z", 80);
    let o = faultline(&["report", newest.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let index = std::fs::read_to_string(results.join("index.html")).unwrap();
    let at = |s: &str| index.find(s).unwrap_or_else(|| panic!("{s} is listed"));
    assert!(at("b/20260103T000000") < at("a/20260102T000000"));
    assert!(at("a/20260102T000000") < at("a/20260101T000000"));
    assert_eq!(index.matches("<tr class=\"invalid\"").count(), 2);
    assert_eq!(index.matches("<tr class=\"valid\"").count(), 1);
    assert!(!index.contains("<img"), "the run names are escaped");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_report_is_drawn_from_whatever_a_run_left() {
    let dir = scratch("lenient");
    let run = write_run(
        &dir,
        "register",
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        20,
    );
    // An evidence without most of its fields, naming ops that do not exist.
    std::fs::write(
        run.join("results.json"),
        r#"{"checkers": [{"checker": "linearizable", "verdict": "invalid", "evidence": {"kind": "linearizable", "keys": [{"window": {"ops": [999999], "culprit": 999999}}]}}, {"checker": "odd"}]}"#,
    )
    .unwrap();
    std::fs::remove_file(run.join("test.json")).unwrap();
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("Invalid: a consistency violation was found"));
    assert!(html.contains("not in the history"));
    // No run there at all: a clear error, exit 3.
    let o = faultline(&["report", dir.join("nothing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing"));
    let _ = std::fs::remove_dir_all(&dir);
}

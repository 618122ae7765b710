//! A run whose nodes all died is not a pass: a real run on a cluster whose nodes exit
//! on their own is `unknown`, exit 2, with the reason ("all 3 nodes had exited … —
//! see nodes/*/") on the CLI verdict line, in `results.json`, in the `--json`
//! summary, in the report's headline, and again when `faultline check` reads the
//! run's history or `faultline report` checks the run again; a history with no `ok` operation and every node dead says both in
//! one reason.

mod run_common;

use run_common::{faultline, run_dir, scratch, text};

/// A cluster file of three reference-store nodes that each die (SIGKILL) `secs`
/// seconds after they start.
fn dying_cluster(dir: &std::path::Path, secs: u32) -> std::path::PathBuf {
    let file = dir.join("dying.toml");
    std::fs::write(
        &file,
        format!(
            r#"[cluster]
nodes = ["n1", "n2", "n3"]
command = "timeout -s KILL {secs} {{exe_dir}}/faultline-store --node {{node}} --listen 127.0.0.1:{{port}} --data-dir {{data_dir}} {{peer_flags}} --n 3 --w 2 --r 2 --conflict lww"
ready = "http://127.0.0.1:{{port}}/health"
client = "http://127.0.0.1:{{port}}"
stop_signal = "SIGTERM"
ready_timeout = "30s"
"#
        ),
    )
    .unwrap();
    file
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const REASON: &str = "all 3 nodes had exited by the end of the run — see nodes/*/";

#[test]
fn a_run_whose_nodes_all_exited_is_unknown_with_the_reason_everywhere() {
    let dir = scratch("nodes-exited");
    let results = dir.join("results");
    let summary = dir.join("summary.json");
    let o = faultline(&[
        "run",
        "--cluster",
        dying_cluster(&dir, 3).to_str().unwrap(),
        "--workload",
        "register",
        "--nemesis",
        "none",
        "--time-limit",
        "6s",
        "--quiesce",
        "300ms",
        "--results",
        results.to_str().unwrap(),
        "--json",
        summary.to_str().unwrap(),
        "--junit",
        dir.join("junit.xml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let verdict_line = stdout
        .lines()
        .find(|l| l.starts_with("verdict: "))
        .unwrap_or_else(|| panic!("no verdict line\n{}", text(&o)));
    assert!(
        verdict_line.starts_with(&format!("verdict: unknown — {REASON}")),
        "{verdict_line}"
    );
    let run = run_dir(&o);

    // The history says how each node ended; every node left its exit status.
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let note: serde_json::Value = history
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["f"] == "nodes-exited")
        .unwrap_or_else(|| panic!("no nodes-exited note in the history"));
    assert_eq!(note["process"], "nemesis");
    for n in ["n1", "n2", "n3"] {
        assert!(note["value"]["nodes"][n].is_string(), "{note}");
        assert!(run.join("nodes").join(n).join("exit-status").exists());
    }

    // results.json: the verdict, its reason, and each checker's summary.
    let r = json(&run.join("results.json"));
    assert_eq!(r["verdict"], "unknown");
    assert_eq!(r["verdict_reason"], REASON);
    let checkers = r["checkers"].as_array().unwrap();
    assert!(!checkers.is_empty());
    for c in checkers {
        assert_eq!(c["verdict"], "unknown", "{c}");
        let s = c["summary"].as_str().unwrap();
        assert!(
            s.starts_with(&format!("unknown: {REASON}; of the ops recorded: ")),
            "{s}"
        );
    }

    // The --json summary and the report's headline.
    let s = json(&summary);
    assert_eq!(s["verdict"], "unknown");
    assert_eq!(s["headline"], format!("Unknown: {REASON}"));
    assert!(
        s["availability"]["ok_fraction"].as_f64().unwrap() < 1.0,
        "{s}"
    );
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains(&format!(r#"<div class="big">Unknown: {REASON}</div>"#)),
        "the report's headline does not give the reason"
    );

    // JUnit: each checker an <error> (undecided) whose message gives the reason.
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains(r#"errors="2""#) || junit.contains("<error"),
        "{junit}"
    );
    assert!(
        junit.contains(REASON),
        "the JUnit message gives the reason: {junit}"
    );

    // `faultline check` of the run's history reads the same note.
    let c = faultline(&[
        "check",
        run.join("history.jsonl").to_str().unwrap(),
        "--model",
        "register",
        "--json",
    ]);
    assert_eq!(c.status.code(), Some(2), "{}", text(&c));
    let out: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(out["verdict"], "unknown");
    assert_eq!(out["verdict_reason"], REASON);

    // `faultline report DIR` on the run without its results checks it again: the
    // same verdict and reason.
    std::fs::remove_file(run.join("results.json")).unwrap();
    let again = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!("verdict: unknown — {REASON}")),
        "{}",
        text(&again)
    );
    let r = json(&run.join("results.json"));
    assert_eq!(
        (&r["verdict"], &r["verdict_reason"]),
        (&"unknown".into(), &REASON.into())
    );
    run_common::assert_no_node_left(&run);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_ok_operation_with_every_node_exited_is_one_reason_in_check_and_its_report() {
    let dir = scratch("nodes-exited-none-ok");
    let path = dir.join("history.jsonl");
    std::fs::write(
        &path,
        r#"{"index":0,"time":1000,"process":0,"type":"invoke","f":"write","value":1}
{"index":1,"time":2000,"process":0,"type":"fail","f":"write","value":1}
{"index":2,"time":3000,"process":1,"type":"invoke","f":"read","value":null}
{"index":3,"time":4000,"process":1,"type":"info","f":"read","value":null}
{"index":4,"time":5000,"process":"nemesis","type":"info","f":"nodes-exited","value":{"nodes":{"n1":"exited 1","n2":"exited 1","n3":"killed by SIGKILL"}}}
"#,
    )
    .unwrap();
    let why = "no operation succeeded: all 3 nodes had exited — see nodes/*/ (0 ok of 2 ops: 1 failed, 1 indeterminate)";
    let report = dir.join("report.html");
    let o = faultline(&[
        "check",
        path.to_str().unwrap(),
        "--model",
        "register",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains(&format!("linearizable UNKNOWN  unknown: {why}")),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains(&format!(r#"<div class="big">Unknown: {why}</div>"#)));
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The transactional checker's anomalies in the report: `faultline check --report` on
//! a txn history draws a table of the anomalies found (those the model forbids marked)
//! and, for each cycle, every edge in order with its dependency (wr, ww, rw), its key
//! and value, and the txns with their micro-ops; a key that is markup is escaped, and
//! the page stays self-contained (its CSP, no script, no fetch).

use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("faultline-anomalies-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Checks `lines` (a list-append history) for `consistency` with a report; the page.
fn report(dir: &Path, lines: &[&str], consistency: &str) -> String {
    let history = dir.join("history.jsonl");
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();
    let page = dir.join("report.html");
    let o = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args([
            "check",
            "--model",
            "list-append",
            "--consistency",
            consistency,
            "--report",
        ])
        .arg(&page)
        .arg(&history)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(&page).unwrap()
}

/// The rows of the table whose opening tag has `class` (after the anomaly section
/// begins), each as its cells' text with tags removed.
fn rows(html: &str, class: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!(r#"<table class="{class}">"#))
        .unwrap_or_else(|| panic!("no {class} table"));
    let end = start + html[start..].find("</table>").unwrap();
    html[start..end]
        .split("<tr")
        .skip(2) // before the first row, and the header row
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    let cell = &cell[..cell.find("</td>").unwrap()];
                    unescape(&strip_tags(cell))
                })
                .collect()
        })
        .collect()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// The text an escaped cell shows.
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn assert_self_contained(html: &str) {
    assert!(
        html.contains("Content-Security-Policy"),
        "the page keeps its CSP"
    );
    assert!(!html.contains("<script"), "the page runs no script");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

#[test]
fn a_g1c_cycle_is_a_table_of_wr_edges_with_their_keys_and_a_markup_key_is_escaped() {
    let dir = scratch("g1c");
    let key = "<script>x</script>";
    let k = serde_json::to_string(key).unwrap();
    let html = report(
        &dir,
        &[
            &format!(
                r#"{{"index":0,"time":1000000,"process":0,"type":"invoke","f":"txn","value":[["append",{k},1],["r","y",null]]}}"#
            ),
            &format!(
                r#"{{"index":1,"time":2000000,"process":1,"type":"invoke","f":"txn","value":[["append","y",1],["r",{k},null]]}}"#
            ),
            &format!(
                r#"{{"index":2,"time":3000000,"process":0,"type":"ok","f":"txn","value":[["append",{k},1],["r","y",[1]]]}}"#
            ),
            &format!(
                r#"{{"index":3,"time":4000000,"process":1,"type":"ok","f":"txn","value":[["append","y",1],["r",{k},[1]]]}}"#
            ),
        ],
        "serializable",
    );
    assert_self_contained(&html);
    assert!(!html.contains(key), "the key is escaped, never markup");
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));

    let counts = rows(&html, "anomaly-counts");
    assert_eq!(
        counts,
        vec![vec!["G1c".to_string(), "1".into(), "forbidden".into()]]
    );
    assert!(html.contains("Anomaly 1: <code>G1c</code>"));

    // Every edge: # from edge to key value why; the last leads back to the first txn.
    let cycle = rows(&html, "cycle");
    assert_eq!(cycle.len(), 2, "{cycle:?}");
    assert_eq!(cycle[0][..6], ["1", "T0", "wr", "T1", key, "1"]);
    assert_eq!(
        cycle[1][..6],
        ["2", "T1", "wr", "T0 (back to the first)", "y", "1"]
    );
    assert!(
        cycle[0][6].starts_with("T1 saw T0's append of 1 to <script>"),
        "{cycle:?}"
    );

    // The txns, with their micro-ops as the history has them.
    let txns = rows(&html, "txns");
    assert_eq!(txns.len(), 2);
    assert_eq!(txns[0][..5], ["T0", "0", "ok", "0.001 s", "0.003 s"]);
    assert_eq!(txns[0][5], format!("append {key} 1, r y [1]"));
    assert_eq!(txns[1][5], format!("append y 1, r {key} [1]"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_skew_is_a_cycle_of_rw_edges_forbidden_by_serializable() {
    let dir = scratch("skew");
    let html = report(
        &dir,
        &[
            r#"{"index":0,"time":1000,"process":0,"type":"invoke","f":"txn","value":[["r","x",null],["append","y",1]]}"#,
            r#"{"index":1,"time":2000,"process":1,"type":"invoke","f":"txn","value":[["r","y",null],["append","x",1]]}"#,
            r#"{"index":2,"time":3000,"process":0,"type":"ok","f":"txn","value":[["r","x",[]],["append","y",1]]}"#,
            r#"{"index":3,"time":4000,"process":1,"type":"ok","f":"txn","value":[["r","y",[]],["append","x",1]]}"#,
            r#"{"index":4,"time":5000,"process":2,"type":"invoke","f":"txn","value":[["r","x",null],["r","y",null]]}"#,
            r#"{"index":5,"time":6000,"process":2,"type":"ok","f":"txn","value":[["r","x",[1]],["r","y",[1]]]}"#,
        ],
        "serializable",
    );
    assert_self_contained(&html);
    let counts = rows(&html, "anomaly-counts");
    assert_eq!(
        counts,
        vec![vec!["G2-item".to_string(), "1".into(), "forbidden".into()]]
    );
    let cycle = rows(&html, "cycle");
    let edges: Vec<(&str, &str, &str, &str)> = cycle
        .iter()
        .map(|r| (r[1].as_str(), r[2].as_str(), r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("T0", "rw", "T1", "x"),
            ("T1", "rw", "T0 (back to the first)", "y")
        ]
    );
    assert!(
        cycle[0][6].contains("T0 did not see T1's append of 1 to x"),
        "{cycle:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

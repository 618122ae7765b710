//! Reports end to end: a real run with an invalid verdict rendered and opened in a
//! real headless Chromium (Debian's `chromium`), escaping of values from the store,
//! no network fetches, JUnit XML that parses, and the results index.

mod run_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use run_common::{faultline, run_dir, scratch, text};

/// Chromium, if installed (scripts/setup.sh installs it; CI has it).
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// Runs headless Chromium on `page` with `extra` args; returns (stdout, stderr).
fn browse(page: &Path, extra: &[&str]) -> (String, String) {
    // A fresh profile per launch: two Chromiums on one profile refuse each other.
    static LAUNCH: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = LAUNCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = scratch(&format!("chromium-profile-{n}"));
    let out = Command::new(chromium().expect("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A weak-quorum run: certainly not linearizable (see tests/run_reference_store.rs).
fn invalid_run(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(name);
    let results = dir.join("results");
    let junit = dir.join("junit.xml");
    let o = faultline(&[
        "run",
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
        junit.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    (run_dir(&o), junit)
}

#[test]
fn the_report_of_an_invalid_run_renders_in_a_browser_with_verdict_and_window_and_no_fetch() {
    let (run, junit) = invalid_run("report-browser");
    let report = run.join("report.html");
    let html = std::fs::read_to_string(&report).expect("report.html is written by run");
    // Self-contained: no scripts, stylesheets, images or fonts from anywhere.
    for needle in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(needle), "report.html contains {needle}");
    }
    assert!(!html.contains("href=\"http"), "report.html links out");
    let Some(_) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium (scripts/setup.sh installs it)");
        return;
    };
    let (dom, log) = browse(&report, &["--dump-dom"]);
    assert!(dom.contains("</html>"), "chromium printed the page: {log}");
    assert!(
        dom.contains("Invalid: a consistency violation was found"),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    assert!(
        dom.contains("class=\"window\""),
        "the failing-window drawing is in the page"
    );
    assert!(!log.contains("CONSOLE"), "console messages: {log}");
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-invalid.png");
    browse(
        &report,
        &[
            "--window-size=1200,2400",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    assert!(
        std::fs::metadata(&shot)
            .map(|m| m.len() > 10_000)
            .unwrap_or(false),
        "a screenshot at {}",
        shot.display()
    );
    println!("screenshot: {}", shot.display());
    // JUnit carries the verdicts.
    let xml = std::fs::read_to_string(junit).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors) = (0, 0, 0);
    loop {
        match reader.read_event().expect("JUnit XML parses") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    b"error" => errors += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    // Linearizability fails; sequential consistency fails or runs out of budget.
    assert_eq!((cases, failures + errors), (2, 2), "{xml}");
    assert!(failures >= 1, "{xml}");
    // The index lists the run.
    let index = std::fs::read_to_string(run.parent().unwrap().parent().unwrap().join("index.html"))
        .unwrap();
    assert!(index.contains("leaderless-register") && index.contains("report.html"));
}

#[test]
fn values_from_the_store_are_escaped_and_never_execute() {
    let (run, _) = invalid_run("report-escape");
    // Plant hostile values where a store's answers land: the history and the summary.
    let payload =
        "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let history = run.join("history.jsonl");
    let recorded = std::fs::read_to_string(&history).unwrap();
    let planted = recorded.replacen(
        "\"value\":null}",
        &format!("\"value\":{}}}", serde_json::to_string(payload).unwrap()),
        1,
    );
    std::fs::write(&history, planted).unwrap();
    let results = run.join("results.json");
    let mut r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    r["checkers"][0]["summary"] = payload.into();
    r["name"] = format!("\"><b>bold</b>{payload}").into();
    std::fs::write(&results, serde_json::to_string(&r).unwrap()).unwrap();
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"), "an img tag got through");
    assert!(html.contains("&lt;script&gt;"), "the payload shows as text");
    if chromium().is_none() {
        eprintln!("SKIPPED the browser part: no chromium");
        return;
    }
    let (dom, log) = browse(&run.join("report.html"), &["--dump-dom"]);
    assert!(dom.contains("</html>"), "chromium printed the page: {log}");
    assert!(!dom.contains("<title>pwned"), "the payload ran");
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the payload is text in the page"
    );
}

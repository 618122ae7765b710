//! The report in a real browser: Debian's headless Chromium, driven over the
//! DevTools protocol. The report of an invalid run renders, shows the verdict in
//! words and the failing-window drawing, makes no network request, logs nothing to
//! the console, and the hostile values planted in the history stay text.

mod report_fixture;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Network, Page};
use headless_chrome::{Browser, LaunchOptions};
use report_fixture::{faultline, scratch, text, write_run, SCRIPT};

/// Chromium, if installed (scripts/setup.sh installs it; CI has it).
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// What the page did while it loaded.
#[derive(Default, Debug)]
struct Seen {
    requests: Vec<String>,
    console: Vec<String>,
}

/// Opens `page` in a fresh headless Chromium; returns the browser (keep it alive),
/// the tab, and what the page requested and logged.
fn open(page: &Path, profile: &Path) -> (Browser, Arc<headless_chrome::Tab>, Arc<Mutex<Seen>>) {
    let args: Vec<&std::ffi::OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(chromium())
        .headless(true)
        .sandbox(false)
        .window_size(Some((1200, 1500)))
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(Duration::from_secs(60))
        .args(args)
        .build()
        .expect("launch options");
    let browser = Browser::new(options).expect("chromium starts");
    let tab = browser.new_tab().expect("a tab");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let sink = seen.clone();
    tab.add_event_listener(Arc::new(move |e: &Event| {
        let mut s = sink.lock().unwrap();
        match e {
            Event::NetworkRequestWillBeSent(r) => s.requests.push(r.params.request.url.clone()),
            Event::RuntimeConsoleAPICalled(c) => s
                .console
                .push(format!("{:?}: {:?}", c.params.Type, c.params.args)),
            Event::RuntimeExceptionThrown(x) => s
                .console
                .push(format!("exception: {:?}", x.params.exception_details.text)),
            Event::LogEntryAdded(l) => s.console.push(format!(
                "{:?}: {}",
                l.params.entry.level, l.params.entry.text
            )),
            _ => {}
        }
    }))
    .unwrap();
    tab.call_method(Network::Enable {
        max_total_buffer_size: None,
        max_resource_buffer_size: None,
        max_post_data_size: None,
        report_direct_socket_traffic: None,
        enable_durable_messages: None,
    })
    .unwrap();
    tab.enable_runtime().unwrap();
    tab.enable_log().unwrap();
    let url = format!("file://{}", page.display());
    tab.navigate_to(&url)
        .unwrap()
        .wait_until_navigated()
        .unwrap();
    (browser, tab, seen)
}

/// After a moment for late events: the page requested nothing but itself, and logged
/// nothing to the console.
fn assert_fetched_only_itself(seen: &Mutex<Seen>, page: &Path) {
    std::thread::sleep(Duration::from_millis(300));
    let seen = seen.lock().unwrap();
    let url = format!("file://{}", page.display());
    assert!(
        seen.requests.iter().all(|r| *r == url),
        "requests beyond the page: {:?}",
        seen.requests
    );
    assert!(!seen.requests.is_empty(), "the listener saw the page load");
    assert!(seen.console.is_empty(), "console: {:?}", seen.console);
}

fn eval(tab: &headless_chrome::Tab, js: &str) -> serde_json::Value {
    tab.evaluate(js, false)
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .value
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn the_report_of_an_invalid_run_shows_its_verdict_and_window_fetches_nothing_and_runs_no_payload() {
    let dir = scratch("browser");
    let run = write_run(
        &dir.join("results"),
        "register",
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        80,
    );
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = run.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("<script"), "no script tag in report.html");
    assert!(!html.contains("<img"), "no img tag in report.html");
    let Some(_) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium (scripts/setup.sh installs it)");
        return;
    };
    let (_browser, tab, seen) = open(&report, &dir.join("profile"));

    // The verdict, in words, at the top.
    let verdict = eval(&tab, "document.getElementById('verdict').innerText");
    let verdict = verdict.as_str().unwrap_or_default();
    assert!(
        verdict.contains("Invalid: a consistency violation was found"),
        "{verdict}"
    );
    assert!(
        verdict.contains("not linearizable: 1 of 3 keys; first anomaly at 1.0 s, during a partition (n1 n2 | n3)"),
        "{verdict}"
    );
    // Availability, overall and during the partition.
    let body = eval(&tab, "document.querySelector('p.availability').innerText");
    let body = body.as_str().unwrap_or_default();
    assert!(
        body.starts_with("Availability: ") && body.contains("during a partition"),
        "{body}"
    );
    // The failing window: drawn, with the op that cannot be placed, the legal order
    // as numbered badges, and details on hover (an SVG title).
    assert!(eval(&tab, "document.querySelectorAll('svg.window').length").as_u64() >= Some(1));
    let culprit = eval(
        &tab,
        "document.querySelector('svg.window g.culprit title').textContent",
    );
    let culprit = culprit.as_str().unwrap_or_default();
    assert!(
        culprit.contains("read") && culprit.contains("49") && culprit.contains("cannot be placed"),
        "{culprit}"
    );
    assert!(
        eval(
            &tab,
            "document.querySelectorAll('svg.window circle').length"
        )
        .as_u64()
            >= Some(1)
    );
    assert!(eval(&tab, "document.querySelectorAll('svg.timeline, svg.latency, svg.quantiles, svg.throughput').length") == 4);
    // The payloads are text, and never ran.
    assert_eq!(eval(&tab, "typeof window.__pwned"), "undefined");
    assert_eq!(eval(&tab, "document.scripts.length"), 0);
    assert_eq!(eval(&tab, "document.images.length"), 0);
    let title = eval(&tab, "document.title");
    assert_ne!(title, "pwned", "the script payload set the title");
    let body = eval(&tab, "document.body.innerText");
    assert!(
        body.as_str().unwrap_or_default().contains(SCRIPT),
        "the script payload shows as text"
    );
    assert!(
        body.as_str().unwrap_or_default().contains("onerror="),
        "the image payload shows as text"
    );

    // A picture for people (and for the record).
    let png = tab
        .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
        .unwrap();
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-invalid.png");
    std::fs::write(&shot, &png).unwrap();
    println!("screenshot: {}", shot.display());
    assert!(
        png.len() > 20_000,
        "a screenshot with content at {}",
        shot.display()
    );

    // Nothing fetched but the page itself; nothing logged.
    assert_fetched_only_itself(&seen, &report);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The visible text of the stepper's frames (exactly one should be visible).
fn visible_frames(tab: &headless_chrome::Tab) -> Vec<String> {
    let v = eval(
        tab,
        "JSON.stringify([...document.querySelectorAll('.stepper .frames .frame')].filter(f => f.offsetParent !== null).map(f => f.innerText))",
    );
    serde_json::from_str(v.as_str().unwrap_or("[]")).unwrap()
}

#[test]
fn a_failing_keys_stepper_walks_the_legal_order_to_the_op_that_cannot_be_placed() {
    let dir = scratch("stepper");
    let run = write_run(
        &dir.join("results"),
        "stepper",
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        80,
    );
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = run.join("report.html");
    // The window's ops, from the evidence the run wrote.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    let lin = &results["checkers"][0];
    assert_eq!(lin["evidence"]["kind"], "linearizable");
    let window = lin["evidence"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|k| k.get("window"))
        .expect("a failing window")
        .clone();
    let history =
        checkers::read::read_path(&run.join("history.jsonl"), checkers::read::Format::Jsonl)
            .unwrap();
    let values: Vec<String> = window["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| {
            let i = i.as_u64()?;
            history.ops.iter().find(|o| o.invoke_index == i)
        })
        .map(|o| o.value.to_string())
        .collect();
    assert!(!values.is_empty());
    let Some(_) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium (scripts/setup.sh installs it)");
        return;
    };
    let (_browser, tab, seen) = open(&report, &dir.join("profile"));

    // Every op of the window carries its value in the drawing (on the bar, beside it,
    // or on hover).
    let drawn = eval(
        &tab,
        "document.querySelector('.stepper svg.window').textContent",
    );
    let drawn = drawn.as_str().unwrap_or_default();
    for v in &values {
        assert!(
            drawn.contains(v.as_str()),
            "value {v} is not in the drawing"
        );
    }
    // One frame at a time; next shows the first step and outlines its bar.
    let before = visible_frames(&tab);
    assert_eq!(before.len(), 1, "{before:?}");
    assert!(before[0].contains("step 0 of"), "{before:?}");
    tab.find_element(".stepper .frames .frame-0 label.next")
        .expect("a next button")
        .click()
        .expect("next clicks");
    let after = visible_frames(&tab);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(before, after, "next changed the frame shown");
    assert!(
        after[0].contains("step 1 of") && after[0].contains("the state after it is"),
        "{after:?}"
    );
    let outlined = eval(
        &tab,
        "getComputedStyle(document.querySelector('.stepper svg.window g.step-1 rect')).strokeWidth",
    );
    assert_eq!(outlined, "4px", "the step's bar is outlined");
    let row = eval(
        &tab,
        "getComputedStyle(document.querySelector('.stepper .order li.row-1')).backgroundColor",
    );
    assert_ne!(
        row, "rgba(0, 0, 0, 0)",
        "the step's row in the order is marked"
    );
    // The last frame is the op that cannot be placed, and the state it could not follow.
    let last = ".stepper .frames .frame-1 label.last";
    tab.find_element(last)
        .expect("a last button")
        .click()
        .unwrap();
    let end = visible_frames(&tab);
    assert!(end[0].contains("cannot be placed"), "{end:?}");

    assert_fetched_only_itself(&seen, &report);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_matrix_page_shows_its_answer_and_cells_and_keeps_store_values_as_text() {
    use faultline::matrix::outcome::{Broken, Outcome};
    use faultline::matrix::promise::{Judgement, Standing};
    use faultline::matrix::{CellState, Matrix, MatrixCell, Summary};
    let dir = scratch("matrix");
    let hostile = format!("process 0 read k1 = {SCRIPT}{}", report_fixture::IMG);
    let held = |models: &[&str], strength: u8, why: &str| Outcome {
        verdict: Some(checkers::Verdict::Invalid),
        held: models.iter().map(|m| m.to_string()).collect(),
        broke_next: vec![Broken {
            model: "sequential".into(),
            why: why.into(),
        }],
        broke: vec!["linearizable".into(), "sequential".into()],
        unknown: Vec::new(),
        eventual: Some(checkers::Verdict::Valid),
        strength,
    };
    let cell = |column: usize,
                state: CellState,
                outcome: Option<Outcome>,
                promise: Option<Judgement>| MatrixCell {
        row: 0,
        column,
        id: format!("leaderless--kv--{column}"),
        state,
        note: (state == CellState::NotApplicable)
            .then(|| "leaderless cannot take packet".to_string()),
        outcome,
        run_dir: (state != CellState::NotApplicable)
            .then(|| format!("runs/c{column}/20260101T000000")),
        exit_code: Some(1),
        seconds: 7.0,
        promise,
    };
    let broken = Judgement {
        file: "claims.toml".into(),
        promised: vec!["linearizable".into()],
        standing: Standing::Broken,
        broken: vec!["linearizable".into()],
        beyond: Vec::new(),
    };
    let m = Matrix {
        started: "2026-01-01T00:00:00Z".into(),
        duration_ms: 20_000,
        command: "faultline matrix --stores leaderless".into(),
        time_limit_s: 5.0,
        seed: 3,
        nemesis_interval_s: 2.0,
        rows: vec!["leaderless · kv".into()],
        fault_sets: vec!["none".into(), "kill".into(), "packet".into()],
        cells: vec![
            cell(
                0,
                CellState::Decided,
                Some(held(&["causal-memory"], 3, &hostile)),
                Some(broken),
            ),
            cell(
                1,
                CellState::Decided,
                Some(held(&["pram", "causal-convergence"], 3, "cycle of 4 ops")),
                None,
            ),
            cell(2, CellState::NotApplicable, None, None),
        ],
        promise_files: vec!["claims.toml".into()],
        interrupted: false,
        summary: Summary {
            cells: 3,
            decided: 2,
            not_applicable: 1,
            broken: 1,
            ..Summary::default()
        },
    };
    let page = dir.join("matrix.html");
    std::fs::write(&page, faultline::matrix::page::render(&m)).unwrap();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script>window"), "the payload is escaped");
    let Some(_) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium (scripts/setup.sh installs it)");
        return;
    };
    let (_browser, tab, seen) = open(&page, &dir.join("profile"));
    let answer = eval(&tab, "document.getElementById('answer').innerText");
    assert_eq!(answer, "1 promise broken");
    let first = eval(
        &tab,
        "document.getElementById('cell-leaderless--kv--0').innerText",
    );
    let first = first.as_str().unwrap_or_default();
    assert!(first.starts_with("causal-memory"), "{first}");
    assert!(first.contains("promise broken: linearizable"), "{first}");
    assert!(
        first.contains(SCRIPT),
        "the store's value shows as text: {first}"
    );
    let na = eval(
        &tab,
        "document.getElementById('cell-leaderless--kv--2').innerText",
    );
    assert!(
        na.as_str()
            .unwrap_or_default()
            .contains("cannot take packet"),
        "{na}"
    );
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#matrix tr').length"),
        2
    );
    assert_eq!(eval(&tab, "typeof window.__pwned"), "undefined");
    assert_eq!(eval(&tab, "document.scripts.length"), 0);
    assert_eq!(eval(&tab, "document.images.length"), 0);
    assert_fetched_only_itself(&seen, &page);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_maelstrom_runs_report_draws_its_messages_zooms_and_keeps_message_types_as_text() {
    let have_python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_python {
        eprintln!("SKIPPED: python3 is not installed");
        return;
    }
    let dir = scratch("messages");
    let node = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/maelstrom_nodes/g_set.py");
    let results = dir.join("results");
    let o = faultline(&[
        "run",
        "--store",
        "maelstrom",
        "--bin",
        node.to_str().unwrap(),
        "--workload",
        "g-set",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "1s",
        "--time-limit",
        "3s",
        "--quiesce",
        "500ms",
        "--seed",
        "4",
        "--results",
        results.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(
        matches!(o.status.code(), Some(0..=2)),
        "the run completes: {}",
        text(&o)
    );
    let run = std::fs::read_dir(results.join("maelstrom-g-set"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("report.html").is_file())
        .expect("a run directory with a report");
    // A message whose type a node chose to be hostile stays text once re-rendered.
    let journal = run.join("nodes/messages.jsonl");
    let mut lines = std::fs::read_to_string(&journal).unwrap();
    let last: serde_json::Value =
        serde_json::from_str(lines.lines().last().expect("messages were journaled")).unwrap();
    let t = last["sent"].as_u64().unwrap();
    lines += &format!(
        "{}\n",
        serde_json::json!({"from": "n0", "to": "n1", "type": SCRIPT, "sent": t, "received": t})
    );
    std::fs::write(&journal, lines).unwrap();
    let o = faultline(&["report", run.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let page = run.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"messages\""), "a Messages section");
    assert!(!html.contains("<script>window"), "the payload is escaped");
    let Some(_) = chromium() else {
        eprintln!("SKIPPED the browser part: no chromium (scripts/setup.sh installs it)");
        return;
    };
    let (_browser, tab, seen) = open(&page, &dir.join("profile"));
    let arrows = eval(
        &tab,
        "document.querySelectorAll('svg.messages g.msg').length",
    );
    assert!(arrows.as_u64().unwrap_or(0) >= 20, "arrows drawn: {arrows}");
    let dropped = eval(
        &tab,
        "document.querySelectorAll('svg.messages g.dropped').length",
    );
    assert!(
        dropped.as_u64().unwrap_or(0) >= 1,
        "a killed node's messages are dropped: {dropped}"
    );
    let lanes = eval(
        &tab,
        "[...document.querySelectorAll('svg.messages > text[font-weight=bold]')].map(t => t.textContent).join(' ')",
    );
    assert!(
        lanes.as_str().unwrap_or_default().starts_with("n0 n1 n2"),
        "{lanes}"
    );
    let height = "document.querySelector('svg.messages').getBoundingClientRect().height";
    let before = eval(&tab, height).as_f64().unwrap();
    tab.find_element("label[for=msgzoom4]")
        .unwrap()
        .click()
        .unwrap();
    let after = eval(&tab, height).as_f64().unwrap();
    assert!(
        after > 3.0 * before,
        "zoom 4× makes it taller: {before} -> {after}"
    );
    assert_eq!(eval(&tab, "typeof window.__pwned"), "undefined");
    assert_eq!(eval(&tab, "document.scripts.length"), 0);
    assert_fetched_only_itself(&seen, &page);
    let _ = std::fs::remove_dir_all(&dir);
}

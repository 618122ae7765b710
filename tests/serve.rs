//! `faultline serve`: answers the index and the reports, refuses paths outside the
//! results directory, listens on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Sends a raw request (so `..` reaches the server unnormalized); returns the status.
fn get(addr: &str, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

#[test]
fn serve_answers_the_index_and_reports_and_refuses_climbing_out() {
    let dir = std::env::temp_dir().join(format!("faultline-serve-{}", std::process::id()));
    let run = dir.join("results/t/20260101T000000");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(run.join("report.html"), "<html>the report</html>").unwrap();
    std::fs::write(dir.join("secret.txt"), "outside").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--bind", "127.0.0.1:0", "--results"])
        .arg(dir.join("results"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .trim()
        .trim_end_matches('/')
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    let (code, body) = get(&addr, "/");
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("faultline runs"));
    assert_eq!(get(&addr, "/t/20260101T000000/report.html").0, 200);
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/t/%2E%2E/%2e%2e/secret.txt",
    ] {
        let (code, body) = get(&addr, bad);
        assert_eq!(code, 403, "{bad}: {body}");
        assert!(!body.contains("outside"));
    }
    assert_eq!(get(&addr, "/nope.html").0, 404);
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

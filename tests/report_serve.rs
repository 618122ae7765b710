//! `faultline serve`: answers the index (listing every run) and the reports, follows
//! `latest`, refuses paths outside the results directory (`..`, percent-encoded or
//! not, and symlinks that lead out), listens on loopback.

mod report_fixture;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use report_fixture::{scratch, write_run};

/// The server, killed when the test ends (passing or not).
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends a raw request (so `..` reaches the server as written); returns the
/// status and the whole answer.
fn request(addr: &str, method: &str, target: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
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
fn serve_answers_the_index_and_reports_and_refuses_paths_outside_the_results() {
    let dir = scratch("serve");
    let results = dir.join("results");
    let run = write_run(
        &results,
        "register",
        "20260101T000000",
        "2026-01-01T00:00:00Z",
        70,
    );
    std::os::unix::fs::symlink("20260101T000000", results.join("register/latest")).unwrap();
    std::os::unix::fs::symlink("../../secret.txt", results.join("register/escape")).unwrap();
    std::fs::write(run.join("report.html"), "<html>the report</html>").unwrap();
    std::fs::write(dir.join("secret.txt"), "TOP-SECRET").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["serve", "--bind", "127.0.0.1:0", "--results"])
        .arg(&results)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .expect("the serving line")
        .trim()
        .trim_end_matches('/')
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "loopback by default: {line}"
    );

    let (code, body) = request(&addr, "GET", "/");
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains("faultline runs") && body.contains("register/20260101T000000/report.html"),
        "{body}"
    );
    // A run added while serving shows up in the index.
    write_run(
        &results,
        "register",
        "20260102T000000",
        "2026-01-02T00:00:00Z",
        70,
    );
    let (_, body) = request(&addr, "GET", "/index.html");
    let newer = body.find("20260102T000000").expect("the new run is listed");
    let older = body.find("20260101T000000").expect("the old run is listed");
    assert!(newer < older, "newest first");

    let (code, body) = request(&addr, "GET", "/register/latest/report.html");
    assert_eq!(code, 200);
    assert!(body.contains("the report"));
    assert!(body.contains("Content-Security-Policy") || body.contains("content-security-policy"));
    assert_eq!(
        request(&addr, "HEAD", "/register/20260101T000000/report.html").0,
        200
    );
    assert_eq!(
        request(&addr, "GET", "/register/20260101T000000/").0,
        200,
        "a listing"
    );
    for bad in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/register/%2E%2E/%2e%2e/secret.txt",
        "/register/..%2f..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/register/escape",
    ] {
        let (code, body) = request(&addr, "GET", bad);
        assert_eq!(code, 403, "{bad}: {body}");
        assert!(!body.contains("TOP-SECRET"), "{bad} leaked the file");
    }
    assert_eq!(request(&addr, "GET", "/nope.html").0, 404);
    assert_eq!(request(&addr, "POST", "/").0, 405);
    let _ = std::fs::remove_dir_all(&dir);
}

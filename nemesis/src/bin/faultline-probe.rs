//! `faultline-probe`: a tiny TCP server the nemesis tests run as a "node" to observe
//! faults from the inside. One request per line, one answer per line:
//!
//! - `PING` -> `PONG` (does the node answer at all? a paused one does not);
//! - `TIME` -> the node's wall clock in milliseconds since the epoch (under
//!   libfaketime this is the faked clock);
//! - `CONNECT <addr> <timeout_ms>` -> `OK` or `ERR <why>`: can this node reach `addr`
//!   (from its own network namespace and through its own links)?
//! - `ECHO <text>` -> `<text>`.
//!
//! Usage: `faultline-probe <listen-addr>`; prints `listening <addr>` on stdout.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    let listener = match TcpListener::bind(&addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("faultline-probe: cannot listen on {addr}: {e}");
            std::process::exit(2);
        }
    };
    match listener.local_addr() {
        Ok(a) => println!("listening {a}"),
        Err(e) => println!("listening {addr} ({e})"),
    }
    for conn in listener.incoming().flatten() {
        std::thread::spawn(move || serve(conn));
    }
}

fn serve(conn: TcpStream) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        let answer = answer(line.trim());
        if writeln!(out, "{answer}").is_err() {
            return;
        }
    }
}

fn answer(line: &str) -> String {
    let mut words = line.splitn(2, ' ');
    match (words.next().unwrap_or(""), words.next()) {
        ("PING", _) => "PONG".to_string(),
        ("TIME", _) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis().to_string())
            .unwrap_or_else(|_| "-1".to_string()),
        ("ECHO", rest) => rest.unwrap_or("").to_string(),
        ("CONNECT", Some(rest)) => {
            let mut parts = rest.split_whitespace();
            let target = parts.next().unwrap_or("");
            let timeout = parts.next().and_then(|t| t.parse().ok()).unwrap_or(1000);
            connect(target, Duration::from_millis(timeout))
        }
        _ => format!("ERR unknown request {line:?}"),
    }
}

fn connect(target: &str, timeout: Duration) -> String {
    let addr = match target.to_socket_addrs().map(|mut a| a.next()) {
        Ok(Some(a)) => a,
        Ok(None) => return format!("ERR no address for {target}"),
        Err(e) => return format!("ERR {e}"),
    };
    let mut stream = match TcpStream::connect_timeout(&addr, timeout) {
        Ok(s) => s,
        Err(e) => return format!("ERR {e}"),
    };
    // A connection a proxy accepts and then severs is not a link: ask the far end.
    let _ = stream.set_read_timeout(Some(timeout));
    if writeln!(stream, "PING").is_err() {
        return "ERR write failed".to_string();
    }
    let mut line = String::new();
    match BufReader::new(stream).read_line(&mut line) {
        Ok(n) if n > 0 && line.trim() == "PONG" => "OK".to_string(),
        Ok(_) => "ERR closed".to_string(),
        Err(e) => format!("ERR {e}"),
    }
}

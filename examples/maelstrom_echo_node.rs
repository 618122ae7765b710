//! A minimal Maelstrom node for `router_bench`: answers `init` and `echo` (with the
//! payload back) on stdout, one JSON message per line, as fast as it can read.

use std::io::{BufRead, Write};

use serde_json::{json, Value};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(m) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let body = &m["body"];
        let reply = match body["type"].as_str() {
            Some("init") => json!({"type": "init_ok", "in_reply_to": body["msg_id"]}),
            Some("echo") => {
                json!({"type": "echo_ok", "in_reply_to": body["msg_id"], "echo": body["echo"]})
            }
            _ => continue,
        };
        let msg = json!({"src": m["dest"], "dest": m["src"], "body": reply});
        let _ = writeln!(out, "{msg}");
        let _ = out.flush();
    }
}

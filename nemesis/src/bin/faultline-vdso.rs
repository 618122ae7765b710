//! `faultline-vdso`: the vDSO clock mechanism as a program of its own — for a host the
//! driver reaches over SSH (copied there and run as root), and for the tests that kill
//! the patching process to prove `faultline cleanup` heals what it left.
//!
//! `faultline-vdso patch PID [--offset-ms MS] [--node NAME]` patches process PID,
//! records the patch in a state file (the nemesis state dir, owned by this helper),
//! prints `patched PID`, then reads commands, one a line, on stdin:
//! `offset MS` (answers `ok` or `error …`), `reset` (restores the original code and
//! exits). End of input does the same as `reset`. If the helper dies instead,
//! `faultline cleanup` restores the process from the state file.

use std::io::{BufRead, Write};

use nemesis::clock::vdso;
use nemesis::state::StateFile;

const HELP: &str = "\
faultline-vdso: skew a running process's wall clock by patching its vDSO (x86-64, root)

Usage: faultline-vdso patch PID [--offset-ms MS] [--node NAME]

Then, on stdin, one command a line:
  offset MS    set the wall-clock offset (milliseconds, signed)
  reset        restore the original vDSO code and exit (also on end of input)

Examples:
  faultline-vdso patch 4242 --offset-ms 30000
  echo 'offset -5000' | faultline-vdso patch \"$(pidof etcd)\"
  faultline-vdso patch 4242 --node n3 < commands.txt";

fn fail(msg: &str) -> ! {
    eprintln!("faultline-vdso: {msg}");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{HELP}");
        return;
    }
    if args[0] != "patch" {
        fail(&format!("unknown command {:?}; see --help", args[0]));
    }
    let pid: i32 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| fail("patch needs a PID; see --help"));
    let mut offset_ms = 0i64;
    let mut node = None;
    let mut rest = args[2..].iter();
    while let Some(a) = rest.next() {
        let value = rest
            .next()
            .unwrap_or_else(|| fail(&format!("{a} needs a value")));
        match a.as_str() {
            "--offset-ms" => {
                offset_ms = value
                    .parse()
                    .unwrap_or_else(|_| fail(&format!("--offset-ms {value:?}: not an integer")))
            }
            "--node" => node = Some(value.clone()),
            other => fail(&format!("unknown option {other}; see --help")),
        }
    }
    let state = StateFile::create(&format!("vdso-{pid}"), None)
        .unwrap_or_else(|e| fail(&format!("cannot write the state file: {e}")));
    let patch = vdso::patch(pid, node.as_deref()).unwrap_or_else(|e| fail(&e.to_string()));
    if let Err(e) = state.update(|s| s.vdso_patches = vec![patch.clone()]) {
        let _ = patch.restore();
        fail(&format!("cannot record the patch: {e}"));
    }
    if let Err(e) = patch.set_offset_ns(offset_ms.saturating_mul(1_000_000)) {
        let _ = patch.restore();
        fail(&e.to_string());
    }
    println!("patched {pid}");
    let _ = std::io::stdout().flush();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let answer = match (words.next(), words.next()) {
            (Some("offset"), Some(ms)) => match ms.parse::<i64>() {
                Ok(ms) => match patch.set_offset_ns(ms.saturating_mul(1_000_000)) {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("error {e}"),
                },
                Err(_) => format!("error {ms:?} is not an integer"),
            },
            (Some("reset"), None) => break,
            (None, _) => continue,
            _ => format!("error unknown command {line:?}"),
        };
        println!("{answer}");
        let _ = std::io::stdout().flush();
    }
    match patch.restore() {
        Ok(()) => {
            let _ = state.update(|s| s.vdso_patches.clear());
            let _ = state.finish();
            println!("restored {pid}");
        }
        Err(e) => fail(&format!("cannot restore: {e}")),
    }
}

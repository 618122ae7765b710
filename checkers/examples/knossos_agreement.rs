//! How often faultline agrees with Knossos on Knossos's own cas-register histories.
//!
//! Knossos (jepsen-io/knossos) ships `data/cas-register/{good,bad}/*.edn`: histories
//! its cas-register model (initial value 0) finds linearizable (`good`) or not
//! (`bad`). This reads each with faultline's EDN reader and checks it for
//! linearizability as `cas-register` with `--initial 0`, under both meanings of a nil
//! read, and prints the agreement. The data is not part of this project: point it at
//! a checkout.
//!
//! ```text
//! cargo run --release -p checkers --example knossos_agreement -- /path/to/knossos/data/cas-register [seconds per file]
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path_with, Format, NilRead, ReadOptions};
use checkers::{Budget, Value, Verdict};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: knossos_agreement DATA/cas-register [seconds per file]");
        std::process::exit(3);
    };
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let spec = ModelSpec {
        kind: ModelKind::CasRegister,
        initial: Value::Int(0),
    };
    for nil_read in [NilRead::Value, NilRead::Any] {
        let mut tally = std::collections::BTreeMap::<(&str, &str), usize>::new();
        let mut disagree = Vec::new();
        for (want, sub) in [(Verdict::Valid, "good"), (Verdict::Invalid, "bad")] {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.retain(|p| p.extension().is_some_and(|e| e == "edn"));
            files.sort();
            for file in files {
                let options = ReadOptions {
                    model: Some("cas-register".into()),
                    nil_read,
                    ..ReadOptions::default()
                };
                let got = match read_path_with(&file, Format::JepsenEdn, &options) {
                    Err(e) => {
                        disagree.push(format!("{sub}: read error: {e}"));
                        "error"
                    }
                    Ok(r) => {
                        let budget = Budget {
                            deadline: Some(Instant::now() + Duration::from_secs_f64(secs)),
                            memory_bytes: None,
                        };
                        let res = checkers::linearizable::check(&r.history, &spec, &budget);
                        if res.verdict != want {
                            disagree.push(format!(
                                "{sub}/{}: {} ({})",
                                file.file_name().unwrap_or_default().to_string_lossy(),
                                res.verdict,
                                res.summary
                            ));
                        }
                        res.verdict.as_str()
                    }
                };
                *tally.entry((sub, got)).or_default() += 1;
            }
        }
        let count = |sub, v| tally.get(&(sub, v)).copied().unwrap_or(0);
        let good: usize = tally
            .iter()
            .filter(|((s, _), _)| *s == "good")
            .map(|(_, n)| n)
            .sum();
        let bad: usize = tally
            .iter()
            .filter(|((s, _), _)| *s == "bad")
            .map(|(_, n)| n)
            .sum();
        println!(
            "--nil-read {}: agree on {} of {} (good: {} of {} valid; bad: {} of {} invalid); tally {tally:?}",
            if nil_read == NilRead::Any { "any" } else { "value" },
            count("good", "valid") + count("bad", "invalid"),
            good + bad,
            count("good", "valid"),
            good,
            count("bad", "invalid"),
            bad,
        );
        for d in disagree.iter().take(20) {
            println!("  {d}");
        }
    }
}

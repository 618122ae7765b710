//! Known-answer histories, read from files.
//!
//! - The project's own (`checkers/tests/histories`, with `EXPECTED.tsv`): always run.
//!   Hand-written in each format faultline reads, including Knossos's list-wrapped
//!   files with comments, nil reads under both meanings and Jepsen independent tuples.
//! - Porcupine's test corpus (`shared/corpus/porcupine`, beside the checkout, or where
//!   `FAULTLINE_CORPUS` points): every history gets the verdict its `EXPECTED.tsv`
//!   gives. The corpus is not part of the project; on a clone without it these tests
//!   say so in their output and pass.

use std::path::PathBuf;

use checkers::linearizable;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path, read_path_with, Format, NilRead, ReadOptions};
use checkers::{Budget, Value, Verdict};

/// The project's own known-answer histories.
fn own() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories"))
}

/// Porcupine's corpus, if it is present.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("FAULTLINE_CORPUS") {
        Some(d) => PathBuf::from(d).join("porcupine"),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/corpus/porcupine"
        )),
    };
    if dir.join("EXPECTED.tsv").is_file() {
        Some(dir)
    } else {
        // Straight to stderr, past the test harness's capture, so a passing run says it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "the Porcupine corpus is absent ({} has no EXPECTED.tsv; set FAULTLINE_CORPUS to the corpus directory to run these): skipped",
            dir.display()
        );
        None
    }
}

fn verdict(s: &str) -> Verdict {
    match s {
        "valid" => Verdict::Valid,
        "invalid" => Verdict::Invalid,
        other => panic!("unexpected verdict {other}"),
    }
}

fn expected(dir: &std::path::Path) -> Vec<(String, Format, ModelKind, Verdict)> {
    let text = std::fs::read_to_string(dir.join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                verdict(f[3]),
            )
        })
        .collect()
}

#[test]
fn every_own_known_answer_history_gets_its_expected_verdict() {
    let text = std::fs::read_to_string(own().join("EXPECTED.tsv")).unwrap();
    let mut wrong = Vec::new();
    let mut n = 0;
    for l in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = l.split('\t').collect();
        let (file, format, model, initial, nil_read, want) = (f[0], f[1], f[2], f[3], f[4], f[5]);
        let model: ModelKind = model.parse().unwrap();
        let options = ReadOptions {
            model: Some(model.as_str().to_string()),
            nil_read: nil_read.parse::<NilRead>().unwrap(),
            ..ReadOptions::default()
        };
        let r = read_path_with(&own().join(file), format.parse().unwrap(), &options)
            .unwrap_or_else(|e| panic!("{e}"));
        let spec = ModelSpec {
            kind: model,
            initial: Value::from_json(&serde_json::from_str(initial).unwrap()),
        };
        let got = linearizable::check(&r.history, &spec, &Budget::unlimited());
        n += 1;
        if got.verdict != verdict(want) {
            wrong.push(format!(
                "{file} (--nil-read {nil_read}): expected {want}, got {} ({})",
                got.verdict, got.summary
            ));
        }
    }
    assert!(n >= 8, "EXPECTED.tsv lists the project's histories");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_porcupine_corpus_history_gets_its_expected_verdict() {
    let Some(dir) = corpus() else { return };
    let cases = expected(&dir);
    assert_eq!(cases.len(), 108, "EXPECTED.tsv lists 108 histories");
    let mut wrong = Vec::new();
    for (file, format, model, verdict) in &cases {
        let h = read_path(&dir.join(file), *format).unwrap_or_else(|e| panic!("{e}"));
        // c50-bad has a key no checker decides quickly (Porcupine: unknown after
        // 120 s); its invalid keys are found well within this budget.
        let budget = Budget {
            deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(30)),
            memory_bytes: None,
        };
        let r = linearizable::check(&h, &ModelSpec::new(*model), &budget);
        if r.verdict != *verdict {
            wrong.push(format!(
                "{file}: expected {verdict}, got {} ({})",
                r.verdict, r.summary
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 108 wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn sniffing_finds_each_corpus_format() {
    let Some(dir) = corpus() else { return };
    for (file, format, _, _) in expected(&dir) {
        let h_auto = read_path(&dir.join(&file), Format::Auto).unwrap();
        let h = read_path(&dir.join(&file), format).unwrap();
        assert_eq!(h_auto.ops, h.ops, "{file}");
    }
}

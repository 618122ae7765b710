//! Every history of Porcupine's test corpus (`shared/corpus/porcupine`) gets the verdict
//! that `EXPECTED.tsv` gives it.

use std::path::PathBuf;

use checkers::linearizable;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path, Format};
use checkers::{Budget, Verdict};

fn corpus() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/porcupine"
    ))
}

fn expected() -> Vec<(String, Format, ModelKind, Verdict)> {
    let text =
        std::fs::read_to_string(corpus().join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let verdict = match f[3] {
                "valid" => Verdict::Valid,
                "invalid" => Verdict::Invalid,
                other => panic!("unexpected verdict {other}"),
            };
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                verdict,
            )
        })
        .collect()
}

#[test]
fn every_corpus_history_gets_its_expected_verdict() {
    let cases = expected();
    assert_eq!(cases.len(), 108, "EXPECTED.tsv lists 108 histories");
    let mut wrong = Vec::new();
    for (file, format, model, verdict) in &cases {
        let h = read_path(&corpus().join(file), *format).unwrap_or_else(|e| panic!("{e}"));
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
    for (file, format, _, _) in expected() {
        let h_auto = read_path(&corpus().join(&file), Format::Auto).unwrap();
        let h = read_path(&corpus().join(&file), format).unwrap();
        assert_eq!(h_auto.ops, h.ops, "{file}");
    }
}

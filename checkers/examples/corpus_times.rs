//! Times the linearizability check of each file of Porcupine's corpus (parsing apart).
//! `cargo run --release -p checkers --example corpus_times [FILTER]`

use std::time::Instant;

use checkers::linearizable;
use checkers::model::{ModelKind, ModelSpec};
use checkers::read::{read_path, Format};
use checkers::Budget;

fn main() {
    let filter = std::env::args().nth(1).unwrap_or_default();
    let root = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/porcupine"
    ));
    let tsv = std::fs::read_to_string(root.join("EXPECTED.tsv")).unwrap();
    let mut total = 0.0;
    for line in tsv.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if !f[0].contains(&filter) {
            continue;
        }
        let format: Format = f[1].parse().unwrap();
        let model: ModelKind = f[2].parse().unwrap();
        let h = read_path(&root.join(f[0]), format).unwrap();
        let budget = Budget {
            deadline: Some(Instant::now() + std::time::Duration::from_secs(20)),
            memory_bytes: None,
        };
        let t = Instant::now();
        let r = linearizable::check(&h, &ModelSpec::new(model), &budget);
        let dt = t.elapsed().as_secs_f64() * 1e3;
        total += dt;
        println!(
            "{}\t{}\texpected {}\t{:.2} ms\t{}",
            f[0],
            r.verdict,
            f[3],
            dt,
            if r.verdict.as_str() != f[3] {
                "WRONG"
            } else {
                ""
            }
        );
    }
    println!("total {total:.1} ms");
}

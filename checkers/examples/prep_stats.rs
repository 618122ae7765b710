//! Prints what `prepare` keeps of a history (debugging aid).
use checkers::linearizable::search::prepare;
use checkers::read::{read_path, Format};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let h = read_path(std::path::Path::new(&p), Format::Jsonl).unwrap();
    let ops: Vec<&checkers::Op> = h.ops.iter().collect();
    let (s, _) = prepare(&ops, true, &checkers::Value::Null);
    let inf = s.iter().filter(|o| o.ret == u64::MAX).count();
    let first_inf = s.iter().position(|o| o.ret == u64::MAX);
    println!(
        "ops {} kept {} inf {} first_inf {:?} info {}",
        ops.len(),
        s.len(),
        inf,
        first_inf,
        ops.iter()
            .filter(|o| o.outcome == checkers::Outcome::Info)
            .count()
    );
    if let Some(i) = first_inf {
        println!("{:?}", s[i].op);
    }
}

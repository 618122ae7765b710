//! Checks a list-append (or rw-register) history file and prints the result as JSON:
//! `cargo run --release -p checkers --example txn_check -- FILE [list-append|rw-register] [MODEL]`.

use checkers::read::{read_path, Format};
use checkers::txn::{Analysis, DataModel, RegisterOrders};
use checkers::Consistency;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: txn_check FILE [list-append|rw-register] [MODEL]");
        std::process::exit(3);
    };
    let model = match args.get(1).map(String::as_str) {
        Some("rw-register") => DataModel::RwRegister,
        _ => DataModel::ListAppend,
    };
    let consistency: Consistency = args
        .get(2)
        .map_or(Ok(Consistency::StrictSerializable), |s| s.parse())
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(3)
        });
    let h = read_path(std::path::Path::new(file), Format::Auto).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(3)
    });
    match Analysis::new(&h, model, RegisterOrders::default()) {
        Ok(a) => {
            let r = a.result(&h, consistency, model);
            println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            std::process::exit(r.verdict.exit_code());
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            std::process::exit(3)
        }
    }
}

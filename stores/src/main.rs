//! `faultline-store`: the reference stores faultline tests (leaderless quorum replication).
fn main() {
    eprintln!("faultline-store: not built yet");
    std::process::exit(3);
}

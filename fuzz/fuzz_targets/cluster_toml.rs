//! Fuzzes the cluster file (`--cluster FILE`) parser: any text gives a cluster or an
//! error message, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let nodes = std::env::temp_dir().join("faultline-fuzz-nodes");
        if let Err(e) = faultline::cluster::file::parse(text, &nodes) {
            assert!(!e.is_empty(), "a refusal with no message");
        }
    }
});

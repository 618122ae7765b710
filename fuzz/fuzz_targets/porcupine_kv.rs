//! Fuzzes the porcupine kv reader: any bytes give a history or a typed error.
#![no_main]

use checkers::read::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| reader_fuzzing::read_and_check(data, Format::PorcupineKv));

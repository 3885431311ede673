//! libFuzzer's entry for the `scenario` target; the target itself is barrage_fuzz::targets::scenario.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barrage_fuzz::targets::scenario(data));

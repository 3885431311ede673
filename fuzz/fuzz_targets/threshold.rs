//! libFuzzer's entry for the `threshold` target; the target itself is barrage_fuzz::targets::threshold.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barrage_fuzz::targets::threshold(data));

//! libFuzzer's entry for the `result_file` target; the target itself is barrage_fuzz::targets::result_file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barrage_fuzz::targets::result_file(data));

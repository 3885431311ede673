//! libFuzzer's entry for the `template` target; the target itself is barrage_fuzz::targets::template.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barrage_fuzz::targets::template(data));

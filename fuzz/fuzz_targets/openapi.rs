//! libFuzzer's entry for the `openapi` target; the target itself is barrage_fuzz::targets::openapi.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| barrage_fuzz::targets::openapi(data));

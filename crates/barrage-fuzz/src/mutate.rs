//! A seeded byte mutator with libFuzzer's kinds of edit: flip a bit, set a byte to a random
//! or an interesting value, insert or erase bytes, duplicate or move a range, insert a
//! dictionary token, splice in part of another input, truncate. Seeded, so the stable runner
//! repeats exactly; byte-level, so it reaches what a grammar-aware generator would not try
//! (broken UTF-8, half a token, a key cut in two).
//!
//! Written by hand because the crates that do this (libfuzzer-sys, afl) need nightly or an
//! instrumented build; this is the part of them a stable runner needs, in 100 lines.

use rand::rngs::SmallRng;
use rand::Rng;

/// Inputs grow no larger than this by mutation: the hostile seeds that are larger on purpose
/// (10 MB strings) are run as they are, not mutated.
pub const MAX_LEN: usize = 64 * 1024;

/// Tokens that matter to the formats fuzzed here: YAML structure, template and threshold
/// syntax, JSON, numbers at the edges of what a parser takes.
pub const DICTIONARY: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"{{ ",
    b" }}",
    b": ",
    b"- ",
    b"\n",
    b"\n  ",
    b"&a ",
    b"*a",
    b"<<: ",
    b"---",
    b"'",
    b"\"",
    b"[",
    b"]",
    b"{",
    b"}",
    b",",
    b"|",
    b">",
    b"!",
    b"%",
    b"#",
    b"\\",
    b"$.",
    b"1e309",
    b"-1e309",
    b"NaN",
    b"inf",
    b"-0",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0x",
    b"1.5",
    b"0s",
    b"100ms",
    b"99999999h",
    b"p95",
    b"p99.9",
    b"error_rate",
    b"rps",
    b"<",
    b"<=",
    b">=",
    b"==",
    b"%",
    b"{endpoint=\"",
    b"\"}",
    b"null",
    b"true",
    b"false",
    b"\"version\": 1",
    b"\"version\": 2",
    b"\"windows\": [",
    b"\"start\": 18446744073709551615",
    b"\"i\": ",
    b"\"requests\": ",
    b"\"failures\": ",
    b"\"$ref\": \"#/",
    b"openapi: 3.1.0",
    b"int(",
    b"float(",
    b"choice(",
    b"uuid()",
    b"str(",
    b")",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
];

/// Applies one to four mutations to `data`, drawing from `rng`; `others` is the corpus the
/// splice mutation takes from.
pub fn mutate(data: &mut Vec<u8>, others: &[Vec<u8>], rng: &mut SmallRng) {
    let edits = rng.random_range(1..=4);
    for _ in 0..edits {
        mutate_once(data, others, rng);
    }
    data.truncate(MAX_LEN);
}

fn mutate_once(data: &mut Vec<u8>, others: &[Vec<u8>], rng: &mut SmallRng) {
    let len = data.len();
    let at = |rng: &mut SmallRng| {
        if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        }
    };
    match rng.random_range(0..10) {
        0 if len > 0 => {
            let i = at(rng);
            data[i] ^= 1 << rng.random_range(0..8);
        }
        1 if len > 0 => {
            let i = at(rng);
            data[i] = *[0u8, 0x7f, 0x80, 0xff, b'\n', b' ', b'0', b'9']
                .get(rng.random_range(0..8))
                .unwrap_or(&0);
        }
        2 if len > 0 => {
            let i = at(rng);
            data[i] = rng.random();
        }
        3 => {
            let i = rng.random_range(0..=len);
            let n = rng.random_range(1..=16);
            let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
            data.splice(i..i, bytes);
        }
        4 if len > 0 => {
            let i = at(rng);
            let n = rng.random_range(1..=(len - i).min(64));
            data.drain(i..i + n);
        }
        5 if len > 0 => {
            // Duplicate a range somewhere else: repeated keys, nested blocks.
            let i = at(rng);
            let n = rng.random_range(1..=(len - i).min(256));
            let piece = data[i..i + n].to_vec();
            let to = rng.random_range(0..=len);
            data.splice(to..to, piece);
        }
        6 | 7 => {
            let token = DICTIONARY[rng.random_range(0..DICTIONARY.len())];
            let i = rng.random_range(0..=len);
            data.splice(i..i, token.iter().copied());
        }
        8 if !others.is_empty() => {
            let other = &others[rng.random_range(0..others.len())];
            if !other.is_empty() && other.len() <= MAX_LEN {
                let from = rng.random_range(0..other.len());
                let n = rng.random_range(1..=(other.len() - from).min(512));
                let i = rng.random_range(0..=len);
                data.splice(i..i, other[from..from + n].iter().copied());
            }
        }
        _ if len > 0 => data.truncate(at(rng)),
        _ => data.extend_from_slice(DICTIONARY[rng.random_range(0..DICTIONARY.len())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_same_seed_makes_the_same_mutations() {
        let corpus = vec![b"users:\n  u:\n    tasks: {}\n".to_vec()];
        let run = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            let mut data = corpus[0].clone();
            for _ in 0..100 {
                mutate(&mut data, &corpus, &mut rng);
            }
            data
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn mutations_stay_within_the_size_bound_and_handle_empty_input() {
        let mut rng = SmallRng::seed_from_u64(0);
        let mut data = Vec::new();
        for _ in 0..2000 {
            mutate(&mut data, &[], &mut rng);
            assert!(data.len() <= MAX_LEN);
        }
    }
}

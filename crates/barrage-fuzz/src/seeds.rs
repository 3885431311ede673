//! The hostile inputs barrage was probed with, generated rather than stored (some are
//! megabytes): billion laughs, nesting 100,000 deep, 10 MB strings, numbers past f64.
//! Small ones also live in the corpora, where the mutator starts from them.

/// The generated seeds for target `name` (as in [`crate::TARGETS`]).
pub fn hostile(name: &str) -> Vec<Vec<u8>> {
    let deep = |open: &str, close: &str, n: usize| format!("{}{}", open.repeat(n), close.repeat(n));
    let long = "a".repeat(10 << 20);
    let seeds: Vec<String> = match name {
        "scenario" => vec![
            billion_laughs(),
            deep("[", "]", 100_000),
            deep("{a: ", "}", 100_000),
            format!("users:\n{}", "  ".repeat(50_000) + "u: x\n"),
            format!("target: {long}\n"),
            format!("users:\n  u:\n    tasks:\n      t:\n        - get: /{long}\n"),
            format!("{long}: 1\n"),
            "load:\n  rate: 1e309\n  duration: 1e309s\n".into(),
        ],
        "template" => vec![
            deep("{{ str(", ") }}", 10_000),
            format!("{{{{ {} }}}}", deep("(", ")", 100_000)),
            format!("{{{{ '{long}' }}}}"),
            "{{ int(1, 1e309) }}".into(),
            "{{ float(0, 1, 18446744073709551616) }}".into(),
            "{{".repeat(100_000),
        ],
        "threshold" => vec![
            "p95 < 1e309ms".into(),
            "p95 < -1e309ms".into(),
            format!("p95{{endpoint=\"{long}\"}} < 200ms"),
            format!("p95 < {}ms", "9".repeat(100_000)),
            format!("{long} < 1"),
        ],
        "openapi" => vec![
            format!(
                "{{\"openapi\": \"3.1.0\", \"paths\": {}}}",
                deep("{\"a\": ", "}", 100_000)
            ),
            format!(
                "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths: {}\n",
                deep("[", "]", 100_000)
            ),
            billion_laughs().replace("users:", "openapi: 3.1.0\npaths:"),
            format!(
                "{{\"openapi\": \"3.1.0\", \"info\": {{\"title\": \"{long}\"}}, \"paths\": {{}}}}"
            ),
        ],
        "result_file" => vec![
            deep("[", "]", 100_000),
            format!("{{\"version\": 1, \"x\": \"{long}\"}}"),
            format!("{{\"version\": 2, \"windows\": [{{\"start\": \"{long}\"}}]}}"),
            "{\"version\": 3}".into(),
            "{\"version\": 1e309}".into(),
            "{\"version\": 18446744073709551616}".into(),
        ],
        _ => Vec::new(),
    };
    seeds.into_iter().map(String::into_bytes).collect()
}

/// Nine levels of aliases, each nine times the one before: 9^9 strings if expanded.
pub fn billion_laughs() -> String {
    let mut yaml = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in 1..=9 {
        let prev = format!("*a{}", level - 1);
        let items = vec![prev; 9].join(",");
        yaml.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    yaml.push_str("users: *a9\n");
    yaml
}

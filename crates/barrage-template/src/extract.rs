//! Taking values out of a response: [`ResponseView`] and [`Extractor`].
//!
//! A response is looked at by several rules (saves, then checks). [`ResponseView`] parses
//! the body as JSON at most once, and only when a rule asks for it, so a step that saves a
//! header or checks only the status never pays for JSON parsing. Extractors are compiled
//! once (JSONPath parsed, regex built, header name normalized) and run per response.

use std::cell::OnceCell;

use http::{HeaderMap, HeaderName};
use regex::bytes::Regex;
use serde_json::Value;
use serde_json_path::JsonPath;

use barrage_scenario::SaveSource;

/// What a rule may look at in a response.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A response with its body parsed as JSON lazily, at most once.
#[derive(Debug)]
pub struct ResponseView<'a> {
    response: Response<'a>,
    json: OnceCell<Option<Value>>,
}

impl<'a> ResponseView<'a> {
    pub fn new(response: Response<'a>) -> Self {
        ResponseView {
            response,
            json: OnceCell::new(),
        }
    }

    /// The body as JSON; `None` when it is not JSON. Parsed on the first call.
    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(self.response.body).ok())
            .as_ref()
    }

    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The first value of header `name` (any case), if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers.get(name)?.to_str().ok()
    }

    pub fn headers(&self) -> &HeaderMap {
        self.response.headers
    }

    pub fn body(&self) -> &[u8] {
        self.response.body
    }
}

/// A compiled `save:` source.
#[derive(Debug, Clone)]
pub enum Extractor {
    /// The first match of an RFC 9535 JSONPath on the JSON body.
    JsonPath(JsonPath),
    /// A response header, as a string.
    Header(HeaderName),
    /// Capture group `group` (0 = the whole match) of the first match on the body, as a
    /// string.
    Regex { regex: Regex, group: usize },
    /// The status code, as a number.
    Status,
    /// The whole body: as JSON when it is JSON, else as a string (an event's data).
    Data,
}

impl Extractor {
    /// Whether this extractor reads a response header.
    pub fn reads_headers(&self) -> bool {
        matches!(self, Extractor::Header(_))
    }

    /// Compiles a save source; the error says what is wrong (the caller adds where).
    pub fn compile(src: &SaveSource) -> Result<Extractor, ExtractorError> {
        match src {
            SaveSource::JsonPath(path) => Ok(Extractor::JsonPath(compile_json_path(path)?)),
            SaveSource::Header(name) => HeaderName::from_bytes(name.trim().as_bytes())
                .map(Extractor::Header)
                .map_err(|_| ExtractorError::HeaderName { name: name.clone() }),
            SaveSource::Regex { pattern, group } => {
                let regex = Regex::new(pattern).map_err(|source| ExtractorError::Regex {
                    pattern: pattern.clone(),
                    source,
                })?;
                let groups = regex.captures_len() - 1;
                // The model's default group is 1; a pattern without groups means the whole
                // match.
                let group = if groups == 0 && *group == 1 {
                    0
                } else {
                    *group
                };
                if group > groups {
                    return Err(ExtractorError::NoGroup {
                        pattern: pattern.clone(),
                        groups,
                        group,
                    });
                }
                Ok(Extractor::Regex { regex, group })
            }
            SaveSource::Status => Ok(Extractor::Status),
            SaveSource::Data => Ok(Extractor::Data),
            // The engine counts events itself; no response body holds the count.
            SaveSource::Events => Err(ExtractorError::NotInBody),
        }
    }

    /// The extracted value, or `None` when the response does not have it.
    pub fn extract(&self, r: &ResponseView<'_>) -> Option<Value> {
        match self {
            Extractor::JsonPath(path) => path.query(r.json()?).first().cloned(),
            Extractor::Header(name) => {
                let value = r.headers().get(name)?;
                Some(Value::String(
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ))
            }
            Extractor::Regex { regex, group } => {
                let m = regex.captures(r.body())?.get(*group)?;
                Some(Value::String(
                    String::from_utf8_lossy(m.as_bytes()).into_owned(),
                ))
            }
            Extractor::Status => Some(Value::from(r.status())),
            Extractor::Data => Some(match r.json() {
                Some(v) => v.clone(),
                None => Value::String(String::from_utf8_lossy(r.body()).into_owned()),
            }),
        }
    }
}

/// Why a save source does not compile; says what is wrong (the caller adds where).
#[derive(Debug, thiserror::Error)]
pub enum ExtractorError {
    #[error(transparent)]
    JsonPath(#[from] JsonPathError),
    #[error("`{name}` is not a valid header name")]
    HeaderName { name: String },
    #[error("invalid regex `{pattern}`: {source}")]
    Regex {
        pattern: String,
        source: regex::Error,
    },
    /// `group` is more than the pattern's `groups`.
    #[error(
        "regex `{pattern}` has {groups} capture group{}, so there is no group {group}",
        if *groups == 1 { "" } else { "s" }
    )]
    NoGroup {
        pattern: String,
        groups: usize,
        group: usize,
    },
    /// `{ events: true }`: counted by the stream reader, not found in a body.
    #[error("`events: true` saves a stream's event count, which only a step with `stream` has")]
    NotInBody,
}

/// The message is what a `save:` diagnostic shows.
/// A JSONPath that does not parse, with a message that says what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid JSONPath `{path}`: {source}{}",
    if path.starts_with('$') { "" } else { " (a JSONPath starts with `$`, as in `$.id`)" }
)]
pub struct JsonPathError {
    pub path: String,
    pub source: serde_json_path::ParseError,
}

/// Parses a JSONPath, with a message that says what is wrong and where.
pub(crate) fn compile_json_path(path: &str) -> Result<JsonPath, JsonPathError> {
    JsonPath::parse(path).map_err(|source| JsonPathError {
        path: path.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_groups() {
        let re = |p: &str, g| {
            Extractor::compile(&SaveSource::Regex {
                pattern: p.into(),
                group: g,
            })
        };
        assert!(matches!(
            re(r"id=\d+", 1),
            Ok(Extractor::Regex { group: 0, .. })
        ));
        assert!(matches!(
            re(r"id=(\d+)", 1),
            Ok(Extractor::Regex { group: 1, .. })
        ));
        assert!(matches!(
            re(r"id=(\d+)", 0),
            Ok(Extractor::Regex { group: 0, .. })
        ));
        assert_eq!(
            re(r"id=(\d+)", 2).unwrap_err().to_string(),
            r"regex `id=(\d+)` has 1 capture group, so there is no group 2"
        );
        assert!(re(r"id=(\d+", 1)
            .unwrap_err()
            .to_string()
            .starts_with("invalid regex"));
    }
}

//! Getting the document: from a file, a URL, or a service's base URL (then
//! `/openapi.json`, where FastAPI serves it, else the URL its `/docs` or `/redoc` page
//! names), as JSON or YAML, OpenAPI 3.0 or 3.1.
//!
//! This and `app.rs` (the document from a Python app object) are the crate's only I/O. A
//! URL is fetched with one blocking GET (ureq): init runs once, before any load, so an
//! async client would buy nothing. YAML is read with the scenario crate's own YAML 1.2
//! reader, so a syntax error is shown the way scenario errors are: file, line, column and
//! the line itself.

use std::path::Path;
use std::time::Duration;

use barrage_scenario::SourceFile;
use serde_json::Value;

use crate::document::{Document, Version};
use crate::error::LoadError;

/// Where FastAPI (and many others) serve the document.
const WELL_KNOWN: &str = "openapi.json";
/// FastAPI's documentation pages, which name the document's URL when it moved.
const DOC_PAGES: [&str; 2] = ["docs", "redoc"];

/// Reads the document at `source`: an `http(s)://` URL or a file path.
pub fn load(source: &str) -> Result<Document, LoadError> {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let (url, text) = fetch_document(source)?;
        let mut doc = parse(url.as_str(), &text)?;
        doc.source = source.to_string();
        doc.fetched_from = Some(url);
        Ok(doc)
    } else {
        let path = Path::new(source);
        let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        parse(source, &text)
    }
}

/// Fetches `source`; when it is a bare base URL, or does not answer with a document and
/// does not name a file, looks for the document under it (see [`discover`]).
fn fetch_document(source: &str) -> Result<(url::Url, String), LoadError> {
    let url = url::Url::parse(source).map_err(|e| LoadError::Fetch {
        url: source.to_string(),
        message: format!("not a valid URL: {e}"),
    })?;
    let names_a_file = [".json", ".yaml", ".yml"]
        .iter()
        .any(|ext| url.path().to_ascii_lowercase().ends_with(ext));
    if url.path() == "/" || url.path().is_empty() {
        return discover(&url);
    }
    match fetch(&url) {
        // The documentation page itself (`init --openapi http://host/docs`).
        Ok(html) if !names_a_file && is_a_page(&html) && named_document(&html).is_some() => {
            let named = named_document(&html).expect("checked by the guard");
            let doc_url = url.join(&named).map_err(|e| LoadError::Fetch {
                url: url.to_string(),
                message: format!("the page names the document as `{named}`, not a URL: {e}"),
            })?;
            let text = fetch(&doc_url)?;
            Ok((doc_url, text))
        }
        Ok(text) if names_a_file || looks_like_a_document(&text) => Ok((url, text)),
        Err(e) if names_a_file => Err(e),
        first => discover(&url).or_else(|e| match first {
            Ok(text) => Ok((url, text)),
            Err(_) => Err(e),
        }),
    }
}

/// The document of the service at `base`: `openapi.json` under it (FastAPI's default),
/// else the document its `docs` or `redoc` page loads. FastAPI apps that move the
/// document (`openapi_url="/api/v1/openapi.json"`) keep those pages, and the pages name
/// the new place: Swagger UI as `url: '...'`, ReDoc as `spec-url="..."`.
fn discover(base: &url::Url) -> Result<(url::Url, String), LoadError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let under = |name: &str| {
        base.join(name)
            .expect("a relative file name joins any http URL")
    };
    let well_known = under(WELL_KNOWN);
    let first = match fetch(&well_known) {
        Ok(text) if looks_like_a_document(&text) => return Ok((well_known, text)),
        Ok(_) => "it answered something that is not an OpenAPI document".to_string(),
        Err(LoadError::Fetch { message, .. }) => message,
        Err(e) => e.to_string(),
    };
    for page in DOC_PAGES {
        let page_url = under(page);
        let Ok(html) = fetch(&page_url) else {
            continue;
        };
        let Some(named) = named_document(&html) else {
            continue;
        };
        let Ok(url) = page_url.join(&named) else {
            continue;
        };
        same_origin(&page_url, &url)?;
        let text = fetch(&url)?;
        return Ok((url, text));
    }
    Err(LoadError::Fetch {
        url: well_known.to_string(),
        message: format!(
            "{first}; and neither {} nor {} names the document's URL\nhelp: pass the \
             document's own URL (FastAPI: its `openapi_url`), or save it and pass the file",
            under(DOC_PAGES[0]),
            under(DOC_PAGES[1])
        ),
    })
}

/// Refuses a document the page names on another origin: an unconfigured Swagger UI names
/// the public petstore, and the load generated from it would point at the internet.
fn same_origin(page: &url::Url, named: &url::Url) -> Result<(), LoadError> {
    if page.origin() == named.origin() {
        return Ok(());
    }
    Err(LoadError::Fetch {
        url: page.to_string(),
        message: format!(
            "the page names a document on another origin, {named}, which barrage does not \
             follow (the load generated from it would go there)\nhelp: pass the document's \
             own URL (FastAPI: its `openapi_url`), or save it and pass the file"
        ),
    })
}

/// The document URL a Swagger UI or ReDoc page loads, as written in the page.
fn named_document(html: &str) -> Option<String> {
    let swagger =
        regex::Regex::new(r#"\burl\s*:\s*['"]([^'"]+)['"]"#).expect("a fixed, valid regex");
    let redoc =
        regex::Regex::new(r#"spec-url\s*=\s*['"]([^'"]+)['"]"#).expect("a fixed, valid regex");
    [swagger, redoc]
        .iter()
        .find_map(|r| r.captures(html))
        .map(|c| c[1].to_string())
}

/// An HTML page (a documentation page names the document; it is not one).
fn is_a_page(text: &str) -> bool {
    let start = text
        .trim_start()
        .get(..15)
        .unwrap_or("")
        .to_ascii_lowercase();
    start.starts_with("<!doctype html") || start.starts_with("<html")
}

fn looks_like_a_document(text: &str) -> bool {
    text.contains("openapi") || text.contains("swagger")
}

fn fetch(url: &url::Url) -> Result<String, LoadError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let error = |message: String| LoadError::Fetch {
        url: url.to_string(),
        message,
    };
    let mut response = agent
        .get(url.as_str())
        .header(
            "accept",
            "application/json, application/yaml;q=0.9, */*;q=0.5",
        )
        .call()
        .map_err(|e| match e {
            ureq::Error::StatusCode(code) => error(format!(
                "the server answered HTTP {code}; is this the document's URL?"
            )),
            other => error(other.to_string()),
        })?;
    response
        .body_mut()
        .read_to_string()
        .map_err(|e| error(format!("reading the body: {e}")))
}

/// Parses a document's text (JSON or YAML) and checks that it is OpenAPI 3.0 or 3.1.
pub fn parse(name: &str, text: &str) -> Result<Document, LoadError> {
    let root = parse_tree(name, text)?;
    let version_of = |key: &str| {
        root.get(key).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    if let Some(version) = version_of("swagger") {
        return Err(LoadError::Swagger {
            name: name.to_string(),
            version,
        });
    }
    let Some(version_text) = version_of("openapi") else {
        return Err(LoadError::NotOpenApi {
            name: name.to_string(),
        });
    };
    let version = if version_text.starts_with("3.0") {
        Version::V30
    } else if version_text.starts_with("3.1") {
        Version::V31
    } else {
        return Err(LoadError::UnsupportedVersion {
            name: name.to_string(),
            version: version_text,
        });
    };
    Ok(Document {
        root,
        version,
        version_text,
        source: name.to_string(),
        fetched_from: None,
    })
}

/// JSON when it looks like JSON (serde_json's errors give line and column), YAML otherwise
/// (a superset of JSON, with the scenario crate's located diagnostics).
fn parse_tree(name: &str, text: &str) -> Result<Value, LoadError> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| LoadError::Syntax {
            name: name.to_string(),
            detail: format!("  line {}, column {}: {e}", e.line(), e.column()),
        });
    }
    let file = SourceFile {
        name: name.to_string(),
        text: text.to_string(),
    };
    match barrage_scenario::to_json(&file) {
        Ok(Value::Object(map)) => Ok(Value::Object(map)),
        Ok(_) => Err(LoadError::Syntax {
            name: name.to_string(),
            detail: "  the document is not a mapping (an OpenAPI document starts with \
                     `openapi: 3.1.0`)"
                .to_string(),
        }),
        Err(diagnostics) => Err(LoadError::Syntax {
            name: name.to_string(),
            detail: barrage_scenario::render(&file, &diagnostics, false),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_kinds_are_told_apart() {
        let doc = parse("a.json", r#"{"openapi": "3.0.3", "paths": {}}"#).unwrap();
        assert_eq!(doc.version, Version::V30);
        let doc = parse("a.yaml", "openapi: 3.1.0\npaths: {}\n").unwrap();
        assert_eq!(doc.version, Version::V31);
        let e = parse("a.yaml", "swagger: '2.0'\npaths: {}\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("a.yaml is a Swagger 2.0 document"),
            "{e}"
        );
        let e = parse("a.yaml", "openapi: 4.0.0\n").unwrap_err();
        assert!(matches!(e, LoadError::UnsupportedVersion { .. }), "{e}");
        let e = parse("a.yaml", "info: {}\n").unwrap_err();
        assert!(matches!(e, LoadError::NotOpenApi { .. }), "{e}");
    }

    #[test]
    fn documentation_pages_name_the_document() {
        // As FastAPI 0.11x writes them (get_swagger_ui_html, get_redoc_html).
        let swagger = "const ui = SwaggerUIBundle({\n        url: '/api/v1/openapi.json',\n\"dom_id\": '#swagger-ui',";
        assert_eq!(
            named_document(swagger).as_deref(),
            Some("/api/v1/openapi.json")
        );
        let redoc = "<redoc spec-url=\"/api/v1/openapi.json\"></redoc>";
        assert_eq!(
            named_document(redoc).as_deref(),
            Some("/api/v1/openapi.json")
        );
        assert_eq!(named_document("<html>no document here</html>"), None);
    }

    #[test]
    fn only_same_origin_documents_are_followed() {
        let page = url::Url::parse("http://127.0.0.1:8000/docs").unwrap();
        let join = |named: &str| page.join(named).unwrap();
        assert!(same_origin(&page, &join("/api/v1/openapi.json")).is_ok());
        assert!(same_origin(&page, &join("http://127.0.0.1:8000/openapi.json")).is_ok());
        for other in [
            "https://petstore.swagger.io/v2/swagger.json",
            "http://127.0.0.1:9000/openapi.json",
            "https://127.0.0.1:8000/openapi.json",
        ] {
            let e = same_origin(&page, &join(other)).unwrap_err().to_string();
            assert!(e.contains("another origin"), "{e}");
            assert!(e.contains("help: pass the document's own URL"), "{e}");
        }
    }

    #[test]
    fn syntax_errors_are_located() {
        let e = parse(
            "a.json",
            "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {,}\n}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3, column"), "{e}");
        let e = parse("a.yaml", "openapi: 3.1.0\npaths: [\n").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("a.yaml is not valid JSON or YAML"),
            "{text}"
        );
        assert!(text.contains("a.yaml:"), "{text}");
    }
}

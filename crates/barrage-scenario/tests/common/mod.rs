//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use barrage_scenario::{line_col, parse, Diagnostic, Scenario, SourceFile};

pub fn source(text: &str) -> SourceFile {
    SourceFile {
        name: "scenario.yaml".into(),
        text: text.into(),
    }
}

pub fn ok(text: &str) -> Scenario {
    match parse(&source(text)) {
        Ok((scenario, _)) => scenario,
        Err(diags) => panic!(
            "expected a valid scenario:\n{}",
            barrage_scenario::render(&source(text), &diags, false)
        ),
    }
}

pub fn errors(text: &str) -> Vec<Diagnostic> {
    match parse(&source(text)) {
        Ok((scenario, _)) => panic!("expected errors, parsed {scenario:#?}"),
        Err(diags) => diags,
    }
}

/// A located diagnostic, for assertions.
#[derive(Debug)]
pub struct Found {
    pub message: String,
    pub line: usize,
    pub col: usize,
    pub help: Option<String>,
    pub snippet: String,
}

/// The one error whose message contains `message`; fails when there is none or several.
pub fn error(text: &str, message: &str) -> Found {
    let diags = errors(text);
    let matching: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| d.message.contains(message))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "want one error containing {message:?}, got:\n{}",
        barrage_scenario::render(&source(text), &diags, false)
    );
    let d = matching[0];
    let (line, col) = line_col(text, d.span.start);
    Found {
        message: d.message.clone(),
        line,
        col,
        help: d.help.clone(),
        snippet: text[d.span.start..d.span.end].to_string(),
    }
}

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The YAML files directly in `dir`, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    files
}

/// Every valid fixture and every example scenario in the workspace. Examples hold other
/// YAML too (a CI workflow), so there only files named `scenario*.yaml` count.
pub fn valid_scenarios() -> Vec<PathBuf> {
    let mut files = yaml_files(&crate_dir().join("tests/fixtures/valid"));
    let examples = crate_dir().join("../../examples");
    if let Ok(dirs) = std::fs::read_dir(&examples) {
        let mut dirs: Vec<PathBuf> = dirs.filter_map(|e| e.ok().map(|e| e.path())).collect();
        dirs.sort();
        for dir in dirs.into_iter().filter(|d| d.is_dir()) {
            files.extend(yaml_files(&dir).into_iter().filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("scenario"))
            }));
        }
    }
    files
}

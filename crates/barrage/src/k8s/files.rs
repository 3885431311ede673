//! The files a scenario needs beside itself: its `data:` tables and its multipart `file:`
//! parts, found in the parsed scenario, each under the path the scenario gives it (relative
//! to the scenario file, as the compiler reads them). In the pods the scenario sits in a
//! folder of its own and each file at the same relative path, so the scenario runs there
//! unchanged.
//!
//! A path that leaves the scenario's folder (`../x.csv`) or is absolute cannot be laid out
//! that way (a ConfigMap volume's paths may not contain `..`, and the pod has no such
//! absolute path), so it is refused with the fix.

use std::path::{Component, Path};

use barrage_scenario::{Body, FileSource, MultipartPart, Scenario, Step};

/// A file the scenario refers to, as it will sit beside the scenario in the pod.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioFile {
    /// Relative to the scenario's folder, `/`-separated, without `.` parts.
    pub path: String,
    /// Where the scenario refers to it (`data: users`, `multipart file`), for messages.
    pub used_by: String,
}

/// Every file the scenario refers to, once each, in file order. `Err` says which path
/// cannot be carried into the pods and what to do.
pub fn referenced(scenario: &Scenario) -> Result<Vec<ScenarioFile>, String> {
    let mut found: Vec<ScenarioFile> = Vec::new();
    let mut add = |written: &str, used_by: String| -> Result<(), String> {
        let path = pod_path(written).map_err(|why| {
            format!(
                "{used_by}: the file `{written}` {why}; the pods hold the scenario's folder \
                 only (help: move the file beside the scenario, or below it, and refer to it \
                 by a relative path)"
            )
        })?;
        if !found.iter().any(|f| f.path == path) {
            found.push(ScenarioFile { path, used_by });
        }
        Ok(())
    };
    for d in &scenario.data {
        add(&d.file.value, format!("data: {}", d.name.value))?;
    }
    let users = scenario
        .users
        .iter()
        .chain(scenario.scenarios.iter().flat_map(|s| s.users.iter()));
    for user in users {
        let steps = user
            .setup
            .iter()
            .chain(user.tasks.iter().flat_map(|t| t.steps.iter()));
        for step in steps {
            let Step::Request(r) = step else { continue };
            let Some(Body::Multipart(fields)) = &r.body else {
                continue;
            };
            for field in fields {
                if let MultipartPart::File(part) = &field.part {
                    if let FileSource::Path(p) = &part.source {
                        add(
                            &p.value,
                            format!("multipart file part `{}`", field.name.value),
                        )?;
                    }
                }
            }
        }
    }
    Ok(found)
}

/// `written` as a path below the scenario's folder: `./data/../users.csv` is refused (it
/// leaves the folder on the way), `./data/users.csv` becomes `data/users.csv`.
fn pod_path(written: &str) -> Result<String, &'static str> {
    let mut parts = Vec::new();
    for c in Path::new(written).components() {
        match c {
            Component::Normal(p) => match p.to_str() {
                Some(s) => parts.push(s),
                None => return Err("is not UTF-8"),
            },
            Component::CurDir => {}
            Component::ParentDir => return Err("is outside the scenario's folder"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    if parts.is_empty() {
        return Err("names no file");
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use barrage_scenario::SourceFile;

    fn parse(text: &str) -> Scenario {
        let file = SourceFile {
            name: "s.yaml".into(),
            text: text.into(),
        };
        barrage_scenario::parse(&file).expect("a valid scenario").0
    }

    #[test]
    fn finds_data_tables_and_multipart_files_once_each_in_file_order() {
        let s = parse(
            "target: http://127.0.0.1:1\n\
             data:\n  users: { file: ./data/users.csv }\n  items: { file: items.json }\n\
             tasks:\n  t:\n    - post: /upload\n      multipart:\n        \
             photo: { file: img/p.png }\n        again: { file: data/users.csv }\n",
        );
        let paths: Vec<_> = referenced(&s)
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        assert_eq!(paths, ["data/users.csv", "items.json", "img/p.png"]);
    }

    #[test]
    fn refuses_paths_outside_the_scenario_folder() {
        let s = parse(
            "target: http://127.0.0.1:1\ndata:\n  users: { file: ../users.csv }\n\
             tasks:\n  t:\n    - get: /\n",
        );
        let e = referenced(&s).unwrap_err();
        assert!(e.contains("data: users"), "{e}");
        assert!(e.contains("outside the scenario's folder"), "{e}");
        assert_eq!(pod_path("/etc/x.csv"), Err("is an absolute path"));
        assert_eq!(pod_path("a/./b.csv"), Ok("a/b.csv".into()));
    }
}

//! Endpoints and tasks that never ran are listed at the end of the terminal summary and in
//! the result file's `never_ran`, with why (issue #19 item 5). Load goes to a demo target
//! on 127.0.0.1, bounded by an iteration count.

mod common;

use common::{read_json, run_scenario, stderr, write};

use barrage_target::{DemoOptions, DemoTarget};

/// 12 user types of equal weight: with 10 users, types 11 and 12 get none. User type
/// `u01`'s second task weighs 1 against 100_000, so in 20 iterations it is all but never
/// picked.
fn scenario() -> String {
    let mut text = String::from("users:\n");
    for i in 1..=12 {
        text.push_str(&format!("  u{i:02}:\n    tasks:\n"));
        text.push_str(&format!("      t{i:02}:\n        weight: 100000\n"));
        text.push_str(&format!(
            "        steps:\n          - get: /items/a{i:02}\n"
        ));
        if i == 1 {
            text.push_str(
                "      rare:\n        weight: 1\n        steps:\n          - get: /rare\n",
            );
        }
    }
    text
}

#[test]
fn the_summary_lists_what_never_ran_and_why() {
    let target = DemoTarget::start(DemoOptions::no_delay()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.yaml", &scenario());
    let json = dir.path().join("out.json");
    let o = run_scenario(
        &path,
        &["-u", "10", "--iterations", "20"],
        target.url(),
        &json,
    );
    let err = stderr(&o);
    let doc = read_json(&json);
    let got: Vec<(String, String)> = doc["never_ran"]
        .as_array()
        .unwrap_or_else(|| panic!("no never_ran in the result\n{err}"))
        .iter()
        .map(|n| {
            (
                n["what"].as_str().unwrap().to_owned(),
                n["why"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let no_user = |u: &str| {
        format!(
            "user type `{u}` got no user: 10 users over 12 user types, and its weight is too \
             small for that many users"
        )
    };
    let users_u01 = doc["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task"] == "t01")
        .unwrap()["iterations"]
        .as_u64()
        .unwrap();
    let want = [
        (
            "task rare of user u01".to_owned(),
            format!(
                "its weight (1 of 100001) is too small for the {users_u01} iterations user \
                 type `u01` ran"
            ),
        ),
        (
            "GET /rare (task rare of user u01)".to_owned(),
            "its task `rare` never ran".to_owned(),
        ),
        ("task t11 of user u11".to_owned(), no_user("u11")),
        (
            "GET /items/a11 (task t11 of user u11)".to_owned(),
            "its task `t11` never ran".to_owned(),
        ),
        ("task t12 of user u12".to_owned(), no_user("u12")),
        (
            "GET /items/a12 (task t12 of user u12)".to_owned(),
            "its task `t12` never ran".to_owned(),
        ),
    ];
    assert_eq!(got, want, "{err}");
    let section = &err[err.find("Never ran\n").unwrap_or_else(|| panic!("{err}"))..];
    for (what, why) in &want {
        assert!(section.contains(&format!("{what}: {why}\n")), "{section}");
    }
    // `report` shows the same list from the saved file.
    let o = common::run(common::barrage().arg("report").arg(&json));
    let shown = stderr(&o);
    for (what, why) in &want {
        assert!(shown.contains(&format!("{what}: {why}\n")), "{shown}");
    }
}

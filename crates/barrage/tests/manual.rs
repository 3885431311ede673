//! `barrage completions SHELL` and `barrage man`: generated from the same clap definition as
//! the parser, so they name the real commands and flags (the wheel ships their output).

mod common;

use std::time::Duration;

use common::{barrage, run_with_timeout};

fn stdout_of(args: &[&str]) -> String {
    let out = run_with_timeout(barrage().args(args), Duration::from_secs(30)).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn completions_name_the_commands_and_their_flags() {
    let bash = stdout_of(&["completions", "bash"]);
    assert!(
        bash.contains("_barrage()") && bash.contains("complete -F _barrage"),
        "{bash}"
    );
    for word in [
        "run",
        "hit",
        "init",
        "--from-app",
        "--threshold",
        "completions",
        "man",
    ] {
        assert!(bash.contains(word), "bash lacks {word}");
    }
    let zsh = stdout_of(&["completions", "zsh"]);
    assert!(zsh.starts_with("#compdef barrage"), "{zsh}");
    let fish = stdout_of(&["completions", "fish"]);
    assert!(
        fish.contains("complete -c barrage") && fish.contains("from-app"),
        "{fish}"
    );
    let powershell = stdout_of(&["completions", "powershell"]);
    assert!(
        powershell.contains("Register-ArgumentCompleter"),
        "{powershell}"
    );

    let out = run_with_timeout(
        barrage().args(["completions", "tcsh"]),
        Duration::from_secs(30),
    )
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: bash"));
}

#[test]
fn man_prints_barrage_1_and_writes_a_page_per_command() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH barrage 1"), "{page}");
    assert!(page.contains("barrage\\-init(1)"), "{page}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    stdout_of(&["man", "--dir", dir.to_str().unwrap()]);
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // One page per command `barrage --help` lists (but `help`), and barrage.1.
    let help = stdout_of(&["--help"]);
    let mut wanted: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command's line is indented by two; its wrapped description, by more.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(|name| format!("barrage-{name}.1"))
        .chain(["barrage.1".to_string()])
        .collect();
    wanted.sort();
    assert_eq!(pages, wanted);
    for known in [
        "barrage-run.1",
        "barrage-init.1",
        "barrage-completions.1",
        "barrage-man.1",
    ] {
        assert!(pages.iter().any(|p| p == known), "{known} in {pages:?}");
    }
    let init = std::fs::read_to_string(dir.join("barrage-init.1")).unwrap();
    assert!(init.contains("from\\-app"), "{init}");
}

//! `barrage init --openapi URL|FILE` (or `--from-app module:app`): writes a scenario from the
//! service's OpenAPI document. The generation lives in `barrage-openapi`, and so does
//! reading the document from either source; this file reads the flags, checks that what
//! was generated compiles (the promise is a file that runs as written), writes it, and
//! turns problems into messages and exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use barrage_openapi::{Filter, Options, Selection, Weights};
use barrage_scenario::SourceFile;
use clap::{ArgGroup, Args};

use crate::exit;

/// The arguments of `barrage init`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("document").required(true).args(["openapi", "from_app"])))]
pub struct InitArgs {
    /// The OpenAPI 3.0/3.1 document (JSON or YAML): a file, a URL, or the service's base URL
    /// (then `/openapi.json` is fetched, where FastAPI serves it).
    #[arg(long, value_name = "URL|FILE")]
    pub openapi: Option<String>,
    /// Read the document from the FastAPI app object itself, without starting a server:
    /// `module:attribute` as uvicorn takes it (`app.main:app`), imported from the current
    /// directory by the project's Python.
    #[arg(long, value_name = "MODULE:APP")]
    pub from_app: Option<String>,
    /// The Python that imports the app for --from-app (default: `python3` on PATH, so the
    /// active virtualenv's).
    #[arg(long, value_name = "PATH", requires = "from_app")]
    pub python: Option<OsString>,
    /// How long --from-app waits for the app to import and give its document before it
    /// stops the Python and says so.
    #[arg(long, value_name = "SECONDS", requires = "from_app",
          default_value_t = barrage_openapi::DEFAULT_APP_TIMEOUT.as_secs())]
    pub import_timeout: u64,
    /// Where to write the scenario; `-` for stdout.
    #[arg(
        short = 'o',
        long,
        value_name = "PATH",
        default_value = "scenario.yaml"
    )]
    pub output: PathBuf,
    /// Task weight by method; the methods not given keep their default.
    #[arg(
        long,
        value_name = "METHOD=N,...",
        default_value = "get=10,post=2,put=1,patch=1,delete=1"
    )]
    pub weights: String,
    /// Only these operations: a tag or operationId, a path pattern starting with `/` (`*`
    /// matches anything), a method in capitals (`GET`), or one method on a path (`'PATCH
    /// /users/me'`). Repeatable; any match includes. One that matches nothing is an error.
    #[arg(long, value_name = "TAG|ID|/PATH*|METHOD|'METHOD /PATH'")]
    pub include: Vec<String>,
    /// Leave these operations out (same forms as --include). Repeatable; one that matches
    /// nothing is an error.
    #[arg(long, value_name = "TAG|ID|/PATH*|METHOD|'METHOD /PATH'")]
    pub exclude: Vec<String>,
    /// Think time between iterations written into the file's `defaults` (`1s`,
    /// `0.5s..1.5s`, `none`).
    #[arg(long, value_name = "DURATION|A..B|none", default_value = barrage_openapi::DEFAULT_THINK)]
    pub think: String,
    /// Also write tasks for operations marked `deprecated`.
    #[arg(long)]
    pub include_deprecated: bool,
    /// Add checks that each response's status is one the document lists and that its JSON
    /// body matches the documented schema.
    #[arg(long)]
    pub check_responses: bool,
    /// Replace the output file when it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn init(args: InitArgs) -> u8 {
    match try_init(&args) {
        Ok(()) => exit::OK,
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

fn try_init(args: &InitArgs) -> Result<(), String> {
    let to_stdout = args.output.as_os_str() == "-";
    if !to_stdout && args.output.exists() && !args.force {
        return Err(format!(
            "{} exists\nhelp: pass --force to replace it, or -o to write elsewhere",
            args.output.display()
        ));
    }
    let weights = Weights::parse(&args.weights).map_err(|e| e.to_string())?;
    check_think(&args.think)?;
    let opts = Options {
        selection: Selection {
            include: args.include.iter().map(|f| Filter::parse(f)).collect(),
            exclude: args.exclude.iter().map(|f| Filter::parse(f)).collect(),
            include_deprecated: args.include_deprecated,
        },
        weights,
        check_responses: args.check_responses,
        command: command_line(args),
        think: Some(args.think.clone()),
    };
    let doc = match (&args.openapi, &args.from_app) {
        (Some(source), _) => barrage_openapi::load(source),
        (None, Some(app)) => barrage_openapi::load_from_app(
            app,
            args.python.as_ref(),
            std::time::Duration::from_secs(args.import_timeout),
        ),
        (None, None) => unreachable!("clap requires one of --openapi and --from-app"),
    }
    .map_err(|e| e.to_string())?;
    if let Some(url) = doc
        .fetched_from
        .as_ref()
        .filter(|u| Some(u.as_str()) != args.openapi.as_deref())
    {
        eprintln!("found the document at {url}");
    }
    let out = barrage_openapi::generate(&doc, &opts).map_err(|e| e.to_string())?;
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    let name = if to_stdout {
        "scenario.yaml".into()
    } else {
        args.output.display().to_string()
    };
    check_compiles(&name, &out.yaml)?;
    if to_stdout {
        std::io::stdout()
            .write_all(out.yaml.as_bytes())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
    } else {
        write(&args.output, &out.yaml)?;
    }
    let runnable = out.tasks - out.left_out;
    let written = if to_stdout { "standard output" } else { &name };
    eprintln!(
        "wrote {written}: {runnable} task(s) from {} (OpenAPI {}){}",
        doc.source,
        doc.version_text,
        if out.left_out > 0 {
            format!(
                "; {} left out, commented out in the file (see the warnings)",
                out.left_out
            )
        } else {
            String::new()
        }
    );
    if !out.env.is_empty() {
        eprintln!("set the credentials first: {}", out.env.join(", "));
    }
    eprintln!(
        "next: barrage run {name} --debug    (one user, every task once, every request shown)"
    );
    Ok(())
}

/// The generated text must parse and compile; if it does not, that is barrage's bug, and
/// the diagnostics say where.
fn check_compiles(name: &str, yaml: &str) -> Result<(), String> {
    let file = SourceFile {
        name: name.to_string(),
        text: yaml.to_string(),
    };
    // Credentials are `env("NAME")` with no default, read when a scenario compiles: the
    // check stands a placeholder in for each, so it needs none of them set.
    let file = SourceFile {
        text: barrage_openapi::placeholder_credentials(&file.text),
        ..file
    };
    let compiled = barrage_scenario::parse(&file).and_then(|(scenario, _)| {
        barrage_engine::compile(&scenario, &file, &Default::default()).map(|_| ())
    });
    compiled.map_err(|diagnostics| {
        format!(
            "the generated scenario does not compile (a bug in barrage init; please report \
             it with the document):\n{}",
            barrage_scenario::render(&file, &diagnostics, false)
        )
    })
}

/// `--think`: what a scenario's `think` accepts (a duration, a range, `none`), checked
/// here so a mistake is the flag's error rather than the generated file's.
/// `--think`: `none`, a duration, or one range `LOW..HIGH`. A think time of zero is
/// written `none`, so `0s` (or `0s..0s`) is refused rather than read as "no think".
fn check_think(text: &str) -> Result<(), String> {
    if text == "none" {
        return Ok(());
    }
    let help = "help: write a duration (`1s`), a range (`0.5s..1.5s`) or `none`";
    let parse = |part: &str| {
        barrage_scenario::parse_duration(part.trim())
            .map_err(|e| format!("--think {text}: {e}\n{help}"))
    };
    let high = match text.split_once("..") {
        Some((low, high)) => {
            let (low, high) = (parse(low)?, parse(high)?);
            if low > high {
                return Err(format!(
                    "--think {text}: the range runs backwards (its low end is above its high end)\n{help}"
                ));
            }
            high
        }
        None => parse(text)?,
    };
    if high.is_zero() {
        return Err(format!(
            "--think {text}: a think time of zero is written `none`\nhelp: pass `--think none`"
        ));
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn command_line(args: &InitArgs) -> String {
    let mut parts = vec![match (&args.openapi, &args.from_app) {
        (Some(source), _) => format!("barrage init --openapi {source}"),
        (None, app) => format!("barrage init --from-app {}", app.as_deref().unwrap_or("")),
    }];
    for i in &args.include {
        parts.push(format!("--include {i}"));
    }
    for e in &args.exclude {
        parts.push(format!("--exclude {e}"));
    }
    if args.include_deprecated {
        parts.push("--include-deprecated".into());
    }
    if args.check_responses {
        parts.push("--check-responses".into());
    }
    if args.think != barrage_openapi::DEFAULT_THINK {
        parts.push(format!("--think {}", args.think));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_is_none_a_duration_or_one_range() {
        assert!(check_think("none").is_ok());
        assert!(check_think("1s").is_ok());
        assert!(check_think("0s..1s").is_ok());
        let three = check_think("0.5s..1s..2s").unwrap_err();
        assert!(three.starts_with("--think 0.5s..1s..2s:"), "{three}");
        for zero in ["0s", "0s..0s"] {
            let e = check_think(zero).unwrap_err();
            assert!(e.contains("a think time of zero is written `none`"), "{e}");
        }
        assert!(check_think("2s..1s").unwrap_err().contains("backwards"));
    }
}

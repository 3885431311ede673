//! Getting the document from the app object itself (`barrage init --from-app app.main:app`):
//! the project's Python imports the app, as uvicorn would (the current directory first on
//! `sys.path`), and prints what `app.openapi()` returns, without starting a server.
//!
//! Why a child process and not an embedded interpreter: the app must be imported by the
//! project's own Python, with its virtualenv and its packages, whichever version that is;
//! linking one libpython into barrage would fix the version and load nothing of the venv.
//!
//! The child tells its failures apart by exit code (see [`READ_APP`]), so each one gets a
//! message that says what to change; whatever the app prints while it is imported goes to
//! stderr, so standard output holds the document alone.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::process::{Command, Stdio};

use crate::document::Document;
use crate::error::LoadError;

/// Run by the project's Python with the target (`module:attribute`, checked before) as its
/// argument. Exit codes: 0 the document on stdout; 11 the module did not import; 12 no such attribute; 13 the object has no `openapi()` (not a
/// FastAPI app); 14 `openapi()` raised; 15 its value is not JSON. The last line of stderr
/// says what happened.
const READ_APP: &str = r#"
import importlib, json, os, sys, traceback
sys.path.insert(0, os.getcwd())
out, sys.stdout = sys.stdout, sys.stderr
target = sys.argv[1]
module_name, _, attribute = target.partition(":")
try:
    obj = importlib.import_module(module_name)
except BaseException as e:
    # The target itself missing needs no traceback; an error inside the app does.
    missing = isinstance(e, ModuleNotFoundError) and module_name.startswith(e.name or "?")
    if missing:
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    else:
        traceback.print_exc()
    sys.exit(11)
for part in attribute.split("."):
    if not hasattr(obj, part):
        print("%s has no attribute %r" % (getattr(obj, "__name__", type(obj).__name__), part), file=sys.stderr)
        sys.exit(12)
    obj = getattr(obj, part)
if not callable(getattr(obj, "openapi", None)):
    kind = type(obj)
    print(kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__), file=sys.stderr)
    sys.exit(13)
try:
    document = obj.openapi()
except BaseException:
    traceback.print_exc()
    sys.exit(14)
try:
    text = json.dumps(document)
except (TypeError, ValueError) as e:
    print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    sys.exit(15)
out.write(text)
out.flush()
"#;

/// The Python used when none is given: the one a virtualenv's activation puts first on
/// PATH, under the name every Python 3 install provides.
#[cfg(unix)]
pub const DEFAULT_PYTHON: &str = "python3";
/// Windows installs and venvs name it `python.exe`; `python3` there is often the store stub.
#[cfg(not(unix))]
pub const DEFAULT_PYTHON: &str = "python";

/// Imports `target` (`module:attribute`, as uvicorn takes it) with `python` in the current
/// directory and reads the app's OpenAPI document from `app.openapi()`.
pub fn load_from_app(target: &str, python: Option<&OsString>) -> Result<Document, LoadError> {
    let well_formed = target
        .split_once(':')
        .is_some_and(|(module, attribute)| !module.is_empty() && !attribute.is_empty());
    if !well_formed {
        return Err(LoadError::AppTarget {
            target: target.to_string(),
        });
    }
    let python = python.cloned().unwrap_or_else(|| DEFAULT_PYTHON.into());
    let shown = python.to_string_lossy().into_owned();
    let output = Command::new(&python)
        .args(["-c", READ_APP, target])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LoadError::Python {
            python: shown.clone(),
            message: if e.kind() == ErrorKind::NotFound {
                "not found".to_string()
            } else {
                e.to_string()
            },
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last_line = stderr.lines().rev().find(|l| !l.trim().is_empty());
    let detail = last_line
        .unwrap_or("(nothing on stderr)")
        .trim()
        .to_string();
    let target = target.to_string();
    match output.status.code() {
        Some(0) => {
            let text = String::from_utf8_lossy(&output.stdout);
            let mut doc = crate::source::parse(&format!("{target} (app.openapi())"), &text)?;
            doc.source = target;
            Ok(doc)
        }
        Some(11) => Err(LoadError::AppImport {
            target,
            python: shown,
            traceback: stderr.trim_end().to_string(),
        }),
        Some(12) => Err(LoadError::AppAttribute { target, detail }),
        Some(13) => Err(LoadError::NotFastApi {
            target,
            type_name: detail,
        }),
        Some(14 | 15) => Err(LoadError::AppOpenApi {
            target,
            traceback: stderr.trim_end().to_string(),
        }),
        _ => Err(LoadError::Python {
            python: shown,
            message: format!(
                "it ended with {} while importing {target}: {detail}",
                output.status
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_without_module_and_attribute_is_refused_before_python_runs() {
        // The Python named here does not exist: the target is judged first.
        let nowhere = OsString::from("/no/such/python");
        for target in ["app", "app:", ":app", ""] {
            match load_from_app(target, Some(&nowhere)) {
                Err(LoadError::AppTarget { target: t }) => assert_eq!(t, target),
                other => panic!("{target:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_python_is_named_with_the_fix() {
        let nowhere = OsString::from("/no/such/python");
        let e = load_from_app("app.main:app", Some(&nowhere)).unwrap_err();
        let message = e.to_string();
        assert!(
            message.starts_with("cannot run the Python `/no/such/python`: not found\nhelp: "),
            "{message}"
        );
    }
}

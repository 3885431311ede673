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
use std::io::{ErrorKind, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::document::Document;
use crate::error::LoadError;

/// Run by the project's Python with the target (`module:attribute`, checked before) as its
/// argument. Exit codes: 0 the document on stdout; 11 the target module itself was not
/// found; 16 importing it raised (a missing dependency of the app is this one); 12 no such
/// attribute; 13 the object has no `openapi()` (not a FastAPI app); 14 `openapi()` raised;
/// 15 its value is not JSON. The last line of stderr says what happened.
///
/// Every exit is `os._exit`: an app that starts a thread that is not a daemon at import
/// (a scheduler, a client's background flusher) would otherwise keep the interpreter alive
/// after the document is written, since a normal exit joins those threads.
const READ_APP: &str = r#"
import importlib, json, os, sys, traceback
def leave(code):
    sys.stderr.flush()
    os._exit(code)
sys.path.insert(0, os.getcwd())
out, sys.stdout = sys.stdout, sys.stderr
target = sys.argv[1]
module_name, _, attribute = target.partition(":")
try:
    obj = importlib.import_module(module_name)
except BaseException as e:
    # The target itself (or a package on its way) missing needs no traceback; a module
    # missing inside the app, or any other error there, does.
    name = getattr(e, "name", None) if isinstance(e, ModuleNotFoundError) else None
    if name and (module_name == name or module_name.startswith(name + ".")):
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        leave(11)
    traceback.print_exc()
    leave(16)
for part in attribute.split("."):
    if not hasattr(obj, part):
        print("%s has no attribute %r" % (getattr(obj, "__name__", type(obj).__name__), part), file=sys.stderr)
        leave(12)
    obj = getattr(obj, part)
if not callable(getattr(obj, "openapi", None)):
    kind = type(obj)
    print(kind.__qualname__ if kind.__module__ == "builtins" else "%s.%s" % (kind.__module__, kind.__qualname__), file=sys.stderr)
    leave(13)
try:
    document = obj.openapi()
except BaseException:
    traceback.print_exc()
    leave(14)
try:
    text = json.dumps(document)
except (TypeError, ValueError) as e:
    print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
    leave(15)
out.write(text)
out.flush()
leave(0)
"#;

/// The Python used when none is given: the one a virtualenv's activation puts first on
/// PATH, under the name every Python 3 install provides.
#[cfg(unix)]
pub const DEFAULT_PYTHON: &str = "python3";
/// Windows installs and venvs name it `python.exe`; `python3` there is often the store stub.
#[cfg(not(unix))]
pub const DEFAULT_PYTHON: &str = "python";

/// How long the import and `openapi()` may take when the caller does not say: far more than
/// any app needs to import, short enough that an app blocking at import (a server started
/// there, a connection that never answers) is reported instead of waited on forever.
pub const DEFAULT_APP_TIMEOUT: Duration = Duration::from_secs(60);

/// Imports `target` (`module:attribute`, as uvicorn takes it) with `python` in the current
/// directory and reads the app's OpenAPI document from `app.openapi()`; the Python is
/// killed if it has not finished within `timeout`.
pub fn load_from_app(
    target: &str,
    python: Option<&OsString>,
    timeout: Duration,
) -> Result<Document, LoadError> {
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
    let child = Command::new(&python)
        .args(["-c", READ_APP, target])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| LoadError::Python {
            python: shown.clone(),
            message: if e.kind() == ErrorKind::NotFound {
                "not found".to_string()
            } else {
                e.to_string()
            },
        })?;
    let Some(output) = wait_with_deadline(child, timeout).map_err(|e| LoadError::Python {
        python: shown.clone(),
        message: e.to_string(),
    })?
    else {
        return Err(LoadError::AppTimeout {
            target: target.to_string(),
            seconds: timeout.as_secs_f64(),
        });
    };
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
        Some(16) => Err(LoadError::AppImportRaised {
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

/// What the child wrote and how it ended.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Waits for `child` until `timeout`, reading its pipes meanwhile (a document larger than a
/// pipe's buffer would otherwise block it); `None` when it was still running and has been
/// killed.
fn wait_with_deadline(mut child: Child, timeout: Duration) -> std::io::Result<Option<Finished>> {
    fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                // A read error ends the text early; the exit code still says what happened.
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            // Killing the child closes its pipes (unless it forked a process that keeps
            // them, whose output is then not waited for): the readers are left detached.
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    };
    let joined = |h: thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    Ok(Some(Finished {
        status,
        stdout: joined(stdout),
        stderr: joined(stderr),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_without_module_and_attribute_is_refused_before_python_runs() {
        // The Python named here does not exist: the target is judged first.
        let nowhere = OsString::from("/no/such/python");
        for target in ["app", "app:", ":app", ""] {
            match load_from_app(target, Some(&nowhere), DEFAULT_APP_TIMEOUT) {
                Err(LoadError::AppTarget { target: t }) => assert_eq!(t, target),
                other => panic!("{target:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_missing_python_is_named_with_the_fix() {
        let nowhere = OsString::from("/no/such/python");
        let e = load_from_app("app.main:app", Some(&nowhere), DEFAULT_APP_TIMEOUT).unwrap_err();
        let message = e.to_string();
        assert!(
            message.starts_with("cannot run the Python `/no/such/python`: not found\nhelp: "),
            "{message}"
        );
    }
}

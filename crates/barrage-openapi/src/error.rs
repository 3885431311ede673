//! Errors: a document that cannot be used at all ([`LoadError`], [`InitError`]), and the
//! per-operation problems ([`RefError`], [`GenError`]) that only leave one task out.

use std::path::PathBuf;

/// The document could not be read, fetched or understood.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot fetch {url}: {message}")]
    Fetch { url: String, message: String },
    /// Not JSON or YAML; `detail` is the parser's located message, ready to print.
    #[error("{name} is not valid JSON or YAML:\n{detail}")]
    Syntax { name: String, detail: String },
    #[error(
        "{name} is a Swagger {version} document; barrage reads OpenAPI 3.0 and 3.1\n\
         help: convert it first, e.g. `npx swagger2openapi {name} -o openapi.yaml`, or \
         serve OpenAPI 3 (FastAPI always does, at /openapi.json)"
    )]
    Swagger { name: String, version: String },
    #[error(
        "{name} is not an OpenAPI document: it has no `openapi` field\n\
         help: point --openapi at the service's OpenAPI JSON or YAML (FastAPI serves it at \
         /openapi.json)"
    )]
    NotOpenApi { name: String },
    #[error(
        "{name} is OpenAPI {version}; barrage reads 3.0.x and 3.1.x\n\
         help: if the document really follows 3.0 or 3.1, correct its `openapi` field"
    )]
    UnsupportedVersion { name: String, version: String },
    /// `--from-app`: the Python could not be started, or died without saying why.
    #[error(
        "cannot run the Python `{python}`: {message}\n\
         help: activate the project's virtualenv, or pass --python path/to/venv/bin/python"
    )]
    Python { python: String, message: String },
    #[error(
        "--from-app {target}: not an app's place\n\
         help: write the app as `module:attribute`, as uvicorn takes it (`app.main:app`)"
    )]
    AppTarget { target: String },
    /// The target module itself was not found; `traceback` is Python's one-line error.
    #[error(
        "--from-app {target}: the module was not found by `{python}`:\n\
         {traceback}\n\
         help: run barrage from the directory uvicorn is run from (it is put first on \
         sys.path), with the project's virtualenv active or --python pointing at its Python"
    )]
    AppImport {
        target: String,
        python: String,
        traceback: String,
    },
    /// The module was found but importing it raised (a package it imports missing, a
    /// setting it reads at import): `traceback` is what Python printed.
    #[error(
        "--from-app {target}: importing the app with `{python}` failed:\n\
         {traceback}\n\
         help: fix the error above as for `uvicorn {target}`; if it names a missing \
         package, install it into the project's virtualenv or pass --python with that \
         virtualenv's Python"
    )]
    AppImportRaised {
        target: String,
        python: String,
        traceback: String,
    },
    /// The Python was still running at the deadline and was killed.
    #[error(
        "--from-app {target}: the app did not finish importing in {seconds} s\n\
         help: something at import keeps it busy (a server or a blocking connection started \
         at import time); start such things in the app's startup handler, or give it longer \
         with --import-timeout"
    )]
    AppTimeout { target: String, seconds: f64 },
    #[error(
        "--from-app {target}: {detail}\n\
         help: name the object that holds the app, as in `uvicorn {target}`"
    )]
    AppAttribute { target: String, detail: String },
    #[error(
        "--from-app {target}: that is a {type_name}, not a FastAPI app (it has no `openapi()` \
         method)\n\
         help: point at the FastAPI() object; for another framework, serve its OpenAPI \
         document and use --openapi URL|FILE"
    )]
    NotFastApi { target: String, type_name: String },
    #[error(
        "--from-app {target}: the app's openapi() failed:\n\
         {traceback}\n\
         help: the same error shows at the app's /openapi.json; fix the model or route it names"
    )]
    AppOpenApi { target: String, traceback: String },
}

/// The document was read but no scenario can be made from it.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0}")]
    Options(String),
    #[error(
        "no operation to write: {0}\n\
         help: check --include/--exclude, or add --include-deprecated"
    )]
    NothingSelected(String),
    #[error("no operation of the document could be turned into a request:\n{0}")]
    NothingUsable(String),
    #[error(transparent)]
    Unmatched(#[from] UnmatchedFilter),
}

/// A `$ref` that does not lead anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefError {
    /// JSON pointer of the place that holds the reference.
    pub at: String,
    pub reference: String,
    pub message: String,
}

impl std::fmt::Display for RefError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`$ref: {}` at {} does not resolve: {}",
            self.reference, self.at, self.message
        )
    }
}

/// Why no valid value could be generated for a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenError {
    /// A reference back into a schema being generated, with nothing to stop the recursion
    /// (a required property all the way down). An optional place just leaves it out.
    Recursive {
        at: String,
        reference: String,
    },
    /// Constraints no value meets (`minimum` above `maximum`, a pattern that cannot be
    /// generated from, ...).
    Unsatisfiable {
        at: String,
        message: String,
    },
    Ref(RefError),
}

impl GenError {
    pub fn unsatisfiable(at: &str, message: impl Into<String>) -> GenError {
        GenError::Unsatisfiable {
            at: at.to_string(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GenError::Recursive { at, reference } => write!(
                f,
                "{at}: `{reference}` refers back to itself through required properties, so \
                 no finite value exists; make one link optional or nullable"
            ),
            GenError::Unsatisfiable { at, message } => write!(f, "{at}: {message}"),
            GenError::Ref(e) => e.fmt(f),
        }
    }
}

impl From<RefError> for GenError {
    fn from(e: RefError) -> Self {
        GenError::Ref(e)
    }
}

/// An `--include` or `--exclude` that matches no operation of the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{flag} {filter}: matches no operation of the document\nhelp: {}",
    help(nearest)
)]
pub struct UnmatchedFilter {
    pub flag: &'static str,
    pub filter: String,
    /// The tags, paths or operations it may have meant, nearest first.
    pub nearest: Vec<String>,
}

fn help(nearest: &[String]) -> String {
    let forms = "a filter is a tag or operationId (`items`), a path pattern (`/items*`), a \
                 method in capitals (`DELETE`) or one operation (`PATCH /users/me`)";
    match nearest {
        [] => forms.to_string(),
        some => format!(
            "did you mean {}? ({forms})",
            some.iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    }
}

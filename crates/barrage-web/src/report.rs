//! The one-file HTML report: the page with uPlot, its script, its styles and one View
//! inlined, so it opens from a file, offline, anywhere. A Content-Security-Policy forbids
//! every network request (`default-src 'none'`; only the inlined scripts and styles run),
//! so nothing in the report can leave the reader's machine, whatever a name in it says.
//!
//! The View is embedded as JSON in `<script type="application/json" id="barrage-view">`
//! with every `<` written as `\u003c`: a name from a user's file holding `</script>` or
//! `<!--` cannot end or bend the script element (that covers escaping `</` as `<\/`).
//!
//! [`HtmlReport`] is the session sink `--html PATH` adds: it writes the report atomically
//! once the run is over.

use std::path::PathBuf;

use barrage_session::{Finished, Sink, SinkError};

use crate::assets::{self, PageParts};
use crate::view::View;

/// No request of any kind; the inlined scripts and styles only.
const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
                   script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; \
                   base-uri 'none'; form-action 'none'\">";

/// The report: the page with its scripts, styles and `view` inlined; opens offline.
pub fn html(view: &View) -> String {
    let styles = format!(
        "<style>\n{}\n</style>\n<style>\n{}\n</style>",
        inline(assets::UPLOT_CSS),
        inline(assets::APP_CSS),
    );
    let scripts = format!(
        "<script>\n/* uPlot (https://github.com/leeoniya/uPlot), embedded under its license:\n{}*/\n{}\n</script>\n<script>\n{}\n</script>",
        assets::UPLOT_LICENSE.replace("*/", "* /"),
        inline(assets::UPLOT_JS),
        inline(assets::APP_JS),
    );
    let view = format!(
        "<script type=\"application/json\" id=\"barrage-view\">{}</script>",
        embed(view)
    );
    assets::page(&PageParts {
        csp: CSP,
        styles: &styles,
        view: &view,
        scripts: &scripts,
    })
}

/// The View as JSON safe inside a script element (see the module comment).
pub fn embed(view: &View) -> String {
    serde_json::to_string(view)
        .expect("a View has only string keys and finite numbers, so it serializes")
        .replace('<', "\\u003c")
}

/// Inlined code must not close its element early (`</script`, `</style`, in any case, as
/// HTML matches them), nor open a comment that would hide the closing tag. Neither uPlot nor
/// our files contain them; if a later version did, `<\/` and `<\!--` mean the same inside JavaScript strings and regular expressions, and
/// CSS has no other use for them.
fn inline(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let closes = |tag: &str| {
            tail.as_bytes()
                .get(2..2 + tag.len())
                .is_some_and(|name| name.eq_ignore_ascii_case(tag.as_bytes()))
        };
        let at_risk = (tail.starts_with("</") && (closes("script") || closes("style")))
            || tail.starts_with("<!--");
        if at_risk {
            out.push_str("<\\");
            rest = &tail[1..];
        } else {
            out.push('<');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The one-file page of a capacity sweep (`barrage capacity --serve ... --vary ... --html
/// PATH`): the capacity per configuration as a chart and a table, and each configuration's
/// throughput-latency curve; the same rules as [`html`] (everything inlined, no request can
/// leave).
pub fn sweep_html(doc: &barrage_metrics::SweepDoc) -> String {
    todo!("html helper: {}", doc.configurations.len())
}

/// `--html PATH`: the report of the finished run, written atomically.
pub struct HtmlReport {
    pub path: PathBuf,
}

impl HtmlReport {
    /// Writes the report of `view` to the path; returns the line that says where.
    pub fn write(&self, view: &View) -> Result<Vec<String>, SinkError> {
        barrage_report::write_atomic(&self.path, &html(view))
            .map(|()| vec![format!("HTML report: {}", self.path.display())])
            .map_err(|source| SinkError::Write {
                what: self.path.display().to_string(),
                source,
            })
    }
}

impl Sink for HtmlReport {
    fn name(&self) -> &str {
        "HTML report"
    }

    fn finished(&mut self, end: &Finished) -> Result<Vec<String>, SinkError> {
        self.write(&View::from_result(&end.result, None))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn inlined_code_cannot_close_its_element_or_open_a_comment() {
        let code = "a='</SCRIPT>'; b='</style >'; c='<!--'; d=x</y; e='</é'";
        let out = super::inline(code);
        assert_eq!(
            out,
            "a='<\\/SCRIPT>'; b='<\\/style >'; c='<\\!--'; d=x</y; e='</é'"
        );
        for file in [
            crate::assets::UPLOT_JS,
            crate::assets::APP_JS,
            crate::assets::UPLOT_CSS,
            crate::assets::APP_CSS,
        ] {
            assert_eq!(
                super::inline(file),
                file,
                "nothing to escape in the shipped files"
            );
        }
    }

    use barrage_metrics::EndpointStats;

    use super::*;
    use crate::view::Row;

    fn view_named(name: &str) -> View {
        View {
            endpoints: vec![Row::of(&EndpointStats {
                method: "GET".to_owned(),
                name: name.to_owned(),
                requests: 7,
                ..EndpointStats::default()
            })],
            ..View::default()
        }
    }

    #[test]
    fn the_report_inlines_everything_and_forbids_requests() {
        let html = html(&view_named("/items"));
        assert!(html.starts_with("<!doctype html>"));
        let csp = html.find("Content-Security-Policy").expect("a CSP");
        assert!(html.contains("default-src 'none'"));
        assert!(
            csp < html.find("<script").expect("scripts"),
            "the policy precedes every script"
        );
        assert!(html.contains(assets::APP_JS.trim()));
        assert!(html.contains("uPlot"));
        assert!(
            html.contains("The MIT License"),
            "uPlot's license beside it"
        );
        for mark in ["csp", "styles", "view", "scripts"] {
            assert!(
                !html.contains(&format!("<!--barrage:{mark}-->")),
                "{mark} filled"
            );
        }
        assert!(!html.contains(" src="), "no external script");
        assert!(!html.contains("<link"), "no external style sheet");
    }

    #[test]
    fn a_hostile_name_cannot_end_the_embedded_view() {
        let name = "/x</script><script>alert(1)</script><!--";
        let html = html(&view_named(name));
        let start = html.find("id=\"barrage-view\">").expect("embedded") + 18;
        let end = start + html[start..].find("</script>").expect("closed");
        let json = &html[start..end];
        assert!(!json.contains('<'));
        let back: View = serde_json::from_str(json).expect("the embedded View reads back");
        assert_eq!(back.endpoints[0].stats.name, name);
        assert_eq!(back.endpoints[0].stats.requests, 7);
    }
}

//! The one-file HTML report: the page with uPlot, its script, its styles and one View
//! inlined, so it opens from a file, offline, anywhere. A Content-Security-Policy forbids
//! every network request (`default-src 'none'`; only the inlined scripts and styles run),
//! so nothing in the report can leave the reader's machine, whatever a name in it says.
//!
//! The View is embedded as JSON in `<script type="application/json" id="barrage-view">`
//! with every `<` written as `\u003c`: a name from a user's file holding `</script>` or
//! `<!--` cannot end or bend the script element (that covers escaping `</` as `<\/`).
//!
//! [`sweep_html`] is the page of a capacity sweep under the same rules, its document
//! embedded the same way (`id="barrage-sweep"`) and drawn by the report's capacity script.
//!
//! [`HtmlReport`] is the session sink `--html PATH` adds: it writes the report atomically
//! once the run is over.

use std::path::PathBuf;

use barrage_metrics::SweepDoc;
use barrage_session::{Finished, Sink, SinkError};
use serde::Serialize;

use crate::assets::{self, PageParts};
use crate::view::View;

/// No request of any kind; the inlined scripts and styles only.
const CSP: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
                   script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; \
                   base-uri 'none'; form-action 'none'\">";

/// The report: the page with its scripts, styles and `view` inlined; opens offline.
pub fn html(view: &View) -> String {
    inlined(
        assets::PAGE_HTML,
        "barrage-view",
        &embed(view),
        &[assets::DOM_JS, assets::CAPACITY_JS, assets::APP_JS],
    )
}

/// The View as JSON safe inside a script element (see the module comment).
pub fn embed(view: &View) -> String {
    safe_json(view)
}

/// The one-file page of a capacity sweep (`barrage capacity --serve ... --vary ... --html
/// PATH`): the capacity per configuration as a chart and a table with the scaling against
/// the first configuration, and each configuration's conclusion, throughput-latency curve
/// and steps, drawn by the report's capacity script; the same rules as [`html`]
/// (everything inlined, no request can leave).
pub fn sweep_html(doc: &SweepDoc) -> String {
    inlined(
        assets::SWEEP_HTML,
        "barrage-sweep",
        &safe_json(doc),
        &[assets::DOM_JS, assets::CAPACITY_JS],
    )
}

/// `data` as JSON with every `<` written as `\u003c` (see the module comment).
fn safe_json(data: &impl Serialize) -> String {
    serde_json::to_string(data)
        .expect("a View or SweepDoc has only string keys and plain numbers, so it serializes")
        .replace('<', "\\u003c")
}

/// `template` with the CSP, uPlot (with its license) and our styles, the JSON `data` in
/// `<script type="application/json" id="ID">`, and uPlot followed by `scripts` inlined.
fn inlined(template: &str, id: &str, data: &str, scripts: &[&str]) -> String {
    let styles = format!(
        "<style>\n{}\n</style>\n<style>\n{}\n</style>",
        inline(assets::UPLOT_CSS),
        inline(assets::APP_CSS),
    );
    let mut all_scripts = format!(
        "<script>\n/* uPlot (https://github.com/leeoniya/uPlot), embedded under its license:\n{}*/\n{}\n</script>",
        assets::UPLOT_LICENSE.replace("*/", "* /"),
        inline(assets::UPLOT_JS),
    );
    for script in scripts {
        all_scripts.push_str(&format!("\n<script>\n{}\n</script>", inline(script)));
    }
    let data = format!("<script type=\"application/json\" id=\"{id}\">{data}</script>");
    assets::fill(
        template,
        &PageParts {
            csp: CSP,
            styles: &styles,
            view: &data,
            scripts: &all_scripts,
        },
    )
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

    fn reads_seconds(&self) -> bool {
        false
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
            crate::assets::DOM_JS,
            crate::assets::CAPACITY_JS,
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

    /// The rules both pages keep: the policy before any script, everything inlined (our
    /// `scripts` and uPlot with its license), every mark filled, nothing fetched.
    fn assert_self_contained(html: &str, scripts: &[&str]) {
        assert!(html.starts_with("<!doctype html>"));
        let csp = html.find("Content-Security-Policy").expect("a CSP");
        assert!(html.contains("default-src 'none'"));
        assert!(
            csp < html.find("<script").expect("scripts"),
            "the policy precedes every script"
        );
        for script in scripts {
            assert!(html.contains(script.trim()));
        }
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

    /// The JSON embedded in `<script type="application/json" id="ID">`.
    fn embedded<'a>(html: &'a str, id: &str) -> &'a str {
        let open = format!("id=\"{id}\">");
        let start = html.find(&open).expect("embedded") + open.len();
        let end = start + html[start..].find("</script>").expect("closed");
        &html[start..end]
    }

    #[test]
    fn the_report_inlines_everything_and_forbids_requests() {
        let html = html(&view_named("/items"));
        assert_self_contained(
            &html,
            &[assets::DOM_JS, assets::CAPACITY_JS, assets::APP_JS],
        );
        let dom = html.find(assets::DOM_JS.trim()).expect("dom.js");
        let capacity = html.find(assets::CAPACITY_JS.trim()).expect("capacity.js");
        let app = html.find(assets::APP_JS.trim()).expect("app.js");
        assert!(dom < capacity && capacity < app, "the helpers load first");
    }

    fn sweep_named(value: &str) -> SweepDoc {
        SweepDoc {
            kind: "capacity-sweep".to_owned(),
            serve: "uvicorn app:app --workers {workers}".to_owned(),
            configurations: vec![barrage_metrics::capacity::SweepEntry {
                values: [("workers".to_owned(), value.to_owned())].into(),
                command: format!("uvicorn app:app --workers {value}"),
                capacity: Some(barrage_metrics::CapacityDoc {
                    rps: Some(812.5),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..SweepDoc::default()
        }
    }

    #[test]
    fn the_sweep_page_inlines_everything_and_forbids_requests() {
        let html = sweep_html(&sweep_named("2"));
        assert_self_contained(&html, &[assets::DOM_JS, assets::CAPACITY_JS]);
        assert!(
            html.contains("id=\"sweep-table\""),
            "the sweep page's own body"
        );
        assert!(
            !html.contains(assets::APP_JS.trim()),
            "no run View to draw, so not the report's script"
        );
        let back: SweepDoc =
            serde_json::from_str(embedded(&html, "barrage-sweep")).expect("reads back");
        assert_eq!(back, sweep_named("2"));
    }

    #[test]
    fn a_hostile_value_cannot_end_the_embedded_sweep() {
        let value = "2</script><script>alert(1)</script><!--";
        let html = sweep_html(&sweep_named(value));
        let json = embedded(&html, "barrage-sweep");
        assert!(!json.contains('<'));
        let back: SweepDoc = serde_json::from_str(json).expect("reads back");
        assert_eq!(back.configurations[0].values["workers"], value);
        assert_eq!(
            back.configurations[0].capacity.as_ref().and_then(|c| c.rps),
            Some(812.5)
        );
    }

    #[test]
    fn a_hostile_name_cannot_end_the_embedded_view() {
        let name = "/x</script><script>alert(1)</script><!--";
        let html = html(&view_named(name));
        let json = embedded(&html, "barrage-view");
        assert!(!json.contains('<'));
        let back: View = serde_json::from_str(json).expect("the embedded View reads back");
        assert_eq!(back.endpoints[0].stats.name, name);
        assert_eq!(back.endpoints[0].stats.requests, 7);
    }
}

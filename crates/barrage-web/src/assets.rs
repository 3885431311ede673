//! The page's files, embedded in the binary: ours from `assets/`, uPlot's from the npm
//! package `build.rs` copies (with its license, which the page links to and the report
//! inlines as a comment).
//!
//! `page.html` (and `sweep.html`, the page of a capacity sweep) has four marks a front end
//! fills: `<!--barrage:csp-->` (the report's Content-Security-Policy),
//! `<!--barrage:styles-->`, `<!--barrage:view-->` (the embedded View of a report; nothing
//! live, where the page fetches it) and `<!--barrage:scripts-->`. [`page`] and [`fill`] fill
//! them; the report inlines everything, the web UI may link `/assets/...`.

/// uPlot's minified script (defines the global `uPlot`).
pub const UPLOT_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/uPlot.iife.min.js"));
/// uPlot's style sheet.
pub const UPLOT_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/uPlot.min.css"));
/// uPlot's license (MIT), shipped with it.
pub const UPLOT_LICENSE: &str = include_str!(concat!(env!("OUT_DIR"), "/LICENSE"));

/// The page's HTML, with the marks above.
pub const PAGE_HTML: &str = include_str!("../assets/page.html");
/// The page's script: draws a View in report or live mode.
pub const APP_JS: &str = include_str!("../assets/app.js");
/// The DOM helpers and number formats the scripts share (loaded before them).
pub const DOM_JS: &str = include_str!("../assets/dom.js");
/// A capacity search's section (the report's, and each configuration's on the sweep page),
/// and the sweep page itself.
pub const CAPACITY_JS: &str = include_str!("../assets/capacity.js");
/// The page of a capacity sweep (`sweep.html`), with the same marks as [`PAGE_HTML`].
pub const SWEEP_HTML: &str = include_str!("../assets/sweep.html");
/// The page's style sheet.
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// What goes into the page's marks.
#[derive(Clone, Debug, Default)]
pub struct PageParts<'a> {
    /// `<meta http-equiv="Content-Security-Policy" ...>`, or empty.
    pub csp: &'a str,
    /// `<style>` or `<link rel="stylesheet">` elements.
    pub styles: &'a str,
    /// `<script type="application/json" id="barrage-view">`, or empty (live).
    pub view: &'a str,
    /// `<script>` elements: uPlot first, then the page's.
    pub scripts: &'a str,
}

/// The page with its marks filled.
pub fn page(parts: &PageParts<'_>) -> String {
    fill(PAGE_HTML, parts)
}

/// `template` ([`PAGE_HTML`] or [`SWEEP_HTML`]) with its marks filled.
pub fn fill(template: &str, parts: &PageParts<'_>) -> String {
    template
        .replacen("<!--barrage:csp-->", parts.csp, 1)
        .replacen("<!--barrage:styles-->", parts.styles, 1)
        .replacen("<!--barrage:view-->", parts.view, 1)
        .replacen("<!--barrage:scripts-->", parts.scripts, 1)
}

/// The live page as served by the web UI, its scripts and styles at `/assets/uplot.js`,
/// `/assets/uplot.css`, `/assets/dom.js`, `/assets/capacity.js`, `/assets/app.js` and
/// `/assets/app.css`.
pub fn live_page() -> String {
    page(&PageParts {
        csp: "",
        styles: "<link rel=\"stylesheet\" href=\"/assets/uplot.css\">\n\
                 <link rel=\"stylesheet\" href=\"/assets/app.css\">",
        view: "",
        scripts: "<script src=\"/assets/uplot.js\"></script>\n\
                  <script src=\"/assets/dom.js\"></script>\n\
                  <script src=\"/assets/capacity.js\"></script>\n\
                  <script src=\"/assets/app.js\"></script>",
    })
}

//! The Markdown pipeline: `markdown::render` with highlighting, CVE linking and (for half
//! the inputs) sanitising, and `Highlighter::highlight` on its own in common languages.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scraper::{Html, Node};
use sitrep::content::highlight::{Highlighter, Outcome};
use sitrep::content::markdown::{self, Options};

static HL: LazyLock<Highlighter> = LazyLock::new(Highlighter::new);

const LANGS: [&str; 16] = [
    "rust",
    "c",
    "python",
    "bash",
    "js",
    "html",
    "xml",
    "json",
    "yaml",
    "sql",
    "php",
    "go",
    "powershell",
    "ruby",
    "java",
    "diff",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(src) = std::str::from_utf8(rest) else {
        return;
    };
    let opts = Options {
        cve_prefix: "/cve/".into(),
        highlight: flags & 1 == 0,
        unsafe_html: flags & 2 == 0,
        shortcodes: None,
    };
    let r = markdown::render(src, &opts, &mut HL.session());
    for l in &r.links {
        assert!(l.offset <= src.len());
    }
    for w in &r.warnings {
        assert!(w.offset <= src.len());
    }
    for id in &r.cves {
        assert!(markdown::is_cve_id(id), "{id:?}");
    }
    for (start, end) in markdown::find_cves(src) {
        assert!(markdown::is_cve_id(&src[start..end]));
    }
    if !opts.unsafe_html {
        assert_inert(&r.html);
    }

    // The highlighter on its own, in one of the common languages.
    let lang = LANGS[(flags >> 4) as usize];
    match HL.highlight(lang, src) {
        Outcome::Html(html) => assert!(!html.contains("<script"), "{html}"),
        Outcome::Plain | Outcome::TooLarge(_) => {}
    }
});

/// Sanitised HTML, parsed as a browser would: no element that runs or embeds anything, no
/// event handler, no style but table alignment, no script or inline-document URL.
fn assert_inert(html: &str) {
    let doc = Html::parse_fragment(html);
    for node in doc.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let name = el.name();
        assert!(
            !matches!(
                name,
                "script"
                    | "style"
                    | "iframe"
                    | "object"
                    | "embed"
                    | "svg"
                    | "math"
                    | "form"
                    | "link"
                    | "meta"
                    | "base"
                    | "frame"
                    | "template"
                    | "textarea"
                    | "button"
            ),
            "<{name}> survived sanitising:\n{html}"
        );
        for (attr, value) in el.attrs() {
            assert!(
                !attr.starts_with("on"),
                "{attr} on <{name}> survived:\n{html}"
            );
            if attr == "style" {
                assert!(value.starts_with("text-align: "), "style survived:\n{html}");
            }
            if matches!(attr, "href" | "src" | "cite" | "action" | "formaction") {
                let v: String = value
                    .chars()
                    .filter(|c| !c.is_whitespace() && !c.is_control())
                    .collect::<String>()
                    .to_ascii_lowercase();
                let scheme = v
                    .split_once(':')
                    .map(|(s, _)| s)
                    .filter(|s| !s.contains(['/', '?', '#']));
                assert!(
                    !matches!(scheme, Some("javascript" | "data" | "vbscript" | "file")),
                    "{attr}={value:?} survived:\n{html}"
                );
            }
            if name == "input" {
                assert!(
                    el.attr("type") == Some("checkbox") && el.attr("disabled").is_some(),
                    "{html}"
                );
            }
        }
    }
}

//! Malformed, hostile and huge input, one tiny site per case. Each case asserts exactly what
//! happens: either an error that names the file (and line) with a non-zero exit and the
//! previous output left byte for byte as it was, or a correct build.
//!
//! Failures of the machine itself are simulated for real where the machine allows it: a
//! disk full and a read-only output are a small tmpfs in a private mount namespace
//! (`unshare -m`, as root; CI runs as root), with `ulimit -f` and `chmod` as fallbacks; an
//! unreadable file is `chmod 000` where that stops reads (not as root) and, everywhere, a
//! link to `/proc/self/mem`, whose reads fail with EIO even for root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Far above what any of these takes on a slow machine: the bound fails a hang or
/// runaway (quadratic) work, it does not measure speed.
const HANG: Duration = Duration::from_secs(120);

use crate::common::{SITE_TOML, Snapshot, TestSite, built_with, fails, post, snapshot, top_level};

const GOOD: &str = "content/posts/good.md";
const BAD: &str = "content/posts/bad.md";

/// A site with one good post, built once.
fn built() -> (TestSite, Snapshot) {
    let (s, before) = built_with(&[(GOOD, &post("Good", "2024-05-01", "tags: [Kept]\n", "Fine."))]);
    assert!(before.contains_key("posts/good/index.html"));
    (s, before)
}

/// Asserts that `err` has a diagnostic line starting with `head` (`error: FILE:LINE:`) and
/// containing each of `parts`.
fn has(err: &str, head: &str, parts: &[&str]) {
    assert!(
        err.lines()
            .any(|l| l.starts_with(head) && parts.iter().all(|p| l.contains(p))),
        "no line starting {head:?} with {parts:?} in:\n{err}"
    );
}

fn page(s: &TestSite, rel: &str) -> String {
    s.read(rel)
}

// ---- front matter: truncated, unterminated, odd encodings ------------------------------

#[test]
fn front_matter_truncated_mid_field() {
    let (s, before) = built();
    s.write(BAD, "---\ntitle: Trunc");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["the front matter is never closed: no `---` line after line 1"],
    );
    assert!(err.contains("help: add a line with only `---`"), "{err}");
}

#[test]
fn front_matter_never_closed_before_the_body() {
    let (s, before) = built();
    s.write(
        BAD,
        "---\ntitle: Open\ndate: 2024-05-01\n\nThe body starts here.\n",
    );
    let err = fails(&s, &before);
    has(&err, "error: content/posts/bad.md:1: ", &["never closed"]);
}

#[test]
fn toml_front_matter_never_closed() {
    let (s, before) = built();
    s.write(BAD, "+++\ntitle = \"Open\"\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["never closed: no `+++` line"],
    );
}

#[test]
fn front_matter_truncated_inside_a_quoted_string() {
    let (s, before) = built();
    s.write(BAD, "---\ntitle: \"Unclosed\ndate: 2024-05-01\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4:1: ",
        &["found unexpected end of stream, while scanning a quoted scalar that starts on line 2"],
    );
}

#[test]
fn front_matter_truncated_inside_a_list() {
    let (s, before) = built();
    s.write(
        BAD,
        "---\ntitle: T\ndate: 2024-05-01\ntags: [a, b\n---\nbody\n",
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:5:1: ",
        &[
            "did not find expected ',' or ']'",
            "flow sequence that starts on line 4",
        ],
    );
}

#[test]
fn no_front_matter_at_all() {
    let (s, before) = built();
    s.write(BAD, "# Just Markdown\n\nNo front matter.\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["no front matter: the file must start with a `---` line"],
    );
}

#[test]
fn byte_order_mark_is_ignored() {
    let s = TestSite::new();
    s.write("site.toml", &format!("\u{feff}{SITE_TOML}"));
    s.write(
        GOOD,
        &format!(
            "\u{feff}{}",
            post(
                "BOM post",
                "2024-05-01",
                "tags: [bom]\n",
                "Text after a BOM."
            )
        ),
    );
    s.build(&[]).ok();
    let html = page(&s, "posts/good/index.html");
    assert!(html.contains(">BOM post</h1>"), "{html}");
    assert!(html.contains("<p>Text after a BOM.</p>"), "{html}");
    assert!(s.exists("tags/bom/index.html"));
    for (name, bytes) in snapshot(&s.public()) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains('\u{feff}'),
            "BOM in {name}"
        );
    }
}

#[test]
fn crlf_line_endings_build_like_lf() {
    let s = TestSite::new();
    s.write("site.toml", &SITE_TOML.replace('\n', "\r\n"));
    let text = post(
        "CRLF post",
        "2024-05-01",
        "tags: [windows]\ntldr:\n  - One\n",
        "First paragraph.\n\nSecond paragraph.",
    );
    s.write(GOOD, &text.replace('\n', "\r\n"));
    s.build(&[]).ok();
    let html = page(&s, "posts/good/index.html");
    assert!(html.contains(">CRLF post</h1>"), "{html}");
    assert!(html.contains("<p>First paragraph.</p>"), "{html}");
    assert!(html.contains("<p>Second paragraph.</p>"), "{html}");
    assert!(s.exists("tags/windows/index.html"), "{:?}", s.listing());
    assert!(!html.contains("CRLF post\r"), "{html}");
}

#[test]
fn crlf_errors_keep_their_line_numbers() {
    let (s, before) = built();
    s.write(
        BAD,
        "---\r\ntitle: T\r\ndate: 2024-13-45\r\n---\r\nbody\r\n",
    );
    let err = fails(&s, &before);
    has(&err, "error: content/posts/bad.md:3:7: ", &["2024-13-45"]);
}

#[test]
fn carriage_return_only_line_endings() {
    let (s, before) = built();
    s.write(BAD, "---\rtitle: Old Mac\rdate: 2024-05-01\r---\rbody\r");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["lone carriage return"],
    );
    assert!(
        err.contains("help: save the file with Unix (LF) or Windows (CRLF) line endings"),
        "{err}"
    );
}

#[test]
fn tab_used_for_yaml_indentation() {
    let (s, before) = built();
    s.write(
        BAD,
        "---\ntitle: T\ndate: 2024-05-01\ntags:\n\t- a\n---\nbody\n",
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:5:1: ",
        &["a tab is used for indentation; YAML allows only spaces"],
    );
    assert!(
        err.contains("help: YAML does not allow tabs for indentation: indent with spaces"),
        "{err}"
    );
}

#[test]
fn tab_after_a_colon_is_fine() {
    let s = TestSite::new();
    s.write(
        GOOD,
        "---\ntitle:\tTabbed title\ndate:\t2024-05-01\n---\nbody\n",
    );
    s.build(&[]).ok();
    assert!(page(&s, "posts/good/index.html").contains(">Tabbed title</h1>"));
}

#[test]
fn yaml_anchors_and_aliases() {
    let s = TestSite::new();
    s.write(
        GOOD,
        &post(
            "Aliased",
            "2024-05-01",
            "tags: &terms [Alpha, Beta]\ncategories: *terms\n",
            "x",
        ),
    );
    s.build(&[]).ok();
    for f in [
        "tags/alpha/index.html",
        "tags/beta/index.html",
        "categories/alpha/index.html",
        "categories/beta/index.html",
    ] {
        assert!(s.exists(f), "missing {f}: {:?}", s.listing());
    }
}

#[test]
fn yaml_merge_keys() {
    let s = TestSite::new();
    s.write(
        GOOD,
        "---\nextra: &base\n  title: Merged title\n  date: 2024-05-01\n  tags: [merged]\n<<: *base\n---\nbody\n",
    );
    let run = s.build(&[]).ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(page(&s, "posts/good/index.html").contains(">Merged title</h1>"));
    assert!(s.exists("tags/merged/index.html"));
}

#[test]
fn yaml_merge_of_a_scalar() {
    let (s, before) = built();
    s.write(BAD, "---\ntitle: T\ndate: 2024-05-01\n<<: 5\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4:1: ",
        &["expected a mapping or list of mappings for merging"],
    );
}

#[test]
fn yaml_alias_bomb() {
    let (s, before) = built();
    let mut fm = String::from(
        "---\ntitle: Laughs\ndate: 2024-05-01\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..9 {
        let p = i - 1;
        fm.push_str(&format!(
            "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
        ));
    }
    s.write(BAD, &format!("{fm}extra: *l8\n---\nbody\n"));
    let start = Instant::now();
    let err = fails(&s, &before);
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    has(
        &err,
        "error: content/posts/bad.md:5:1: ",
        &["repetition limit exceeded"],
    );
}

#[test]
fn yaml_nested_ten_thousand_deep() {
    let (s, before) = built();
    s.write(
        BAD,
        &format!(
            "---\ntitle: T\ndate: 2024-05-01\nextra: {}\n---\nbody\n",
            "[".repeat(10_000)
        ),
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4:",
        &["recursion limit exceeded"],
    );
}

// ---- sizes ------------------------------------------------------------------------------

#[test]
fn hundred_megabyte_post_is_refused_quickly() {
    let (s, before) = built();
    let mut text = post("Huge", "2024-05-01", "", "");
    let para = "A log line that someone pasted into a post, again and again. CVE-2024-3400.\n\n";
    text.reserve(100 << 20);
    while text.len() < 100 << 20 {
        text.push_str(para);
    }
    s.write(BAD, &text);
    let start = Instant::now();
    let err = fails(&s, &before);
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    has(
        &err,
        "error: content/posts/bad.md: ",
        &["the file is larger than 16 MiB, the limit for a content file"],
    );
    assert!(err.contains("help: split it into several posts"), "{err}");
}

#[test]
fn ten_thousand_tags() {
    let (s, before) = built();
    let tags: Vec<String> = (0..10_000).map(|i| format!("tag {i}")).collect();
    let fm = format!("tags: [{}]\n", tags.join(", "));
    s.write(BAD, &post("Many tags", "2024-05-02", &fm, "x"));
    let start = Instant::now();
    let err = fails(&s, &before);
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["tags: 10000 terms; a post can have at most 100"],
    );
}

#[test]
fn a_hundred_tags_is_the_most_a_post_can_have() {
    let s = TestSite::new();
    let tags: Vec<String> = (0..100).map(|i| format!("tag {i}")).collect();
    let fm = format!(
        "tags: [{}]\ncategories: [{}]\n",
        tags.join(", "),
        tags.join(", ")
    );
    s.write(GOOD, &post("Many tags", "2024-05-01", &fm, "x"));
    s.build(&[]).ok();
    let expected: BTreeSet<String> = (0..100).map(|i| format!("/tags/tag-{i}/")).collect();
    assert_eq!(tag_links(&page(&s, "tags/index.html")), expected);
    assert_eq!(tag_links(&page(&s, "posts/good/index.html")), expected);
    assert!(s.exists("categories/tag-99/index.html"));
}

/// The distinct `/tags/tag-N/` links of a page.
fn tag_links(html: &str) -> BTreeSet<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/tags/tag-"))
        .map(str::to_string)
        .collect()
}

/// How many times `needle` appears on the page of a post whose body is `body`, less how
/// many times it appears with a one-word body: what the body adds, whatever the theme.
fn added_by_body(body: &str, needle: &str) -> usize {
    let count = |body: &str| {
        let s = TestSite::new();
        s.write(GOOD, &post("Deep", "2024-05-01", "", body));
        s.build(&[]).ok();
        page(&s, "posts/good/index.html").matches(needle).count()
    };
    count(body) - count("bottom")
}

#[test]
fn lists_nested_ten_thousand_deep() {
    let body = format!("{}bottom", "- ".repeat(10_000));
    assert_eq!(added_by_body(&body, "<ul>"), 10_000);
}

#[test]
fn quotes_nested_ten_thousand_deep() {
    let body = format!("{}bottom", "> ".repeat(10_000));
    assert_eq!(added_by_body(&body, "<blockquote>"), 10_000);
}

#[test]
fn deep_nesting_with_sanitising_is_an_error_not_a_hang() {
    let (s, before) = built();
    s.write(
        "site.toml",
        &format!("{SITE_TOML}[markdown]\nunsafe_html = false\n"),
    );
    s.write(
        BAD,
        &post(
            "Deep",
            "2024-05-01",
            "",
            &format!("{}bottom", "> ".repeat(10_000)),
        ),
    );
    let start = Instant::now();
    let err = fails(&s, &before);
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    has(
        &err,
        "error: content/posts/bad.md:5: ",
        &["elements nest 10000 levels deep; with `markdown.unsafe_html = false` the limit is 128"],
    );
}

// ---- bytes that are not text ----------------------------------------------------------

#[test]
fn nul_bytes_in_the_body() {
    let s = TestSite::new();
    s.write_bytes(
        GOOD,
        b"---\ntitle: Nul\ndate: 2024-05-01\n---\n\nbefore \0 after\n",
    );
    let run = s.build(&[]).ok();
    assert!(
        run.stderr
            .contains("warning: content/posts/good.md:6: the text contains NUL bytes"),
        "{}",
        run.stderr
    );
    for (name, bytes) in snapshot(&s.public()) {
        assert!(!bytes.contains(&0), "NUL byte in {name}");
    }
    assert!(page(&s, "posts/good/index.html").contains("<p>before \u{FFFD} after</p>"));
}

#[test]
fn nul_byte_in_the_front_matter() {
    let (s, before) = built();
    s.write_bytes(BAD, b"---\ntitle: \"a\0b\"\ndate: 2024-05-01\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:2:10: ",
        &["control characters are not allowed"],
    );
}

#[test]
fn invalid_utf8_in_the_front_matter() {
    let (s, before) = built();
    s.write_bytes(BAD, b"---\ntitle: caf\xe9\ndate: 2024-05-01\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:2:11: ",
        &["the file is not valid UTF-8 text"],
    );
    assert!(err.contains("help: save the file as UTF-8"), "{err}");
}

#[test]
fn invalid_utf8_in_site_toml() {
    let (s, before) = built();
    s.write_bytes(
        "site.toml",
        b"title = \"T\"\nbase_url = \"https://e.x\"\ndescription = \"caf\xe9\"\n",
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: site.toml:3:19: ",
        &["the file is not valid UTF-8 text"],
    );
}

#[test]
fn utf16_post() {
    let (s, before) = built();
    let text = post("Wide", "2024-05-01", "", "x");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    s.write_bytes(BAD, &bytes);
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["the file is UTF-16 text, not UTF-8"],
    );
}

#[test]
fn binary_file_with_a_markdown_name() {
    let (s, before) = built();
    s.write_bytes(BAD, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1:1: ",
        &["not valid UTF-8"],
    );
}

// ---- empty things -----------------------------------------------------------------------

#[test]
fn empty_post_file() {
    let (s, before) = built();
    s.write(BAD, "");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["the file is empty"],
    );
}

#[test]
fn whitespace_only_post_file() {
    let (s, before) = built();
    s.write(BAD, "\n  \n\t\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["the file is empty"],
    );
}

#[test]
fn empty_front_matter() {
    let (s, before) = built();
    s.write(BAD, "---\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["`title` is required"],
    );
    has(
        &err,
        "error: content/posts/bad.md:1: ",
        &["`date` is required for posts"],
    );
}

#[test]
fn empty_site_toml() {
    let (s, before) = built();
    s.write("site.toml", "");
    let err = fails(&s, &before);
    assert!(
        err.contains("error: site.toml: `title` is required"),
        "{err}"
    );
    assert!(
        err.contains("error: site.toml: `base_url` is required"),
        "{err}"
    );
}

#[test]
fn empty_content_folder() {
    let s = TestSite::new();
    std::fs::create_dir_all(s.root().join("content")).unwrap();
    let run = s.build(&[]).ok();
    assert!(
        run.stdout.contains("built 0 posts, 0 pages"),
        "{}",
        run.stdout
    );
    assert!(s.exists("index.html"));
    for feed in ["rss.xml", "atom.xml", "sitemap.xml"] {
        crate::common::assert_well_formed_xml(feed, &page(&s, feed));
    }
    let json: serde_json::Value = serde_json::from_str(&page(&s, "feed.json")).unwrap();
    assert_eq!(json["items"].as_array().map(Vec::len), Some(0));
}

#[test]
fn no_content_folder() {
    let s = TestSite::new();
    let run = s.build(&[]).ok();
    assert!(
        run.stderr
            .contains("warning: content: there is no content/ folder"),
        "{}",
        run.stderr
    );
    assert!(s.exists("index.html"));
}

// ---- themes and templates ---------------------------------------------------------------

#[test]
fn missing_theme() {
    let (s, before) = built();
    s.write("site.toml", &format!("{SITE_TOML}theme = \"nope\"\n"));
    let err = fails(&s, &before);
    has(
        &err,
        "error: site.toml: ",
        &["theme `nope` not found: there is no folder themes/nope"],
    );
}

#[test]
fn theme_folder_without_templates() {
    let (s, before) = built();
    std::fs::create_dir_all(s.root().join("themes/empty")).unwrap();
    s.write("site.toml", &format!("{SITE_TOML}theme = \"empty\"\n"));
    let err = fails(&s, &before);
    for t in [
        "index.html",
        "post.html",
        "page.html",
        "taxonomy_list.html",
        "taxonomy_term.html",
        "404.html",
    ] {
        assert!(
            err.contains(&format!("the template `{t}` is missing")),
            "{t}: {err}"
        );
    }
}

#[test]
fn missing_included_template() {
    let (s, before) = built();
    s.write(
        "templates/post.html",
        "<h1>{{ page.title }}</h1>\n{% include \"partials/gone.html\" %}\n",
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: templates/post.html:2:12: ",
        &["Unknown template `partials/gone.html`"],
    );
}

#[test]
fn tera_syntax_error_has_file_line_and_column() {
    let (s, before) = built();
    s.write(
        "templates/post.html",
        "<h1>{{ page.title }}</h1>\n<p>{{ page.title | }}</p>\n",
    );
    let err = fails(&s, &before);
    has(&err, "error: templates/post.html:2:20: ", &[]);
}

#[test]
fn tera_unknown_filter_has_file_line_and_column() {
    let (s, before) = built();
    s.write(
        "templates/post.html",
        "<h1>{{ page.title }}</h1>\n<p>{{ page.title | shout }}</p>\n",
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: templates/post.html:2:20: ",
        &["Unknown filter `shout`"],
    );
}

#[test]
fn template_that_extends_itself() {
    let (s, before) = built();
    s.write("templates/post.html", "{% extends \"post.html\" %}\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: templates/post.html: ",
        &["templates extend each other in a circle"],
    );
}

// ---- slugs and routes -------------------------------------------------------------------

#[test]
fn duplicate_slugs() {
    let (s, before) = built();
    s.write(BAD, &post("Other", "2024-05-02", "slug: good\n", "x"));
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/bad.md") && err.contains("content/posts/good.md"),
        "{err}"
    );
    assert!(err.contains("/posts/good/"), "{err}");
}

#[test]
fn slugs_that_differ_only_in_case() {
    let (s, before) = built();
    s.write(
        "content/posts/GOOD.md",
        &post("Shouting", "2024-05-02", "", "x"),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/GOOD.md") && err.contains("content/posts/good.md"),
        "{err}"
    );
}

#[test]
fn tags_that_differ_only_in_case_are_one_term() {
    let s = TestSite::new();
    s.write(GOOD, &post("A", "2024-05-01", "tags: [Rust]\n", "x"));
    s.write(
        "content/posts/other.md",
        &post("B", "2024-05-02", "tags: [rust, RUST]\n", "x"),
    );
    s.build(&[]).ok();
    let terms: BTreeSet<String> = s
        .listing()
        .iter()
        .filter_map(|f| {
            f.strip_prefix("tags/")?
                .split_once('/')
                .map(|(t, _)| t.to_string())
        })
        .collect();
    assert_eq!(terms, BTreeSet::from(["rust".to_string()]));
    let term = page(&s, "tags/rust/index.html");
    assert!(
        term.contains("href=\"/posts/good/\"") && term.contains("href=\"/posts/other/\""),
        "{term}"
    );
}

#[test]
fn slug_of_punctuation_only() {
    let (s, before) = built();
    s.write(BAD, &post("P", "2024-05-02", "slug: \"../..\"\n", "x"));
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["`slug` \"../..\" has no letters or digits"],
    );
}

#[test]
fn twenty_thousand_bad_list_items_are_reported_without_slowing_down() {
    let (s, before) = built();
    let ids: Vec<String> = (0..20_000).map(|i| format!("NOT-{i}")).collect();
    let fm = format!(
        "cves:\n{}",
        ids.iter().map(|i| format!("  - {i}\n")).collect::<String>()
    );
    s.write(BAD, &post("Bad ids", "2024-05-02", &fm, "x"));
    let start = Instant::now();
    let err = fails(&s, &before);
    assert!(start.elapsed() < HANG, "{:?}", start.elapsed());
    assert_eq!(err.matches("is not a CVE id").count(), 20_000);
    // The first ones are on their own lines, the rest on the `cves:` line.
    has(
        &err,
        "error: content/posts/bad.md:5: ",
        &["cves: \"NOT-0\" is not a CVE id"],
    );
    has(
        &err,
        "error: content/posts/bad.md:54: ",
        &["cves: \"NOT-49\" is not a CVE id"],
    );
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["cves: \"NOT-19999\" is not a CVE id"],
    );
}

#[test]
fn tag_too_long_for_a_file_name() {
    let (s, before) = built();
    let long = "word ".repeat(60);
    s.write(
        BAD,
        &post("Long tag", "2024-05-02", &format!("tags: [{long}]\n"), "x"),
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["tags: a term whose URL segment is 299 bytes long; the limit is 200"],
    );
}

#[test]
fn slug_too_long_for_a_file_name() {
    let (s, before) = built();
    let long = "a".repeat(300);
    s.write(
        BAD,
        &post("Long slug", "2024-05-02", &format!("slug: {long}\n"), "x"),
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["is 300 bytes long; the limit is 200"],
    );
}

// ---- dates ------------------------------------------------------------------------------

#[test]
fn date_in_the_year_10000() {
    let (s, before) = built();
    s.write(BAD, "---\ntitle: Future\ndate: 10000-01-01\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:3:7: ",
        &["\"10000-01-01\" is not a date"],
    );
    assert!(err.contains("help: write the date as YYYY-MM-DD"), "{err}");
}

#[test]
fn date_that_does_not_exist() {
    let (s, before) = built();
    s.write(BAD, "---\ntitle: Leap\ndate: 2023-02-29\n---\nbody\n");
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:3:7: ",
        &["\"2023-02-29\" is not a valid date"],
    );
}

// ---- the file system --------------------------------------------------------------------

#[test]
fn symlink_loop() {
    let (s, before) = built();
    std::os::unix::fs::symlink("..", s.root().join("content/posts/loop")).unwrap();
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/loop: ",
        &["symbolic link loop: it leads back to content"],
    );
}

#[test]
fn dangling_symlink() {
    let (s, before) = built();
    std::os::unix::fs::symlink("nowhere.md", s.root().join("content/posts/gone.md")).unwrap();
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/gone.md: ",
        &["could not read this path"],
    );
}

#[test]
fn named_pipe_in_content_is_skipped_not_read() {
    let s = TestSite::new();
    s.write(GOOD, &post("Good", "2024-05-01", "", "x"));
    let fifo = s.root().join("content/posts/pipe.md");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Reading a FIFO would block for ever; the walk only reads regular files.
    let run = s.build(&[]).ok();
    assert!(run.stdout.contains("built 1 post"), "{}", run.stdout);
}

/// Whether this process can read a file that has no read permission (root can).
fn permissions_stop_reads(dir: &Path) -> bool {
    let probe = dir.join("probe");
    std::fs::write(&probe, "x").unwrap();
    set_mode(&probe, 0o000);
    let readable = std::fs::read(&probe).is_ok();
    set_mode(&probe, 0o644);
    std::fs::remove_file(&probe).unwrap();
    !readable
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn unreadable_file() {
    let (s, before) = built();
    // Reads of /proc/self/mem at offset 0 fail with EIO, for root too.
    std::os::unix::fs::symlink("/proc/self/mem", s.root().join("content/posts/mem.md")).unwrap();
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/mem.md: ",
        &["could not read this path", "Input/output error"],
    );
    std::fs::remove_file(s.root().join("content/posts/mem.md")).unwrap();

    if permissions_stop_reads(s.root()) {
        s.write(BAD, &post("Locked", "2024-05-02", "", "x"));
        set_mode(&s.root().join(BAD), 0o000);
        let err = fails(&s, &before);
        has(
            &err,
            "error: content/posts/bad.md: ",
            &["could not read this path", "Permission denied"],
        );
        assert!(err.contains("help: check the permissions"), "{err}");
    } else {
        eprintln!("running as root: chmod 000 does not stop reads, so only the EIO case ran");
    }
}

/// Runs `script` with `sh` in a private mount namespace where `$MNT` is a fresh tmpfs of
/// `size`, if this machine lets us (root with CAP_SYS_ADMIN). The tmpfs vanishes with it.
fn with_tmpfs(
    mnt: &Path,
    size: &str,
    script: &str,
    env: &[(&str, &Path)],
) -> Option<std::process::Output> {
    std::fs::create_dir_all(mnt).unwrap();
    let probe = Command::new("unshare")
        .args(["-m", "sh", "-c", "mount -t tmpfs -o size=64k none \"$MNT\""])
        .env("MNT", mnt)
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return None;
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c"])
        .arg(format!(
            "set -u\nmount -t tmpfs -o size={size} none \"$MNT\" || exit 99\n{script}"
        ))
        .env("MNT", mnt)
        .env("SITREP", env!("CARGO_BIN_EXE_sitrep"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run unshare");
    assert_ne!(
        out.status.code(),
        Some(99),
        "mount failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

/// What the scripts below leave in the site folder: the output before and after the
/// failing build, its stderr and status, and what was left beside the output.
struct Outcome {
    before: Snapshot,
    after: Snapshot,
    stderr: String,
    status: String,
    beside: String,
}

const TWO_BUILDS: &str = r#"
cd "$SITE"
"$SITREP" build --output "$MNT/public" >/dev/null 2>&1 || exit 98
cp -a "$MNT/public" "$SITE/out-before"
prepare_second_build
"$SITREP" build --output "$MNT/public" >/dev/null 2>"$SITE/out-stderr"
echo $? >"$SITE/out-status"
cp -a "$MNT/public" "$SITE/out-after"
ls -A "$MNT" >"$SITE/out-beside"
"#;

fn outcome(site: &Path) -> Outcome {
    let read = |name: &str| std::fs::read_to_string(site.join(name)).unwrap_or_default();
    Outcome {
        before: snapshot(&site.join("out-before")),
        after: snapshot(&site.join("out-after")),
        stderr: read("out-stderr"),
        status: read("out-status").trim().to_string(),
        beside: read("out-beside").trim().to_string(),
    }
}

fn check_failed_second_build(o: &Outcome) {
    assert_ne!(
        o.status, "0",
        "the second build should have failed:\n{}",
        o.stderr
    );
    assert!(!o.status.is_empty());
    assert!(!o.before.is_empty());
    assert!(o.after == o.before, "the old output changed:\n{}", o.stderr);
    assert_eq!(o.beside, "public", "left beside the output:\n{}", o.stderr);
    assert!(o.stderr.contains("was left as it was"), "{}", o.stderr);
}

#[test]
fn disk_full_while_writing() {
    let s = TestSite::new();
    s.write(GOOD, &post("Good", "2024-05-01", "", "Fine."));
    // A 4 MB post: its page and feeds cannot fit in what the first build leaves free.
    let big = post(
        "Big",
        "2024-05-02",
        "",
        &"Plenty of words to fill the disk. ".repeat(120_000),
    );
    s.write("big.md.next", &big);
    let mnt = s.root().join("mnt");
    let script = format!(
        "prepare_second_build() {{ cp \"$SITE/big.md.next\" \"$SITE/content/posts/big.md\"; }}\n{TWO_BUILDS}"
    );
    match with_tmpfs(&mnt, "2m", &script, &[("SITE", s.root())]) {
        Some(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let o = outcome(s.root());
            check_failed_second_build(&o);
            assert!(o.stderr.contains("No space left on device"), "{}", o.stderr);
            assert!(
                o.stderr
                    .contains("help: free some disk space and build again"),
                "{}",
                o.stderr
            );
        }
        None => {
            // No mount namespace here: a file size limit makes writes fail the same way
            // (EFBIG instead of ENOSPC), with SIGXFSZ ignored as a full disk sends none.
            eprintln!("no tmpfs in a private mount namespace here; simulating with ulimit -f");
            let (s, before) = built();
            s.write("content/posts/big.md", &big);
            let top = top_level(&s);
            let out = Command::new("bash")
                .args(["-c", "trap '' XFSZ; ulimit -f 1024; exec \"$SITREP\" build"])
                .env("SITREP", env!("CARGO_BIN_EXE_sitrep"))
                .current_dir(s.root())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{err}");
            assert!(err.contains("File too large"), "{err}");
            assert!(snapshot(&s.public()) == before, "{err}");
            assert_eq!(top_level(&s), top, "{err}");
        }
    }
}

#[test]
fn read_only_output_folder() {
    let s = TestSite::new();
    s.write(GOOD, &post("Good", "2024-05-01", "", "Fine."));
    let mnt = s.root().join("mnt");
    let script = format!(
        "prepare_second_build() {{ echo 'Changed.' >>\"$SITE/content/posts/good.md\"; mount -o remount,ro \"$MNT\"; }}\n{TWO_BUILDS}"
    );
    match with_tmpfs(&mnt, "4m", &script, &[("SITE", s.root())]) {
        Some(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let o = outcome(s.root());
            check_failed_second_build(&o);
            assert!(o.stderr.contains("Read-only file system"), "{}", o.stderr);
            assert!(
                o.stderr.contains("help: sitrep needs to write in"),
                "{}",
                o.stderr
            );
        }
        None => {
            let (s, before) = built();
            if permissions_stop_reads(s.root()) {
                // Not root: a folder without write permission.
                set_mode(s.root(), 0o555);
                let err = s.build(&[]).failed();
                set_mode(s.root(), 0o755);
                assert!(err.contains("Permission denied"), "{err}");
                assert!(snapshot(&s.public()) == before);
            } else {
                // Root without mount namespaces (a locked-down container): nothing here can
                // make a folder root cannot write. Say so; output_path_below_a_file still
                // covers an output that cannot be created.
                eprintln!("read_only_output_folder: NOT SIMULATED (root without mount namespaces)");
            }
        }
    }
}

#[test]
fn output_path_below_a_file() {
    let (s, before) = built();
    s.write("not-a-folder", "x");
    let err = s.build(&["--output", "not-a-folder/public"]).failed();
    has(
        &err,
        "error: not-a-folder: ",
        &["this is a file, so the output folder cannot be made inside it"],
    );
    assert!(snapshot(&s.public()) == before);
}

/// A site big enough that its build can be killed while it writes.
fn big_site(posts: usize) -> TestSite {
    let s = TestSite::new();
    let body = "A paragraph of a long post about CVE-2024-3400 and what to patch.\n\n".repeat(200);
    for i in 0..posts {
        s.write(
            &format!("content/posts/post-{i}.md"),
            &post(
                &format!("Post {i}"),
                "2024-05-01",
                &format!("tags: [t{i}, common]\n"),
                &body,
            ),
        );
    }
    s
}

fn staging_folders(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".public.sitrep-staging-"))
        })
        .collect()
}

fn files_under(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .count()
}

#[test]
fn build_killed_half_way() {
    let s = big_site(1500);
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    s.write("content/posts/new.md", &post("New", "2024-06-01", "", "x"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("build")
        .current_dir(s.root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) once it has written some of the new output.
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_at = loop {
        assert!(Instant::now() < deadline, "the build never started writing");
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the build finished ({status}) before it could be killed: make the site bigger");
        }
        if let Some(dir) = staging_folders(s.root()).first()
            && files_under(dir) >= 20
        {
            child.kill().unwrap();
            child.wait().unwrap();
            break files_under(dir);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(killed_at >= 20);
    assert!(
        snapshot(&s.public()) == before,
        "a killed build changed the old output"
    );
    assert_eq!(
        staging_folders(s.root()).len(),
        1,
        "the killed build's staging folder should be left"
    );

    s.build(&[]).ok();
    assert!(
        staging_folders(s.root()).is_empty(),
        "the next build did not clean the stale staging folder"
    );
    assert!(s.exists("posts/new/index.html"));
    assert!(!s.root().join("public.old").exists());
}

// ---- hostile links ----------------------------------------------------------------------

#[test]
fn data_url_as_image() {
    let (s, before) = built();
    s.write(
        BAD,
        &post(
            "Img",
            "2024-05-02",
            "image: \"data:image/svg+xml,<svg onload=alert(1)>\"\n",
            "x",
        ),
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["uses the `data:` scheme, which is not allowed"],
    );
}

#[test]
fn alias_that_leaves_the_output_folder() {
    let (s, before) = built();
    s.write(
        BAD,
        &post(
            "A",
            "2024-05-02",
            "aliases: [\"/../../../tmp/pwned/\"]\n",
            "x",
        ),
    );
    let err = fails(&s, &before);
    has(
        &err,
        "error: content/posts/bad.md:4: ",
        &["alias \"/../../../tmp/pwned/\" has a `..` path segment"],
    );
}

//! Escaping everywhere: a site whose every author-controlled string carries XSS payloads,
//! built, and ALL of its output scanned as a browser or feed reader would read it.
//!
//! - HTML pages are parsed with html5ever (scraper). No element, attribute, event handler,
//!   script, style or `javascript:`/`data:` URL may come from a payload; every
//!   `<script>` must be JSON (JSON-LD) that parses, or carry no payload at all.
//! - RSS, Atom and the sitemap must be well-formed XML with no element a payload made; the
//!   HTML they carry (RSS `description`, Atom `content`/`summary`) is parsed and scanned
//!   like a page.
//! - The JSON Feed must parse; its `content_html` is scanned like a page; it cannot close
//!   a `<script>`.
//! - Every file: no payload appears as written (each has a `'`, which every escaper
//!   rewrites).
//!
//! Three builds: the theme as it is (whatever it renders, including JSON-LD once it has
//! some), the same with `markdown.unsafe_html = false` and raw HTML payloads in the body,
//! and one whose `post.html` renders every field in text, in attributes, in URLs and in a
//! JSON-LD script, so each field is seen to arrive and be escaped whatever the theme shows.

use std::collections::BTreeMap;

use crate::common::{SITE_TOML, TestSite, assert_well_formed_xml, snapshot};
use scraper::{ElementRef, Html, Node};

/// Each payload calls `alert('XSS-<field>')`, so a survivor names the field it came from.
const PAYLOADS: &[&str] = &[
    "<script>alert('XSS-{}')</script>",
    "\"><img src=x onerror=alert('XSS-{}')>",
    "'><svg onload=alert('XSS-{}')>",
    "</title><script>alert('XSS-{}')</script>",
    "</script><script>alert('XSS-{}')</script>",
    "]]><script>alert('XSS-{}')</script><![CDATA[",
    "<!--<script>alert('XSS-{}')</script>-->",
    "&lt;script&gt;alert('XSS-{}')&lt;/script&gt;",
    "<a href=\"javascript:alert('XSS-{}')\">x</a>",
    "\u{2028}</script>\u{2029}<iframe src=javascript:alert('XSS-{}')>",
    "<style>*{background:url(javascript:alert('XSS-{}'))}</style>",
    "{{ site }}{% raw %}<b onmouseover=alert('XSS-{}')>",
];

/// Every payload for `field`, in one string.
fn payload(field: &str) -> String {
    PAYLOADS
        .iter()
        .map(|p| p.replace("{}", field))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each payload for `field` as one item of a YAML flow list (terms must stay short).
fn each(field: &str) -> String {
    PAYLOADS
        .iter()
        .map(|p| yq(&p.replace("{}", field)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first payload of `field`, as a reader should see it once decoded.
fn first(field: &str) -> String {
    PAYLOADS[0].replace("{}", field)
}

/// A URL that front matter accepts (http) but that carries every payload in its query.
fn url_payload(field: &str) -> String {
    format!("https://evil.example/?q={}", payload(field))
}

/// A YAML double-quoted string.
fn yq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML basic string.
fn tq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The fields whose payloads the post-everything template must show.
const FIELDS: &[&str] = &[
    "title",
    "tldr",
    "description",
    "tag",
    "category",
    "author",
    "related-title",
    "related-url",
    "image",
    "extra",
    "site-title",
    "site-description",
    "site-extra",
    "body",
    "update-note",
];

/// A body with payloads where Markdown must escape them: code, inline code, link text and
/// titles, image alt text, headings, tables, footnotes. No raw HTML: that is the author's.
fn markdown_body() -> String {
    let p = payload("body");
    let one_line = p.replace(['\u{2028}', '\u{2029}'], " ");
    format!(
        "Intro mentioning CVE-2024-3400.\n\n\
         ```html\n{p}\n```\n\n\
         ```\n{p}\n```\n\n\
         Inline `{one_line}` code.\n\n\
         [link text `{one_line}`](/posts/other/ \"title {q}\")\n\n\
         ![alt `{one_line}`](/img.png)\n\n\
         ## Heading `{one_line}`\n\n\
         | a | b |\n|---|---|\n| `{cell}` | x |\n\n\
         Footnote.[^n]\n\n[^n]: `{one_line}`\n",
        q = one_line.replace('"', "'"),
        cell = one_line.replace('|', "\\|"),
    )
}

fn site(extra_toml: &str, body: &str) -> TestSite {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &format!(
            "title = {}\nbase_url = \"https://news.example.com\"\ndescription = {}\n{extra_toml}\n[extra]\nnote = {}\n",
            tq(&format!("Site {}", payload("site-title"))),
            tq(&payload("site-description")),
            tq(&payload("site-extra")),
        ),
    );
    let fm = format!(
        "---\ntitle: {title}\ndate: 2024-05-01\ntldr:\n  - {tldr}\n  - plain\ndescription: {desc}\n\
         tags: [{tag}, plain]\ncategories: [{cat}]\nauthors: [{author}]\n\
         related:\n  - {{title: {rt}, url: {ru}}}\n  - {{post: other}}\n  - {{title: Path, url: {rp}}}\n\
         aliases: [{alias}]\nimage: {image}\nextra:\n  note: {extra}\n  list: [{extra}]\n\
         updates:\n  - {{date: 2024-05-02, note: {update}}}\n---\n\n{body}\n",
        title = yq(&payload("title")),
        tldr = yq(&payload("tldr")),
        desc = yq(&payload("description")),
        tag = each("tag"),
        cat = each("category"),
        author = yq(&payload("author")),
        rt = yq(&payload("related-title")),
        ru = yq(&url_payload("related-url")),
        rp = yq(&format!("/posts/other/?{}", payload("related-path"))),
        alias = PAYLOADS
            .iter()
            .enumerate()
            .map(|(i, p)| yq(&format!(
                "/old/{i}/{}/",
                p.replace("{}", "alias")
                    .replace(['/', '\u{2028}', '\u{2029}'], "_")
            )))
            .collect::<Vec<_>>()
            .join(", "),
        image = yq(&url_payload("image")),
        extra = yq(&payload("extra")),
        update = yq(&format!(
            "Update `{}`",
            payload("update-note").replace(['\u{2028}', '\u{2029}'], " ")
        )),
    );
    s.write("content/posts/evil.md", &fm);
    s.write(
        "content/posts/other.md",
        &format!(
            "---\ntitle: {}\ndate: 2024-04-01\ntags: [plain]\n---\n\nOther post.\n",
            yq(&payload("other-title"))
        ),
    );
    s.write(
        "content/about.md",
        &format!(
            "---\ntitle: {}\n---\n\nAbout.\n",
            yq(&payload("page-title"))
        ),
    );
    let _ = SITE_TOML;
    s
}

// ---- the scan ---------------------------------------------------------------------------

/// Elements that embed or run something: none may carry a payload's marker.
const EMBEDDING: &[&str] = &[
    "iframe", "frame", "object", "embed", "svg", "math", "form", "base", "template",
];

/// HTML elements that have no business in RSS, Atom or a sitemap.
const NOT_XML: &[&str] = &[
    "script", "style", "iframe", "img", "svg", "object", "embed", "a", "b", "meta",
];

fn squeeze(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Scans parsed HTML; `where_` names the file (and feed field) for messages.
fn scan_html(where_: &str, doc: &Html, problems: &mut Vec<String>) {
    for node in doc.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let name = el.name();
        let own_text = ElementRef::wrap(node)
            .map(|e| e.text().collect::<String>())
            .unwrap_or_default();
        let attrs: Vec<(&str, &str)> = el.attrs().collect();
        let attrs_text: String = attrs.iter().map(|(k, v)| format!("{k}={v} ")).collect();
        // Text in attributes is fine (the theme puts titles in `title` and `content`);
        // an embedding element that a payload made is not.
        if EMBEDDING.contains(&name) && (attrs_text.contains("XSS-") || own_text.contains("XSS-")) {
            problems.push(format!(
                "{where_}: <{name} {attrs_text}> came from a payload"
            ));
        }
        if name == "style" && own_text.contains("XSS-") {
            problems.push(format!("{where_}: <style> with a payload"));
        }
        for (attr, value) in &attrs {
            if attr.starts_with("on") {
                problems.push(format!(
                    "{where_}: event handler {attr}={value:?} on <{name}>"
                ));
            }
            if matches!(
                *attr,
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "poster"
                    | "data"
                    | "cite"
                    | "xlink:href"
            ) {
                let v = squeeze(value);
                if ["javascript:", "vbscript:", "data:"]
                    .iter()
                    .any(|s| v.starts_with(s))
                {
                    problems.push(format!("{where_}: {attr}={value:?} on <{name}>"));
                }
            }
            if *attr == "style" && value.contains("XSS-") {
                problems.push(format!("{where_}: style={value:?} on <{name}>"));
            }
            if name == "meta"
                && attr.eq_ignore_ascii_case("http-equiv")
                && value.eq_ignore_ascii_case("refresh")
            {
                let content = squeeze(el.attr("content").unwrap_or(""));
                if content.contains("javascript:") || content.contains("data:") {
                    problems.push(format!("{where_}: meta refresh to {content:?}"));
                }
            }
        }
        if name == "script" {
            let ty = el.attr("type").unwrap_or("");
            if ty.contains("json") {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&own_text) {
                    problems.push(format!(
                        "{where_}: <script type={ty:?}> is not JSON ({e}): {own_text}"
                    ));
                }
            } else if own_text.contains("XSS-")
                || el.attr("src").is_some_and(|s| s.contains("XSS-"))
            {
                problems.push(format!("{where_}: executable <script> with a payload"));
            }
        }
    }
}

/// Feed elements whose text is HTML that readers render: RSS `description` and
/// `content:encoded`, Atom text constructs with `type="html"`.
const HTML_IN_XML: &[&str] = &[
    "description",
    "content:encoded",
    "content (html)",
    "summary (html)",
    "title (html)",
    "subtitle (html)",
];

fn scan_xml(name: &str, text: &str, problems: &mut Vec<String>) {
    use quick_xml::events::Event;
    assert_well_formed_xml(name, text);
    let mut reader = quick_xml::Reader::from_str(text);
    // Open elements with their decoded text so far.
    let mut stack: Vec<(String, String)> = Vec::new();
    let check_tag = |tag: &str, problems: &mut Vec<String>| {
        if NOT_XML.contains(&tag) {
            problems.push(format!("{name}: an XML element <{tag}>"));
        }
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let mut tag = e.name().as_ref().to_string();
                check_tag(&tag, problems);
                // Atom says with `type` whether its text is HTML; RSS descriptions always are.
                let ty = e
                    .try_get_attribute("type")
                    .ok()
                    .flatten()
                    .map(|a| a.value.into_owned());
                if matches!(tag.as_str(), "summary" | "content" | "title" | "subtitle")
                    && ty.as_deref() == Some("html")
                {
                    tag = format!("{tag} (html)");
                }
                stack.push((tag, String::new()));
            }
            Ok(Event::Empty(e)) => check_tag(e.name().as_ref(), problems),
            Ok(Event::Text(t)) => {
                if let Some((_, buf)) = stack.last_mut() {
                    buf.push_str(&t.into_inner());
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let c = match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => c,
                    None => match r.into_inner().as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("{name}: unknown entity &{other};"),
                    },
                };
                if let Some((_, buf)) = stack.last_mut() {
                    buf.push(c);
                }
            }
            Ok(Event::CData(c)) => {
                if let Some((_, buf)) = stack.last_mut() {
                    buf.push_str(&c.into_inner());
                }
            }
            Ok(Event::End(_)) => {
                if let Some((tag, html)) = stack.pop()
                    && HTML_IN_XML.contains(&tag.as_str())
                {
                    scan_html(
                        &format!("{name} <{tag}>"),
                        &Html::parse_fragment(&html),
                        problems,
                    );
                }
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{name}: {e}"),
        }
    }
}

fn scan_json_feed(name: &str, text: &str, problems: &mut Vec<String>) {
    let lower = text.to_ascii_lowercase();
    if lower.contains("</script") || lower.contains("<!--") {
        problems.push(format!("{name}: could close a <script> it is embedded in"));
    }
    let feed: serde_json::Value = serde_json::from_str(text).expect("the JSON Feed parses");
    for item in feed["items"].as_array().expect("items") {
        if let Some(html) = item["content_html"].as_str() {
            scan_html(
                &format!("{name} content_html"),
                &Html::parse_fragment(html),
                problems,
            );
        }
    }
}

/// The search index: JSON data with no `<`, `>` or `&` as such (they are `\u` escapes), so
/// no file of it is markup whatever a browser takes it for.
fn scan_search_index(name: &str, text: &str, problems: &mut Vec<String>) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        problems.push(format!("{name}: not JSON: {e}"));
    }
    if text.contains(['<', '>', '&']) {
        problems.push(format!("{name}: has a raw <, > or &"));
    }
}

/// Scans every file of the output; returns what went wrong.
fn scan_output(out: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, bytes) in out {
        let text = String::from_utf8_lossy(bytes);
        for field in FIELDS
            .iter()
            .chain(&["other-title", "page-title", "related-path", "alias"])
        {
            // The pre-escaped payload is text once decoded; shown as written is right for
            // it (Markdown decodes `&lt;` and writes it back), and decoding it twice would
            // make a script element, which the parse below finds.
            for p in PAYLOADS.iter().filter(|p| !p.starts_with("&lt;")) {
                let raw = p.replace("{}", field);
                if text.contains(&raw) {
                    problems.push(format!("{name}: the payload {raw:?} is there as written"));
                }
            }
        }
        if name.ends_with(".html") {
            scan_html(name, &Html::parse_document(&text), &mut problems);
        } else if name.ends_with(".xml") {
            scan_xml(name, &text, &mut problems);
        } else if name.starts_with("search/") && name.ends_with(".json") {
            scan_search_index(name, &text, &mut problems);
        } else if name.ends_with(".json") {
            scan_json_feed(name, &text, &mut problems);
        }
    }
    problems
}

fn assert_clean(label: &str, s: &TestSite) -> BTreeMap<String, Vec<u8>> {
    let out = snapshot(&s.public());
    for f in [
        "posts/evil/index.html",
        "rss.xml",
        "atom.xml",
        "feed.json",
        "sitemap.xml",
    ] {
        assert!(
            out.contains_key(f),
            "{label}: no {f}; have {:?}",
            out.keys().collect::<Vec<_>>()
        );
    }
    let problems = scan_output(&out);
    assert!(
        problems.is_empty(),
        "{label}: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    out
}

/// Everything a page, feed or attribute of it says once decoded: text and attribute values
/// of the parsed HTML, the decoded text of XML, the strings of JSON.
fn decoded(out: &BTreeMap<String, Vec<u8>>, file: &str) -> String {
    let text = String::from_utf8_lossy(&out[file]).into_owned();
    let doc = Html::parse_document(&text);
    let mut all = String::new();
    for node in doc.tree.nodes() {
        match node.value() {
            Node::Text(t) => all.push_str(t),
            Node::Element(el) => {
                for (_, v) in el.attrs() {
                    all.push_str(v);
                    all.push('\n');
                }
            }
            _ => {}
        }
        all.push('\n');
    }
    all
}

// ---- the builds -------------------------------------------------------------------------

#[test]
fn theme_escapes_every_payload_everywhere() {
    let s = site("", &markdown_body());
    let run = s.build(&[]).ok();
    assert!(!run.stderr.contains("error"), "{}", run.stderr);
    let out = assert_clean("default theme", &s);

    // The payloads did arrive, as text: the test is not passing on empty pages.
    let post = decoded(&out, "posts/evil/index.html");
    for field in [
        "title",
        "tldr",
        "tag",
        "category",
        "author",
        "related-title",
        "site-title",
        "body",
    ] {
        assert!(post.contains(&first(field)), "{field} not shown");
    }
    assert!(
        post.contains("<script>alert('XSS-body')</script>"),
        "code block lost"
    );
    let feed: serde_json::Value = serde_json::from_slice(&out["feed.json"]).unwrap();
    let item = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("/posts/evil/"))
        })
        .unwrap();
    assert_eq!(item["title"].as_str(), Some(payload("title").as_str()));
    assert!(
        item["content_html"]
            .as_str()
            .unwrap()
            .contains("&lt;script&gt;alert(&#39;XSS-body&#39;)&lt;/script&gt;")
    );
}

#[test]
fn sanitised_bodies_keep_no_raw_html_payload() {
    let raw_html: String = PAYLOADS
        .iter()
        .map(|p| format!("{}\n\n", p.replace("{}", "raw-body")))
        .collect();
    let body = format!(
        "{}\n\n{raw_html}<p>inline {}</p>\n",
        markdown_body(),
        payload("raw-inline")
    );
    let s = site("[markdown]\nunsafe_html = false\n", &body);
    s.build(&[]).ok();
    let out = assert_clean("unsafe_html = false", &s);
    let html = String::from_utf8_lossy(&out["posts/evil/index.html"]).into_owned();
    // Beyond the scan: the raw HTML of the body left no element of its own.
    let doc = Html::parse_document(&html);
    for gone in [
        "iframe",
        "svg",
        "style",
        "script:not([type*=json])",
        "[onerror]",
        "[onload]",
        "[onmouseover]",
        "a[href^=javascript]",
    ] {
        let sel = scraper::Selector::parse(gone).unwrap();
        assert_eq!(
            doc.select(&sel).count(),
            0,
            "{gone} survived sanitising:\n{html}"
        );
    }
    // What Markdown made is still there, keyboard access to code blocks included.
    assert!(
        html.contains("<a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<pre class=\"code\" tabindex=\"0\" data-lang=\"html\"><code class=\"language-html\"><span class=\"hl-"
        ),
        "{html}"
    );
}

#[test]
fn a_template_that_shows_every_field_everywhere_stays_inert() {
    let s = site("", &markdown_body());
    s.write(
        "templates/post.html",
        r#"<!DOCTYPE html>
<html lang="{{ site.language }}"><head><meta charset="utf-8">
<title>{{ page.title }} | {{ site.title }}</title>
<meta name="description" content="{{ page.description }}">
<meta property="og:title" content='{{ page.title }}'>
{% if page.image %}<meta property="og:image" content="{{ page.image }}">{% endif %}
<script type="application/ld+json">{{ page | json_encode }}</script>
<script type="application/ld+json">{"site": {{ site.title | json_encode }}, "extra": {{ site.extra | json_encode }}, "page_extra": {{ page.extra | json_encode }}}</script>
</head><body>
<h1 title="{{ page.title }}">{{ page.title }}</h1>
<p>{{ site.description }} {{ site.extra.note }}</p>
<ul>{% for t in page.tldr %}<li data-x='{{ t }}'>{{ t }}</li>{% endfor %}</ul>
<p>{{ page.description }}</p>
<p>{% for t in page.tags %}<a href="{{ t.url }}" title="{{ t.name }}">{{ t.name }}</a>{% endfor %}</p>
<p>{% for c in page.categories %}<a href="{{ c.url }}">{{ c.name }}</a>{% endfor %}</p>
<p>{{ page.authors | join(sep=", ") }}</p>
<ul>{% for r in page.related %}<li><a href="{{ r.url }}" title="{{ r.title }}">{{ r.title }}</a></li>{% endfor %}</ul>
{% if page.image %}<img src="{{ page.image }}" alt="{{ page.title }}">{% endif %}
{% if page.extra %}<p data-note="{{ page.extra.note }}">{{ page.extra.note }} {% for x in page.extra.list %}{{ x }}{% endfor %}</p>{% endif %}
<div class="content">{{ page.content }}</div>
{% for u in page.updates %}<div data-when="{{ u.datetime }}">{{ u.note }}</div>{% endfor %}
</body></html>
"#,
    );
    s.build(&[]).ok();
    let out = assert_clean("every field", &s);
    let post = decoded(&out, "posts/evil/index.html");
    let html = String::from_utf8_lossy(&out["posts/evil/index.html"]).into_owned();
    for field in FIELDS {
        assert!(
            post.contains(&first(field)),
            "{field} never arrived:\n{html}"
        );
    }
    // The JSON-LD carries the payloads as data.
    let doc = Html::parse_document(&html);
    let sel = scraper::Selector::parse("script[type=\"application/ld+json\"]").unwrap();
    let scripts: Vec<String> = doc.select(&sel).map(|e| e.text().collect()).collect();
    assert_eq!(scripts.len(), 2, "{html}");
    let ld: serde_json::Value = serde_json::from_str(&scripts[0]).unwrap();
    assert_eq!(ld["title"].as_str(), Some(payload("title").as_str()));
    let ld: serde_json::Value = serde_json::from_str(&scripts[1]).unwrap();
    assert_eq!(
        ld["page_extra"]["note"].as_str(),
        Some(payload("extra").as_str())
    );
}

// ---- URLs that run script are refused in every URL field ---------------------------------

fn refused(fm: &str, body: &str, expect: &str) {
    let s = TestSite::new();
    s.write(
        "content/posts/good.md",
        &crate::common::post("Good", "2024-05-01", "", "x"),
    );
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    s.write(
        "content/posts/bad.md",
        &crate::common::post("Bad", "2024-05-02", fm, body),
    );
    let err = s.build(&[]).failed();
    assert!(snapshot(&s.public()) == before);
    assert!(err.contains(expect), "expected {expect:?} in:\n{err}");
}

#[test]
fn script_urls_are_refused_in_every_url_field() {
    for (url, scheme) in [
        ("javascript:alert(1)", "javascript"),
        ("JavaScript:alert(1)", "javascript"),
        ("data:text/html,<script>alert(1)</script>", "data"),
        ("vbscript:msgbox(1)", "vbscript"),
    ] {
        let not_allowed = format!("{url:?} uses the `{scheme}:` scheme, which is not allowed");
        refused(
            &format!("related:\n  - {{title: x, url: \"{url}\"}}\n"),
            "x",
            &format!("error: content/posts/bad.md:5: related entry 1: url {not_allowed}"),
        );
        refused(
            &format!("image: \"{url}\"\n"),
            "x",
            &format!("error: content/posts/bad.md:4: `image` {not_allowed}"),
        );
        refused(
            "",
            &format!("[click]({url})"),
            &format!("error: content/posts/bad.md:6: a link to a `{scheme}:` URL"),
        );
    }
    // Browsers drop tabs inside URLs: `java<TAB>script:` is `javascript:`.
    refused(
        "related:\n  - {title: x, url: \"java\tscript:alert(1)\"}\n",
        "x",
        "error: content/posts/bad.md:5: related entry 1: url \"java\\tscript:alert(1)\" contains control characters",
    );
    refused(
        "",
        "[click](<java\tscript:alert(1)>)",
        "error: content/posts/bad.md:6: a link to a `javascript:` URL",
    );
    refused(
        "",
        "![x](javascript:alert(1))",
        "error: content/posts/bad.md:6: an image to a `javascript:` URL",
    );
    refused(
        "",
        "Text.\n\n[ref]\n\n[ref]: javascript:alert(1)",
        "error: content/posts/bad.md:8: a link to a `javascript:` URL",
    );
}

#[test]
fn data_images_in_bodies_are_fine() {
    let s = TestSite::new();
    s.write(
        "content/posts/good.md",
        &crate::common::post(
            "Good",
            "2024-05-01",
            "",
            "![dot](data:image/png;base64,iVBORw0KGgo=)",
        ),
    );
    s.build(&[]).ok();
    assert!(
        s.read("posts/good/index.html")
            .contains("src=\"data:image/png;base64,iVBORw0KGgo=\"")
    );
}

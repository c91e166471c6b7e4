//! Rich posts: callouts, shortcodes (built-in and the site's own), click-to-load embeds,
//! indicators of compromise and their exports, and `check`'s migration report. Each test
//! builds a small real site with the `sitrep` binary and reads the output.

use crate::common::{self, TestSite, post};
use serde_json::Value;

fn site_with(body: &str, front: &str) -> TestSite {
    let s = TestSite::new();
    s.write(
        "content/posts/rich.md",
        &post("Rich post", "2024-04-15T07:45:00Z", front, body),
    );
    // The figures show real images (a build reads their sizes and decodes them once).
    s.write_bytes("static/img/a.png", &crate::common::png(64, 36));
    s.write_bytes("static/a.png", &crate::common::png(64, 36));
    s
}

fn built(body: &str) -> (TestSite, String) {
    let s = site_with(body, "");
    s.build(&[]).ok();
    let html = s.read("posts/rich/index.html");
    (s, html)
}

/// The error output of a failed build.
fn fails(body: &str, front: &str) -> String {
    site_with(body, front).build(&[]).failed()
}

/// The post's body as the page shows it.
fn content(html: &str) -> &str {
    let start = html.find("<div class=\"content\">").expect("content");
    let end = html[start..].find("\n  </div>").expect("end of content");
    &html[start..start + end]
}

#[test]
fn callouts_in_every_form() {
    let (_, html) = built(concat!(
        "> [!NOTE]\n> Plain note.\n\n",
        "> [!WARNING] Patch now\n> Title and text.\n\n",
        "> [!TIP]-\n> Folded shut.\n\n",
        "> [!CAUTION]+ Open fold\n> Folded open.\n\n",
        "> [!IMPORTANT]\n> Last.\n\n",
        "> An ordinary quote.\n",
    ));
    let c = content(&html);
    assert!(c.contains("<div class=\"callout callout-note\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Note</span></p>\n<p>Plain note.</p>\n</div>"), "{c}");
    assert!(c.contains("<span class=\"callout-label\">Warning</span><span class=\"callout-sep\">: </span>Patch now</p>"), "{c}");
    assert!(c.contains("<details class=\"callout callout-tip\">\n<summary class=\"callout-title\"><span class=\"callout-label\">Tip</span></summary>\n<p>Folded shut.</p>\n</details>"), "{c}");
    assert!(
        c.contains("<details class=\"callout callout-caution\" open>"),
        "{c}"
    );
    assert!(c.contains("callout-important"), "{c}");
    assert!(
        c.contains("<blockquote>\n<p>An ordinary quote.</p>\n</blockquote>"),
        "{c}"
    );
    assert!(!c.contains("[!"), "{c}");
    // A titled callout first in the body does not put its marker in the description.
    let (_, html) = built("> [!WARNING] Patch now\n> before Friday.\n");
    assert!(
        html.contains("<meta name=\"description\" content=\"Patch now before Friday.\">"),
        "{html}"
    );
}

#[test]
fn callouts_survive_sanitising() {
    let s = site_with(
        "> [!WARNING]- Title\n> Text <script>alert(1)</script>\n",
        "",
    );
    s.write(
        "site.toml",
        &format!("{}\n[markdown]\nunsafe_html = false\n", common::SITE_TOML),
    );
    s.build(&[]).ok();
    let html = s.read("posts/rich/index.html");
    let c = content(&html);
    assert!(
        c.contains("<details class=\"callout callout-warning\">"),
        "{c}"
    );
    assert!(
        c.contains("<summary class=\"callout-title\"><span class=\"callout-label\">Warning</span>"),
        "{c}"
    );
    assert!(!c.contains("<script"), "{c}");
}

#[test]
fn every_builtin_renders() {
    let (s, html) = built(concat!(
        "{{ figure(src=\"/img/a.png\", alt=\"A diagram\", caption=\"The caption\", credit=\"Lab\", link=\"https://example.com/full\", width=640, height=360) }}\n\n",
        "{{ youtube(id=\"aqz-KE-bpKQ\", start=90, title=\"Talk\") }}\n\n",
        "{{ vimeo(id=\"76979871\") }}\n\n",
        "{{ x(user=\"someone\", id=\"1234567890\", text=\"Hello\") }}\n\n",
        "{{ tweet(user=\"other\", id=\"42\") }}\n\n",
        "{{ mastodon(url=\"https://infosec.exchange/@user/111\") }}\n\n",
        "{{ gist(user=\"octo\", id=\"abc123\") }}\n\n",
        "{% details(summary=\"More\") %}\nHidden *text*.\n{% end %}\n\n",
        "{% callout(kind=\"warning\", title=\"Heads up\") %}\nCareful.\n{% end %}\n\n",
        "{% callout(kind=\"note\", fold=\"closed\") %}\nFolded.\n{% end %}\n\n",
        "Inline {{ cve(id=\"cve-2024-3400\") }} and {{ attack(id=\"T1059.001\", name=\"PowerShell\") }}.\n\n",
        "{% ioc() %}\n203.0.113.7\n{% end %}\n",
    ));
    let c = content(&html);
    for want in [
        "<figure class=\"figure\"><a href=\"https://example.com/full\"><img src=\"/img/a.png\" alt=\"A diagram\" width=\"640\" height=\"360\" loading=\"lazy\" decoding=\"async\"></a>\n<figcaption>The caption <span class=\"credit\">Lab</span></figcaption>\n</figure>",
        "<a class=\"embed-link\" href=\"https://www.youtube.com/watch?v=aqz-KE-bpKQ&amp;t=90s\" data-embed-src=\"https://www.youtube-nocookie.com/embed/aqz-KE-bpKQ?autoplay=1&amp;start=90\" data-embed-title=\"Talk\">",
        "data-embed-src=\"https://player.vimeo.com/video/76979871?autoplay=1&amp;dnt=1\"",
        "<a href=\"https://x.com/someone/status/1234567890\">View the post on X",
        "<a href=\"https://x.com/other/status/42\">",
        "<span class=\"social-author\">@user@infosec.exchange</span>",
        "<a href=\"https://gist.github.com/octo/abc123\">",
        "<details class=\"details\">\n<summary>More</summary>\n<p>Hidden <em>text</em>.</p>\n</details>",
        "<div class=\"callout callout-warning\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Warning</span><span class=\"callout-sep\">: </span>Heads up</p>\n<p>Careful.</p>\n</div>",
        "<details class=\"callout callout-note\">",
        "Inline <span class=\"cve-card\"><a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a></span> and <a class=\"attack\" href=\"https://attack.mitre.org/techniques/T1059/001/\"><span class=\"attack-id\">T1059.001</span> PowerShell</a>.",
        "<td class=\"ioc-cell\" data-ioc=\"203.0.113.7\"><span class=\"ioc-defanged\">203.0.113[.]7</span>",
    ] {
        assert!(c.contains(want), "missing {want}\nin\n{c}");
    }
    // Block shortcodes are not wrapped in paragraphs; no iframe and no third-party script.
    assert!(!c.contains("<p><figure") && !c.contains("<p><div"), "{c}");
    assert!(!html.contains("<iframe"), "{html}");
    assert!(
        !html.contains("platform.twitter.com") && !html.contains("gist.github.com/octo/abc123.js")
    );
    // The page loads the same-origin script (its content-hashed copy, `asset_url`), and
    // the theme ships it.
    let script = html
        .split("<script src=\"/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    assert!(
        script.starts_with("rich.") && script.ends_with(".js") && html.contains(" defer></script>"),
        "{html}"
    );
    assert_eq!(s.read(script), s.read("rich.js"));
    assert!(s.read("rich.js").contains("youtube-nocookie.com/embed/"));
    // The cve shortcode puts the post on the CVE's page.
    assert!(
        s.read("cve/CVE-2024-3400/index.html")
            .contains("/posts/rich/")
    );
}

#[test]
fn shortcode_arguments_cannot_inject_markup() {
    let evil = "\\\"><script>alert(1)</script><img src=x onerror=alert(2)>'";
    let (_, html) = built(&format!(
        concat!(
            "{{{{ figure(src=\"/a.png\", alt=\"{e}\", caption=\"{e}\", credit=\"{e}\") }}}}\n\n",
            "{{{{ youtube(id=\"aqz-KE-bpKQ\", title=\"{e}\") }}}}\n\n",
            "{{{{ x(user=\"u\", id=\"1\", text=\"{e}\", date=\"{e}\") }}}}\n\n",
            "{{{{ mastodon(url=\"https://infosec.exchange/@u/1\", text=\"{e}\") }}}}\n\n",
            "{{{{ gist(user=\"u\", id=\"1\", file=\"{e}\") }}}}\n\n",
            "{{% details(summary=\"{e}\") %}}\nx\n{{% end %}}\n\n",
            "{{% callout(title=\"{e}\") %}}\nx\n{{% end %}}\n\n",
            "{{{{ attack(id=\"T1059\", name=\"{e}\") }}}}\n\n",
            "{{% ioc(title=\"{e}\") %}}\nhttps://evil.example/?q=\"><script>alert(3)</script>\n{{% end %}}\n",
        ),
        e = evil
    ));
    let c = content(&html);
    assert!(!c.contains("<script"), "{c}");
    assert!(!c.contains("<img src=x"), "{c}");
    assert!(!c.contains("onerror=alert(2)>"), "{c}");
    assert!(c.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{c}");
    assert!(c.contains("&quot;&gt;"), "{c}");
    assert!(c.contains("&#39;"), "{c}");
}

#[test]
fn bad_urls_in_arguments_are_refused() {
    for (call, what) in [
        (
            "{{ figure(src=\"javascript:alert(1)\", alt=\"x\") }}",
            "`javascript:` scheme",
        ),
        (
            "{{ figure(src=\"/a.png\", alt=\"x\", link=\"javascript:alert(1)\") }}",
            "`javascript:` scheme",
        ),
        (
            "{{ figure(src=\"data:image/png;base64,AAAA\", alt=\"x\") }}",
            "`data:` scheme",
        ),
        (
            "{{ youtube(id=\"aqz-KE-bpKQ\", poster=\"https://tracker.example/p.jpg\") }}",
            "must be an image on this site",
        ),
        (
            "{{ youtube(id=\"x\\\" onload=\\\"alert(1)\") }}",
            "is not a YouTube video id",
        ),
        (
            "{{ mastodon(url=\"javascript:alert(1)//@x\") }}",
            "is not the https address",
        ),
    ] {
        let err = fails(&format!("Intro.\n\n{call}\n"), "");
        assert!(err.contains(what), "{call}: {err}");
        assert!(err.contains("content/posts/rich.md:8:"), "{call}: {err}");
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let err = fails("Text.\n\nSee {{ nosuch(a=1) }} here.\n", "");
    assert!(
        err.contains("content/posts/rich.md:8:5: unknown shortcode `nosuch`"),
        "{err}"
    );
    let err = fails("{{ youtub(id=\"aqz-KE-bpKQ\") }}\n", "");
    assert!(err.contains("did you mean `youtube`?"), "{err}");
    let err = fails("Line one.\n{{ figure(src=\"/a.png\") }}\n", "");
    assert!(
        err.contains("rich.md:7:1: the shortcode `figure` needs the argument `alt`"),
        "{err}"
    );
    assert!(err.contains("alt=\"\""), "{err}");
    // alt="" on purpose is fine.
    site_with("{{ figure(src=\"/a.png\", alt=\"\") }}\n", "")
        .build(&[])
        .ok();
    let err = fails("{{ youtube(id=\"aqz-KE-bpKQ\", start=\"90\") }}\n", "");
    assert!(
        err.contains("rich.md:6:30: `start` of `youtube` must be a whole number, not a string"),
        "{err}"
    );
    let err = fails("{{ youtube(idd=\"aqz-KE-bpKQ\") }}\n", "");
    assert!(
        err.contains("has no argument `idd`") && err.contains("did you mean `id`?"),
        "{err}"
    );
    let err = fails("{% callout() %}\nnever closed\n", "");
    assert!(
        err.contains("rich.md:6:1: shortcode: the body of `callout` is never closed"),
        "{err}"
    );
    let err = fails("{{ callout(kind=\"note\") }}\n", "");
    assert!(err.contains("needs a body"), "{err}");
    let err = fails("{% youtube(id=\"aqz-KE-bpKQ\") %}x{% end %}\n", "");
    assert!(err.contains("takes no body"), "{err}");
    let err = fails("{{ x(a=\"open) }}\n", "");
    assert!(
        err.contains("rich.md:6:8: shortcode: a string argument is never closed"),
        "{err}"
    );
    let err = fails("[link]({{ cve(id=\"CVE-2024-3400\") }})\n", "");
    assert!(err.contains("cannot be used here"), "{err}");
    // Every problem of a body is reported, each on its line.
    let err = fails("{{ nosuch() }}\n\n{{ figure(src=\"/a.png\") }}\n", "");
    assert!(
        err.contains("rich.md:6:1") && err.contains("rich.md:8:1"),
        "{err}"
    );
}

#[test]
fn template_errors_name_the_post_and_the_template() {
    let s = site_with("Intro.\n\n{{ chart(data=[1, 2]) }}\n", "");
    s.write(
        "templates/shortcodes/chart.html",
        "<div class=\"chart\">{{ data | length }} {{ missing.field }}</div>\n",
    );
    let err = s.build(&[]).failed();
    assert!(err.contains("content/posts/rich.md:8:1: the shortcode `chart` failed in templates/shortcodes/chart.html"), "{err}");
}

#[test]
fn site_shortcodes_override_the_theme_and_get_markdown_bodies() {
    let s = site_with(
        concat!(
            "{{ youtube(id=\"aqz-KE-bpKQ\") }}\n\n",
            "{% aside(label=\"Side\", n=3, on=true, tags=[\"a\", \"b\"]) %}\n",
            "Some *Markdown* with CVE-2024-3400 and {{ cve(id=\"CVE-2023-1111\") }}.\n",
            "{% end %}\n\n",
            "Twice: {{ aside2() }} {{ aside2() }}\n",
        ),
        "",
    );
    s.write(
        "templates/shortcodes/youtube.html",
        "<p class=\"my-video\">{{ id }} {{ watch_url }}</p>\n",
    );
    s.write(
        "templates/shortcodes/aside.html",
        "<aside class=\"aside\" aria-label=\"{{ label }}\">{{ n }} {{ on }} {{ tags | join(sep=\",\") }}\n{{ body }}</aside>\n",
    );
    s.write("templates/shortcodes/aside2.html", "<b>{{ nth }}</b>\n");
    s.build(&[]).ok();
    let html = s.read("posts/rich/index.html");
    let c = content(&html);
    assert!(
        c.contains(
            "<p class=\"my-video\">aqz-KE-bpKQ https://www.youtube.com/watch?v=aqz-KE-bpKQ</p>"
        ),
        "{c}"
    );
    assert!(c.contains("<aside class=\"aside\" aria-label=\"Side\">3 true a,b\n<p>Some <em>Markdown</em> with <a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a> and <span class=\"cve-card\">"), "{c}");
    assert!(c.contains("Twice: <b>1</b> <b>2</b>"), "{c}");
}

#[test]
fn shortcodes_in_code_stay_text() {
    let (_, html) = built(concat!(
        "`{{ youtube(id=\"aqz-KE-bpKQ\") }}` inline.\n\n",
        "```\n{{ youtube(id=\"aqz-KE-bpKQ\") }}\n{% callout() %}\n```\n\n",
        "    {{ nosuch() }}\n\n",
        "Shown as written: {{/* youtube(id=\"x\") */}}.\n",
    ));
    let c = content(&html);
    assert!(
        c.contains("<code>{{ youtube(id=\"aqz-KE-bpKQ\") }}</code> inline."),
        "{c}"
    );
    assert!(c.contains("{% callout() %}"), "{c}");
    assert!(c.contains("{{ nosuch() }}"), "{c}");
    assert!(
        c.contains("Shown as written: {{ youtube(id=\"x\") }}."),
        "{c}"
    );
    assert!(!c.contains("embed-link"), "{c}");
    assert!(
        !html.contains("rich.js"),
        "no script on a page without embeds or IOCs"
    );
}

#[test]
fn frame_src_only_on_sites_that_embed() {
    let (s, _) = built("No video here.\n");
    let headers = s.read("_headers");
    assert!(!headers.contains("frame-src"), "{headers}");
    let (s, _) = built("{{ youtube(id=\"aqz-KE-bpKQ\") }}\n");
    let headers = s.read("_headers");
    assert!(
        headers.contains(
            "frame-ancestors 'none'; frame-src 'self' https://www.youtube-nocookie.com\n"
        ),
        "{headers}"
    );
    assert!(!headers.contains("vimeo"), "{headers}");
}

const IOC_FRONT: &str = concat!(
    "iocs:\n",
    "  - {type: ipv4, value: \"203.0.113.0/24\", note: \"range\"}\n",
    "  - {type: domain, value: \"evil.example.com\"}\n",
    "  - \"hxxps://cdn.example[.]net/x.js\"\n",
    "  - {type: hash, value: \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\", note: \"=1+1, \\\"quoted\\\"\"}\n",
    "  - {value: \"CVE-2024-3400\"}\n",
);

const IOC_BODY: &str = concat!(
    "Indicators:\n\n",
    "{% ioc(title=\"Seen in the lab\") %}\n",
    "203.0.113.7 # C2\n",
    "2001:db8::5\n",
    "user[@]example[.]com\n",
    "d41d8cd98f00b204e9800998ecf8427e\n",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709\n",
    "invoice.pdf.exe\n",
    "HKLM\\Software\\Evil\\Run\n",
    "{% end %}\n",
);

fn ioc_site() -> TestSite {
    let s = site_with(IOC_BODY, IOC_FRONT);
    s.build(&[]).ok();
    s
}

#[test]
fn iocs_are_shown_defanged_never_as_links() {
    let s = ioc_site();
    let html = s.read("posts/rich/index.html");
    for want in [
        "<span class=\"ioc-defanged\">203.0.113[.]7</span> <code class=\"ioc-real\">203.0.113.7</code>",
        "<span class=\"ioc-defanged\">2001[:]db8[:][:]5</span>",
        "<span class=\"ioc-defanged\">user[@]example[.]com</span>",
        "<span class=\"ioc-defanged\">hxxps://cdn[.]example[.]net/x.js</span> <code class=\"ioc-real\">https://cdn.example.net/x.js</code>",
        "<span class=\"ioc-defanged\">evil[.]example[.]com</span>",
        "<caption>Seen in the lab</caption>",
        "<td class=\"ioc-type\">Registry key</td>",
        "<a href=\"/posts/rich/iocs.csv\" type=\"text/csv\">CSV</a>",
        "<a href=\"/posts/rich/iocs.stix.json\" type=\"application/json\">STIX 2.1</a>",
        "<script src=\"/rich.",
    ] {
        assert!(html.contains(want), "missing {want}");
    }
    assert!(
        !html.contains("href=\"https://cdn.example.net"),
        "an IOC became a link"
    );
    assert!(
        !html.contains("href=\"mailto:user@"),
        "an IOC became a link"
    );
    // Plain URLs in running text are the author's: not defanged.
    let (_, plain) = built("See <https://example.com/advisory> for details.\n");
    assert!(
        plain.contains("<a href=\"https://example.com/advisory\">"),
        "{plain}"
    );
}

#[test]
fn ioc_exports_csv_json_and_site_list() {
    let s = ioc_site();
    let csv = s.read("posts/rich/iocs.csv");
    assert!(csv.starts_with("type,value,note\r\n"), "{csv}");
    assert!(csv.contains("ipv4,203.0.113.0/24,range\r\n"), "{csv}");
    assert!(
        csv.contains("url,https://cdn.example.net/x.js,\r\n"),
        "{csv}"
    );
    assert!(csv.contains("sha256,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,\"'=1+1, \"\"quoted\"\"\"\r\n"), "{csv}");
    assert!(
        csv.contains("registry,HKLM\\Software\\Evil\\Run,\r\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 5 + 7);

    let json: Value = serde_json::from_str(&s.read("posts/rich/iocs.json")).unwrap();
    assert_eq!(json["post"]["url"], "https://news.example.com/posts/rich/");
    let iocs = json["iocs"].as_array().unwrap();
    assert_eq!(iocs.len(), 12);
    assert_eq!(iocs[5]["type"], "ipv4");
    assert_eq!(iocs[5]["value"], "203.0.113.7");
    assert_eq!(iocs[5]["note"], "C2");
    assert_eq!(iocs[7]["value"], "user@example.com");

    let all: Value = serde_json::from_str(&s.read("iocs.json")).unwrap();
    let posts = all["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0]["title"], "Rich post");
    assert_eq!(posts[0]["iocs"].as_array().unwrap().len(), 12);
    // A site without IOCs has no export at all.
    let (plain, _) = built("Nothing to see.\n");
    assert!(!plain.exists("iocs.json"));
    assert!(!plain.exists("posts/rich/iocs.csv"));
}

/// STIX 2.1 (OASIS Standard, section 4.1 and 2.9): the properties every indicator must have.
const INDICATOR_REQUIRED: &[&str] = &[
    "type",
    "spec_version",
    "id",
    "created",
    "modified",
    "pattern",
    "pattern_type",
    "valid_from",
];

fn is_stix_timestamp(s: &str) -> bool {
    // YYYY-MM-DDTHH:mm:ss[.s+]Z, as in the specification's examples.
    let b = s.as_bytes();
    s.len() >= 20
        && s.ends_with('Z')
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s[..4].bytes().all(|c| c.is_ascii_digit())
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12].iter().zip(&parts).all(|(n, p)| {
            p.len() == *n
                && p.bytes()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        })
}

#[test]
fn stix_bundle_has_valid_indicators() {
    // The reference: an example bundle from OASIS (cti-stix2-json-schemas).
    let reference: Value = serde_json::from_str(include_str!(
        "../fixtures/stix/indicator-for-c2-ip-address.json"
    ))
    .unwrap();
    let ref_indicator = &reference["objects"][0];
    for key in INDICATOR_REQUIRED {
        assert!(
            ref_indicator.get(*key).is_some(),
            "the reference lacks {key}"
        );
    }

    let s = ioc_site();
    let text = s.read("posts/rich/iocs.stix.json");
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(bundle["type"], reference["type"]);
    let bundle_id = bundle["id"].as_str().unwrap();
    assert!(
        bundle_id.starts_with("bundle--") && is_uuid(&bundle_id[8..]),
        "{bundle_id}"
    );
    assert!(
        bundle.get("spec_version").is_none(),
        "2.1 bundles have no spec_version"
    );
    let objects = bundle["objects"].as_array().unwrap();
    let indicators: Vec<&Value> = objects
        .iter()
        .filter(|o| o["type"] == "indicator")
        .collect();
    assert_eq!(indicators.len(), 11);
    let mut ids = std::collections::HashSet::new();
    for o in &indicators {
        for key in INDICATOR_REQUIRED {
            assert!(o.get(*key).is_some(), "{key} missing in {o}");
        }
        assert_eq!(o["spec_version"], "2.1");
        assert_eq!(o["pattern_type"], "stix");
        assert_eq!(o["pattern_type"], ref_indicator["pattern_type"]);
        let id = o["id"].as_str().unwrap();
        assert!(id.starts_with("indicator--") && is_uuid(&id[11..]), "{id}");
        assert_eq!(&id[11 + 14..11 + 15], "5", "UUIDv5: {id}");
        assert!(ids.insert(id.to_string()), "duplicate id {id}");
        // From the post's date, never the clock.
        assert_eq!(o["created"], "2024-04-15T07:45:00.000Z");
        assert_eq!(o["modified"], "2024-04-15T07:45:00.000Z");
        assert_eq!(o["valid_from"], "2024-04-15T07:45:00.000Z");
        for t in ["created", "modified", "valid_from"] {
            assert!(is_stix_timestamp(o[t].as_str().unwrap()), "{t}: {o}");
            assert!(is_stix_timestamp(ref_indicator[t].as_str().unwrap()));
        }
        let pattern = o["pattern"].as_str().unwrap();
        assert!(
            pattern.starts_with('[') && pattern.ends_with("']"),
            "{pattern}"
        );
        assert_eq!(
            o["external_references"][0]["url"],
            "https://news.example.com/posts/rich/"
        );
    }
    let patterns: Vec<&str> = indicators
        .iter()
        .map(|o| o["pattern"].as_str().unwrap())
        .collect();
    for want in [
        "[ipv4-addr:value = '203.0.113.0/24']",
        "[domain-name:value = 'evil.example.com']",
        "[url:value = 'https://cdn.example.net/x.js']",
        "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
        "[ipv4-addr:value = '203.0.113.7']",
        "[ipv6-addr:value = '2001:db8::5']",
        "[email-addr:value = 'user@example.com']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
        "[file:name = 'invoice.pdf.exe']",
        "[windows-registry-key:key = 'HKLM\\\\Software\\\\Evil\\\\Run']",
    ] {
        assert!(patterns.contains(&want), "missing {want} in {patterns:?}");
    }
    // The CVE is a vulnerability, named by its CVE id.
    let vulns: Vec<&Value> = objects
        .iter()
        .filter(|o| o["type"] == "vulnerability")
        .collect();
    assert_eq!(vulns.len(), 1);
    assert_eq!(vulns[0]["external_references"][0]["source_name"], "cve");
    assert_eq!(
        vulns[0]["external_references"][0]["external_id"],
        "CVE-2024-3400"
    );
    // Deterministic: a second cold build writes the same bytes.
    s.build(&["--no-cache", "--output", "again"]).ok();
    let again = std::fs::read_to_string(s.root().join("again/posts/rich/iocs.stix.json")).unwrap();
    assert_eq!(text, again);
}

#[test]
fn invalid_iocs_are_errors_with_file_and_line() {
    let err = fails(
        "Text.\n\n{% ioc() %}\n203.0.113.7\n  300.1.1.1 # bad\n{% end %}\n",
        "",
    );
    assert!(err.contains("content/posts/rich.md:10:3: indicator of compromise: \"300.1.1.1\" is not a valid IPv4 address"), "{err}");
    let err = fails(
        "Text.\n",
        "iocs:\n  - {type: sha256, value: \"abcd\"}\n  - {type: md5, value: \"d41d8cd98f00b204e9800998ecf8427\"}\n  - {type: nope, value: \"x.example\"}\n",
    );
    assert!(err.contains("content/posts/rich.md:5: iocs entry 1: \"abcd\" a SHA-256 hash has 64 hex digits, this one 4"), "{err}");
    assert!(
        err.contains("rich.md:6: iocs entry 2:") && err.contains("has 32 hex digits, this one 31"),
        "{err}"
    );
    assert!(
        err.contains("rich.md:7: iocs entry 3: `type: nope` is not an indicator type"),
        "{err}"
    );
    let err = fails("{% ioc() %}\n\n{% end %}\n", "");
    assert!(err.contains("lists no indicators"), "{err}");
}

#[test]
fn check_reports_hugo_and_liquid_leftovers() {
    let s = site_with(
        concat!(
            "Intro.\n\n",
            "{{< youtube dQw4w9WgXcQ >}}\n\n",
            "{% highlight ruby %}\nputs 1\n{% endhighlight %}\n\n",
            "By {{ site.author }}.\n\n",
            "`{{< in code >}}` is fine, and so is {{ youtube(id=\"aqz-KE-bpKQ\") }}.\n",
        ),
        "",
    );
    let r = s.run(&["check"]);
    assert_ne!(r.status, 0, "{}", r.stdout);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains("content/posts/rich.md:8:1: leftover Hugo or Liquid syntax, shown as text: {{< youtube dQw4w9WgXcQ >}}"), "{out}");
    assert!(
        out.contains("in sitrep: {{ youtube(id=\"dQw4w9WgXcQ\") }}"),
        "{out}"
    );
    assert!(
        out.contains("rich.md:10:1:") && out.contains("```ruby"),
        "{out}"
    );
    assert!(out.contains("rich.md:12:1:"), "{out}");
    assert!(
        out.contains("rich.md:14:4:") && out.contains("site.author"),
        "{out}"
    );
    assert_eq!(out.matches("leftover Hugo or Liquid").count(), 4, "{out}");
}

#[test]
fn warm_builds_reuse_expanded_bodies_and_follow_template_edits() {
    let s = site_with(
        "{{ youtube(id=\"aqz-KE-bpKQ\") }}\n\n{% ioc() %}\n203.0.113.7\n{% end %}\n",
        IOC_FRONT,
    );
    s.build(&[]).ok();
    // Nothing changed: nothing is parsed (no shortcode runs) and nothing is written.
    let opts = sitrep::BuildOptions {
        root: s.root().to_path_buf(),
        ..Default::default()
    };
    let loaded = sitrep::build::load(&opts, &sitrep::content::highlight::Highlighter::new())
        .unwrap_or_else(|e| panic!("{:?}", e.diagnostics));
    assert!(!loaded.content_changed, "a warm load parsed content again");
    let again = s.build(&[]).ok();
    assert!(again.stdout.contains("(0 written)"), "{}", again.stdout);
    // A new shortcode template re-renders the pages that use it, as a cold build would.
    s.write(
        "templates/shortcodes/youtube.html",
        "<p class=\"mine\">{{ id }}</p>\n",
    );
    s.build(&[]).ok();
    assert!(
        s.read("posts/rich/index.html")
            .contains("<p class=\"mine\">aqz-KE-bpKQ</p>")
    );
    s.build(&["--no-cache", "--output", "cold"]).ok();
    assert_eq!(
        common::snapshot(&s.public()),
        common::snapshot(&s.root().join("cold"))
    );
}

#[test]
fn ioc_notes_and_values_are_escaped_everywhere() {
    let s = site_with(
        "{% ioc() %}\nevil.example.com # <img src=x onerror=alert(1)>\n{% end %}\n",
        "iocs:\n  - {value: \"x.example.com\", note: \"</script><script>alert(2)</script>\"}\n  - {type: file, value: \"a\\\"><svg onload=alert(3)>.exe\"}\n",
    );
    s.build(&[]).ok();
    let html = s.read("posts/rich/index.html");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("<script>alert(2)"), "{html}");
    assert!(!html.contains("<svg onload"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(
        html.contains("data-ioc=\"a&quot;&gt;&lt;svg onload=alert(3)&gt;.exe\""),
        "{html}"
    );
    // The exports carry the real text, in their own formats.
    let json: Value = serde_json::from_str(&s.read("posts/rich/iocs.json")).unwrap();
    assert_eq!(
        json["iocs"][0]["note"],
        "</script><script>alert(2)</script>"
    );
    let stix: Value = serde_json::from_str(&s.read("posts/rich/iocs.stix.json")).unwrap();
    let patterns: Vec<&str> = stix["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["pattern"].as_str())
        .collect();
    assert!(
        patterns.contains(&"[file:name = 'a\"><svg onload=alert(3)>.exe']"),
        "{patterns:?}"
    );
}

#[test]
fn body_shortcodes_inside_list_items_and_quotes() {
    let (_, html) = built(concat!(
        "Steps:\n\n",
        "- {% details(summary=\"Logs\") %}Check *auth.log*.{% end %}\n",
        "- {% callout(kind=\"warning\", title=\"Patch\") %}\n  First.\n\n  Second.\n  {% end %}\n",
        "- plain\n\n",
        "> {{ cve(id=\"CVE-2024-3400\") }} was exploited.\n>\n",
        "> {% details(summary=\"Quoted\") %}In a *quote*.{% end %}\n\n",
        "Read {% details(summary=\"Aside\") %}this{% end %} then go on.\n",
    ));
    let body = content(&html);
    let doc = scraper::Html::parse_fragment(body);
    let count = |sel: &str| doc.select(&scraper::Selector::parse(sel).unwrap()).count();
    assert_eq!(count("li > details.details > p > em"), 1, "{body}");
    assert_eq!(count("li > div.callout-warning > p"), 3, "{body}");
    assert_eq!(count("blockquote > p > .cve-card"), 1, "{body}");
    assert_eq!(count("blockquote > details > p > em"), 1, "{body}");
    // No block inside a paragraph: the running text is split around the block.
    assert_eq!(count("p details, p div"), 0, "{body}");
    assert!(
        body.contains("<p>Read</p>\n<details class=\"details\">\n<summary>Aside</summary>\n<p>this</p></details>\n<p>then go on.</p>"),
        "{body}"
    );
    assert!(!body.contains('\u{E000}'), "{body}");
}

/// The error of a build after a post that built fine gets `front` matter and `body`
/// (`common::fails` checks the old output is kept).
fn fails_after_edit(front: &str, body: &str) -> String {
    let ok = post("Rich post", "2024-04-15", "", "Fine.\n");
    let (s, before) = common::built_with(&[("content/posts/rich.md", &ok)]);
    s.write(
        "content/posts/rich.md",
        &post("Rich post", "2024-04-15", front, body),
    );
    common::fails(&s, &before)
}

#[test]
fn a_body_cut_apart_by_a_list_is_an_error_with_line_and_column() {
    let err = fails_after_edit(
        "",
        "Intro.\n\n- {% details(summary=\"x\") %}\ntext\n\n{% end %}\n",
    );
    assert!(
        err.contains("content/posts/rich.md:8:3: the body of `details` is cut apart by the Markdown around it"),
        "{err}"
    );
    assert!(err.contains("indent `{% end %}`"), "{err}");
}

#[test]
fn update_notes_expand_shortcodes_with_errors_on_their_line() {
    let front = "updates:\n  - {date: 2024-04-16, note: \"Video: {{ youtube(id='aqz-KE-bpKQ') }}\"}\n  - date: 2024-04-17\n    note: |\n      Fixed.\n\n      > {% callout(kind=\"tip\") %}Patch *now*{% end %}\n";
    let s = site_with("Body.\n", front);
    s.build(&[]).ok();
    let html = s.read("posts/rich/index.html");
    let doc = scraper::Html::parse_document(&html);
    let count = |sel: &str| doc.select(&scraper::Selector::parse(sel).unwrap()).count();
    assert_eq!(count(".updates blockquote > .callout-tip em"), 1, "{html}");
    assert_eq!(count(".updates figure.embed-youtube"), 1, "{html}");
    // The embed in a note needs its frame host, as one in a body.
    assert!(
        s.read("_headers")
            .contains("frame-src 'self' https://www.youtube-nocookie.com")
    );
    // The feed shows the notes with their shortcodes expanded.
    assert!(s.read("atom.xml").contains("callout-tip"));
    // An error in a note: the note's line and the call's column in the front matter.
    let err = fails_after_edit(
        "updates:\n  - date: 2024-04-16\n    note: |\n      Fixed.\n      See {{ cve(id=\"\\\"><script>\") }}.\n",
        "Body.\n",
    );
    assert!(
        err.contains("content/posts/rich.md:8:18: updates: entry 1: `id` of `cve`: \"\\\"><SCRIPT>\" is not a CVE id"),
        "{err}"
    );
}

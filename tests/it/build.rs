//! `sitrep build` on small real sites: every output kind and every front matter rule.

use crate::common::{TestSite, assert_well_formed_xml, post, snapshot};

/// Five posts, a page, a bundle, a draft, a static file.
fn sample() -> TestSite {
    let s = TestSite::new();
    s.write(
        "content/posts/2024-05-01-First Post.md",
        &post(
            "First post",
            "2024-05-01",
            "tldr:\n  - First bullet\n  - Second bullet\ntags: [Tag With Spaces, 日本]\ncategories: [Policy]\nauthors: [Ann Author]\ncves: [cve-2024-0001]\n",
            "Intro paragraph mentioning CVE-2024-3400.\n\n## A heading\n\nMore text.",
        ),
    );
    s.write(
        "content/posts/second.md",
        &post(
            "Second post",
            "2024-05-02T10:00:00Z",
            "slug: custom-slug\ntldr: Just one line\ntags: [tag with spaces]\nrelated:\n  - post: first-post\n  - {title: NVD, url: \"https://nvd.nist.gov/vuln/detail/CVE-2024-3400\"}\naliases: [/2024/05/old-second/, /legacy.html]\nupdated: 2024-06-01\nextra:\n  note: hello\n",
            "Body of the second post.",
        ),
    );
    s.write(
        "content/posts/third.md",
        &post(
            "Third post",
            "2024-05-03",
            "description: \"An explicit description\"\n",
            "First paragraph of third.\n\nSecond.",
        ),
    );
    s.write(
        "content/posts/fourth.md",
        &post(
            "Fourth post",
            "2024-05-04",
            "",
            "No TLDR here, so this paragraph describes it.",
        ),
    );
    s.write(
        "content/posts/fifth.md",
        &post("Fifth post", "2024-05-05", "", "Five."),
    );
    s.write(
        "content/posts/draft.md",
        &post("Draft post", "2024-05-06", "draft: true\n", "Not yet."),
    );
    s.write(
        "content/posts/bundle/index.md",
        &post("Bundle post", "2024-04-01", "", "![chart](chart.png)"),
    );
    s.write_bytes("content/posts/bundle/chart.png", b"\x89PNG fake");
    s.write(
        "content/about.md",
        "---\ntitle: About us\n---\n\nWho we are.\n",
    );
    s.write("static/files/ioc.txt", "1.2.3.4\n");
    s
}

#[test]
fn writes_every_output_of_the_spec() {
    let s = sample();
    let run = s.build(&[]).ok();
    assert!(
        run.stdout.contains("built 6 posts, 1 page"),
        "{}",
        run.stdout
    );
    for f in [
        "index.html",
        "posts/first-post/index.html",
        "posts/custom-slug/index.html",
        "posts/bundle/index.html",
        "posts/bundle/chart.png",
        "about/index.html",
        "tags/index.html",
        "tags/tag-with-spaces/index.html",
        "tags/日本/index.html",
        "categories/index.html",
        "categories/policy/index.html",
        "cve/index.html",
        "cve/CVE-2024-3400/index.html",
        "cve/CVE-2024-0001/index.html",
        "rss.xml",
        "atom.xml",
        "feed.json",
        "sitemap.xml",
        "robots.txt",
        "404.html",
        "syntax.css",
        "style.css",
        "favicon.svg",
        "files/ioc.txt",
        "2024/05/old-second/index.html",
        "legacy.html",
    ] {
        assert!(s.exists(f), "missing {f}; have {:?}", s.listing());
    }
    assert!(!s.exists("posts/draft/index.html"));
    assert_eq!(
        std::fs::read(s.public().join("posts/bundle/chart.png")).unwrap(),
        b"\x89PNG fake"
    );
}

#[test]
fn post_page_shows_everything() {
    let s = sample();
    s.build(&[]).ok();
    let html = s.read("posts/first-post/index.html");
    assert!(html.contains("<h1>First post</h1>"), "{html}");
    assert!(html.contains("1 min read"), "{html}");
    assert!(
        html.contains("<li>First bullet</li><li>Second bullet</li>"),
        "{html}"
    );
    assert!(
        html.contains("<h2 id=\"a-heading\">A heading</h2>"),
        "{html}"
    );
    assert!(
        html.contains("<a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a>"),
        "{html}"
    );
    assert!(html.contains("href=\"/tags/tag-with-spaces/\""), "{html}");
    assert!(
        html.contains("href=\"/tags/%E6%97%A5%E6%9C%AC/\""),
        "{html}"
    );
    assert!(html.contains("Ann Author"), "{html}");
    // Latest from Blog: the newest five others, not this post.
    let sidebar = html.split("<aside").nth(1).unwrap();
    for t in [
        "Fifth post",
        "Fourth post",
        "Third post",
        "Second post",
        "Bundle post",
    ] {
        assert!(sidebar.contains(t), "{t} missing from sidebar");
    }
    assert!(
        !sidebar.contains(">First post<"),
        "the post itself is in its sidebar"
    );

    let second = s.read("posts/custom-slug/index.html");
    assert!(second.contains("<li>Just one line</li>"), "{second}");
    assert!(
        second.contains("<a href=\"/posts/first-post/\">First post</a>"),
        "related post resolved: {second}"
    );
    assert!(
        second.contains("<a href=\"https://nvd.nist.gov/vuln/detail/CVE-2024-3400\">NVD</a>"),
        "{second}"
    );
}

#[test]
fn descriptions_default_to_tldr_then_first_paragraph() {
    let s = sample();
    s.build(&[]).ok();
    let meta = |route: &str| {
        let html = s.read(&format!("{route}index.html"));
        let start = html.find("<meta name=\"description\" content=\"").unwrap() + 34;
        html[start..start + html[start..].find('"').unwrap()].to_string()
    };
    assert_eq!(meta("posts/third/"), "An explicit description");
    assert_eq!(meta("posts/first-post/"), "First bullet Second bullet");
    assert_eq!(
        meta("posts/fourth/"),
        "No TLDR here, so this paragraph describes it."
    );
}

#[test]
fn drafts_only_with_the_flag() {
    let s = sample();
    s.build(&["--drafts"]).ok();
    assert!(s.exists("posts/draft/index.html"));
    assert!(s.read("index.html").contains("Draft post"));
    s.build(&[]).ok();
    assert!(!s.exists("posts/draft/index.html"));
    assert!(!s.read("index.html").contains("Draft post"));
    assert!(!s.read("rss.xml").contains("Draft post"));
}

#[test]
fn aliases_redirect_without_script() {
    let s = sample();
    s.build(&[]).ok();
    for f in ["2024/05/old-second/index.html", "legacy.html"] {
        let html = s.read(f);
        assert!(
            html.contains(
                "<link rel=\"canonical\" href=\"https://news.example.com/posts/custom-slug/\">"
            ),
            "{html}"
        );
        assert!(html.contains("<meta http-equiv=\"refresh\" content=\"0; url=https://news.example.com/posts/custom-slug/\">"), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }
}

#[test]
fn pagination_home_and_terms() {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &crate::common::SITE_TOML.replace("posts_per_page = 10", "posts_per_page = 2"),
    );
    for i in 1..=5 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-0{i}"),
                "tags: [x]\n",
                "b",
            ),
        );
    }
    s.build(&[]).ok();
    let home = s.read("index.html");
    let main = home
        .split("<main")
        .nth(1)
        .unwrap()
        .split("</main>")
        .next()
        .unwrap();
    assert!(
        main.contains("Post 5") && main.contains("Post 4") && !main.contains(">Post 3<"),
        "{main}"
    );
    assert!(s.read("page/2/index.html").contains("Post 3"));
    assert!(s.read("page/3/index.html").contains("Post 1"));
    assert!(!s.exists("page/4/index.html"));
    assert!(
        s.read("page/1/index.html")
            .contains("url=https://news.example.com/")
    );
    assert!(s.read("tags/x/page/3/index.html").contains("Post 1"));
    assert!(
        s.read("tags/x/page/1/index.html")
            .contains("url=https://news.example.com/tags/x/")
    );
    assert!(home.contains("href=\"/page/2/\""), "{home}");
}

#[test]
fn hostile_title_is_escaped_everywhere() {
    let s = TestSite::new();
    let title = "<script>alert(1)</script> & \"quotes\"";
    s.write(
        "content/posts/x.md",
        &format!("---\ntitle: '{title}'\ndate: 2024-05-01\ntldr: ['<img src=x onerror=alert(2)>']\ntags: ['<b>tag</b>']\n---\nbody\n"),
    );
    s.write("content/posts/y.md", &post("Other", "2024-05-02", "", "y"));
    s.build(&[]).ok();
    for f in s.listing() {
        let text =
            String::from_utf8_lossy(&std::fs::read(s.public().join(&f)).unwrap()).into_owned();
        assert!(!text.contains("<script>alert(1)"), "{f} has the raw title");
        assert!(!text.contains("<img src=x"), "{f} has the raw TLDR");
        assert!(!text.contains("<b>tag</b>"), "{f} has the raw tag");
    }
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;";
    assert!(
        s.read("posts/x/index.html")
            .contains(&format!("<h1>{escaped}</h1>"))
    );
    assert!(s.read("index.html").contains(escaped));
    assert!(s.read("posts/y/index.html").contains(escaped), "sidebar");
    assert!(
        s.read("rss.xml")
            .contains(&format!("<title>{escaped}</title>"))
    );
    assert!(
        s.read("atom.xml")
            .contains(&format!("<title type=\"text\">{escaped}</title>"))
    );
    let feed: serde_json::Value = serde_json::from_str(&s.read("feed.json")).unwrap();
    let item = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["url"] == "https://news.example.com/posts/x/")
        .unwrap();
    assert_eq!(item["title"], title);
}

#[test]
fn feeds_and_sitemap_are_valid() {
    let s = sample();
    s.build(&[]).ok();
    let rss = s.read("rss.xml");
    assert_well_formed_xml("rss.xml", &rss);
    assert!(rss.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\""));
    for needle in [
        "<link>https://news.example.com/posts/second/</link>".replace("second", "custom-slug"),
        "<pubDate>Thu, 2 May 2024 10:00:00 +0000</pubDate>".to_string(),
        "<atom:link href=\"https://news.example.com/rss.xml\" rel=\"self\"".to_string(),
        "<description>First bullet Second bullet</description>".to_string(),
        "href=&quot;https://news.example.com/cve/CVE-2024-3400/&quot;".to_string(),
    ] {
        assert!(rss.contains(&needle), "rss lacks {needle}\n{rss}");
    }
    let atom = s.read("atom.xml");
    assert_well_formed_xml("atom.xml", &atom);
    for needle in [
        "<feed xmlns=\"http://www.w3.org/2005/Atom\"",
        "<id>https://news.example.com/posts/custom-slug/</id>",
        "<published>2024-05-02T10:00:00Z</published>",
        "<updated>2024-06-01T00:00:00Z</updated>",
        "<summary type=\"text\">First bullet Second bullet</summary>",
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://news.example.com/atom.xml\"/>",
    ] {
        assert!(atom.contains(needle), "atom lacks {needle}\n{atom}");
    }
    let feed: serde_json::Value = serde_json::from_str(&s.read("feed.json")).unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(feed["feed_url"], "https://news.example.com/feed.json");
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(items[0]["title"], "Fifth post", "newest first");
    assert!(items.iter().all(
        |i| i["content_html"].is_string() && i["id"].as_str().unwrap().starts_with("https://")
    ));

    let sitemap = s.read("sitemap.xml");
    assert_well_formed_xml("sitemap.xml", &sitemap);
    assert!(sitemap.contains("<url><loc>https://news.example.com/posts/custom-slug/</loc><lastmod>2024-06-01T00:00:00Z</lastmod></url>"), "{sitemap}");
    assert!(
        sitemap.contains("<loc>https://news.example.com/about/</loc>"),
        "{sitemap}"
    );
    assert!(
        sitemap.contains("<loc>https://news.example.com/tags/%E6%97%A5%E6%9C%AC/</loc>"),
        "{sitemap}"
    );
    assert!(!sitemap.contains("/page/"), "{sitemap}");
    assert_eq!(
        s.read("robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://news.example.com/sitemap.xml\n"
    );
}

#[test]
fn cve_pages_join_front_matter_and_body() {
    let s = sample();
    s.build(&[]).ok();
    let page = s.read("cve/CVE-2024-3400/index.html");
    assert!(page.contains("First post"), "{page}");
    assert!(
        page.contains("https://www.cve.org/CVERecord?id=CVE-2024-3400"),
        "{page}"
    );
    assert!(
        s.read("cve/CVE-2024-0001/index.html")
            .contains("First post"),
        "front matter id normalised to upper case"
    );
    let list = s.read("cve/index.html");
    assert!(
        list.contains("href=\"/cve/CVE-2024-0001/\"")
            && list.contains("href=\"/cve/CVE-2024-3400/\""),
        "{list}"
    );
}

#[test]
fn terms_merge_spellings_and_list_counts() {
    let s = sample();
    s.build(&[]).ok();
    let tag = s.read("tags/tag-with-spaces/index.html");
    assert!(
        tag.contains("First post") && tag.contains("Second post"),
        "{tag}"
    );
    let list = s.read("tags/index.html");
    assert!(
        list.contains(
            "<a href=\"/tags/tag-with-spaces/\">Tag With Spaces</a> <span class=\"count\">2<"
        ),
        "{list}"
    );
}

#[test]
fn builds_are_byte_identical() {
    let s = sample();
    s.build(&["--output", "out1"]).ok();
    s.build(&["--output", "out2"]).ok();
    let a = snapshot(&s.root().join("out1"));
    let b = snapshot(&s.root().join("out2"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between two builds");
    }
}

#[test]
fn rebuild_removes_stale_files() {
    let s = sample();
    s.build(&[]).ok();
    assert!(s.exists("posts/fifth/index.html"));
    s.remove("content/posts/fifth.md");
    s.build(&[]).ok();
    assert!(!s.exists("posts/fifth/index.html"));
    assert!(!s.read("index.html").contains("Fifth post"));
    let leftovers: Vec<_> = std::fs::read_dir(s.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().contains("staging")),
        "{leftovers:?}"
    );
}

#[test]
fn base_url_override_and_sub_path() {
    let s = sample();
    s.build(&["--base-url", "https://example.org/blog/"]).ok();
    let html = s.read("posts/first-post/index.html");
    assert!(
        html.contains("href=\"/blog/tags/tag-with-spaces/\""),
        "{html}"
    );
    assert!(html.contains("href=\"/blog/cve/CVE-2024-3400/\""), "{html}");
    assert!(
        html.contains(
            "<link rel=\"canonical\" href=\"https://example.org/blog/posts/first-post/\">"
        ),
        "{html}"
    );
    assert!(
        s.read("rss.xml")
            .contains("<link>https://example.org/blog/posts/first-post/</link>")
    );
}

#[test]
fn site_templates_override_theme_file_by_file() {
    let s = sample();
    s.write(
        "templates/page.html",
        "{% extends \"base.html\" %}{% block content %}<p id=\"mine\">{{ page.title }} / {{ site.extra.motto }}</p>{% endblock content %}",
    );
    s.write(
        "site.toml",
        &format!(
            "{}\n[extra]\nmotto = \"Patch now\"\n",
            crate::common::SITE_TOML
        ),
    );
    s.build(&[]).ok();
    let about = s.read("about/index.html");
    assert!(
        about.contains("<p id=\"mine\">About us / Patch now</p>"),
        "{about}"
    );
    assert!(
        about.contains("<html lang=\"en\">"),
        "base.html from the theme: {about}"
    );
    assert!(
        s.read("posts/custom-slug/index.html")
            .contains("Second post")
    );
}

#[test]
fn extra_and_toml_front_matter() {
    let s = TestSite::new();
    s.write("content/posts/t.md", "+++\ntitle = \"From Zola\"\ndate = 2024-05-14\ntags = [\"toml\"]\n[extra]\nseverity = \"high\"\n+++\nBody.\n");
    s.write(
        "templates/post.html",
        "{{ page.title }}|{{ page.extra.severity }}|{{ page.date }}",
    );
    s.build(&[]).ok();
    assert_eq!(s.read("posts/t/index.html"), "From Zola|high|2024-05-14");
    assert!(s.exists("tags/toml/index.html"));
}

#[test]
fn crlf_and_bom_files_build() {
    let s = TestSite::new();
    s.write_bytes(
        "content/posts/w.md",
        "\u{feff}---\r\ntitle: Windows\r\ndate: 2024-05-14\r\n---\r\n\r\nLine one.\r\n".as_bytes(),
    );
    s.build(&[]).ok();
    assert!(s.read("posts/w/index.html").contains("<h1>Windows</h1>"));
}

#[test]
fn empty_site_builds() {
    let s = TestSite::new();
    let run = s.build(&[]).ok();
    assert!(run.stderr.contains("no content/ folder"), "{}", run.stderr);
    assert!(s.read("index.html").contains("No posts yet"));
    assert_well_formed_xml("rss.xml", &s.read("rss.xml"));
    assert_well_formed_xml("atom.xml", &s.read("atom.xml"));
}

#[test]
fn unknown_field_is_a_warning_with_suggestion() {
    let s = TestSite::new();
    s.write(
        "content/posts/a.md",
        "---\ntitle: A\ndate: 2024-05-14\ntgas: [x]\n---\nbody\n",
    );
    let run = s.build(&[]).ok();
    assert!(
        run.stderr
            .contains("warning: content/posts/a.md:4: unknown front matter field `tgas`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `tags`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn code_is_highlighted_and_stylesheet_written() {
    let s = TestSite::new();
    s.write(
        "content/posts/c.md",
        &post(
            "Code",
            "2024-05-14",
            "",
            "```python\nimport os\nprint('<x>')\n```\n",
        ),
    );
    s.build(&[]).ok();
    let html = s.read("posts/c/index.html");
    assert!(html.contains("<span class=\"hl-"), "{html}");
    assert!(!html.contains("style=\""), "no inline styles: {html}");
    assert!(s.read("syntax.css").contains(".hl-"));
}

#[test]
fn security_headers_file_and_no_inline_code() {
    let s = sample();
    s.build(&[]).ok();
    let headers = s.read("_headers");
    assert!(headers.starts_with("/*\n"), "{headers}");
    assert!(
        headers.contains("\n  Content-Security-Policy: default-src 'self';"),
        "{headers}"
    );
    assert!(
        headers.contains("\n  X-Content-Type-Options: nosniff\n"),
        "{headers}"
    );
    // The strict CSP holds: no inline script (JSON-LD is data), no inline style, no handlers.
    for f in s.listing().iter().filter(|f| f.ends_with(".html")) {
        let html = s.read(f);
        let scripts = html.matches("<script").count();
        let data = html
            .matches("<script type=\"application/ld+json\">")
            .count();
        // Script files are allowed (the search page's search.js), inline script is not.
        let files = html.matches("<script src=\"").count();
        assert_eq!(scripts, data + files, "{f} has an inline script");
        for bad in [
            " style=",
            "<style",
            " onload=",
            " onclick=",
            " onerror=",
            "javascript:",
        ] {
            assert!(!html.contains(bad), "{f} contains {bad}");
        }
    }

    // Switched off: no file.
    s.write(
        "site.toml",
        &format!("{}[headers]\nenabled = false\n", crate::common::SITE_TOML),
    );
    s.build(&[]).ok();
    assert!(!s.exists("_headers"));

    // Configured: a header removed, one added.
    s.write(
        "site.toml",
        &format!(
            "{}[headers]\nframe_options = \"\"\nstrict_transport_security = \"max-age=63072000\"\n[headers.extra]\n\"X-Robots-Tag\" = \"noai\"\n",
            crate::common::SITE_TOML
        ),
    );
    s.build(&[]).ok();
    let headers = s.read("_headers");
    assert!(!headers.contains("X-Frame-Options"), "{headers}");
    assert!(
        headers.contains("  Strict-Transport-Security: max-age=63072000\n"),
        "{headers}"
    );
    assert!(headers.ends_with("  X-Robots-Tag: noai\n"), "{headers}");

    // The site's own static/_headers wins.
    s.write("site.toml", crate::common::SITE_TOML);
    s.write("static/_headers", "/*\n  X-Mine: 1\n");
    s.build(&[]).ok();
    assert_eq!(s.read("_headers"), "/*\n  X-Mine: 1\n");
}

#[test]
fn cards_show_at_most_six_cves() {
    let s = TestSite::new();
    let cves: Vec<String> = (1..=8).map(|i| format!("CVE-2024-{i:04}")).collect();
    s.write(
        "content/posts/many.md",
        &post(
            "Many CVEs",
            "2024-05-01",
            &format!("cves: [{}]\n", cves.join(", ")),
            "Body.",
        ),
    );
    s.build(&[]).ok();
    let term = s.read("cve/CVE-2024-0001/index.html");
    let main = term.split("<main").nth(1).unwrap();
    assert_eq!(
        main.matches("class=\"cve-chip\" href=\"/cve/").count(),
        6,
        "{main}"
    );
    assert!(main.contains(">+2 more CVEs</a>"), "{main}");
    let page = s.read("posts/many/index.html");
    for id in &cves {
        assert!(
            page.contains(&format!("href=\"/cve/{id}/\"")),
            "{id} missing from the post"
        );
    }
}

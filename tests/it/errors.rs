//! Failure paths of `sitrep build`: each error names its file (and line), exits non-zero,
//! leaves the previous output exactly as it was, and writes nothing outside the output.

use crate::common::{Snapshot, TestSite, built_with, fails, post, snapshot};

/// A site with two posts, built once, so failures can be checked against its output.
fn built() -> (TestSite, Snapshot) {
    built_with(&[
        (
            "content/posts/good.md",
            &post("Good", "2024-05-01", "", "Fine."),
        ),
        (
            "content/posts/other.md",
            &post("Other", "2024-05-02", "", "Fine too."),
        ),
    ])
}

#[test]
fn bad_front_matter_names_file_and_line() {
    let (s, before) = built();
    s.write(
        "content/posts/bad.md",
        "---\ntitle: Bad\ndate: 2024-13-45\n---\nbody\n",
    );
    let err = fails(&s, &before);
    assert!(err.contains("error: content/posts/bad.md:3:"), "{err}");
    assert!(err.contains("2024-13-45"), "{err}");
    assert!(err.contains("help: write the date as YYYY-MM-DD"), "{err}");
}

#[test]
fn yaml_syntax_error() {
    let (s, before) = built();
    s.write(
        "content/posts/bad.md",
        "---\ntitle: \"Unclosed\ndate: 2024-05-01\n---\nbody\n",
    );
    let err = fails(&s, &before);
    assert!(err.contains("error: content/posts/bad.md:"), "{err}");
    assert!(err.contains("front matter"), "{err}");
}

#[test]
fn unterminated_front_matter() {
    let (s, before) = built();
    s.write(
        "content/posts/bad.md",
        "---\ntitle: Open\ndate: 2024-05-01\nbody without end\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/bad.md:1: the front matter is never closed"),
        "{err}"
    );
}

#[test]
fn missing_required_fields() {
    let (s, before) = built();
    s.write(
        "content/posts/nodate.md",
        "---\ntitle: No date\n---\nbody\n",
    );
    s.write(
        "content/posts/notitle.md",
        "---\ndate: 2024-05-01\n---\nbody\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/nodate.md:1: `date` is required for posts"),
        "{err}"
    );
    assert!(
        err.contains("content/posts/notitle.md:1: `title` is required"),
        "{err}"
    );
}

#[test]
fn every_content_error_is_reported_in_one_run() {
    let (s, before) = built();
    s.write("content/posts/a.md", "---\ntitle: A\ndate: nope\n---\n");
    s.write("content/posts/b.md", "---\ntitle: [unclosed\n---\n");
    s.write(
        "content/posts/c.md",
        &post("C", "2024-05-01", "related:\n  - post: no-such-post\n", "x"),
    );
    s.write(
        "content/posts/d.md",
        &post("D", "2024-05-01", "cves: [CVE-12]\n", "x"),
    );
    let err = fails(&s, &before);
    for f in [
        "content/posts/a.md",
        "content/posts/b.md",
        "content/posts/d.md",
    ] {
        assert!(
            err.contains(&format!("error: {f}:")),
            "{f} not reported:\n{err}"
        );
    }
    assert!(err.contains("build failed with 3 errors"), "{err}");
}

#[test]
fn unknown_related_post_is_an_error_with_its_line() {
    let (s, before) = built();
    s.write(
        "content/posts/c.md",
        &post("C", "2024-05-01", "related:\n  - post: godo\n", "x"),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("error: content/posts/c.md:5: related: no post has the slug `godo`"),
        "{err}"
    );
    assert!(err.contains("did you mean `good`?"), "{err}");
}

#[test]
fn two_posts_with_one_url_names_both() {
    let (s, before) = built();
    s.write(
        "content/posts/Good.markdown",
        &post("Good again", "2024-05-03", "", "Same slug, other case."),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/Good.markdown") && err.contains("content/posts/good.md"),
        "{err}"
    );
    assert!(err.contains("/posts/good/"), "{err}");
}

#[test]
fn explicit_slug_clash_names_both() {
    let (s, before) = built();
    s.write(
        "content/posts/x.md",
        &post("X", "2024-05-03", "slug: other\n", "x"),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/x.md") && err.contains("content/posts/other.md"),
        "{err}"
    );
}

#[test]
fn alias_cannot_leave_the_output_folder() {
    let (s, before) = built();
    s.write(
        "content/posts/evil.md",
        &post(
            "Evil",
            "2024-05-03",
            "aliases: [\"/../../escaped/\"]\n",
            "x",
        ),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/evil.md:4: alias \"/../../escaped/\""),
        "{err}"
    );
    assert!(!s.root().join("escaped").exists());
    assert!(!s.root().parent().unwrap().join("escaped").exists());
}

#[test]
fn slug_cannot_leave_the_output_folder() {
    let s = TestSite::new();
    s.write(
        "content/posts/x.md",
        &post("X", "2024-05-03", "slug: \"../../../etc/passwd\"\n", "x"),
    );
    s.build(&[]).ok();
    assert!(s.exists("posts/etc-passwd/index.html"), "{:?}", s.listing());
}

#[test]
fn javascript_urls_are_refused() {
    let (s, before) = built();
    s.write(
        "content/posts/js.md",
        &post(
            "JS",
            "2024-05-03",
            "related:\n  - {title: click, url: \"javascript:alert(1)\"}\n",
            "x",
        ),
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("content/posts/js.md:5:") && err.contains("javascript"),
        "{err}"
    );
}

#[test]
fn missing_template_is_named() {
    let (s, before) = built();
    std::fs::create_dir_all(s.root().join("themes/bare/templates")).unwrap();
    s.write("themes/bare/templates/index.html", "x");
    s.write(
        "site.toml",
        &format!("{}theme = \"bare\"\n", crate::common::SITE_TOML),
    );
    let err = fails(&s, &before);
    assert!(err.contains("the template `post.html` is missing"), "{err}");
}

#[test]
fn template_syntax_error_has_file_line_and_column() {
    let (s, before) = built();
    s.write(
        "templates/post.html",
        "<h1>{{ page.title }}</h1>\n{% if page.tags %}\n<p>unclosed\n",
    );
    let err = fails(&s, &before);
    assert!(err.contains("error: templates/post.html:"), "{err}");
    let after = err.split("templates/post.html:").nth(1).unwrap();
    let mut parts = after.splitn(3, ':');
    assert!(parts.next().unwrap().parse::<usize>().is_ok(), "{err}");
    assert!(parts.next().unwrap().parse::<usize>().is_ok(), "{err}");
}

#[test]
fn template_render_error_has_file_and_line() {
    let (s, before) = built();
    s.write(
        "templates/post.html",
        "ok\n{{ page.no_such_field | upper }}\n",
    );
    let err = fails(&s, &before);
    assert!(err.contains("error: templates/post.html:2:"), "{err}");
}

#[test]
fn unknown_theme_is_named() {
    let (s, before) = built();
    s.write(
        "site.toml",
        &format!("{}theme = \"fancy\"\n", crate::common::SITE_TOML),
    );
    let err = fails(&s, &before);
    assert!(err.contains("theme `fancy` not found"), "{err}");
}

#[test]
fn bad_config_values_name_key_and_line() {
    let (s, before) = built();
    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"https://e.x\"\nposts_per_page = \"ten\"\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("error: site.toml:3:") && err.contains("posts_per_page"),
        "{err}"
    );

    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"news.example.com\"\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("error: site.toml:2:") && err.contains("base_url"),
        "{err}"
    );

    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"https://e.x\"\n[markdown]\nhighlight_theme = \"nope\"\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("highlight_theme") && err.contains("InspiredGitHub"),
        "{err}"
    );

    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"https://e.x\"\n[headers]\n[headers.extra]\n\"X Bad\" = \"1\"\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("error: site.toml:5:") && err.contains("not an HTTP header name"),
        "{err}"
    );
}

#[test]
fn missing_site_toml() {
    let s = TestSite::new();
    s.remove("site.toml");
    let err = s.build(&[]).failed();
    assert!(err.contains("no site.toml"), "{err}");
}

#[test]
fn invalid_utf8_names_line() {
    let (s, before) = built();
    s.write_bytes(
        "content/posts/bin.md",
        b"---\ntitle: B\ndate: 2024-05-01\n---\nok\nbad \xff here\n",
    );
    let err = fails(&s, &before);
    assert!(
        err.contains("error: content/posts/bin.md:6:5: the file is not valid UTF-8"),
        "{err}"
    );
}

#[test]
fn output_folder_that_holds_the_site_is_refused() {
    let (s, _) = built();
    let err = s.build(&["--output", "."]).failed();
    assert!(err.contains("refusing to build into this folder"), "{err}");
    let err = s.build(&["--output", "content/out"]).failed();
    assert!(err.contains("inside the site's content/ folder"), "{err}");
    assert!(s.root().join("content/posts/good.md").exists());
}

#[test]
fn bad_base_url_flag() {
    let (s, before) = built();
    let err = s.build(&["--base-url", "javascript:alert(1)"]).failed();
    assert!(err.contains("--base-url"), "{err}");
    assert!(snapshot(&s.public()) == before);
}

/// Every generated path, claimed by a content file, an alias or a static file: each an error
/// naming both claimants, the old output untouched. Nothing is replaced in silence.
#[test]
fn every_generated_path_has_one_owner() {
    let cases: &[(&str, &str, &str, &str)] = &[
        // (file to add, its text, what the error names, the other claimant)
        (
            "content/page/1.md",
            "---\ntitle: Page one\n---\nx\n",
            "content/page/1.md: this page has the URL /page/1/",
            "the redirect from the first home page to the home page",
        ),
        (
            "content/page/2.md",
            "---\ntitle: Page two\n---\nx\n",
            "content/page/2.md: this page has the URL /page/2/",
            "the home page",
        ),
        (
            "content/tags.md",
            "---\ntitle: Tags\n---\nx\n",
            "content/tags.md: this page has the URL /tags/",
            "the list of tags",
        ),
        (
            "content/cve.md",
            "---\ntitle: CVEs\n---\nx\n",
            "content/cve.md: this page has the URL /cve/",
            "the list of cve",
        ),
        (
            "content/tags/shared.md",
            "---\ntitle: Shared tag\n---\nx\n",
            "content/tags/shared.md: this page has the URL /tags/shared/",
            "the tags page of `shared`",
        ),
        (
            "content/rss.xml",
            "<rss/>",
            "content/rss.xml: this file has the URL /rss.xml",
            "the RSS feed",
        ),
        (
            "content/atom.xml",
            "<feed/>",
            "content/atom.xml: this file has the URL /atom.xml",
            "the Atom feed",
        ),
        (
            "content/feed.json",
            "{}",
            "content/feed.json: this file has the URL /feed.json",
            "the JSON feed",
        ),
        (
            "content/sitemap.xml",
            "<urlset/>",
            "content/sitemap.xml: this file has the URL /sitemap.xml",
            "the sitemap",
        ),
        (
            "content/robots.txt",
            "User-agent: *",
            "content/robots.txt: this file has the URL /robots.txt",
            "the generated robots.txt",
        ),
        (
            "content/404.html",
            "<p>lost</p>",
            "content/404.html: this file has the URL /404.html",
            "the 404 page",
        ),
        (
            "content/_headers",
            "/*\n  X-A: b",
            "content/_headers: this file has the URL /_headers",
            "the generated _headers",
        ),
        (
            "content/syntax.css",
            "body{}",
            "content/syntax.css: this file has the URL /syntax.css",
            "the highlighting stylesheet",
        ),
        (
            "static/rss.xml",
            "<rss/>",
            "static/rss.xml: this static file has the URL /rss.xml",
            "the RSS feed",
        ),
        (
            "static/posts/good/index.html",
            "<p>mine</p>",
            "content/posts/good.md: this post has the URL /posts/good/",
            "which the static file static/posts/good/index.html already has",
        ),
        (
            "content/posts/alias.md",
            "---\ntitle: Alias\ndate: 2024-05-03\naliases: [/tags/]\n---\nx\n",
            "content/posts/alias.md: an alias in this file has the URL /tags/",
            "the list of tags",
        ),
        (
            "content/posts/alias2.md",
            "---\ntitle: Alias two\ndate: 2024-05-03\naliases: [/posts/good/]\n---\nx\n",
            "content/posts/alias2.md: an alias in this file has the URL /posts/good/",
            "which the post content/posts/good.md already has",
        ),
    ];
    for (file, text, names, other) in cases {
        let (s, before) = built();
        s.write(
            "content/posts/tagged.md",
            &post(
                "Tagged",
                "2024-05-04",
                "tags: [shared]\ncves: [CVE-2024-3400]\n",
                "x",
            ),
        );
        // Twelve posts: the home page has a page 2.
        for n in 0..10 {
            s.write(
                &format!("content/posts/more-{n}.md"),
                &post(&format!("More {n}"), "2024-04-01", "", "x"),
            );
        }
        s.build(&[]).ok();
        let before_this = snapshot(&s.public());
        assert_ne!(before_this, before);
        s.write(file, text);
        let err = fails(&s, &before_this);
        assert!(err.contains(&format!("error: {names}")), "{file}: {err}");
        assert!(err.contains(other), "{file}: {err}");
        assert!(err.contains("which "), "{file}: {err}");
    }
}

/// The one explicit exception: a site's own `static/_headers` and `static/robots.txt`
/// replace the generated ones.
#[test]
fn static_headers_and_robots_replace_the_generated_ones() {
    let (s, _) = built();
    s.write("static/_headers", "/*\n  X-Mine: yes\n");
    s.write("static/robots.txt", "User-agent: *\nDisallow: /mine/\n");
    s.build(&[]).ok();
    assert_eq!(s.read("_headers"), "/*\n  X-Mine: yes\n");
    assert_eq!(s.read("robots.txt"), "User-agent: *\nDisallow: /mine/\n");
}

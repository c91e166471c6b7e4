//! The host files of `[deploy]` and `[security_txt]` as a build writes them: `_redirects`,
//! `_headers` caching, `.nojekyll`, `.htaccess`, the `<meta>` CSP, hashed assets,
//! `/.well-known/security.txt` and its Expires checks, and `sitrep deploy-config`.
//! (tests/deploy_servers.rs puts them behind real servers.)

use crate::common::{SITE_TOML, TestSite, post};

fn site(extra_toml: &str) -> TestSite {
    let s = TestSite::new();
    s.write("site.toml", &format!("{SITE_TOML}{extra_toml}"));
    s.write(
        "content/posts/flaw.md",
        &post(
            "Flaw",
            "2024-04-15",
            "tags: [vulnerability]\naliases: [/2024/04/flaw/, \"/old news/flaw\"]\n",
            "A flaw.",
        ),
    );
    s.write(
        "content/about.md",
        "---\ntitle: About\naliases: [/who/]\n---\nUs.\n",
    );
    s
}

/// The moment the builds of these tests are for (`--now`): Expires is checked against it.
const NOW: &str = "2026-06-01T12:00:00Z";

/// An RFC 3339 time `days` after [`NOW`].
fn days_from_now(days: i64) -> String {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    (now + chrono::Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn default_host_files() {
    let s = site("");
    s.build(&[]).ok();
    assert_eq!(
        s.read("_redirects"),
        "# Aliases: old addresses of posts and pages.\n\
         /2024/04/flaw/ /posts/flaw/ 301\n\
         /old%20news/flaw/ /posts/flaw/ 301\n\
         /who/ /about/ 301\n\
         # Page 1 of a listing is the listing.\n\
         /page/1/ / 301\n\
         /tags/:term/page/1/ /tags/:term/ 301\n\
         /categories/:term/page/1/ /categories/:term/ 301\n\
         /cve/:term/page/1/ /cve/:term/ 301\n"
    );
    // The meta-refresh pages stay, for hosts without redirects.
    assert!(
        s.read("2024/04/flaw/index.html")
            .contains("http-equiv=\"refresh\"")
    );
    assert_eq!(s.read(".nojekyll"), "");
    assert!(!s.exists(".htaccess"), "Apache's file is opt-in");
    assert!(!s.exists(".well-known/security.txt"), "no [security_txt]");
    assert!(!s.exists("index.html.gz"), "precompression is opt-in");

    // Hashed copies of the theme's assets, linked from every page, cached for a year.
    let page = s.read("posts/flaw/index.html");
    let css = page
        .split("<link rel=\"stylesheet\" href=\"/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        css.starts_with("style.") && css.ends_with(".css") && css.len() == "style..css".len() + 16,
        "{css}"
    );
    assert_eq!(s.read(&css), s.read("style.css"));
    let syntax = page
        .split("<link rel=\"stylesheet\" href=\"/")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(
        syntax.starts_with("syntax.") && syntax != "syntax.css",
        "{syntax}"
    );
    assert_eq!(s.read(&syntax), s.read("syntax.css"));
    assert!(
        page.contains("<link rel=\"icon\" href=\"/favicon."),
        "{page}"
    );
    let headers = s.read("_headers");
    assert!(
        headers.contains(&format!(
            "\n/{css}\n  Cache-Control: public, max-age=31536000, immutable\n"
        )),
        "{headers}"
    );
    assert!(
        headers.contains("\n/rss.xml\n  Cache-Control: no-cache\n"),
        "{headers}"
    );

    // The CSP and referrer policy as <meta> tags, without what <meta> cannot carry.
    let head = page.split("</head>").next().unwrap();
    let charset = head.find("<meta charset=\"utf-8\">").unwrap();
    let csp = head
        .find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;self&#39;; object-src &#39;none&#39;; base-uri &#39;self&#39;; form-action &#39;self&#39;\">")
        .expect(head);
    let first_link = head.find("<link").unwrap();
    assert!(
        charset < csp && csp < first_link,
        "the CSP comes before anything it governs"
    );
    assert!(!head.contains("frame-ancestors"), "{head}");
    assert!(head.contains("<meta name=\"referrer\" content=\"strict-origin-when-cross-origin\">"));
}

#[test]
fn switches_turn_each_file_off_or_on() {
    let s = site(
        "[deploy]\nredirects = false\nnojekyll = false\nmeta_tags = false\nhash_assets = false\nhtaccess = true\nforce_redirects = true\n",
    );
    s.build(&[]).ok();
    assert!(!s.exists("_redirects") && !s.exists(".nojekyll"));
    let page = s.read("index.html");
    assert!(!page.contains("http-equiv=\"Content-Security-Policy\""));
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/style.css\">"),
        "{page}"
    );
    assert!(
        !s.listing()
            .iter()
            .any(|f| f.starts_with("style.") && f != "style.css")
    );
    let ht = s.read(".htaccess");
    assert!(ht.contains("ErrorDocument 404 /404.html\n"), "{ht}");
    assert!(
        ht.contains("    RewriteRule ^2024/04/flaw/$ /posts/flaw/ [R=301,NE,L]\n"),
        "{ht}"
    );
    assert!(
        ht.contains("    Header always set Content-Security-Policy \"default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'\"\n"),
        "{ht}"
    );
    assert!(
        !ht.contains("old news"),
        "an alias with a space is left to its page: {ht}"
    );

    let s = site("[deploy]\nforce_redirects = true\n");
    s.build(&[]).ok();
    assert!(s.read("_redirects").contains("/who/ /about/ 301!\n"));
}

#[test]
fn sub_path_sites_link_everything_under_the_path() {
    let s = site("[deploy]\nhtaccess = true\n");
    s.build(&["--base-url", "https://user.github.io/project/"])
        .ok();
    let redirects = s.read("_redirects");
    assert!(
        redirects.contains("/project/2024/04/flaw/ /project/posts/flaw/ 301\n"),
        "{redirects}"
    );
    assert!(redirects.contains("/project/tags/:term/page/1/ /project/tags/:term/ 301\n"));
    let page = s.read("index.html");
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"/project/style."),
        "{page}"
    );
    assert!(s.read("_headers").contains("\n/project/style."));
    let ht = s.read(".htaccess");
    assert!(
        ht.contains("RewriteBase /project/\n")
            && ht.contains("ErrorDocument 404 /project/404.html\n"),
        "{ht}"
    );
}

#[test]
fn security_txt_from_the_config() {
    let expires = days_from_now(200);
    let s = site(&format!(
        "[security_txt]\ncontact = [\"mailto:security@example.com\", \"https://example.com/report\"]\nexpires = \"{expires}\"\nencryption = \"https://example.com/pgp.asc\"\npolicy = \"https://example.com/policy\"\npreferred_languages = \"en, de\"\n"
    ));
    let run = s.build(&["--now", NOW]).ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert_eq!(
        s.read(".well-known/security.txt"),
        format!(
            "# How to report a security problem to Test Dispatch (RFC 9116).\n\
             Contact: mailto:security@example.com\n\
             Contact: https://example.com/report\n\
             Expires: {expires}\n\
             Encryption: https://example.com/pgp.asc\n\
             Preferred-Languages: en, de\n\
             Canonical: https://news.example.com/.well-known/security.txt\n\
             Policy: https://example.com/policy\n"
        )
    );
}

#[test]
fn security_txt_expiry_is_checked_against_the_build_time() {
    let toml = |expires: &str| {
        format!("[security_txt]\ncontact = \"mailto:s@example.com\"\nexpires = \"{expires}\"\n")
    };
    // Within 30 days: built, with a warning naming the line.
    let s = site(&toml(&days_from_now(10)));
    let run = s.build(&["--now", NOW]).ok();
    assert!(
        run.stderr
            .contains("warning: site.toml:8: `security_txt.expires`")
            && run
                .stderr
                .contains("= 2026-06-11T12:00:00Z is 10 days away"),
        "{}",
        run.stderr
    );
    assert!(s.exists(".well-known/security.txt"));

    // Past, or more than a year away: errors, and the old output stays.
    let before = s.read("index.html");
    for (expires, what) in [
        (days_from_now(-1), "has passed"),
        (days_from_now(400), "more than a year away"),
    ] {
        s.write("site.toml", &format!("{SITE_TOML}{}", toml(&expires)));
        let err = s.build(&["--now", NOW]).failed();
        assert!(
            err.contains("error: site.toml:8: `security_txt.expires`") && err.contains(what),
            "{err}"
        );
        assert_eq!(s.read("index.html"), before);
    }

    // Missing or malformed fields, each with its line.
    s.write(
        "site.toml",
        &format!("{SITE_TOML}[security_txt]\ncontact = \"security@example.com\"\n"),
    );
    let err = s.build(&[]).failed();
    // No `expires` line: the section's line.
    assert!(
        err.contains("site.toml:6: `security_txt.expires` is required"),
        "{err}"
    );
    assert!(
        err.contains(
            "site.toml:7: `security_txt.contact`: \"security@example.com\" does not start with"
        ),
        "{err}"
    );
    assert!(
        err.contains("write \"mailto:security@example.com\""),
        "{err}"
    );
}

#[test]
fn asset_url_of_a_missing_file_names_the_template_line() {
    let s = site("");
    s.write(
        "templates/404.html",
        "<!DOCTYPE html>\n<title>x</title>\n<link rel=\"stylesheet\" href=\"{{ asset_url(path=\"nope.css\") }}\">\n",
    );
    let err = s.build(&[]).failed();
    assert!(err.contains("templates/404.html:3"), "{err}");
    assert!(
        err.contains("asset_url: the site has no static file \"nope.css\""),
        "{err}"
    );
}

#[test]
fn deploy_config_prints_server_blocks() {
    let s = site("[deploy]\nprecompress = true\n");
    s.build(&[]).ok();
    let nginx = s
        .run(&[
            "deploy-config",
            "nginx",
            "--base-url",
            "https://user.github.io/project/",
        ])
        .ok();
    let n = nginx.stdout;
    assert!(n.contains("    server_name user.github.io;\n"), "{n}");
    assert!(n.contains("    gzip_static on;\n"), "{n}");
    assert!(
        n.contains("    error_page 404 \"/project/404.html\";\n"),
        "{n}"
    );
    assert!(
        n.contains("    location = \"/project/2024/04/flaw/\" {\n"),
        "{n}"
    );
    assert!(
        n.contains("        return 301 \"/project/posts/flaw/\";\n"),
        "{n}"
    );
    assert!(n.contains("    location \"/project/\" {\n"), "{n}");
    assert!(
        nginx
            .stderr
            .contains("\"/project/old news/flaw/\" has characters"),
        "{}",
        nginx.stderr
    );
    let caddy = s.run(&["deploy-config", "caddy"]).ok().stdout;
    assert!(caddy.contains("news.example.com {\n"), "{caddy}");
    assert!(
        caddy.contains("\tredir \"/who/\" \"/about/\" permanent\n"),
        "{caddy}"
    );
    assert!(caddy.contains("\t\t\tprecompressed br gzip\n"), "{caddy}");
    let bad = s.run(&["deploy-config", "apache"]).failed();
    assert!(bad.contains("nginx") && bad.contains("caddy"), "{bad}");
}

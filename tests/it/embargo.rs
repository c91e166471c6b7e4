//! Embargoes and editorial time (issue 16): a scheduled post leaves no trace in any output
//! file until its moment, expired posts go, warm builds across those moments equal cold
//! ones, the updates log reaches every output, and `check` lists and warns.
//!
//! Every build here is given its moment (`--now` or SOURCE_DATE_EPOCH): no test depends on
//! the real date.

use std::process::Command;

use crate::common::{self, Run, TestSite, post, snapshot};

const BEFORE: &str = "2026-11-30T12:00:00Z";
const DUE: &str = "2027-03-01T09:00:00Z";
const AFTER: &str = "2027-03-01T09:00:00Z";

/// Markers that appear only in the scheduled post, one per field.
const MARKERS: &[&str] = &[
    "Zqxtitle",        // title
    "zqxslug",         // slug, and so its URL
    "Zqxtldr",         // TLDR
    "Zqxdescription",  // description
    "Zqxbody",         // body
    "zqxtag",          // a tag only it has
    "Zqxcategory",     // a category only it has
    "CVE-2031-424242", // a CVE only it names (front matter)
    "CVE-2031-515151", // a CVE only its body names
    "zqxalias",        // an alias
    "zqximage",        // its image, a file of its bundle
    "Zqxauthor",       // author
    "Zqxupdate",       // an update note
];

fn site() -> TestSite {
    let s = TestSite::new();
    for i in 1..=3 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Published {i}"),
                &format!("2026-0{i}-01"),
                "tags: [common]\ncves: [CVE-2024-3400]\ntldr: [\"Bullet\"]\n",
                "Ordinary body, CVE-2023-1234.",
            ),
        );
    }
    s.write(
        "content/posts/embargoed/index.md",
        &format!(
            "---\ntitle: \"Zqxtitle: a coordinated disclosure\"\ndate: {DUE}\nslug: zqxslug\n\
             tldr: [\"Zqxtldr bullet\"]\ndescription: \"Zqxdescription\"\n\
             tags: [zqxtag, common]\ncategories: [Zqxcategory]\ncves: [CVE-2031-424242, CVE-2024-3400]\n\
             aliases: [/zqxalias/old/]\nimage: zqximage.png\nauthors: [Zqxauthor]\n\
             extra: {{note: Zqxextra}}\n\
             updates:\n  - {{date: {DUE}, note: \"Zqxupdate note\"}}\n\
             related:\n  - post: p1\n---\n\nZqxbody text about CVE-2031-515151.\n\n![Zqx](zqximage.png)\n"
        ),
    );
    s.write_bytes(
        "content/posts/embargoed/zqximage.png",
        b"\x89PNG\r\n\x1a\nzqximage",
    );
    s
}

/// Every marker found in the output: in a file's path or in its bytes (any file, any type),
/// compared without case.
fn leaks(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for (path, bytes) in snapshot(dir) {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        let path_l = path.to_lowercase();
        for m in MARKERS {
            let m = m.to_lowercase();
            if path_l.contains(&m) {
                found.push(format!("{m} in the path {path}"));
            }
            if text.contains(&m) {
                found.push(format!("{m} in {path}"));
            }
        }
    }
    found
}

/// `sitrep ARGS` with SOURCE_DATE_EPOCH set as given (or removed).
fn run_env(s: &TestSite, args: &[&str], epoch: Option<&str>) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sitrep"));
    c.args(args).current_dir(s.root());
    match epoch {
        Some(e) => c.env("SOURCE_DATE_EPOCH", e),
        None => c.env_remove("SOURCE_DATE_EPOCH"),
    };
    let o = c.output().expect("run sitrep");
    Run {
        status: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[test]
fn a_scheduled_post_leaves_no_trace_until_its_moment() {
    let s = site();
    let run = s.build(&["--now", BEFORE]).ok();
    let found = leaks(&s.public());
    assert!(
        found.is_empty(),
        "the scheduled post leaked:\n{}",
        found.join("\n")
    );
    // The terminal names no embargoed title either, only when to rebuild.
    assert!(!run.stdout.to_lowercase().contains("zqx"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("1 scheduled post held back; the next is due 2027-03-01T09:00:00Z"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("built 3 posts"), "{}", run.stdout);
    // The rest of the site is all there.
    assert!(s.exists("posts/p3/index.html"));
    assert!(s.read("tags/common/index.html").contains("Published 2"));
    assert!(
        s.read("cve/CVE-2024-3400/index.html")
            .contains("Published 1")
    );
    assert!(s.read("feed.json").contains("Published 3"));

    // At its moment it is published, everywhere and unmarked.
    let run = s.build(&["--now", AFTER]).ok();
    assert!(!run.stdout.contains("scheduled"), "{}", run.stdout);
    let page = s.read("posts/zqxslug/index.html");
    assert!(page.contains("Zqxtitle") && page.contains("Zqxbody") && page.contains("Zqxupdate"));
    assert!(
        !page.contains("class=\"scheduled-note\""),
        "no Scheduled mark once published"
    );
    assert!(!page.contains("noindex"));
    for f in [
        "index.html",
        "rss.xml",
        "atom.xml",
        "feed.json",
        "sitemap.xml",
        "tags/zqxtag/index.html",
        "categories/zqxcategory/index.html",
        "cve/CVE-2031-424242/index.html",
        "cve/CVE-2031-515151/index.html",
        "zqxalias/old/index.html",
        "posts/p3/index.html", // the sidebar
    ] {
        assert!(
            s.read(f).contains("zqxslug"),
            "{f} does not show the published post"
        );
    }
    assert!(s.exists("posts/zqxslug/zqximage.png"));

    // SOURCE_DATE_EPOCH fixes the moment when --now is not given.
    let before = chrono::DateTime::parse_from_rfc3339(BEFORE)
        .unwrap()
        .timestamp()
        .to_string();
    run_env(&s, &["build"], Some(&before)).ok();
    assert!(leaks(&s.public()).is_empty());
    let after = chrono::DateTime::parse_from_rfc3339(AFTER)
        .unwrap()
        .timestamp()
        .to_string();
    run_env(&s, &["build"], Some(&after)).ok();
    assert!(s.exists("posts/zqxslug/index.html"));
    // --now wins over SOURCE_DATE_EPOCH.
    run_env(&s, &["build", "--now", BEFORE], Some(&after)).ok();
    assert!(leaks(&s.public()).is_empty());
}

#[test]
fn future_publishes_scheduled_posts_marked_as_such() {
    let s = site();
    let run = s.build(&["--now", BEFORE, "--future"]).ok();
    assert!(
        run.stdout
            .contains("1 scheduled post published early for --future"),
        "{}",
        run.stdout
    );
    // Every marker reaches the output once the post is published: the leak check above
    // looks for things that are really there when they should be.
    let found = leaks(&s.public());
    for m in MARKERS {
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(&format!("{} ", m.to_lowercase()))),
            "{m} never reaches the output, so its absence proves nothing"
        );
    }
    let page = s.read("posts/zqxslug/index.html");
    assert!(page.contains("class=\"scheduled-note\""), "{page}");
    assert!(page.contains("datetime=\"2027-03-01T09:00:00Z\""));
    assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(s.read("index.html").contains("scheduled-chip"));
    assert!(s.exists("tags/zqxtag/index.html"));
    assert!(s.exists("posts/zqxslug/zqximage.png"));
    // The same build without --future is clean again.
    s.build(&["--now", BEFORE]).ok();
    assert!(leaks(&s.public()).is_empty());
}

#[test]
fn bad_moments_are_clear_errors() {
    let s = site();
    let err = s.build(&["--now", "next tuesday"]).failed();
    assert!(err.contains("--now") && err.contains("RFC 3339"), "{err}");
    let err = run_env(&s, &["build"], Some("soon")).failed();
    assert!(err.contains("SOURCE_DATE_EPOCH"), "{err}");
    assert!(!s.public().exists(), "nothing is built on a bad moment");
}

/// Builds warm into public/ and cold into a fresh folder at `now`, and compares every file.
fn assert_warm_equals_cold(s: &TestSite, now: &str, what: &str) -> String {
    let warm = s.build(&["--now", now]).ok();
    let cold = s.root().join("cold-out");
    let _ = std::fs::remove_dir_all(&cold);
    s.build(&["--now", now, "--no-cache", "--output", "cold-out"])
        .ok();
    let (a, b) = (snapshot(&s.public()), snapshot(&cold));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: warm and cold builds wrote different files"
    );
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{what}: {k} differs between the warm and the cold build"
        );
    }
    warm.stdout
}

#[test]
fn warm_builds_across_the_publish_and_expiry_moments_equal_cold_ones() {
    let s = site();
    s.write(
        "content/posts/fading.md",
        &post(
            "Fading",
            "2026-06-01",
            "expires: 2027-06-01T00:00:00Z\ntags: [fading-only]\naliases: [/fade/]\n",
            "Gone in June.",
        ),
    );
    s.build(&["--now", BEFORE]).ok();
    assert!(leaks(&s.public()).is_empty());
    assert!(s.exists("posts/fading/index.html"));
    let out = assert_warm_equals_cold(&s, AFTER, "across the publish moment");
    assert!(!out.contains("scheduled"), "{out}");
    assert!(s.exists("posts/zqxslug/index.html"));
    assert!(s.exists("posts/fading/index.html"));
    assert_warm_equals_cold(&s, "2027-06-01T00:00:00Z", "across the expiry moment");
    assert!(!s.exists("posts/fading/index.html"));
    assert!(!s.exists("tags/fading-only/index.html"));
    assert!(!s.exists("fade/index.html"));
    // Back before both moments (a build for an earlier --now).
    assert_warm_equals_cold(&s, BEFORE, "back in time");
    assert!(leaks(&s.public()).is_empty());
    assert!(s.exists("posts/fading/index.html"));
    // With site.toml's [editorial] changed, a cold build again.
    s.write(
        "site.toml",
        &format!("{}\n[editorial]\nexpired = \"gone\"\n", common::SITE_TOML),
    );
    assert_warm_equals_cold(&s, "2027-07-01T00:00:00Z", "withdrawn pages");
    assert!(s.read("posts/fading/index.html").contains("withdrawn"));
    // A --future preview (marked "Scheduled"), then the real publication: the marks go.
    s.write(
        "content/advisory.md",
        &format!("---\ntitle: Advisory page\ndate: {DUE}\n---\nEmbargoed page.\n"),
    );
    s.build(&["--now", BEFORE, "--future"]).ok();
    let page = s.read("advisory/index.html");
    assert!(
        page.contains("scheduled-note") && page.contains("noindex"),
        "{page}"
    );
    assert!(
        s.read("posts/zqxslug/index.html")
            .contains("scheduled-note")
    );
    assert_warm_equals_cold(&s, AFTER, "from a --future preview to publication");
    assert!(
        !s.read("posts/zqxslug/index.html")
            .contains("scheduled-note")
    );
    assert!(s.exists("advisory/index.html"));
    // And back: a page scheduled again disappears.
    assert_warm_equals_cold(&s, BEFORE, "scheduled again");
    assert!(!s.exists("advisory/index.html"));
}

#[test]
fn expired_posts_go_or_leave_a_withdrawn_page() {
    let s = TestSite::new();
    s.write(
        "content/posts/live.md",
        &post("Live", "2026-01-01", "tags: [t]\n", "Live body."),
    );
    s.write(
        "content/posts/pulled.md",
        &post(
            "Qzwpulled title",
            "2026-01-02",
            "expires: 2026-06-01T12:00:00+02:00\ntags: [qzwtag, t]\ncves: [CVE-2030-1111]\naliases: [/qzwold/]\n",
            "Qzwbody.",
        ),
    );
    let marker_free = |s: &TestSite| {
        for (path, bytes) in snapshot(&s.public()) {
            let text = String::from_utf8_lossy(&bytes).to_lowercase();
            for m in ["qzw", "cve-2030-1111"] {
                assert!(!text.contains(m) && !path.contains(m), "{m} in {path}");
            }
        }
    };
    // Just before its moment (10:00 UTC is 12:00 +02:00) it is there.
    s.build(&["--now", "2026-06-01T09:59:59Z"]).ok();
    assert!(s.read("posts/pulled/index.html").contains("Qzwpulled"));
    // At it, it is gone: no page, no listing, no feed entry, no term, no alias.
    let run = s.build(&["--now", "2026-06-01T10:00:00Z"]).ok();
    assert!(
        run.stdout.contains("1 expired post taken down"),
        "{}",
        run.stdout
    );
    marker_free(&s);
    assert!(!s.exists("posts/pulled/index.html"));
    assert!(s.read("tags/t/index.html").contains("Live"));

    // `[editorial] expired = "gone"`: a withdrawn page at its URL, nothing of the post.
    s.write(
        "site.toml",
        &format!("{}\n[editorial]\nexpired = \"gone\"\n", common::SITE_TOML),
    );
    s.build(&["--now", "2026-07-01T00:00:00Z"]).ok();
    marker_free(&s);
    let page = s.read("posts/pulled/index.html");
    assert!(page.contains("This post was withdrawn"), "{page}");
    assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(!s.exists("qzwold/index.html"));
    assert!(!s.read("sitemap.xml").contains("posts/pulled/"));

    // A theme without withdrawn.html gets sitrep's own small page.
    let theme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default");
    for e in walkdir::WalkDir::new(&theme).into_iter().flatten() {
        let rel = e.path().strip_prefix(&theme).unwrap();
        if e.file_type().is_file() && !rel.ends_with("withdrawn.html") {
            let dest = s.root().join("themes/bare").join(rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
    s.write(
        "site.toml",
        &format!(
            "{}theme = \"bare\"\n[editorial]\nexpired = \"gone\"\n",
            common::SITE_TOML
        ),
    );
    s.build(&["--now", "2026-07-01T00:00:00Z"]).ok();
    let page = s.read("posts/pulled/index.html");
    assert!(page.contains("This post was withdrawn") && page.contains("Test Dispatch"));
    marker_free(&s);

    // A withdrawn page claims its URL like any page.
    s.write(
        "content/posts/taker.md",
        &post("Taker", "2026-02-01", "aliases: [/posts/pulled/]\n", "x"),
    );
    let err = s.build(&["--now", "2026-07-01T00:00:00Z"]).failed();
    assert!(err.contains("withdrawn page"), "{err}");
    s.remove("content/posts/taker.md");

    // An unknown mode names its line.
    s.write(
        "site.toml",
        &format!("{}[editorial]\nexpired = \"hidden\"\n", common::SITE_TOML),
    );
    let err = s.build(&["--now", BEFORE]).failed();
    assert!(
        err.contains("site.toml:7") && err.contains("hidden"),
        "{err}"
    );

    // An expiry before publication is an error naming the line.
    s.write("site.toml", common::SITE_TOML);
    s.write(
        "content/posts/never.md",
        &post("Never", "2026-05-01", "expires: 2026-04-01\n", "x"),
    );
    let err = s.build(&["--now", BEFORE]).failed();
    assert!(err.contains("content/posts/never.md:4"), "{err}");
    assert!(err.contains("never be published"), "{err}");
}

#[test]
fn publish_at_holds_a_post_whose_shown_date_is_earlier() {
    let s = TestSite::new();
    s.write(
        "content/posts/advisory.md",
        &post(
            "Advisory",
            "2026-11-01",
            "publish_at: 2026-12-01T08:00:00Z\n",
            "Written in November, out in December.",
        ),
    );
    s.write(
        "content/posts/other.md",
        &post("Other", "2026-10-01", "", "x"),
    );
    let run = s.build(&["--now", BEFORE]).ok();
    assert!(
        run.stdout.contains("next is due 2026-12-01T08:00:00Z"),
        "{}",
        run.stdout
    );
    assert!(!s.exists("posts/advisory/index.html"));
    assert!(!s.read("rss.xml").contains("Advisory"));
    s.build(&["--now", "2026-12-01T08:00:00Z"]).ok();
    let page = s.read("posts/advisory/index.html");
    // It shows the date it was written with.
    assert!(page.contains("datetime=\"2026-11-01T00:00:00Z\""), "{page}");
}

#[test]
fn the_updates_log_reaches_every_output() {
    let s = TestSite::new();
    s.write(
        "content/posts/story.md",
        &post(
            "Story",
            "2026-05-01T08:00:00Z",
            "updates:\n  - date: 2026-05-02T10:30:00Z\n    note: \"Vendor released a **patch**; see CVE-2026-7777.\"\n  - {date: 2026-05-03, note: \"Exploitation *confirmed* by CISA.\"}\n",
            "Original story.",
        ),
    );
    s.build(&["--now", BEFORE]).ok();
    let page = s.read("posts/story/index.html");
    // Shown at the top, newest first, Markdown rendered.
    let first = page
        .find("Exploitation <em>confirmed</em>")
        .expect("newest note");
    let second = page
        .find("Vendor released a <strong>patch</strong>")
        .expect("older note");
    let body = page.find("<p>Original story.</p>").unwrap();
    assert!(first < second && second < body, "{page}");
    assert!(
        page.contains("<time datetime=\"2026-05-03T00:00:00Z\">3 May 2026</time>"),
        "{page}"
    );
    assert!(page.contains("href=\"/cve/CVE-2026-7777/\""));
    assert!(
        s.exists("cve/CVE-2026-7777/index.html"),
        "a CVE named in a note is the post's"
    );
    // `updated` is the newest update, in every output that carries it.
    let newest = "2026-05-03T00:00:00Z";
    assert!(
        page.contains(&format!("\"dateModified\":\"{newest}\"")),
        "JSON-LD"
    );
    assert!(page.contains(&format!("article:modified_time\" content=\"{newest}\"")));
    let atom = s.read("atom.xml");
    assert!(
        atom.contains(&format!("<updated>{newest}</updated>")),
        "{atom}"
    );
    assert!(atom.contains("<published>2026-05-01T08:00:00Z</published>"));
    assert!(
        atom.contains("Exploitation &lt;em&gt;confirmed&lt;/em&gt;"),
        "notes in the feed"
    );
    let json: serde_json::Value = serde_json::from_str(&s.read("feed.json")).unwrap();
    assert_eq!(json["items"][0]["date_modified"], newest);
    assert!(
        json["items"][0]["content_html"]
            .as_str()
            .unwrap()
            .contains("Vendor released a <strong>patch</strong>")
    );
    assert!(s.read("rss.xml").contains("Vendor released"));
    let sitemap = s.read("sitemap.xml");
    assert!(
        sitemap.contains(&format!(
            "<loc>https://news.example.com/posts/story/</loc><lastmod>{newest}</lastmod>"
        )),
        "{sitemap}"
    );
    // An explicit `updated` wins.
    s.write(
        "content/posts/story.md",
        &post(
            "Story",
            "2026-05-01T08:00:00Z",
            "updated: 2026-05-09\nupdates:\n  - {date: 2026-05-03, note: \"Confirmed.\"}\n",
            "Original story.",
        ),
    );
    s.build(&["--now", BEFORE]).ok();
    assert!(
        s.read("atom.xml")
            .contains("<updated>2026-05-09T00:00:00Z</updated>")
    );

    // Notes are escaped like bodies: with unsafe_html off, raw HTML is cleaned.
    s.write(
        "site.toml",
        &format!("{}[markdown]\nunsafe_html = false\n", common::SITE_TOML),
    );
    s.write(
        "content/posts/story.md",
        &post(
            "Story",
            "2026-05-01T08:00:00Z",
            "updates:\n  - {date: 2026-05-03, note: \"Fixed <script>alert(1)</script><img src=x onerror=alert(2)>\"}\n",
            "Original story.",
        ),
    );
    s.build(&["--now", BEFORE]).ok();
    for f in ["posts/story/index.html", "atom.xml", "feed.json", "rss.xml"] {
        let text = s.read(f);
        assert!(
            !text.contains("<script>alert") && !text.contains("onerror"),
            "{f}: {text}"
        );
    }
    // A bad entry names its line.
    s.write(
        "content/posts/story.md",
        &post(
            "Story",
            "2026-05-01",
            "updates:\n  - {note: \"No date on this one\"}\n",
            "x",
        ),
    );
    let err = s.build(&["--now", BEFORE]).failed();
    assert!(
        err.contains("content/posts/story.md:5") && err.contains("no `date`"),
        "{err}"
    );
}

#[test]
fn check_lists_held_posts_and_warns_about_links_to_them() {
    let s = site();
    s.write(
        "content/posts/old.md",
        &post("Old", "2025-01-01", "expires: 2026-01-01\n", "Old news."),
    );
    s.write(
        "content/posts/teaser.md",
        &post(
            "Teaser",
            "2026-11-01",
            "related:\n  - post: zqxslug\n",
            "More in [the write-up](/posts/zqxslug/) and [the old one](../old/).",
        ),
    );
    let run = s.run(&["check", "--now", BEFORE]);
    assert_eq!(
        run.status, 0,
        "links to held posts are warnings:\n{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("scheduled 2027-03-01T09:00:00Z  content/posts/embargoed/index.md"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("expired   2026-01-01T00:00:00Z  content/posts/old.md"),
        "{}",
        run.stdout
    );
    let err = &run.stderr;
    assert!(
        err.contains("content/posts/teaser.md:5")
            && err.contains("related: the post `zqxslug` is scheduled for 2027-03-01T09:00:00Z"),
        "{err}"
    );
    assert!(
        err.contains("content/posts/teaser.md:8")
            && err.contains("`/posts/zqxslug/` leads to a post scheduled for 2027-03-01T09:00:00Z"),
        "{err}"
    );
    assert!(
        err.contains("`../old/` leads to a post that expired on 2026-01-01T00:00:00Z"),
        "{err}"
    );
    // The build warns about the related entry and leaves it out; the post is not leaked
    // through it.
    let run = s.build(&["--now", BEFORE]).ok();
    assert!(
        run.stderr
            .contains("related: the post `zqxslug` is scheduled"),
        "{}",
        run.stderr
    );
    assert!(!s.read("posts/teaser/index.html").contains("Zqxtitle"));
    // Once it is out, nothing to say.
    let run = s.run(&["check", "--now", AFTER]);
    assert!(!run.stderr.contains("zqxslug"), "{}", run.stderr);
    assert!(!run.stdout.contains("scheduled "), "{}", run.stdout);
}

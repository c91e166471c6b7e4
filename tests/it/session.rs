//! `serve`'s incremental builds (`build::Session`): told which files changed, they re-read
//! only those and re-render only what shows them, and still write exactly what a cold
//! build writes.

use std::path::PathBuf;

use crate::common::{TestSite, post, snapshot};
use sitrep::BuildOptions;
use sitrep::build::Session;

fn opts(s: &TestSite) -> BuildOptions {
    BuildOptions {
        root: s.root().to_path_buf(),
        output: Some(s.root().join("served")),
        base_url: Some("http://127.0.0.1:1111".into()),
        ..BuildOptions::default()
    }
}

fn assert_same_as_cold(s: &TestSite, what: &str) {
    let cold = s.root().join("cold");
    let _ = std::fs::remove_dir_all(&cold);
    s.build(&[
        "--no-cache",
        "--output",
        "cold",
        "--base-url",
        "http://127.0.0.1:1111",
    ])
    .ok();
    let a = snapshot(&s.root().join("served"));
    let b = snapshot(&cold);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: file lists differ"
    );
    for (k, v) in &a {
        assert!(v == &b[k], "{what}: {k} differs from a cold build");
    }
}

#[test]
fn session_rebuilds_only_what_changed_and_matches_cold_builds() {
    let s = TestSite::new();
    for i in 1..=30 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-{i:02}"),
                &format!("tags: [t{}]\ntldr: [\"B{i}\"]\n", i % 4),
                &format!("Body {i}."),
            ),
        );
    }
    let mut session = Session::new(opts(&s));
    let first = session.build(&[]).unwrap();
    assert_eq!(first.written, first.files);
    assert_same_as_cold(&s, "first build");

    let again = session
        .build(&[PathBuf::from("content/posts/p3.md")])
        .unwrap();
    assert_eq!(again.written, 0, "nothing changed: {}", again.summary());

    // A body edit in an old post: its page and the sitemap-free outputs that show its body.
    s.write(
        "content/posts/p3.md",
        &post(
            "Post 3",
            "2024-01-03",
            "tags: [t3]\ntldr: [\"B3\"]\n",
            "A longer body for three.",
        ),
    );
    let r = session
        .build(&[PathBuf::from("content/posts/p3.md")])
        .unwrap();
    assert!(
        r.written >= 1 && r.written <= 4,
        "body edit rewrote {} files: {}",
        r.written,
        r.summary()
    );
    assert_same_as_cold(&s, "body edit");

    // The newest post's body: its page and the three feeds.
    s.write(
        "content/posts/p30.md",
        &post(
            "Post 30",
            "2024-01-30",
            "tags: [t2]\ntldr: [\"B30\"]\nextra: {note: changed}\n",
            "Newest body, edited.",
        ),
    );
    let r = session
        .build(&[PathBuf::from("content/posts/p30.md")])
        .unwrap();
    // Its page, the three feeds, and the one search shard (of this small site) its words
    // are in.
    assert_eq!(r.written, 5, "{}", r.summary());
    assert_same_as_cold(&s, "newest body edit");
    // ATT&CK ids in two bodies make the posts related: both pages change.
    for (i, date) in [(5, "2024-01-05"), (18, "2024-01-18")] {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                date,
                &format!("tags: [t{}]\ntldr: [\"B{i}\"]\n", i % 4),
                "Initial access through T1190.",
            ),
        );
    }
    session
        .build(&[
            PathBuf::from("content/posts/p5.md"),
            PathBuf::from("content/posts/p18.md"),
        ])
        .unwrap();
    assert_same_as_cold(&s, "related through ATT&CK ids in bodies");
    let p5 = std::fs::read_to_string(s.root().join("served/posts/p5/index.html")).unwrap();
    let coverage = &p5[p5.find("Related coverage").expect("related coverage")..];
    assert!(coverage.contains("/posts/p18/"), "{coverage}");
    // A CVE id in the body gives the post a new CVE page: not a body-only edit.
    s.write(
        "content/posts/p30.md",
        &post(
            "Post 30",
            "2024-01-30",
            "tags: [t2]\ntldr: [\"B30\"]\n",
            "Now about CVE-2024-9999.",
        ),
    );
    session
        .build(&[PathBuf::from("content/posts/p30.md")])
        .unwrap();
    assert_same_as_cold(&s, "new CVE in a body");

    // A title edit, a new post, a deleted post, a template.
    s.write(
        "content/posts/p10.md",
        &post("Post ten", "2024-01-10", "tags: [t2]\n", "Ten."),
    );
    session
        .build(&[PathBuf::from("content/posts/p10.md")])
        .unwrap();
    assert_same_as_cold(&s, "title edit");
    s.write(
        "content/posts/new.md",
        &post("New", "2024-03-01", "tags: [fresh]\n", "New."),
    );
    session
        .build(&[PathBuf::from("content/posts/new.md")])
        .unwrap();
    assert_same_as_cold(&s, "new post");
    s.remove("content/posts/p1.md");
    session
        .build(&[PathBuf::from("content/posts/p1.md")])
        .unwrap();
    assert_same_as_cold(&s, "deleted post");
    s.write("templates/page.html", "{{ page.title }}");
    s.write("content/about.md", "---\ntitle: About\n---\nHi.\n");
    session
        .build(&[
            PathBuf::from("templates/page.html"),
            PathBuf::from("content/about.md"),
        ])
        .unwrap();
    assert_same_as_cold(&s, "template and page");
}

#[test]
fn a_failed_session_build_keeps_the_last_good_output_and_recovers() {
    let s = TestSite::new();
    s.write(
        "content/posts/a.md",
        &post("A", "2024-02-01", "tldr: [\"A.\"]\n", "a"),
    );
    s.write(
        "content/posts/b.md",
        &post("B", "2024-02-02", "tldr: [\"B.\"]\n", "b"),
    );
    let mut session = Session::new(opts(&s));
    session.build(&[]).unwrap();
    let before = snapshot(&s.root().join("served"));
    s.write("content/posts/a.md", "---\ntitle: [broken\n---\n");
    assert!(
        session
            .build(&[PathBuf::from("content/posts/a.md")])
            .is_err()
    );
    assert!(snapshot(&s.root().join("served")) == before);
    s.write(
        "content/posts/a.md",
        &post("A", "2024-02-01", "tldr: [\"A.\"]\n", "a, fixed"),
    );
    let r = session
        .build(&[PathBuf::from("content/posts/a.md")])
        .unwrap();
    assert!(
        r.written < r.files,
        "recovery should not rebuild everything: {}",
        r.summary()
    );
    assert_same_as_cold(&s, "after recovery");
}

#[test]
fn summary_edits_rerender_only_the_pages_that_show_the_post() {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &crate::common::SITE_TOML
            .replace("posts_per_page = 10", "posts_per_page = 3")
            .replace("latest_posts = 5", "latest_posts = 2"),
    );
    for i in 1..=40 {
        let related = if i == 30 {
            "related:\n  - post: p12\n  - {post: p11, title: Fixed title}\n"
        } else {
            ""
        };
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-{:02}T{:02}:00:00Z", i % 28 + 1, i % 24),
                &format!(
                    "tags: [t{}, all]\ncves: [CVE-2024-{i:04}]\ntldr: [\"B{i}\"]\n{related}",
                    i % 3
                ),
                &format!("Body {i}."),
            ),
        );
    }
    let mut session = Session::new(opts(&s));
    let first = session.build(&[]).unwrap();
    let edit = |s: &TestSite, i: usize, title: &str, tldr: &str, body: &str| {
        let related = if i == 30 {
            "related:\n  - post: p12\n  - {post: p11, title: Fixed title}\n"
        } else {
            ""
        };
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                title,
                &format!("2024-01-{:02}T{:02}:00:00Z", i % 28 + 1, i % 24),
                &format!(
                    "tags: [t{}, all]\ncves: [CVE-2024-{i:04}]\ntldr: [\"{tldr}\"]\n{related}",
                    i % 3
                ),
                body,
            ),
        );
    };
    // A post another relates to: its title shows on that post's page too.
    edit(&s, 12, "Post twelve, renamed", "B12", "Body 12.");
    let r = session
        .build(&[PathBuf::from("content/posts/p12.md")])
        .unwrap();
    assert!(
        r.written < first.files / 4,
        "a title edit rewrote {} of {} files",
        r.written,
        first.files
    );
    assert_same_as_cold(&s, "title of a related post");
    // The TLDR, and a body long enough to change the reading time.
    edit(&s, 20, "Post 20", "A new TLDR", &"word ".repeat(450));
    session
        .build(&[PathBuf::from("content/posts/p20.md")])
        .unwrap();
    assert_same_as_cold(&s, "TLDR and reading time");
    // A related entry with its own title does not follow the post's.
    edit(&s, 11, "Post eleven, renamed", "B11", "Body 11.");
    session
        .build(&[PathBuf::from("content/posts/p11.md")])
        .unwrap();
    assert_same_as_cold(&s, "title of a post related under a fixed title");
    // Two posts at once, one of them in the feeds.
    edit(&s, 5, "Post five, renamed", "B5", "Body 5.");
    edit(
        &s,
        33,
        "Post thirty-three, renamed",
        "B33",
        "Body 33, longer.",
    );
    session
        .build(&[
            PathBuf::from("content/posts/p5.md"),
            PathBuf::from("content/posts/p33.md"),
        ])
        .unwrap();
    assert_same_as_cold(&s, "two summaries at once");
}

#[test]
fn cve_cards_in_a_fast_path_edit_match_a_cold_build() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel");
    let s = TestSite::new();
    s.write_bytes(
        "data/cve/2024/3xxx/CVE-2024-3400.json",
        &std::fs::read(fixtures.join("cve/2024/3xxx/CVE-2024-3400.json")).unwrap(),
    );
    s.write_bytes(
        "data/kev.json",
        &std::fs::read(fixtures.join("kev.json")).unwrap(),
    );
    for i in 1..=12 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-{i:02}"),
                "",
                "Body.",
            ),
        );
    }
    let card = |words: &str| {
        post(
            "Cards",
            "2023-06-01",
            "",
            &format!(
                "{words} {{{{ cve(id=\"CVE-2024-3400\") }}}}\n\n- {{% details(summary=\"More\") %}}Hidden {{{{ cve(id=\"CVE-2024-3400\") }}}}{{% end %}}\n"
            ),
        )
    };
    s.write("content/posts/cards.md", &card("First"));
    s.write(
        "content/notes.md",
        "---\ntitle: Notes\n---\nA {{ cve(id=\"CVE-2024-3400\") }}\n",
    );
    let mut session = Session::new(opts(&s));
    session.build(&[]).unwrap();
    assert_same_as_cold(&s, "first build");
    s.write("content/posts/cards.md", &card("Second"));
    let r = session
        .build(&[PathBuf::from("content/posts/cards.md")])
        .unwrap();
    // The fast path: not every file is written again.
    assert!(r.written >= 1 && r.written < r.files, "{}", r.summary());
    let html = std::fs::read_to_string(s.root().join("served/posts/cards/index.html")).unwrap();
    assert!(
        html.contains("Second")
            && html
                .matches("<span class=\"kev-mark\">Exploited</span></span>")
                .count()
                == 2,
        "{html}"
    );
    assert_same_as_cold(&s, "card post edited");
    s.write(
        "content/notes.md",
        "---\ntitle: Notes\n---\nB {{ cve(id=\"CVE-2024-3400\") }}\n",
    );
    session.build(&[PathBuf::from("content/notes.md")]).unwrap();
    assert_same_as_cold(&s, "card page edited");
}

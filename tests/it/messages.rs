//! The full text of every kind of message a user can cause, as snapshots
//! (`tests/it/snapshots/`): a change to any wording, location or help line shows up in
//! review as a changed `.snap` file. Each case is a tiny site with one thing wrong.
//!
//! To accept deliberate changes: `INSTA_UPDATE=always cargo test --test it messages`, then
//! read the diff of the `.snap` files before committing them.

use crate::common::{SITE_TOML, TestSite, post};

/// What `sitrep build` printed on stderr for a site with one good post plus `files`, and
/// whether it failed.
fn stderr_of(files: &[(&str, &str)], args: &[&str]) -> String {
    let s = TestSite::new();
    s.write(
        "content/posts/good.md",
        &post("Good", "2024-05-01", "", "Fine."),
    );
    for (rel, text) in files {
        s.write(rel, text);
    }
    let run = s.build(args);
    format!("exit status {}\n{}", run.status, run.stderr)
}

fn bad_post(front_matter: &str, body: &str) -> String {
    format!("---\n{front_matter}---\n\n{body}\n")
}

macro_rules! message {
    ($name:ident, $files:expr) => {
        message!($name, $files, &[]);
    };
    ($name:ident, $files:expr, $args:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), stderr_of($files, $args));
        }
    };
}

const BAD: &str = "content/posts/bad.md";

message!(
    front_matter_bad_date,
    &[(BAD, &bad_post("title: Bad\ndate: 2024-13-45\n", "x"))]
);
message!(
    front_matter_no_title,
    &[(BAD, &bad_post("date: 2024-05-02\n", "x"))]
);
message!(
    front_matter_post_without_date,
    &[(BAD, &bad_post("title: Dateless\n", "x"))]
);
message!(
    front_matter_unknown_field,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\ntagz: [a]\n", "x")
    )]
);
message!(
    front_matter_never_closed,
    &[(BAD, "---\ntitle: Open\ndate: 2024-05-02\n\nbody\n")]
);
message!(
    front_matter_tab_indent,
    &[(
        BAD,
        "---\ntitle: T\ndate: 2024-05-02\ntags:\n\t- a\n---\nx\n"
    )]
);
message!(
    front_matter_wrong_type,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\ntags: {a: 1}\n", "x")
    )]
);
#[test]
fn file_not_utf8() {
    let s = TestSite::new();
    s.write_bytes(BAD, b"---\ntitle: T\xff\ndate: 2024-05-02\n---\nx\n");
    let run = s.build(&[]);
    insta::assert_snapshot!(
        "file_not_utf8",
        format!("exit status {}\n{}", run.status, run.stderr)
    );
}
message!(
    cve_id_malformed,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\ncves: [CVE-24-1]\n", "x")
    )]
);
message!(
    related_post_unknown,
    &[(
        BAD,
        &bad_post(
            "title: T\ndate: 2024-05-02\nrelated:\n  - post: goood\n",
            "x"
        )
    )]
);
message!(
    related_link_script,
    &[(
        BAD,
        &bad_post(
            "title: T\ndate: 2024-05-02\nrelated:\n  - {title: X, url: \"javascript:alert(1)\"}\n",
            "x"
        )
    )]
);
message!(
    alias_leaves_output,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\naliases: [\"/../x/\"]\n", "x")
    )]
);
message!(
    body_link_script,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\n", "[x](javascript:alert(1))")
    )]
);
message!(
    slug_clash,
    &[(
        BAD,
        &bad_post("title: T\ndate: 2024-05-02\nslug: good\n", "x")
    )]
);
message!(
    page_on_generated_path,
    &[("content/tags.md", "---\ntitle: Tags\n---\nx\n")]
);
message!(
    static_file_on_generated_path,
    &[("static/rss.xml", "<rss/>")]
);
message!(
    code_not_highlighted,
    &[(
        BAD,
        &bad_post(
            "title: T\ndate: 2024-05-02\n",
            &format!("```python\n{}```", "x = 1\n".repeat(5_001))
        )
    )]
);
message!(config_no_base_url, &[("site.toml", "title = \"T\"\n")]);
message!(
    config_bad_base_url,
    &[("site.toml", "title = \"T\"\nbase_url = \"ftp://x\"\n")]
);
message!(
    config_wrong_type,
    &[(
        "site.toml",
        &format!("{SITE_TOML}feed_limit = \"twenty\"\n")
    )]
);
message!(
    config_unknown_keys,
    &[(
        "site.toml",
        &format!("{SITE_TOML}post_per_page = 3\n[markdown]\nhighlite_code = true\n")
    )]
);
message!(
    config_unknown_highlight_theme,
    &[(
        "site.toml",
        &format!("{SITE_TOML}[markdown]\nhighlight_theme = \"nope\"\n")
    )]
);
message!(
    config_header_line_break,
    &[(
        "site.toml",
        &format!("{SITE_TOML}[headers.extra]\n\"X-A\" = \"a\\nb\"\n")
    )]
);
message!(
    config_unknown_theme,
    &[("site.toml", &format!("{SITE_TOML}theme = \"fancy\"\n"))]
);
message!(
    template_syntax_error,
    &[("templates/post.html", "{% if %}\n")]
);
message!(
    flag_bad_base_url,
    &[],
    &["--base-url", "javascript:alert(1)"]
);

// ---- embargoes: every build below is for a fixed moment ----------------------------------

const NOW: &[&str] = &["--now", "2026-11-30T00:00:00Z"];

message!(flag_bad_now, &[], &["--now", "next tuesday"]);
message!(
    expires_before_publication,
    &[(
        "content/posts/bad.md",
        &bad_post(
            "title: T\ndate: 2026-05-01\npublish_at: 2026-06-01T08:00:00Z\nexpires: 2026-05-15\n",
            "x"
        )
    )],
    NOW
);
message!(
    update_without_date,
    &[(
        "content/posts/bad.md",
        &bad_post(
            "title: T\ndate: 2026-05-01\nupdates:\n  - {note: \"Patched by the vendor\"}\n",
            "x"
        )
    )],
    NOW
);
message!(
    related_to_scheduled_post,
    &[
        (
            "content/posts/secret.md",
            &bad_post("title: Embargoed\ndate: 2027-03-01T09:00:00Z\n", "x")
        ),
        (
            "content/posts/teaser.md",
            &bad_post(
                "title: Teaser\ndate: 2026-11-01\nrelated:\n  - post: secret\n",
                "x"
            )
        )
    ],
    NOW
);
message!(
    config_unknown_expired_mode,
    &[(
        "site.toml",
        &format!("{SITE_TOML}[editorial]\nexpired = \"hidden\"\n")
    )],
    NOW
);
message!(
    withdrawn_page_clash,
    &[
        (
            "site.toml",
            &format!("{SITE_TOML}[editorial]\nexpired = \"gone\"\n")
        ),
        (
            "content/posts/old.md",
            &bad_post("title: Old\ndate: 2026-01-01\nexpires: 2026-06-01\n", "x")
        ),
        (
            "content/posts/new.md",
            &bad_post(
                "title: New\ndate: 2026-07-01\naliases: [/posts/old/]\n",
                "x"
            )
        )
    ],
    NOW
);

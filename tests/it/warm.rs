//! Warm builds: after any edit, a build that reuses the cache writes exactly what a cold
//! build (`--no-cache`) of the same site writes.

use crate::common::{TestSite, post, snapshot};

fn site() -> TestSite {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &crate::common::SITE_TOML
            .replace("posts_per_page = 10", "posts_per_page = 2")
            .replace("latest_posts = 5", "latest_posts = 2"),
    );
    for i in 1..=7 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post {i}"),
                &format!("2024-01-{i:02}"),
                &format!("tags: [t{}, common]\ncategories: [C{}]\ncves: [CVE-2024-000{i}]\ntldr: [\"Bullet {i}\"]\n", i % 3, i % 2),
                &format!("Body {i} mentions CVE-2023-1234.\n\n```python\nprint({i})\n```\n"),
            ),
        );
    }
    s.write(
        "content/posts/p8.md",
        &post(
            "Post 8",
            "2024-01-08",
            "related:\n  - post: p3\n",
            "Refers to p3.",
        ),
    );
    s.write("content/about.md", "---\ntitle: About\n---\nAbout us.\n");
    s.write("static/robots-note.txt", "hello\n");
    s
}

/// Builds warm (into public/) and cold (into a fresh folder), and compares.
fn assert_warm_equals_cold(s: &TestSite, what: &str) -> String {
    let warm = s.build(&["--timings"]).ok();
    let cold_dir = s.root().join("cold-out");
    let _ = std::fs::remove_dir_all(&cold_dir);
    s.build(&["--no-cache", "--output", "cold-out"]).ok();
    let a = snapshot(&s.public());
    let b = snapshot(&cold_dir);
    let only_warm: Vec<_> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let only_cold: Vec<_> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    assert!(
        only_warm.is_empty() && only_cold.is_empty(),
        "{what}: only warm {only_warm:?}, only cold {only_cold:?}"
    );
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{what}: {k} differs between the warm and the cold build\nwarm:\n{}\ncold:\n{}",
            String::from_utf8_lossy(v),
            String::from_utf8_lossy(&b[k])
        );
    }
    // No empty folders left behind by deletions either.
    for e in walkdir::WalkDir::new(s.public()).into_iter().flatten() {
        if e.file_type().is_dir() {
            assert!(
                std::fs::read_dir(e.path()).unwrap().next().is_some(),
                "{what}: empty folder {}",
                e.path().display()
            );
        }
    }
    warm.stdout
}

fn written(stdout: &str) -> usize {
    match stdout.split(" files (").nth(1) {
        Some(rest) => rest.split(' ').next().unwrap().parse().unwrap(),
        None => usize::MAX, // every file written
    }
}

#[test]
fn unchanged_rebuild_writes_nothing() {
    let s = site();
    s.build(&[]).ok();
    let out = assert_warm_equals_cold(&s, "unchanged");
    assert_eq!(written(&out), 0, "{out}");
}

#[test]
fn edits_rebuild_only_what_they_touch_and_match_a_cold_build() {
    let s = site();
    s.build(&[]).ok();
    let total = snapshot(&s.public()).len();

    // Body only: the post page and the feeds, not the listings.
    s.write(
        "content/posts/p4.md",
        &post(
            "Post 4",
            "2024-01-04",
            "tags: [t1, common]\ncategories: [C0]\ncves: [CVE-2024-0004]\ntldr: [\"Bullet 4\"]\n",
            "A new body for 4 mentions CVE-2023-1234.\n",
        ),
    );
    let out = assert_warm_equals_cold(&s, "body edit");
    let n = written(&out);
    assert!(n > 0 && n <= 6, "body edit wrote {n} of {total}: {out}");

    // Title of a post in the middle: neighbours, listings and terms change.
    s.write(
        "content/posts/p4.md",
        &post(
            "Post four, renamed",
            "2024-01-04",
            "tags: [t1, common]\ncategories: [C0]\ncves: [CVE-2024-0004]\ntldr: [\"Bullet 4\"]\n",
            "A new body for 4.\n",
        ),
    );
    assert_warm_equals_cold(&s, "title edit");

    // Title of the newest post: it is in every sidebar.
    s.write(
        "content/posts/p8.md",
        &post(
            "Post 8, renamed",
            "2024-01-08",
            "related:\n  - post: p3\n",
            "Refers to p3.",
        ),
    );
    assert_warm_equals_cold(&s, "newest title edit");

    // A related post's title shows on the post that relates to it.
    s.write(
        "content/posts/p3.md",
        &post(
            "Post 3, renamed",
            "2024-01-03",
            "tags: [t0, common]\n",
            "Three.",
        ),
    );
    assert_warm_equals_cold(&s, "related title edit");

    // Tags: a new term appears, an old one loses a post.
    s.write(
        "content/posts/p5.md",
        &post("Post 5", "2024-01-05", "tags: [brand-new]\n", "Five."),
    );
    assert_warm_equals_cold(&s, "tag change");

    // A date change reorders posts.
    s.write(
        "content/posts/p1.md",
        &post("Post 1", "2024-02-01", "tags: [t1]\n", "Now the newest."),
    );
    assert_warm_equals_cold(&s, "date change");

    // A deleted post takes its page, terms and CVE pages with it.
    s.remove("content/posts/p6.md");
    assert_warm_equals_cold(&s, "deleted post");

    // A new post.
    s.write(
        "content/posts/p9.md",
        &post(
            "Post 9",
            "2024-01-09",
            "tags: [common]\naliases: [/old/nine/]\n",
            "Nine.",
        ),
    );
    assert_warm_equals_cold(&s, "added post");

    // A draft, then not.
    s.write(
        "content/posts/p9.md",
        &post("Post 9", "2024-01-09", "draft: true\n", "Nine."),
    );
    assert_warm_equals_cold(&s, "drafted");
    s.build(&["--drafts"]).ok();
    assert_warm_equals_cold(&s, "after a --drafts build");

    // A standalone page, a static file, a template, the config.
    s.write(
        "content/about.md",
        "---\ntitle: About us\n---\nAbout us, again.\n",
    );
    assert_warm_equals_cold(&s, "page edit");
    s.write("static/robots-note.txt", "hello again, longer\n");
    assert_warm_equals_cold(&s, "static edit");
    s.write("templates/taxonomy_term.html", "{% extends \"base.html\" %}{% block content %}<h1>Term {{ term.name }}</h1>{% endblock content %}");
    assert_warm_equals_cold(&s, "template edit");
    s.write(
        "site.toml",
        &std::fs::read_to_string(s.root().join("site.toml"))
            .unwrap()
            .replace("Test Dispatch", "Renamed Dispatch"),
    );
    assert_warm_equals_cold(&s, "config edit");
    // How much of each body search reads: the index changes, pages are parsed again.
    let toml = std::fs::read_to_string(s.root().join("site.toml")).unwrap();
    s.write("site.toml", &format!("{toml}\nsearch_body_words = 1\n"));
    assert_warm_equals_cold(&s, "search_body_words = 1");
    let shards = |s: &TestSite| -> String {
        snapshot(&s.public().join("search/s"))
            .values()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    };
    assert!(!shards(&s).contains("\"mention\""), "a body's second word");
    s.write(
        "site.toml",
        &format!("{toml}\nsearch_body_words = \"all\"\n"),
    );
    assert_warm_equals_cold(&s, "search_body_words = all");
    assert!(shards(&s).contains("\"mention\""));
}

#[test]
fn shortcodes_embeds_and_iocs_warm_equals_cold() {
    let s = site();
    s.build(&[]).ok();
    // A post gains a video, a callout and IOCs: its exports appear and `_headers` gains
    // frame-src.
    s.write(
        "content/posts/p5.md",
        &post(
            "Post 5",
            "2024-01-05",
            "iocs:\n  - {type: ipv4, value: \"203.0.113.5\"}\n",
            "> [!WARNING] Patch\n> Now.\n\n{{ youtube(id=\"aqz-KE-bpKQ\") }}\n\n{% ioc() %}\nevil.example.com\n{% end %}\n",
        ),
    );
    assert_warm_equals_cold(&s, "shortcodes added");
    assert!(
        s.read("_headers")
            .contains("frame-src 'self' https://www.youtube-nocookie.com")
    );
    assert!(s.exists("posts/p5/iocs.stix.json") && s.exists("iocs.json"));
    // A site shortcode template changes: the pages using it change, as in a cold build.
    s.write("templates/shortcodes/youtube.html", "<p>{{ id }}</p>\n");
    assert_warm_equals_cold(&s, "shortcode template edit");
    // The post loses them again: exports go, frame-src goes.
    s.write(
        "content/posts/p5.md",
        &post("Post 5", "2024-01-05", "", "Plain again.\n"),
    );
    assert_warm_equals_cold(&s, "shortcodes removed");
    assert!(!s.read("_headers").contains("frame-src"));
    assert!(!s.exists("posts/p5/iocs.stix.json") && !s.exists("iocs.json"));
}

#[test]
fn shortcodes_reading_site_and_page_warm_equals_cold() {
    let s = site();
    s.write(
        "templates/shortcodes/byline.html",
        "<p class=\"byline\">{{ page.title }} ({{ page.date }}, {{ page.tags | join(sep=\" \") }}) on {{ site.title }}: {{ page.permalink }}</p>\n",
    );
    s.write(
        "content/posts/p5.md",
        &post(
            "Post 5",
            "2024-01-05",
            "tags: [x]\n",
            "{{ byline() }}\n\nFive.\n",
        ),
    );
    s.build(&[]).ok();
    assert!(
        s.read("posts/p5/index.html")
            .contains("<p class=\"byline\">Post 5 (2024-01-05, x) on ")
    );
    // The site's title and base URL change: the body is expanded again.
    let toml = std::fs::read_to_string(s.root().join("site.toml")).unwrap();
    let retitled = toml.replacen("title = \"", "title = \"Renamed ", 1);
    assert_ne!(toml, retitled);
    s.write("site.toml", &retitled);
    assert_warm_equals_cold(&s, "site title edit");
    assert!(s.read("posts/p5/index.html").contains(" on Renamed "));
    // The page's own fields change with its file.
    s.write(
        "content/posts/p5.md",
        &post(
            "Post five",
            "2024-01-05",
            "tags: [y, z]\n",
            "{{ byline() }}\n\nFive.\n",
        ),
    );
    assert_warm_equals_cold(&s, "page title edit");
    assert!(
        s.read("posts/p5/index.html")
            .contains("<p class=\"byline\">Post five (2024-01-05, y z) on Renamed ")
    );
}

#[test]
fn output_files_changed_by_hand_are_rewritten() {
    let s = site();
    s.build(&[]).ok();
    std::fs::write(s.public().join("posts/p2/index.html"), "tampered").unwrap();
    std::fs::remove_file(s.public().join("tags/common/index.html")).unwrap();
    let out = assert_warm_equals_cold(&s, "tampered output");
    assert_eq!(written(&out), 2, "{out}");
}

#[test]
fn a_failed_warm_build_leaves_the_output_alone() {
    let s = site();
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    s.write("templates/post.html", "{{ page.no_such_thing | upper }}");
    s.build(&[]).failed();
    assert!(snapshot(&s.public()) == before);
    s.remove("templates/post.html");
    assert_warm_equals_cold(&s, "after a failed build");
}

#[test]
fn an_interrupted_update_is_rolled_back_first() {
    let s = site();
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    // What a build killed while moving files in leaves: one file replaced, its backup,
    // a new file, and the journal.
    let backup = s.root().join(".public.sitrep-backup/posts/p2");
    std::fs::create_dir_all(&backup).unwrap();
    std::fs::hard_link(
        s.public().join("posts/p2/index.html"),
        backup.join("index.html"),
    )
    .unwrap();
    std::fs::write(s.public().join("posts/p2/index.html.new"), "half-built").unwrap();
    std::fs::rename(
        s.public().join("posts/p2/index.html.new"),
        s.public().join("posts/p2/index.html"),
    )
    .unwrap();
    std::fs::create_dir_all(s.public().join("posts/ghost")).unwrap();
    std::fs::write(s.public().join("posts/ghost/index.html"), "new").unwrap();
    std::fs::write(
        s.root().join(".public.sitrep-journal"),
        "W posts/p2/index.html\nW posts/ghost/index.html\n",
    )
    .unwrap();
    // A failing build still restores the old output before it fails.
    s.write("content/posts/broken.md", "---\ntitle: [\n---\n");
    s.build(&[]).failed();
    assert!(
        snapshot(&s.public()) == before,
        "the interrupted update was not rolled back"
    );
    assert!(!s.root().join(".public.sitrep-journal").exists());
    s.remove("content/posts/broken.md");
    assert_warm_equals_cold(&s, "after recovery");
}

#[test]
fn a_corrupt_cache_is_ignored() {
    let s = site();
    s.build(&[]).ok();
    for f in ["content.bin", "outputs.bin"] {
        std::fs::write(s.root().join(".sitrep-cache").join(f), b"\x93garbage").unwrap();
    }
    let out = assert_warm_equals_cold(&s, "corrupt cache");
    assert_eq!(
        written(&out),
        usize::MAX,
        "a corrupt cache means a cold build: {out}"
    );
}

#[test]
fn image_edits_match_a_cold_build() {
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/tests/fixtures/images/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let s = site();
    s.write_bytes("content/posts/shots/wide.png", &fixture("wide.png"));
    s.write_bytes("static/img/small.png", &fixture("small.png"));
    s.write(
        "content/posts/shots/index.md",
        &post(
            "Shots",
            "2024-01-10",
            "",
            "![Wide](wide.png)\n\n![Small](/img/small.png)\n",
        ),
    );
    s.build(&[]).ok();
    assert_warm_equals_cold(&s, "images unchanged");
    // The same file name, other pixels and size: the post's Markdown did not change, its
    // page must.
    s.write_bytes("content/posts/shots/wide.png", &fixture("photo.jpg"));
    assert_warm_equals_cold(&s, "image replaced");
    assert!(
        s.read("posts/shots/index.html")
            .contains("width=\"1200\" height=\"800\"")
    );
    s.write_bytes("static/img/small.png", &fixture("big.webp"));
    assert_warm_equals_cold(&s, "static image replaced");
    assert!(s.exists("img/small-1440w.webp"));
    // Removed from the body: its variants go.
    s.write(
        "content/posts/shots/index.md",
        &post("Shots", "2024-01-10", "", "No images.\n"),
    );
    assert_warm_equals_cold(&s, "image removed");
    assert!(!s.exists("img/small-1440w.webp"));
    // A post gains its own image: its card goes.
    s.write(
        "content/posts/shots/index.md",
        &post("Shots", "2024-01-10", "image: /img/small.png\n", "Cover.\n"),
    );
    assert_warm_equals_cold(&s, "own image");
    assert!(!s.exists("posts/shots/card.png"));
}

#[test]
fn precompressed_copies_follow_their_files_in_warm_builds() {
    let s = site();
    let with = |extra: &str| {
        format!(
            "{}\n[deploy]\nprecompress = true\n{extra}",
            crate::common::SITE_TOML
                .replace("posts_per_page = 10", "posts_per_page = 2")
                .replace("latest_posts = 5", "latest_posts = 2")
        )
    };
    s.write("site.toml", &with(""));
    s.build(&[]).ok();
    assert!(s.exists("posts/p1/index.html.gz") && s.exists("posts/p1/index.html.br"));
    assert!(s.exists("style.css.gz"), "copied text files too");
    assert!(!s.exists("robots-note.txt.gz"), "not over 1 kB");
    assert_warm_equals_cold(&s, "precompress on");
    assert_eq!(written(&assert_warm_equals_cold(&s, "nothing changed")), 0);

    // A small text file grows past 1 kB, then shrinks again.
    s.write("static/robots-note.txt", &"hello\n".repeat(400));
    let out = assert_warm_equals_cold(&s, "a static file grows");
    assert!(s.exists("robots-note.txt.gz") && s.exists("robots-note.txt.br"));
    assert_eq!(written(&out), 3, "{out}");
    s.write("static/robots-note.txt", "hello\n");
    assert_warm_equals_cold(&s, "a static file shrinks");
    assert!(!s.exists("robots-note.txt.gz") && !s.exists("robots-note.txt.br"));

    // A post goes: its copies go with it.
    s.remove("content/posts/p8.md");
    assert_warm_equals_cold(&s, "a post deleted");
    assert!(!s.exists("posts/p8/index.html.gz"));

    // Brotli off, then precompression off: every copy goes.
    s.write("site.toml", &with("brotli = false\n"));
    assert_warm_equals_cold(&s, "brotli off");
    assert!(s.exists("posts/p1/index.html.gz") && !s.exists("posts/p1/index.html.br"));
    s.write(
        "site.toml",
        &with("").replace("precompress = true", "precompress = false"),
    );
    assert_warm_equals_cold(&s, "precompress off");
    let left: Vec<String> = s
        .listing()
        .into_iter()
        .filter(|f| f.ends_with(".gz") || f.ends_with(".br"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn avif_exif_and_card_bands_match_a_cold_build() {
    let root = env!("CARGO_MANIFEST_DIR");
    let fixture = |rel: &str| std::fs::read(format!("{root}/tests/fixtures/{rel}")).unwrap();
    let s = site();
    s.write(
        "site.toml",
        &format!(
            "{}[images]\nformats = [\"webp\", \"avif\"]\nwidths = [480]\n",
            crate::common::SITE_TOML
        ),
    );
    s.write_bytes("content/posts/shots/wide.png", &fixture("images/wide.png"));
    s.write_bytes(
        "content/posts/shots/turned.jpg",
        &fixture("images/exif-orientation-6.jpg"),
    );
    s.write(
        "content/posts/shots/index.md",
        &post(
            "Shots",
            "2024-01-10",
            "cves: [CVE-2024-6387]\n",
            "![Wide](wide.png)\n\n![Turned](turned.jpg)\n",
        ),
    );
    s.write_bytes(
        "data/cve/2024/6xxx/CVE-2024-6387.json",
        &fixture("intel/cve/2024/6xxx/CVE-2024-6387.json"),
    );
    s.build(&[]).ok();
    assert!(s.exists("posts/shots/turned-480w.avif"));
    assert_warm_equals_cold(&s, "AVIF, EXIF and a band unchanged");
    // The data changes: the card's band goes.
    std::fs::remove_file(s.root().join("data/cve/2024/6xxx/CVE-2024-6387.json")).unwrap();
    assert_warm_equals_cold(&s, "CVE record removed");
    // The light palette, and a touched image.
    s.write(
        "site.toml",
        &format!(
            "{}[images]\nformats = [\"webp\", \"avif\"]\nwidths = [480]\ncard_theme = \"light\"\n",
            crate::common::SITE_TOML
        ),
    );
    s.write_bytes(
        "content/posts/shots/turned.jpg",
        &fixture("images/exif-orientation-6.jpg"),
    );
    assert_warm_equals_cold(&s, "light cards, touched image");
    // AVIF off: its files leave.
    s.write(
        "site.toml",
        &format!("{}[images]\nwidths = [480]\n", crate::common::SITE_TOML),
    );
    assert_warm_equals_cold(&s, "AVIF off");
    assert!(!s.exists("posts/shots/turned-480w.avif"));
}

#[test]
fn cve_cards_follow_data_file_changes() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel");
    let fixture = |rel: &str| std::fs::read(fixtures.join(rel)).unwrap();
    let s = site();
    s.write_bytes(
        "data/cve/2025/53xxx/CVE-2025-53770.json",
        &fixture("cve/2025/53xxx/CVE-2025-53770.json"),
    );
    // Another record, named in front matter, stays until the end: then no record is left,
    // and every CVE page's data notice changes.
    s.write_bytes(
        "data/cve/2024/3xxx/CVE-2024-3400.json",
        &fixture("cve/2024/3xxx/CVE-2024-3400.json"),
    );
    s.write_bytes("data/kev.json", &fixture("kev.json"));
    // The CVE is named only in shortcodes: in a body, an update note and a standalone page.
    s.write(
        "content/posts/cards.md",
        &post(
            "Cards",
            "2023-12-01",
            "cves: [CVE-2024-3400]\nupdates:\n  - {date: 2023-12-02, note: \"Also {{ cve(id='CVE-2025-53770') }}.\"}\n",
            "Only here: {{ cve(id=\"CVE-2025-53770\") }}.\n",
        ),
    );
    s.write(
        "content/notes.md",
        "---\ntitle: Notes\n---\n{{ cve(id=\"CVE-2025-53770\") }}\n",
    );
    s.build(&[]).ok();
    let exploited = |page: &str| {
        s.read(page)
            .matches("<span class=\"kev-mark\">Exploited</span></span>")
            .count()
    };
    assert_eq!(exploited("posts/cards/index.html"), 2);
    assert_eq!(exploited("notes/index.html"), 1);
    // The KEV entry goes: every card loses its marker, as in a cold build.
    s.write(
        "data/kev.json",
        &crate::common::kev_without(&fixture("kev.json"), "CVE-2025-53770"),
    );
    let out = assert_warm_equals_cold(&s, "KEV entry removed");
    assert!(written(&out) > 0, "{out}");
    assert_eq!(exploited("posts/cards/index.html"), 0);
    assert_eq!(exploited("notes/index.html"), 0);
    assert!(s.read("notes/index.html").contains("sev-critical"));
    // The record goes: the cards show the id alone.
    s.remove("data/cve/2025/53xxx/CVE-2025-53770.json");
    assert_warm_equals_cold(&s, "record removed");
    assert!(!s.read("notes/index.html").contains("sev-critical"));
    // Back again.
    s.write_bytes("data/kev.json", &fixture("kev.json"));
    s.write_bytes(
        "data/cve/2025/53xxx/CVE-2025-53770.json",
        &fixture("cve/2025/53xxx/CVE-2025-53770.json"),
    );
    assert_warm_equals_cold(&s, "data back");
    assert_eq!(exploited("notes/index.html"), 1);
    // The last records go: the data notice of every CVE page drops the CVE List.
    s.remove("data/cve/2025/53xxx/CVE-2025-53770.json");
    s.remove("data/cve/2024/3xxx/CVE-2024-3400.json");
    assert_warm_equals_cold(&s, "no record left");
}

//! `sitrep check`: every kind of broken internal link reported with file and line, the exit
//! status, nothing written; and its list of a site's files agrees with a real build.

use crate::common::{TestSite, post, snapshot};
use sitrep::BuildOptions;
use sitrep::content::highlight::Highlighter;

/// A site whose links are all good.
fn good_site() -> TestSite {
    let s = TestSite::new();
    s.write(
        "content/posts/target.md",
        &post(
            "Target",
            "2024-05-01",
            "tags: [Patch Tuesday]\naliases: [/2019/old-target/]\n",
            "## Patch status\n\nText with a note[^n].\n\n<a id=\"raw-anchor\"></a>\n\n[^n]: The note.",
        ),
    );
    s.write(
        "content/posts/bundle/index.md",
        &post(
            "Bundle",
            "2024-05-02",
            "",
            "![chart](chart.png)\n\n![logo](/images/logo.png)",
        ),
    );
    s.write_bytes("content/posts/bundle/chart.png", b"png");
    s.write_bytes("static/images/logo.png", b"png");
    s.write(
        "content/about.md",
        "---\ntitle: About\n---\n\n## Contact us\n",
    );
    s.write(
        "content/posts/source.md",
        &post(
            "Source",
            "2024-05-03",
            "",
            concat!(
                "[abs](/posts/target/) [rel](../target/) [no slash](/posts/target)\n",
                "[anchor](/posts/target/#patch-status) [footnote](../target/#n) ",
                "[raw](/posts/target/#raw-anchor) [top](#top) [self](#intro)\n\n",
                "## Intro\n\n",
                "[tag](/tags/patch-tuesday/) [tags](/tags/) [feed](/rss.xml) [home](/) ",
                "[page 1](/page/1/) [alias](/2019/old-target/) [about](/about/#contact-us) ",
                "[css](/style.css) [image](/images/logo.png) [own](https://news.example.com/posts/bundle/chart.png) ",
                "[ext](https://nvd.nist.gov/vuln/detail/CVE-2024-3400) [mail](mailto:tips@example.com) ",
                "[query](/posts/target/?utm=x) [cve](/cve/CVE-2024-3400/)\n\nCVE-2024-3400.\n",
            ),
        ),
    );
    s
}

#[test]
fn a_site_with_good_links_passes() {
    let s = good_site();
    let run = s.run(&["check"]).ok();
    assert!(run.stdout.contains("no problems"), "{}", run.stdout);
    assert!(run.stdout.contains("in 4 pages"), "{}", run.stdout);
    assert!(!s.root().join("public").exists());
}

#[test]
fn each_kind_of_problem_is_reported_with_file_and_line() {
    let s = good_site();
    s.write(
        "content/posts/broken.md",
        &post(
            "Broken",
            "2024-05-04",
            "",
            concat!(
                "Intro line.\n",                         // line 6
                "[gone](/posts/nope/)\n",                // 7
                "[relative](../targt/)\n",               // 8
                "[anchor](/posts/target/#patch-stat)\n", // 9
                "![missing](diagram.png)\n",             // 10
                "[md](target.md)\n",                     // 11
                "[up](../../../../etc/passwd)\n",        // 12
                "[self](#nowhere)\n",                    // 13
                "[ok](/posts/target/)\n",                // 14
                "![gone static](/images/none.png)\n",    // 15
            ),
        ),
    );
    s.write(
        "content/about.md",
        "---\ntitle: About\n---\n\n[team](/team/)\n\n## Contact us\n",
    );
    let before = snapshot(s.root());
    let err = s.run(&["check"]).failed();
    for (line, what) in [
        (
            "content/posts/broken.md:7:",
            "link `/posts/nope/` leads nowhere: the site has no /posts/nope/",
        ),
        (
            "content/posts/broken.md:8:",
            "link `../targt/` leads nowhere",
        ),
        (
            "content/posts/broken.md:9:",
            "names `#patch-stat`, which /posts/target/ does not have",
        ),
        (
            "content/posts/broken.md:10:",
            "image `diagram.png` leads nowhere: the site has no /posts/broken/diagram.png",
        ),
        (
            "content/posts/broken.md:11:",
            "link `target.md` leads nowhere",
        ),
        (
            "content/posts/broken.md:12:",
            "goes above the root of the site",
        ),
        ("content/posts/broken.md:13:", "`#nowhere`"),
        ("content/posts/broken.md:15:", "image `/images/none.png`"),
        ("content/about.md:5:", "link `/team/` leads nowhere"),
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("error: {line}")) && l.contains(what)),
            "missing {line} {what}:\n{err}"
        );
    }
    assert_eq!(err.matches("error: ").count(), 9, "{err}");
    assert!(!err.contains("broken.md:14"), "{err}");
    // Helpful hints.
    assert!(err.contains("did you mean /posts/target/?"), "{err}");
    assert!(err.contains("did you mean #patch-status?"), "{err}");
    assert!(
        err.contains("not its Markdown file: /posts/target/"),
        "{err}"
    );
    // Nothing written.
    assert_eq!(snapshot(s.root()), before);
}

#[test]
fn a_site_that_does_not_build_fails_check_with_the_build_errors() {
    let s = good_site();
    s.write(
        "content/posts/bad.md",
        "---\ntitle: Bad\ndate: 2024-13-45\n---\n\nx\n",
    );
    let before = snapshot(s.root());
    let err = s.run(&["check"]).failed();
    assert!(err.contains("content/posts/bad.md:3"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(snapshot(s.root()), before);
}

#[test]
fn links_to_drafts_count_only_with_drafts() {
    let s = good_site();
    s.write(
        "content/posts/draft.md",
        &post("Draft", "2024-05-05", "draft: true\n", "Soon."),
    );
    s.write(
        "content/posts/linker.md",
        &post("Linker", "2024-05-06", "", "[soon](/posts/draft/)"),
    );
    let err = s.run(&["check"]).failed();
    assert!(err.contains("content/posts/linker.md:6:"), "{err}");
    assert!(err.contains("--drafts"), "{err}");
    s.run(&["check", "--drafts"]).ok();
}

#[test]
fn root_relative_links_live_under_the_base_path() {
    let s = TestSite::new();
    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"https://example.com/blog/\"\n",
    );
    s.write("content/posts/a.md", &post("A", "2024-05-01", "", "x"));
    s.write(
        "content/posts/b.md",
        &post(
            "B",
            "2024-05-02",
            "",
            "[good](/blog/posts/a/) [bad](/posts/a/) [abs](https://example.com/blog/posts/a/)",
        ),
    );
    let err = s.run(&["check"]).failed();
    assert!(err.contains("content/posts/b.md:6:"), "{err}");
    assert!(
        err.contains("link `/posts/a/` is outside the site"),
        "{err}"
    );
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
}

#[test]
fn site_files_are_exactly_what_a_build_writes() {
    let s = good_site();
    s.write(
        "site.toml",
        "title = \"T\"\nbase_url = \"https://example.com/blog\"\nposts_per_page = 2\n",
    );
    for i in 0..5 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("P{i}"),
                &format!("2024-04-0{}", i + 1),
                "tags: [Patch Tuesday, 日本]\ncategories: [News]\naliases: [/old/x.html]\n"
                    .replace("x.html", &format!("p{i}.html"))
                    .as_str(),
                "Body CVE-2024-1234.",
            ),
        );
    }
    s.write("static/robots.txt", "User-agent: *\n");
    s.write("content/legal/privacy.md", "---\ntitle: Privacy\n---\nx\n");
    s.build(&[]).ok();
    let built: std::collections::BTreeSet<String> = s.listing().into_iter().collect();
    let opts = BuildOptions {
        root: s.root().to_path_buf(),
        ..BuildOptions::default()
    };
    let loaded = sitrep::build::load(&opts, &Highlighter::new()).unwrap();
    let listed = sitrep::check::site_files(&loaded).unwrap();
    let only_listed: Vec<_> = listed.difference(&built).collect();
    let only_built: Vec<_> = built.difference(&listed).collect();
    assert!(
        only_listed.is_empty() && only_built.is_empty(),
        "check lists but build does not write: {only_listed:?}\nbuild writes but check does not list: {only_built:?}"
    );
}

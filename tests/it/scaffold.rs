//! `sitrep new` and `sitrep init`, run as an author would.

use crate::common::{TestSite, snapshot};

fn today() -> String {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn new_writes_a_post_that_builds_with_its_title_intact() {
    let s = TestSite::new();
    let title = r#"He said: "patch now" # today's 'fix' \ C:\temp & <b>"#;
    let run = s
        .run(&["new", title, "--tags", "zero-day, Patch Tuesday,,zero-day"])
        .ok();
    let rel = "content/posts/he-said-patch-now-today-s-fix-c-temp-b.md";
    assert!(run.stdout.contains(rel), "{}", run.stdout);
    let text = std::fs::read_to_string(s.root().join(rel)).unwrap();
    assert!(text.contains(&format!("\ndate: {}\n", today())), "{text}");
    assert!(text.contains("tldr:\n  - \"\"\n  - \"\"\n"), "{text}");
    assert!(
        text.contains("tags: [\"zero-day\", \"Patch Tuesday\"]\n"),
        "{text}"
    );

    // The title round-trips through the front matter into the page, escaped there.
    s.build(&[]).ok();
    let page = s.read("posts/he-said-patch-now-today-s-fix-c-temp-b/index.html");
    assert!(
        page.contains(
            "He said: &quot;patch now&quot; # today&#39;s &#39;fix&#39; \\ C:\\temp &amp; &lt;b&gt;"
        ),
        "{page}"
    );
    assert!(s.exists("tags/zero-day/index.html"));
    assert!(s.exists("tags/patch-tuesday/index.html"));
    // The empty TLDR bullets are left out until they are written.
    assert!(!page.contains("<li></li>"), "{page}");
}

#[test]
fn new_refuses_to_overwrite_and_to_make_empty_slugs() {
    let s = TestSite::new();
    s.run(&["new", "Patch Tuesday"]).ok();
    let path = s.root().join("content/posts/patch-tuesday.md");
    std::fs::write(&path, "my words").unwrap();
    let err = s.run(&["new", "Patch  tuesday!"]).failed();
    assert!(err.contains("content/posts/patch-tuesday.md"), "{err}");
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "my words");

    // A bundle, or a dated file name, with the same slug counts too.
    s.write("content/posts/bundled/index.md", "x");
    let err = s.run(&["new", "Bundled"]).failed();
    assert!(err.contains("content/posts/bundled/index.md"), "{err}");
    s.write("content/posts/2024-05-01-dated.md", "x");
    let err = s.run(&["new", "Dated"]).failed();
    assert!(err.contains("content/posts/2024-05-01-dated.md"), "{err}");
    assert!(!s.root().join("content/posts/dated.md").exists());

    let err = s.run(&["new", "!!! ???"]).failed();
    assert!(err.contains("no letters or digits"), "{err}");
    let err = s.run(&["new", "Fine", "--tags", "ok,!!!"]).failed();
    assert!(err.contains("--tags"), "{err}");
    assert!(!s.root().join("content/posts/fine.md").exists());
}

#[test]
fn new_needs_a_site_and_takes_root() {
    let dir = tempfile::tempdir().unwrap();
    let site = TestSite::new();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["new", "Hello"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("site.toml"), "{err}");
    assert!(err.contains("sitrep init"), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());

    let out = run(&["new", "Hello", "--root", site.root().to_str().unwrap()]);
    assert!(out.status.success());
    assert!(site.root().join("content/posts/hello.md").exists());
}

#[test]
fn init_makes_a_site_that_builds_and_checks_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("blog");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    let out = run(&["init", "blog"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let files = snapshot(&dir);
    for f in [
        "site.toml",
        ".gitignore",
        "content/posts/welcome.md",
        "themes/default/templates/base.html",
    ] {
        assert!(files.contains_key(f), "{f} missing: {:?}", files.keys());
    }
    // The theme written out is the default theme, file for file.
    let theme = snapshot(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default"));
    let written: std::collections::BTreeMap<_, _> = files
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("themes/default/")?.to_string(), v.clone())))
        .collect();
    assert_eq!(written, theme);
    let gitignore = String::from_utf8(files[".gitignore"].clone()).unwrap();
    assert!(gitignore.lines().any(|l| l == "/public/"), "{gitignore}");
    let toml = String::from_utf8(files["site.toml"].clone()).unwrap();
    assert!(toml.contains("# "), "site.toml has comments");

    let out = run(&["build", "--root", "blog"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "warnings: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let post = std::fs::read_to_string(dir.join("public/posts/welcome/index.html")).unwrap();
    assert!(post.contains("Welcome to your new site"));
    assert!(post.contains(&today()));
    let out = run(&["check", "--root", "blog"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let before = snapshot(tmp.path());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("init")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(snapshot(tmp.path()), before);

    // An empty folder is fine; a file is not.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("init")
        .arg(&empty)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("init")
        .arg(tmp.path().join("notes.txt"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
}

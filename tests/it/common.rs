//! Helpers for integration tests: small real sites in temp folders, built with the real
//! `sitrep` binary, and their output read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A site in a temp folder.
pub struct TestSite {
    pub dir: tempfile::TempDir,
}

/// What a run of `sitrep` did.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Panics with the output unless the run succeeded.
    pub fn ok(self) -> Run {
        assert_eq!(
            self.status, 0,
            "sitrep failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run failed; returns stderr.
    pub fn failed(self) -> String {
        assert_ne!(
            self.status, 0,
            "sitrep should have failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.stderr
    }
}

pub const SITE_TOML: &str = "title = \"Test Dispatch\"\nbase_url = \"https://news.example.com\"\ndescription = \"Tests\"\nposts_per_page = 10\nlatest_posts = 5\n";

/// A post's front matter and body.
pub fn post(title: &str, date: &str, extra_front_matter: &str, body: &str) -> String {
    format!("---\ntitle: {title:?}\ndate: {date}\n{extra_front_matter}---\n\n{body}\n")
}

impl TestSite {
    /// An empty site with the default site.toml.
    pub fn new() -> TestSite {
        let s = TestSite {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.write("site.toml", SITE_TOML);
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating folders) relative to the site root.
    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn write_bytes(&self, rel: &str, bytes: &[u8]) -> &Self {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
        self
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.root().join(rel)).unwrap();
    }

    /// Runs `sitrep ARGS` in the site's folder.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(
            Command::new(env!("CARGO_BIN_EXE_sitrep"))
                .args(args)
                .current_dir(self.root())
                .output()
                .expect("run sitrep"),
        )
    }

    /// `sitrep build` with extra args.
    pub fn build(&self, args: &[&str]) -> Run {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    pub fn public(&self) -> PathBuf {
        self.root().join("public")
    }

    /// A file of the output, as text; panics if missing.
    pub fn read(&self, rel: &str) -> String {
        let p = self.public().join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; output has:\n{}",
                p.display(),
                self.listing().join("\n")
            )
        })
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.public().join(rel).exists()
    }

    /// Every file of the output, relative, sorted.
    pub fn listing(&self) -> Vec<String> {
        snapshot(&self.public()).into_keys().collect()
    }
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// Parses XML completely; panics on any well-formedness error.
pub fn assert_well_formed_xml(name: &str, text: &str) {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i64;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "{name} is not well-formed XML at {}: {e}\n{text}",
                reader.buffer_position()
            ),
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced elements");
    // Every `&` starts one of XML's entities or a character reference.
    for (i, _) in text.match_indices('&') {
        let rest = &text[i + 1..];
        let ok = ["amp;", "lt;", "gt;", "quot;", "apos;"]
            .iter()
            .any(|e| rest.starts_with(e))
            || (rest.starts_with('#')
                && rest[1..].find(';').is_some_and(|end| end > 0 && end < 10));
        assert!(
            ok,
            "{name}: bare & at byte {i}: {}",
            &text[i..(i + 20).min(text.len())]
        );
    }
}

/// A whole output folder, file by file.
pub type Snapshot = BTreeMap<String, Vec<u8>>;

/// A site with these files (path, text), built once: the start of every failure test.
pub fn built_with(files: &[(&str, &str)]) -> (TestSite, Snapshot) {
    let s = TestSite::new();
    for (rel, text) in files {
        s.write(rel, text);
    }
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    assert!(!before.is_empty());
    (s, before)
}

/// The names in the site's folder, to see that a build left nothing behind.
pub fn top_level(s: &TestSite) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(s.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs a build that must fail: non-zero exit, the old output byte-identical, nothing left
/// in the site's folder (no staging folder). Returns stderr.
pub fn fails(s: &TestSite, before: &Snapshot) -> String {
    let top = top_level(s);
    let err = s.build(&[]).failed();
    assert!(
        snapshot(&s.public()) == *before,
        "the old output changed after a failed build:\n{err}"
    );
    assert_eq!(top_level(s), top, "a failed build left files:\n{err}");
    assert!(err.contains("was left as it was"), "{err}");
    err
}

/// A small real PNG, `w` x `h` (posts that show an image need a real one: sitrep reads its
/// size and decodes it once).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7) as u8, (y * 5) as u8, 128]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A KEV catalog (JSON as CISA publishes it) without the entry for `cve`, pretty-printed.
pub fn kev_without(kev: &[u8], cve: &str) -> String {
    let mut kev: serde_json::Value = serde_json::from_slice(kev).unwrap();
    if let Some(list) = kev["vulnerabilities"].as_array_mut() {
        list.retain(|v| v["cveID"] != cve);
    }
    serde_json::to_string_pretty(&kev).unwrap()
}

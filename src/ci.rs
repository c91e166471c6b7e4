//! `sitrep init --ci github|gitlab`: a CI workflow that installs sitrep, builds the site and
//! publishes it on GitHub Pages or GitLab Pages, keeping sitrep and its cache folder
//! (`.sitrep-cache/`) between runs.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Diagnostic;

/// Where the site is published from CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    Github,
    Gitlab,
}

impl Ci {
    /// The workflow file, relative to the site root.
    pub fn file(self) -> PathBuf {
        match self {
            Ci::Github => PathBuf::from(".github/workflows/sitrep.yml"),
            Ci::Gitlab => PathBuf::from(".gitlab-ci.yml"),
        }
    }

    /// The workflow's text.
    pub fn text(self) -> String {
        let v = env!("CARGO_PKG_VERSION");
        match self {
            Ci::Github => GITHUB.replace("{VERSION}", v),
            Ci::Gitlab => GITLAB.replace("{VERSION}", v),
        }
    }
}

const GITHUB: &str = r#"# Builds this site with sitrep and publishes it on GitHub Pages on every push to main.
# Written by `sitrep init --ci github`. In the repository's Settings > Pages, choose
# "GitHub Actions" as the source. A project site (https://USER.github.io/REPO/) needs
# base_url = "https://USER.github.io/REPO/" in site.toml: every link goes under that path.
name: Publish

on:
  push:
    branches: [main]
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

env:
  SITREP_VERSION: "{VERSION}"

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Keep sitrep and its build cache between runs
        uses: actions/cache@v4
        with:
          path: |
            ~/.cargo/bin/sitrep
            .sitrep-cache
          key: sitrep-${{ env.SITREP_VERSION }}-${{ github.run_id }}
          restore-keys: sitrep-${{ env.SITREP_VERSION }}-
      - name: Install sitrep
        run: command -v sitrep || cargo install sitrep --locked --version "$SITREP_VERSION"
      - name: Build
        run: sitrep build
      - uses: actions/upload-pages-artifact@v3
        with:
          path: public

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"#;

const GITLAB: &str = r#"# Builds this site with sitrep and publishes it on GitLab Pages on every push to the
# default branch. Written by `sitrep init --ci gitlab`. A project site
# (https://GROUP.gitlab.io/PROJECT/) needs base_url = "https://GROUP.gitlab.io/PROJECT/" in
# site.toml: every link goes under that path.
pages:
  image: rust:1
  variables:
    SITREP_VERSION: "{VERSION}"
    CARGO_HOME: "$CI_PROJECT_DIR/.cargo"
  cache:
    key: sitrep-$SITREP_VERSION
    paths:
      - .cargo/bin/
      - .sitrep-cache/
  script:
    - export PATH="$CARGO_HOME/bin:$PATH"
    - command -v sitrep || cargo install sitrep --locked --version "$SITREP_VERSION"
    - sitrep build --output public
  artifacts:
    paths:
      - public
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"#;

/// Writes the workflow of `ci` into the site at `root`; refuses to replace one that is
/// there. Returns the file written, relative to `root`.
pub fn write_workflow(root: &Path, ci: Ci) -> Result<PathBuf, Diagnostic> {
    let rel = ci.file();
    let path = root.join(&rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Diagnostic::io(parent, "create", &e))?;
    }
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                Diagnostic::error(&path, "a CI workflow is already there")
                    .with_help("remove or rename it first; sitrep never overwrites it")
            } else {
                Diagnostic::io(&path, "create", &e)
            }
        })?;
    f.write_all(ci.text().as_bytes())
        .map_err(|e| Diagnostic::io(&path, "write", &e))?;
    Ok(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_are_yaml_that_builds_and_keeps_the_cache() {
        for ci in [Ci::Github, Ci::Gitlab] {
            let text = ci.text();
            let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            assert!(yaml.is_mapping());
            assert!(text.contains("sitrep build"), "{text}");
            assert!(text.contains(".sitrep-cache"), "{text}");
            assert!(
                text.contains(&format!("\"{}\"", env!("CARGO_PKG_VERSION"))),
                "{text}"
            );
            assert!(!text.contains("{VERSION}"));
        }
        let gh: serde_yaml::Value = serde_yaml::from_str(&Ci::Github.text()).unwrap();
        assert_eq!(gh["permissions"]["pages"].as_str(), Some("write"));
        let gl: serde_yaml::Value = serde_yaml::from_str(&Ci::Gitlab.text()).unwrap();
        assert_eq!(
            gl["pages"]["artifacts"]["paths"][0].as_str(),
            Some("public")
        );
    }
}

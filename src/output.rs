//! Stage 5: writing files, atomically for the whole site.
//!
//! A build writes into a fresh staging folder beside the output folder; only when every
//! file is written is the staging folder swapped in (one atomic `renameat2(RENAME_EXCHANGE)`
//! on Linux, two renames elsewhere). A failed or killed build leaves the previous output as
//! it was, and a good build leaves no stale file from the last one.
//!
//! Every write goes through [`Staging::write`], which takes a relative path and refuses any
//! that could leave the staging folder: `..`, absolute paths, drive prefixes, backslashes.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::Diagnostic;

/// Checks a path relative to the output folder: plain segments only.
pub fn checked_relative(rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() {
        return Err("is empty".into());
    }
    if rel.contains('\\') {
        return Err("contains a backslash".into());
    }
    if rel.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    let path = Path::new(rel);
    let mut out = PathBuf::new();
    let segments = rel.split('/').count();
    for (i, c) in rel.split('/').enumerate() {
        let last = i + 1 == segments;
        match c {
            "" if last && i > 0 => {}
            "" => return Err("has an empty path segment".into()),
            "." | ".." => return Err(format!("has a `{c}` path segment")),
            _ => out.push(c),
        }
    }
    if out.components().any(|c| !matches!(c, Component::Normal(_))) || path.is_absolute() {
        return Err("is not a plain relative path".into());
    }
    Ok(out)
}

/// The folder a build writes into before it replaces the output folder.
#[derive(Debug)]
pub struct Staging {
    dir: PathBuf,
    output: PathBuf,
    committed: bool,
}

const STAGING_MARK: &str = ".sitrep-staging-";

impl Staging {
    /// Creates an empty staging folder beside `output`, removing ones left by killed builds.
    pub fn create(output: &Path) -> Result<Staging, Diagnostic> {
        let name = output
            .file_name()
            .ok_or_else(|| {
                Diagnostic::error(output, "the output folder has no name")
                    .with_help("pass a folder such as --output public")
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if output.exists() && !output.is_dir() {
            return Err(
                Diagnostic::error(output, "the output path exists and is not a folder")
                    .with_help("remove the file or choose another --output"),
            );
        }
        if let Some(file) = parent.ancestors().find(|a| a.is_file()) {
            return Err(Diagnostic::error(
                file,
                "this is a file, so the output folder cannot be made inside it",
            )
            .with_help("choose another --output"));
        }
        fs::create_dir_all(&parent).map_err(|e| Diagnostic::io(&parent, "create", &e))?;
        let prefix = format!(".{name}{STAGING_MARK}");
        if let Ok(entries) = fs::read_dir(&parent) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = parent.join(format!("{prefix}{}", std::process::id()));
        fs::create_dir(&dir).map_err(|e| {
            Diagnostic::io(&dir, "create", &e).with_help(format!(
                "sitrep needs to write in {} to build there",
                parent.display()
            ))
        })?;
        Ok(Staging {
            dir,
            output: output.to_path_buf(),
            committed: false,
        })
    }

    /// The staging folder (for tests and for copying trees).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `bytes` at `rel` (a checked relative path) inside the staging folder.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
        let path = self.target(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Diagnostic::io(&self.shown(rel), "create the folder of", &e))?;
        }
        let mut f =
            fs::File::create(&path).map_err(|e| Diagnostic::io(&self.shown(rel), "write", &e))?;
        f.write_all(bytes)
            .map_err(|e| Diagnostic::io(&self.shown(rel), "write", &e))
    }

    /// Copies the file `source` to `rel`.
    pub fn copy(&self, source: &Path, rel: &Path) -> Result<(), Diagnostic> {
        let path = self.target(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Diagnostic::io(&self.shown(rel), "create the folder of", &e))?;
        }
        fs::copy(source, &path)
            .map(|_| ())
            .map_err(|e| Diagnostic::io(source, "copy", &e))
    }

    fn target(&self, rel: &Path) -> Result<PathBuf, Diagnostic> {
        let s = rel.to_string_lossy();
        let checked = checked_relative(&s).map_err(|why| {
            Diagnostic::error(
                rel,
                format!("refusing to write outside the output folder: the path {why}"),
            )
        })?;
        Ok(self.dir.join(checked))
    }

    fn shown(&self, rel: &Path) -> PathBuf {
        self.output.join(rel)
    }

    /// Replaces the output folder with the staging folder.
    pub fn commit(mut self) -> Result<(), Diagnostic> {
        let output = self.output.clone();
        if output.exists() {
            if exchange(&self.dir, &output).is_ok() {
                // The old output is now at the staging path.
                let _ = fs::remove_dir_all(&self.dir);
            } else {
                let old = self.dir.with_extension("old");
                fs::rename(&output, &old).map_err(|e| Diagnostic::io(&output, "replace", &e))?;
                if let Err(e) = fs::rename(&self.dir, &output) {
                    let _ = fs::rename(&old, &output);
                    return Err(Diagnostic::io(&output, "replace", &e));
                }
                let _ = fs::remove_dir_all(&old);
            }
        } else {
            fs::rename(&self.dir, &output).map_err(|e| Diagnostic::io(&output, "create", &e))?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_checked() {
        assert_eq!(
            checked_relative("a/b/index.html").unwrap(),
            PathBuf::from("a/b/index.html")
        );
        assert_eq!(checked_relative("a/b/").unwrap(), PathBuf::from("a/b"));
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a/\0",
            "C:\\x",
        ] {
            assert!(checked_relative(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn commit_swaps_and_cleans() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("stale.html"), "old").unwrap();
        let s = Staging::create(&out).unwrap();
        s.write(Path::new("index.html"), b"new").unwrap();
        assert!(s.write(Path::new("../escape.html"), b"x").is_err());
        s.commit().unwrap();
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "new");
        assert!(!out.join("stale.html").exists());
        assert!(!tmp.path().join("escape.html").exists());
        let leftovers: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn dropped_staging_leaves_output_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("index.html"), "old").unwrap();
        {
            let s = Staging::create(&out).unwrap();
            s.write(Path::new("index.html"), b"new").unwrap();
        }
        assert_eq!(fs::read_to_string(out.join("index.html")).unwrap(), "old");
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }
}

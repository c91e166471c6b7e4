//! Stage 5: writing files, atomically for the whole site.
//!
//! A build writes into a fresh staging folder beside the output folder; only when every
//! file is written is the staging folder swapped in (one atomic `renameat2(RENAME_EXCHANGE)`
//! on Linux, two renames elsewhere). A failed or killed build leaves the previous output as
//! it was, and a good build leaves no stale file from the last one.
//!
//! Every write goes through [`Staging::write`], which takes a relative path and refuses any
//! that could leave the staging folder: `..`, absolute paths, drive prefixes, backslashes.

pub mod cache;
pub mod precompress;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Diagnostic;
use crate::urls::checked_relative;

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

    /// Writes `bytes` at `rel` (a checked relative path) inside the staging folder; returns
    /// the new file's metadata.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<fs::Metadata, Diagnostic> {
        let path = self.target(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Diagnostic::io(&self.shown(rel), "create the folder of", &e))?;
        }
        let mut f =
            fs::File::create(&path).map_err(|e| Diagnostic::io(&self.shown(rel), "write", &e))?;
        f.write_all(bytes)
            .and_then(|()| f.metadata())
            .map_err(|e| Diagnostic::io(&self.shown(rel), "write", &e))
    }

    /// Copies the file `source` to `rel`; returns the copy's metadata.
    pub fn copy(&self, source: &Path, rel: &Path) -> Result<fs::Metadata, Diagnostic> {
        let path = self.target(rel)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Diagnostic::io(&self.shown(rel), "create the folder of", &e))?;
        }
        fs::copy(source, &path)
            .and_then(|_| fs::metadata(&path))
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
                remove_tree(&self.dir);
            } else {
                let old = self.dir.with_extension("old");
                fs::rename(&output, &old).map_err(|e| Diagnostic::io(&output, "replace", &e))?;
                if let Err(e) = fs::rename(&self.dir, &output) {
                    let _ = fs::rename(&old, &output);
                    return Err(Diagnostic::io(&output, "replace", &e));
                }
                remove_tree(&old);
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

/// Removes a folder tree, its top-level entries in parallel.
fn remove_tree(dir: &Path) {
    use rayon::prelude::*;
    if let Ok(entries) = fs::read_dir(dir) {
        let entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.par_iter().for_each(|p| {
            if p.is_dir() {
                let _ = fs::remove_dir_all(p);
            } else {
                let _ = fs::remove_file(p);
            }
        });
    }
    let _ = fs::remove_dir_all(dir);
}

/// An in-place update of the output folder: only changed files are written, first into a
/// scratch folder; [`Update::commit`] then moves them in, each with one atomic rename,
/// after recording the plan in a journal and keeping every replaced or deleted file in a
/// backup folder. A failure while moving rolls everything back at once; a build killed
/// while moving is rolled back by [`recover`] at the start of the next build. Either way
/// the output is left exactly as it was.
#[derive(Debug)]
pub struct Update {
    scratch: Staging,
    output: PathBuf,
}

impl Update {
    /// Prepares an update of the existing folder `output`.
    pub fn create(output: &Path) -> Result<Update, Diagnostic> {
        Ok(Update {
            scratch: Staging::create(output)?,
            output: output.to_path_buf(),
        })
    }

    /// Writes a changed file (into the scratch folder, for now).
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<fs::Metadata, Diagnostic> {
        self.scratch.write(rel, bytes)
    }

    /// Copies a changed file (into the scratch folder, for now).
    pub fn copy(&self, source: &Path, rel: &Path) -> Result<fs::Metadata, Diagnostic> {
        self.scratch.copy(source, rel)
    }

    /// Moves the `written` files into the output and removes the `deleted` ones.
    pub fn commit(self, written: &[PathBuf], deleted: &[PathBuf]) -> Result<(), Diagnostic> {
        let paths = UpdatePaths::of(&self.output);
        let mut journal = String::new();
        for w in written {
            journal.push_str(&format!("W {}\n", w.display()));
        }
        for d in deleted {
            journal.push_str(&format!("D {}\n", d.display()));
        }
        let _ = fs::remove_dir_all(&paths.backup);
        fs::write(&paths.journal, journal)
            .map_err(|e| Diagnostic::io(&paths.journal, "write", &e))?;
        let applied = (|| -> std::io::Result<()> {
            for w in written {
                let live = self.output.join(w);
                if live.exists() {
                    let backup = paths.backup.join(w);
                    fs::create_dir_all(backup.parent().unwrap_or(&paths.backup))?;
                    fs::hard_link(&live, &backup)?;
                } else if let Some(parent) = live.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::rename(self.scratch.dir().join(w), &live)?;
            }
            for d in deleted {
                let live = self.output.join(d);
                if live.exists() {
                    let backup = paths.backup.join(d);
                    fs::create_dir_all(backup.parent().unwrap_or(&paths.backup))?;
                    fs::rename(&live, &backup)?;
                    remove_empty_parents(&self.output, &live);
                }
            }
            Ok(())
        })();
        match applied {
            Ok(()) => {
                let _ = fs::remove_file(&paths.journal);
                let _ = fs::remove_dir_all(&paths.backup);
                Ok(())
            }
            Err(e) => {
                recover(&self.output)?;
                Err(Diagnostic::io(&self.output, "update", &e).with_help(
                    "the output folder was left as it was; fix the cause and build again",
                ))
            }
        }
    }
}

/// Where an update of `output` keeps its journal and backups.
struct UpdatePaths {
    journal: PathBuf,
    backup: PathBuf,
}

impl UpdatePaths {
    fn of(output: &Path) -> UpdatePaths {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        UpdatePaths {
            journal: parent.join(format!(".{name}.sitrep-journal")),
            backup: parent.join(format!(".{name}.sitrep-backup")),
        }
    }
}

/// Rolls back an update of `output` that did not finish (the build was killed or failed
/// while moving files in): restores every replaced or deleted file and removes new ones.
pub fn recover(output: &Path) -> Result<(), Diagnostic> {
    let paths = UpdatePaths::of(output);
    let Ok(journal) = fs::read_to_string(&paths.journal) else {
        let _ = fs::remove_dir_all(&paths.backup);
        return Ok(());
    };
    let restore = |rel: &Path| -> std::io::Result<()> {
        let live = output.join(rel);
        let backup = paths.backup.join(rel);
        if backup.exists() {
            if let Some(parent) = live.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(&backup, &live)
        } else {
            match fs::remove_file(&live) {
                Ok(()) => {
                    remove_empty_parents(output, &live);
                    Ok(())
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    for line in journal.lines() {
        let (op, rel) = line.split_at(2.min(line.len()));
        let rel = Path::new(rel);
        let result = match op {
            "W " => restore(rel),
            "D " => {
                let backup = paths.backup.join(rel);
                if backup.exists() {
                    restore(rel)
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        };
        result.map_err(|e| {
            Diagnostic::io(&output.join(rel), "restore", &e).with_help(format!(
                "an interrupted build left {} behind; restore the output from it by hand or delete the output and build again",
                paths.backup.display()
            ))
        })?;
    }
    let _ = fs::remove_file(&paths.journal);
    let _ = fs::remove_dir_all(&paths.backup);
    Ok(())
}

/// Removes the now-empty folders above a removed file, up to (not including) `root`.
fn remove_empty_parents(root: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
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
    fn update_replaces_adds_deletes_and_rolls_back() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        fs::create_dir_all(out.join("gone")).unwrap();
        fs::write(out.join("keep.html"), "keep").unwrap();
        fs::write(out.join("change.html"), "old").unwrap();
        fs::write(out.join("gone/index.html"), "gone").unwrap();
        let before = snapshot(&out);

        // A commit whose moves fail half-way is rolled back.
        let u = Update::create(&out).unwrap();
        u.write(Path::new("change.html"), b"new").unwrap();
        u.write(Path::new("new/index.html"), b"added").unwrap();
        let missing = PathBuf::from("never-written.html");
        let err = u
            .commit(
                &["change.html".into(), "new/index.html".into(), missing],
                &["gone/index.html".into()],
            )
            .unwrap_err();
        assert!(err.message.contains("update"), "{err}");
        assert_eq!(snapshot(&out), before);

        let u = Update::create(&out).unwrap();
        u.write(Path::new("change.html"), b"new").unwrap();
        u.write(Path::new("new/index.html"), b"added").unwrap();
        u.commit(
            &["change.html".into(), "new/index.html".into()],
            &["gone/index.html".into()],
        )
        .unwrap();
        assert_eq!(fs::read_to_string(out.join("change.html")).unwrap(), "new");
        assert_eq!(
            fs::read_to_string(out.join("new/index.html")).unwrap(),
            "added"
        );
        assert_eq!(fs::read_to_string(out.join("keep.html")).unwrap(), "keep");
        assert!(!out.join("gone").exists(), "empty folder left behind");
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "journal, backup or scratch left"
        );
    }

    #[test]
    fn recover_rolls_back_an_interrupted_update() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("public");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("a.html"), "old a").unwrap();
        fs::write(out.join("b.html"), "old b").unwrap();
        let before = snapshot(&out);
        // As if killed after moving a.html and a new file in, before deleting b.html.
        let paths = UpdatePaths::of(&out);
        fs::create_dir_all(&paths.backup).unwrap();
        fs::hard_link(out.join("a.html"), paths.backup.join("a.html")).unwrap();
        fs::write(out.join("a.html.tmp"), "new a").unwrap();
        fs::rename(out.join("a.html.tmp"), out.join("a.html")).unwrap();
        fs::create_dir_all(out.join("n")).unwrap();
        fs::write(out.join("n/index.html"), "new").unwrap();
        fs::write(&paths.journal, "W a.html\nW n/index.html\nD b.html\n").unwrap();
        recover(&out).unwrap();
        assert_eq!(snapshot(&out), before);
        assert!(!paths.journal.exists() && !paths.backup.exists());
    }

    fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(dir)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                (
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
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

//! Writing the planned outputs: cold into a fresh staging folder swapped in whole, warm
//! only the changed ones, moved in as one journaled update.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::Timings;
use crate::config;
use crate::error::{BuildError, Diagnostic};
use crate::output::cache::{self, Manifest};
use crate::output::{Staging, Update};
use crate::render::{Job, JobKind, Renderer};

/// Renders `changed` beside the output folder and moves them in, deleting `deleted`, as
/// one journaled update. Returns the new states of the written files.
pub(super) fn update_in_place(
    renderer: &Renderer<'_>,
    changed: &[&Job],
    output: &Path,
    deleted: &[PathBuf],
) -> Result<Vec<(PathBuf, cache::FileState)>, Diagnostic> {
    let update = Update::create(output)?;
    let states = execute(
        renderer,
        changed,
        |rel, bytes| update.write(rel, bytes),
        |src, rel| update.copy(src, rel),
    )?;
    let written: Vec<PathBuf> = changed.iter().map(|j| j.path.clone()).collect();
    update.commit(&written, deleted)?;
    Ok(states)
}

/// Writes the outputs: only the changed ones when `old` describes the output folder as it
/// is and few changed, else all of them into a fresh folder. Returns the new manifest and
/// how many files were written.
pub(super) fn write_outputs(
    renderer: &Renderer<'_>,
    jobs: &[Job],
    output: &Path,
    old: Option<Manifest>,
    verify: bool,
    timings: &mut Timings,
) -> Result<(Manifest, usize), Diagnostic> {
    if let Some(old) = old {
        let changed: Vec<&Job> = jobs
            .par_iter()
            .filter(|j| match old.files.get(&j.path) {
                Some(state) if state.fingerprint == j.fingerprint => {
                    verify && !on_disk_as_recorded(&output.join(&j.path), state)
                }
                _ => true,
            })
            .collect();
        let planned: HashSet<&Path> = jobs.iter().map(|j| j.path.as_path()).collect();
        let mut deleted: Vec<PathBuf> = old
            .files
            .keys()
            .filter(|p| !planned.contains(p.as_path()))
            .cloned()
            .collect();
        deleted.sort();
        timings.lap("compare with the last build");
        // Past a third of the site, a fresh folder is as fast and simpler.
        if changed.len() * 3 <= jobs.len() {
            let states = update_in_place(renderer, &changed, output, &deleted)?;
            timings.lap("render changed outputs and move them in");
            let mut files = old.files;
            for d in &deleted {
                files.remove(d);
            }
            files.extend(states);
            return Ok((manifest_for(output, files), changed.len()));
        }
    }
    let staging = Staging::create(output)?;
    let all: Vec<&Job> = jobs.iter().collect();
    let states = execute(
        renderer,
        &all,
        |rel, bytes| staging.write(rel, bytes),
        |src, rel| staging.copy(src, rel),
    )?;
    timings.lap("render every output");
    staging.commit()?;
    timings.lap("swap in the new output");
    Ok((
        manifest_for(output, states.into_iter().collect()),
        jobs.len(),
    ))
}

pub(super) fn manifest_for(
    output: &Path,
    files: std::collections::HashMap<PathBuf, cache::FileState>,
) -> Manifest {
    let (device, inode) = cache::dir_identity(output).unwrap_or_default();
    Manifest {
        output: std::fs::canonicalize(output).unwrap_or_else(|_| output.to_path_buf()),
        device,
        inode,
        files,
    }
}

/// Whether the file on disk is still the one the manifest recorded.
pub(super) fn on_disk_as_recorded(path: &Path, state: &cache::FileState) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_file() && cache::file_state(&m, state.fingerprint) == *state)
}

/// Renders (or copies) `jobs` in parallel through `write` and `copy`; returns each file's
/// recorded state.
pub(super) fn execute(
    renderer: &Renderer<'_>,
    jobs: &[&Job],
    write: impl Fn(&Path, &[u8]) -> Result<std::fs::Metadata, Diagnostic> + Sync,
    copy: impl Fn(&Path, &Path) -> Result<std::fs::Metadata, Diagnostic> + Sync,
) -> Result<Vec<(PathBuf, cache::FileState)>, Diagnostic> {
    jobs.par_iter()
        .map_init(
            || Vec::with_capacity(64 * 1024),
            |buf, job| {
                let meta = match &job.kind {
                    JobKind::Copy(src) => copy(src, &job.path)?,
                    kind => {
                        renderer.render(kind, buf)?;
                        write(&job.path, buf)?
                    }
                };
                Ok((job.path.clone(), cache::file_state(&meta, job.fingerprint)))
            },
        )
        .collect()
}

/// Refuses output folders that would swallow the site itself.
pub(super) fn check_output_dir(root: &Path, output: &Path) -> Result<(), BuildError> {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Canonicalize the longest existing ancestor, keep the rest as written.
        let mut existing = p.clone();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.file_name(), existing.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name.to_os_string());
                    existing = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut out = existing.canonicalize().unwrap_or(existing);
        for r in rest.into_iter().rev() {
            out.push(r);
        }
        out
    };
    let root_abs = abs(root);
    let out_abs = abs(output);
    let bad = |why: &str| {
        Err(BuildError::from(
            Diagnostic::error(output, format!("refusing to build into this folder: {why}"))
                .with_help("choose an output folder of its own, such as --output public"),
        ))
    };
    if out_abs
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return bad("it is not a plain path");
    }
    if root_abs.starts_with(&out_abs) {
        return bad("it contains the site itself, which the build would replace");
    }
    for protected in ["content", "static", "templates", "themes"] {
        if out_abs.starts_with(root_abs.join(protected)) {
            return bad(&format!("it is inside the site's {protected}/ folder"));
        }
    }
    if out_abs == root_abs.join(config::CONFIG_FILE) {
        return bad("it is the site's configuration");
    }
    Ok(())
}

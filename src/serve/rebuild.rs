//! Every build `sitrep serve` does goes through [`Rebuilder::rebuild`].
//!
//! It is incremental: a [`crate::build::Session`] keeps the pages, the output manifest and
//! the highlighter in memory, re-reads only the files the watcher reported, and re-renders
//! only outputs whose inputs changed, writing exactly what a full build would. It is always
//! called while the server holds its write lock, so no request reads the output folder
//! while files are moved in.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::build::{BuildOptions, Session};
use crate::error::{BuildError, Diagnostic};

/// What a successful rebuild did.
#[derive(Debug)]
pub struct RebuildReport {
    /// Wall time of the rebuild.
    pub elapsed: Duration,
    /// One line for the terminal (`built 3 posts, 1 page: 40 files ...`).
    pub summary: String,
    pub warnings: Vec<Diagnostic>,
}

/// Builds the site for `serve`, keeping what can be kept between builds.
pub struct Rebuilder {
    session: Session,
}

impl Rebuilder {
    /// `opts.output` must be set: serve never builds into the site's own public/.
    pub fn new(opts: BuildOptions) -> Self {
        Rebuilder {
            session: Session::new(opts),
        }
    }

    /// The folder the site is built into and served from.
    pub fn output(&self) -> PathBuf {
        self.session.options().output_dir()
    }

    /// The site's folder.
    pub fn root(&self) -> &Path {
        &self.session.options().root
    }

    /// Brings the output folder up to date with the site's files.
    ///
    /// `changed` lists the files created, modified or removed since the last call, relative
    /// to the site root as in [`crate::content::Page::file`] (`content/posts/x.md`,
    /// `site.toml`, `themes/default/templates/post.html`); it is empty for the first build.
    /// On error the output folder is left as it was.
    pub fn rebuild(&mut self, changed: &[PathBuf]) -> Result<RebuildReport, BuildError> {
        let start = Instant::now();
        let report = self.session.build(changed)?;
        Ok(RebuildReport {
            elapsed: start.elapsed(),
            summary: report.summary(),
            warnings: report.warnings,
        })
    }
}

//! Every build `sitrep serve` does goes through [`Rebuilder::rebuild`].
//!
//! Today it runs a full [`crate::build::build`] into the serve folder (atomic: the new
//! output is swapped in whole). It is the one place to make incremental: it is told which
//! files changed, and it is always called while the server holds its write lock, so no
//! request reads the output folder while `rebuild` runs — an incremental version may
//! rewrite files in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::build::{self, BuildOptions};
use crate::error::{BuildError, Diagnostic};
use crate::highlight::Highlighter;

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
    opts: BuildOptions,
    /// Kept across builds: its syntax set is loaded once.
    highlighter: Highlighter,
}

impl Rebuilder {
    /// `opts.output` must be set: serve never builds into the site's own public/.
    pub fn new(opts: BuildOptions) -> Self {
        Rebuilder {
            opts,
            highlighter: Highlighter::new(),
        }
    }

    /// The folder the site is built into and served from.
    pub fn output(&self) -> PathBuf {
        self.opts.output_dir()
    }

    /// The site's folder.
    pub fn root(&self) -> &Path {
        &self.opts.root
    }

    /// Brings the output folder up to date with the site's files.
    ///
    /// `changed` lists the files created, modified or removed since the last call, relative
    /// to the site root as in [`crate::content::Page::file`] (`content/posts/x.md`,
    /// `site.toml`, `themes/default/templates/post.html`); it is empty for the first build.
    /// On error the output folder is left as it was.
    pub fn rebuild(&mut self, changed: &[PathBuf]) -> Result<RebuildReport, BuildError> {
        let _ = changed; // a full build does not need them
        let start = Instant::now();
        let report = build::build(&self.opts, &self.highlighter)?;
        Ok(RebuildReport {
            elapsed: start.elapsed(),
            summary: report.summary(),
            warnings: report.warnings,
        })
    }
}

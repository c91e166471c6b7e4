//! Page bodies (rendered, highlighted Markdown): kept in memory, or in the build cache's
//! HTML file and read back only when a page is rendered again.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::Diagnostic;
use crate::support::fingerprint::{self, Fingerprint};

/// A page's rendered body. Cheap to clone (shared). A body from the build cache is read
/// from the cache's HTML file the first time it is asked for, so a warm build that renders
/// few pages reads few bodies.
#[derive(Debug, Clone, Default)]
pub struct Html(Arc<HtmlInner>);

#[derive(Debug, Default)]
enum HtmlInner {
    #[default]
    Empty,
    Loaded(String),
    Stored {
        store: Arc<HtmlStore>,
        loc: HtmlLoc,
        loaded: OnceLock<Result<String, String>>,
    },
}

impl Html {
    pub fn new(mut html: String) -> Html {
        // Rendering grows the string by doubling; a kept body should not keep the slack.
        html.shrink_to_fit();
        Html(Arc::new(HtmlInner::Loaded(html)))
    }

    /// A body kept in the cache's HTML file.
    pub fn stored(store: Arc<HtmlStore>, loc: HtmlLoc) -> Html {
        Html(Arc::new(HtmlInner::Stored {
            store,
            loc,
            loaded: OnceLock::new(),
        }))
    }

    /// The HTML; fails only when a cached body cannot be read back (a damaged cache).
    pub fn get(&self) -> Result<&str, Diagnostic> {
        match &*self.0 {
            HtmlInner::Empty => Ok(""),
            HtmlInner::Loaded(s) => Ok(s),
            HtmlInner::Stored { store, loc, loaded } => loaded
                .get_or_init(|| store.read(*loc))
                .as_deref()
                .map_err(|why| {
                    Diagnostic::error(store.path(), format!("the build cache is damaged: {why}"))
                        .with_help("build once with --no-cache (or delete .sitrep-cache/)")
                }),
        }
    }

    /// The body's length in bytes, without reading a stored body.
    pub fn len(&self) -> usize {
        match &*self.0 {
            HtmlInner::Empty => 0,
            HtmlInner::Loaded(s) => s.len(),
            HtmlInner::Stored { loc, .. } => usize::try_from(loc.len).unwrap_or(usize::MAX),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the body is in `store`, when it is already there.
    pub fn location_in(&self, store: &Arc<HtmlStore>) -> Option<HtmlLoc> {
        match &*self.0 {
            HtmlInner::Stored { store: s, loc, .. } if Arc::ptr_eq(s, store) => Some(*loc),
            _ => None,
        }
    }
}

/// Where a page's body is in the HTML file, and its fingerprint to check it on reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HtmlLoc {
    pub offset: u64,
    pub len: u64,
    pub hash: Fingerprint,
}

/// The cache's HTML file: page bodies, read back one by one.
#[derive(Debug)]
pub struct HtmlStore {
    path: PathBuf,
    file: std::fs::File,
    generation: u64,
}

impl HtmlStore {
    /// Opens an HTML file of the cache; `generation` numbers its successive versions.
    pub fn open(path: PathBuf, generation: u64) -> std::io::Result<HtmlStore> {
        let file = std::fs::File::open(&path)?;
        Ok(HtmlStore {
            path,
            file,
            generation,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The file's length in bytes.
    pub fn len(&self) -> std::io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    pub fn is_empty(&self) -> std::io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Reads one body back, checking it against its fingerprint.
    pub fn read(&self, loc: HtmlLoc) -> Result<String, String> {
        use std::os::unix::fs::FileExt;
        let len = usize::try_from(loc.len).map_err(|_| "a body is too large".to_string())?;
        let mut buf = vec![0; len];
        self.file
            .read_exact_at(&mut buf, loc.offset)
            .map_err(|e| format!("cannot read {}: {e}", self.path.display()))?;
        if fingerprint::of_bytes(&buf) != loc.hash {
            return Err(format!(
                "{} does not hold what content.bin says",
                self.path.display()
            ));
        }
        String::from_utf8(buf)
            .map_err(|_| format!("{} holds text that is not UTF-8", self.path.display()))
    }
}

//! Watching the site's sources: `content/`, `templates/`, `themes/`, `static/` and
//! `site.toml`, with `notify` and a short debounce: changes are collected until the files
//! have been quiet for [`DEBOUNCE`], so one save (which editors often do as write + rename +
//! chmod) is one rebuild. Reads (the build's own) are not changes.
//!
//! The root is watched on its own (not recursively) so that `site.toml` and a source folder
//! created or replaced later are seen too; the output folders (`public/`, `target/` …) are
//! never watched. Editor litter (`.swp`, `#x#`, `x~`, anything starting with `.`) is ignored,
//! as the build ignores it.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::config::CONFIG_FILE;
use crate::error::Diagnostic;

/// The folders of a site that are sources.
pub const SOURCE_DIRS: [&str; 4] = ["content", "templates", "themes", "static"];

/// How long a file must be quiet before its change is reported.
pub const DEBOUNCE: Duration = Duration::from_millis(30);
/// The longest a change waits for the files to go quiet.
const MAX_WAIT: Duration = Duration::from_millis(500);

/// Watches one site.
pub struct SiteWatcher {
    root: PathBuf,
    watcher: RecommendedWatcher,
    events: Receiver<notify::Result<Event>>,
    /// Source folders currently watched (recursively).
    watched: BTreeSet<&'static str>,
}

impl SiteWatcher {
    /// Starts watching the site at `root`.
    pub fn new(root: &Path) -> Result<SiteWatcher, Diagnostic> {
        let root = root
            .canonicalize()
            .map_err(|e| Diagnostic::io(root, "watch", &e))?;
        let (tx, events) = channel();
        let mut watcher = notify::recommended_watcher(tx).map_err(|e| watch_error(&root, &e))?;
        watcher
            .watch(&root, RecursiveMode::NonRecursive)
            .map_err(|e| watch_error(&root, &e))?;
        let mut w = SiteWatcher {
            root,
            watcher,
            events,
            watched: BTreeSet::new(),
        };
        for dir in SOURCE_DIRS {
            w.rewatch(dir)?;
        }
        Ok(w)
    }

    /// (Re)starts the recursive watch of a source folder, if it exists.
    fn rewatch(&mut self, dir: &'static str) -> Result<(), Diagnostic> {
        let path = self.root.join(dir);
        if self.watched.remove(dir) {
            let _ = self.watcher.unwatch(&path);
        }
        if path.is_dir() {
            self.watcher
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| watch_error(&path, &e))?;
            self.watched.insert(dir);
        }
        Ok(())
    }

    /// Blocks until source files change; returns them relative to the root, sorted, once
    /// they have been quiet for [`DEBOUNCE`], with warnings about watching to print (the
    /// list of files may then be empty). `Err` when the watcher stopped.
    pub fn next_changes(&mut self) -> Result<(Vec<PathBuf>, Vec<Diagnostic>), Diagnostic> {
        let mut changed = BTreeSet::new();
        let mut problems = Vec::new();
        let mut first_change: Option<Instant> = None;
        loop {
            let next = match first_change {
                None if problems.is_empty() => self
                    .events
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                // Files that never go quiet still get a rebuild now and then.
                Some(t) if t.elapsed() > MAX_WAIT => break,
                _ => self.events.recv_timeout(DEBOUNCE),
            };
            match next {
                Ok(Ok(event)) => {
                    let before = changed.len();
                    if is_change(&event.kind) {
                        changed.extend(event.paths.iter().filter_map(|p| relevant(&self.root, p)));
                    }
                    if changed.len() > before && first_change.is_none() {
                        first_change = Some(Instant::now());
                    }
                }
                Ok(Err(e)) => problems.push(watch_error(&self.root, &e)),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Diagnostic::error(&self.root, "the file watcher stopped")
                        .with_help("restart `sitrep serve`"));
                }
            }
        }
        for dir in SOURCE_DIRS {
            if changed.contains(Path::new(dir)) {
                // The folder itself was created, removed or replaced.
                if let Err(d) = self.rewatch(dir) {
                    problems.push(d);
                }
            }
        }
        Ok((changed.into_iter().collect(), problems))
    }
}

/// Whether an event is a change to a file (not a read).
fn is_change(kind: &EventKind) -> bool {
    !matches!(kind, EventKind::Access(_))
}

fn watch_error(path: &Path, e: &notify::Error) -> Diagnostic {
    Diagnostic::warning(path, format!("could not watch for changes: {e}")).with_help(
        "changes may not be seen; on Linux, raise fs.inotify.max_user_watches, then restart `sitrep serve`",
    )
}

/// A changed path relative to the root, if it is a source of the site.
pub fn relevant(root: &Path, path: &Path) -> Option<PathBuf> {
    let rel = path.strip_prefix(root).ok()?;
    let mut parts = rel.components();
    let first = match parts.next()? {
        Component::Normal(c) => c.to_str()?,
        _ => return None,
    };
    if first == CONFIG_FILE && parts.next().is_none() {
        return Some(rel.to_path_buf());
    }
    if !SOURCE_DIRS.contains(&first) {
        return None;
    }
    let litter = rel.components().any(|c| {
        let name = c.as_os_str().to_string_lossy();
        name.starts_with('.') || name.starts_with('#') || name.ends_with('~')
    });
    (!litter).then(|| rel.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_are_relevant() {
        let root = Path::new("/site");
        let r = |p: &str| relevant(root, Path::new(p)).map(|p| p.display().to_string());
        assert_eq!(
            r("/site/content/posts/a.md").as_deref(),
            Some("content/posts/a.md")
        );
        assert_eq!(r("/site/site.toml").as_deref(), Some("site.toml"));
        assert_eq!(r("/site/static").as_deref(), Some("static"));
        assert_eq!(
            r("/site/themes/default/templates/post.html").as_deref(),
            Some("themes/default/templates/post.html")
        );
        for ignored in [
            "/site/public/index.html",
            "/site/target/debug/x",
            "/site/README.md",
            "/site/content/posts/.a.md.swp",
            "/site/content/posts/a.md~",
            "/site/content/.git/x",
            "/site/content/#a.md#",
            "/other/content/a.md",
            "/site/site.toml/x",
        ] {
            assert_eq!(r(ignored), None, "{ignored}");
        }
    }
}

//! `serve`'s builds: the first one full, each later one incremental in memory, and for
//! edits that touch only a post's own page or its summary, a fast path that plans and
//! renders only the pages showing it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::write::{precompression, update_in_place};
use super::{BuildOptions, BuildReport, Loaded, Timings, build_keeping};
use crate::content::highlight::Highlighter;
use crate::content::{self, Page};
use crate::error::{BuildError, Diagnostic};
use crate::output::cache::{MemoryStore, Store};
use crate::render::search::index::Index;
use crate::render::{Job, Renderer};

/// Successive builds of one site in one process (`serve`): pages, the output manifest and
/// the highlighter stay in memory, and files the caller says did not change are not read
/// again. Each build writes exactly what a cold build would.
///
/// When only the bodies of existing posts or pages changed (what a post shows anywhere but
/// on its own page is the same: [`Page::same_outside_own_page`]), or what a post's summary
/// shows changed but not its place in the site ([`Page::same_place`]), the site is not
/// indexed and planned again: only the pages that show those posts (and the feeds, if they
/// list them) are planned and rendered, and that is all a full build would change.
pub struct Session {
    opts: BuildOptions,
    highlighter: Highlighter,
    store: MemoryStore,
    /// The site as the last successful build left it.
    last: Option<Loaded>,
}

impl Session {
    pub fn new(opts: BuildOptions) -> Session {
        Session {
            opts,
            highlighter: Highlighter::new(),
            store: MemoryStore::default(),
            last: None,
        }
    }

    pub fn options(&self) -> &BuildOptions {
        &self.opts
    }

    /// Builds. `changed` lists the files changed since the last build (relative to the site
    /// root); when it is empty, nothing is assumed and every source file is read.
    pub fn build(&mut self, changed: &[PathBuf]) -> Result<BuildReport, BuildError> {
        let start = Instant::now();
        // When the fast path fails, the full build below finds and reports the same error.
        if let Ok(Some(report)) = self.small_edits(changed, start) {
            return Ok(report);
        }
        self.last = None;
        let changed = (!changed.is_empty()).then(|| changed.iter().cloned().collect());
        self.store.set_changed(changed);
        let (report, loaded) = build_keeping(&self.opts, &self.highlighter, &mut self.store)?;
        self.last = Some(loaded);
        Ok(report)
    }

    /// The fast path: `Ok(None)` when it does not apply. Every changed file must be an
    /// existing post or page whose new version differs only on its own page, or (for a post)
    /// in its summary but not its place in the site.
    fn small_edits(
        &mut self,
        changed: &[PathBuf],
        start: Instant,
    ) -> Result<Option<BuildReport>, Diagnostic> {
        let Some(last) = self.last.as_mut() else {
            return Ok(None);
        };
        if changed.is_empty() {
            return Ok(None);
        }
        let mut timings = Timings::default();
        // Until the manifest is taken below, giving up (`Ok(None)`) leaves nothing to undo:
        // the full build that follows reads the replaced pages again anyway.
        let Some(edits) = reparse_small_edits(last, changed, &self.opts, &self.highlighter) else {
            return Ok(None);
        };
        timings.lap("parse the changed files");
        let in_feeds = apply_small_edits(last, &edits, &mut self.store);
        if !edits.summaries.is_empty() {
            // Related links name posts by their (possibly new) titles.
            match last.site.resolve_related(&last.urls) {
                Ok(related) => last.site.related = related,
                Err(_) => return Ok(None),
            }
        }
        // Related coverage follows the features of posts (titles, TLDRs, terms, the ATT&CK
        // ids of bodies): when one changed, the posts whose list changed are rendered again.
        let features_changed = edits.replaced.iter().any(|r| {
            matches!(r.place, Place::Post(_))
                && !crate::index::related::same_features(&r.old, &r.new)
        });
        let mut related_changed = Vec::new();
        if features_changed {
            let fresh = crate::index::auto_related(
                &last.site.posts,
                &last.site.related,
                last.config.related_posts,
            );
            related_changed = (0..fresh.len())
                .filter(|&j| fresh[j] != last.site.related_posts[j])
                .collect::<Vec<_>>();
            last.site.related_posts = fresh;
        }
        // The search index covers every post's text: the edited posts are put in place in
        // the kept index, and every file of it planned again (only changed ones are
        // written); the files it no longer has are removed (shards are named by their
        // first term).
        let posts_changed = edits
            .replaced
            .iter()
            .any(|r| matches!(r.place, Place::Post(_)));
        let search_changed = posts_changed && last.config.search;
        if search_changed {
            update_search(last, &edits);
        }
        timings.lap("related coverage and search index");
        let renderer = last.renderer();
        let Some(mut jobs) = plan_small_edits(&renderer, &edits, in_feeds)? else {
            return Ok(None);
        };
        jobs.extend(related_changed.iter().map(|&j| renderer.plan_post(j)));
        let mut search_files: Option<HashSet<PathBuf>> = None;
        if search_changed {
            let search = renderer.plan_search();
            search_files = Some(search.iter().map(|j| j.path.clone()).collect());
            jobs.extend(search);
        }
        let mut seen = HashSet::new();
        jobs.retain(|j| seen.insert(j.path.clone()));
        timings.lap("plan the changed outputs");
        let pre = precompression(&last.config, &mut jobs);
        let output = self.opts.output_dir();
        let Some(mut manifest) = self.store.load_manifest(&output) else {
            return Ok(None);
        };
        let changed_jobs: Vec<&Job> = jobs
            .iter()
            .filter(|j| {
                manifest
                    .files
                    .get(&j.path)
                    .is_none_or(|s| s.fingerprint != j.fingerprint)
            })
            .collect();
        let mut deleted: Vec<PathBuf> = match &search_files {
            Some(now) => manifest
                .files
                .keys()
                .filter(|p| p.starts_with(crate::render::search::index::DIR) && !now.contains(*p))
                // A compressed copy goes with its file (update_in_place drops stale ones).
                .filter(|p| {
                    !crate::output::precompress::companion_of(p).is_some_and(|f| now.contains(&f))
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        deleted.sort();
        let (states, deleted) =
            update_in_place(&renderer, &changed_jobs, pre, &output, &manifest, deleted)?;
        timings.lap("render and move in the changed outputs");
        for d in &deleted {
            manifest.files.remove(d);
        }
        let files = manifest.files.len();
        manifest.files.extend(states);
        self.store.save_manifest(manifest);
        let mut report = last.report(output, files, changed_jobs.len(), start, timings);
        // Nothing of the images was made again on this path.
        report.images_decoded = 0;
        report.cards_drawn = 0;
        Ok(Some(report))
    }
}

/// Changed files parsed again for the fast path.
struct SmallEdits {
    /// Each changed page.
    replaced: Vec<Replaced>,
    /// Posts whose summary (title, TLDR...) changed, though not their place in the site.
    summaries: Vec<usize>,
}

/// A changed page: where it is, its old and new versions, the new one's warnings.
struct Replaced {
    place: Place,
    old: Arc<Page>,
    new: Arc<Page>,
    warnings: Vec<Diagnostic>,
}

/// Puts the edited posts in place in the kept search index, or builds it again when that
/// cannot be done in place.
fn update_search(last: &mut Loaded, edits: &SmallEdits) {
    let Loaded {
        site, urls, search, ..
    } = last;
    let in_place = search.as_mut().is_some_and(|index| {
        edits.replaced.iter().all(|r| match r.place {
            Place::Post(i) => index.update(&site.posts, i, &r.old, urls),
            Place::Page(_) => true,
        })
    });
    if !in_place {
        *search = Some(Index::build(&site.posts, urls, true));
    }
}

/// Parses the changed files again; `None` unless each is a post or page of the last build
/// whose new version keeps its place in the site.
fn reparse_small_edits(
    last: &Loaded,
    changed: &[PathBuf],
    opts: &BuildOptions,
    hl: &Highlighter,
) -> Option<SmallEdits> {
    let mut edits = SmallEdits {
        replaced: Vec::new(),
        summaries: Vec::new(),
    };
    for file in changed {
        let place = (last.site.posts.iter().position(|p| &p.file == file))
            .map(Place::Post)
            .or_else(|| (last.site.pages.iter().position(|p| &p.file == file)).map(Place::Page))?;
        let old = match place {
            Place::Post(i) => Arc::clone(&last.site.posts[i]),
            Place::Page(j) => Arc::clone(&last.site.pages[j]),
        };
        let parsed = content::parse_one(
            &opts.root,
            file,
            &last.config,
            hl,
            opts.drafts,
            &last.urls.cve_prefix(),
            last.shortcodes.clone(),
        );
        // Images and social cards are prepared for the whole site: a page that shows any,
        // or may now, takes the full path.
        let images_involved = |p: &Page| {
            p.links.iter().any(|l| l.is_image) || p.image.is_some() || last.images.of(p).is_some()
        };
        if images_involved(&old) || matches!(&parsed, Ok((Some(p), _)) if images_involved(p)) {
            return None;
        }
        match (parsed, place) {
            (Ok((Some(new), warnings)), _) if new.same_outside_own_page(&old) => {
                edits.replaced.push(Replaced {
                    place,
                    old,
                    new,
                    warnings,
                })
            }
            (Ok((Some(new), warnings)), Place::Post(i)) if new.same_place(&old) => {
                edits.summaries.push(i);
                edits.replaced.push(Replaced {
                    place,
                    old,
                    new,
                    warnings,
                })
            }
            _ => return None,
        }
    }
    Some(edits)
}

/// Puts the new pages and their warnings in place of the old ones, in the site and the
/// store. Returns whether any of them is in the feeds.
fn apply_small_edits(last: &mut Loaded, edits: &SmallEdits, store: &mut MemoryStore) -> bool {
    let mut in_feeds = false;
    for Replaced {
        place,
        new: page,
        warnings,
        ..
    } in &edits.replaced
    {
        match *place {
            Place::Post(i) => {
                in_feeds |= i < last.config.feed_limit;
                last.site.posts[i] = Arc::clone(page);
            }
            Place::Page(j) => last.site.pages[j] = Arc::clone(page),
        }
        last.warnings
            .retain(|w| w.file() != Some(page.file.as_path()));
        last.warnings.extend(warnings.iter().cloned());
        store.replace_page(Arc::clone(page), warnings);
    }
    in_feeds
}

/// The outputs the edits touch, each once; `None` when one of them is in the "Latest from
/// Blog" sidebar of nearly every page (the full path is as quick).
fn plan_small_edits(
    renderer: &Renderer<'_>,
    edits: &SmallEdits,
    in_feeds: bool,
) -> Result<Option<Vec<Job>>, Diagnostic> {
    let mut jobs: Vec<Job> = edits
        .replaced
        .iter()
        .map(|r| match r.place {
            Place::Post(i) => renderer.plan_post(i),
            Place::Page(j) => renderer.plan_page(j),
        })
        .collect();
    for &i in &edits.summaries {
        match renderer.plan_showing_summary(i) {
            Some(more) => jobs.extend(more),
            None => return Ok(None),
        }
    }
    if in_feeds {
        jobs.extend(renderer.plan_feeds()?);
    }
    let mut seen = HashSet::new();
    jobs.retain(|j| seen.insert(j.path.clone()));
    Ok(Some(jobs))
}

/// Where a page is in the site: posts or standalone pages.
#[derive(Clone, Copy)]
enum Place {
    Post(usize),
    Page(usize),
}

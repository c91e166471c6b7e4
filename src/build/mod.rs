//! The build, as one flow:
//!
//! ```text
//! config::Config::load      site.toml
//!   -> content::load        walk content/, parse front matter, render Markdown (parallel;
//!                           pages whose source did not change come from the cache)
//!   -> index::index         sort, taxonomies, related, every route checked for clashes
//!   -> theme::load + templates::Templates::new
//!   -> render::Renderer     plan every output with a fingerprint of its inputs
//!   -> write_outputs        cold: render everything into output::Staging, swap it in;
//!                           warm: render only changed outputs, output::Update moves them in
//! ```
//!
//! [`load`] runs everything up to rendering and is shared by `build` and `check`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::collections::HashSet;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{self, Config};
use crate::content::highlight::Highlighter;
use crate::content::{self, Page};
use crate::error::{BuildError, Diagnostic, Diagnostics};
use crate::index::{self, Site};
use crate::output::cache::{self, Cache, Manifest, MemoryStore, NoStore, Store};
use crate::output::{self, Staging, Update};
use crate::render::templates::Templates;
use crate::render::theme::{self, ThemeFiles};
use crate::render::{self, Job, JobKind, Renderer};
use crate::urls::Urls;

/// What to build and how.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The folder with site.toml.
    pub root: PathBuf,
    /// Where to write; `root/public` by default.
    pub output: Option<PathBuf>,
    /// Include posts with `draft: true`.
    pub drafts: bool,
    /// Replaces site.toml's `base_url` (serve uses it for the local address).
    pub base_url: Option<String>,
    /// Neither read nor write the build cache: a cold build.
    pub no_cache: bool,
}

impl BuildOptions {
    /// The output folder this build writes.
    pub fn output_dir(&self) -> PathBuf {
        match &self.output {
            Some(o) => o.clone(),
            None if self.root == Path::new(".") => PathBuf::from("public"),
            None => self.root.join("public"),
        }
    }
}

/// How long each stage took (`sitrep build --timings`).
#[derive(Debug, Clone)]
pub struct Timings {
    last: Instant,
    /// Each stage's name, duration and the process's resident memory after it (MiB, 0
    /// where unknown).
    pub laps: Vec<(&'static str, Duration, u64)>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            last: Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Timings {
    /// Records the time since the previous lap under `name`.
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last, resident_mib()));
        self.last = now;
    }

    /// One line per stage.
    pub fn report(&self) -> String {
        self.laps
            .iter()
            .map(|(n, d, rss)| format!("{:>10.1} ms {rss:>6} MiB  {n}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The process's resident memory in MiB (Linux), or 0.
fn resident_mib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1024 * 1024))
}

/// A loaded, checked site, ready to render.
pub struct Loaded {
    pub config: Config,
    pub urls: Urls,
    pub site: Site,
    pub theme: ThemeFiles,
    pub templates: Templates,
    /// The global `site` template variable.
    pub site_value: tera::Value,
    /// The stylesheet of the code highlighting theme (none when code is not highlighted).
    pub syntax_css: Option<String>,
    pub warnings: Vec<Diagnostic>,
    pub timings: Timings,
    /// Threat intelligence on what the site mentions, from its data files.
    pub intel: Arc<crate::intel::Intel>,
    /// Whether the content cache should be saved (something was parsed, or went away).
    pub content_changed: bool,
}

/// What a successful build did.
#[derive(Debug)]
pub struct BuildReport {
    pub posts: usize,
    pub pages: usize,
    /// Files of the output.
    pub files: usize,
    /// Files this build wrote (all of them in a cold build).
    pub written: usize,
    pub output: PathBuf,
    pub elapsed: Duration,
    pub warnings: Vec<Diagnostic>,
    pub timings: Timings,
}

impl BuildReport {
    /// The one-line summary printed at the end of a build.
    pub fn summary(&self) -> String {
        let written = if self.written == self.files {
            String::new()
        } else {
            format!(" ({} written)", self.written)
        };
        format!(
            "built {} post{}, {} page{}: {} files{written} in {:.2} s -> {}",
            self.posts,
            if self.posts == 1 { "" } else { "s" },
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            self.files,
            self.elapsed.as_secs_f64(),
            self.output.display()
        )
    }
}

/// Loads config, content and templates and indexes the site, without writing anything.
/// Every error found on the way is reported, up to the first stage that has any.
pub fn load(opts: &BuildOptions, hl: &Highlighter) -> Result<Loaded, BuildError> {
    if opts.no_cache {
        load_with(opts, hl, &mut NoStore, false, false)
    } else {
        load_with(opts, hl, &mut Cache::new(&opts.root), true, false)
    }
}

/// `use_content_cache`: whether pages may come from `store`.
fn load_with(
    opts: &BuildOptions,
    hl: &Highlighter,
    store: &mut dyn Store,
    use_content_cache: bool,
    keep_data_cache: bool,
) -> Result<Loaded, BuildError> {
    let data_cache = crate::intel::CacheMode {
        read: !opts.no_cache,
        write: !opts.no_cache && keep_data_cache,
    };
    let mut timings = Timings::default();
    let mut diags = Diagnostics::default();
    let (mut config, syntax_css) = load_config(opts, hl, &mut diags)?;
    let urls = Urls::new(&config.base_url);
    timings.lap("config");

    // The ATT&CK table comes first: ids in running text link only when the data knows them.
    let attack = match crate::intel::load_attack(&opts.root, &config.data, data_cache) {
        Ok((table, warnings)) => {
            diags.extend(warnings);
            if let Some(t) = &table {
                config.attack_ids = Arc::new(t.techniques.keys().cloned().collect());
            }
            table
        }
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    timings.lap("ATT&CK data");

    let (theme, templates) = load_theme(opts, &config, &urls, &mut diags);
    timings.lap("templates");
    let content_key = cache::content_key(config.fingerprint(), opts.drafts);
    let content_cache = if use_content_cache {
        store.load_content(content_key)
    } else {
        None
    };
    timings.lap("load the content cache");
    let content = match content::load(
        &opts.root,
        &config,
        hl,
        opts.drafts,
        &urls.cve_prefix(),
        content_cache.as_ref().map(|c| c as &dyn content::Reuse),
    ) {
        Ok(c) => Some(c),
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    timings.lap("content (read, front matter, Markdown)");
    diags.check()?;
    let Some(mut content) = content else {
        return Err(BuildError::new(diags.take()));
    };
    diags.extend(std::mem::take(&mut content.warnings));
    let content_changed =
        content.parsed > 0 || content_cache.as_ref().is_none_or(|c| c.untaken() > 0);
    let site = index::index(content, &urls).map_err(|errors| {
        diags.extend(errors);
        BuildError::new(diags.take())
    })?;
    let intel = match crate::intel::load_for_site(
        &opts.root,
        &config,
        &site,
        attack.as_deref(),
        data_cache,
    ) {
        Ok((intel, warnings)) => {
            diags.extend(warnings);
            intel
        }
        Err(errors) => {
            diags.extend(errors);
            return Err(BuildError::new(diags.take()));
        }
    };
    timings.lap("data (CVE records, KEV, EPSS)");
    let (Some(theme), Some(mut templates)) = (theme, templates) else {
        return Err(BuildError::new(diags.take()));
    };
    let site_value = render::intel::site_links(
        render::site_value(&site, &config, &urls),
        &site,
        &intel,
        &urls,
    );
    templates.set_site(site_value.clone());
    timings.lap("index");
    Ok(Loaded {
        config,
        urls,
        site,
        theme,
        templates,
        site_value,
        syntax_css,
        warnings: diags.take(),
        timings,
        intel: Arc::new(intel),
        content_changed,
    })
}

/// Stage 1: site.toml with `--base-url` applied, and the highlighting stylesheet. Problems
/// go into `diags`; a bad `--base-url` stops at once.
fn load_config(
    opts: &BuildOptions,
    hl: &Highlighter,
    diags: &mut Diagnostics,
) -> Result<(Config, Option<String>), BuildError> {
    let (mut config, warnings) = Config::load(&opts.root).map_err(BuildError::new)?;
    diags.extend(warnings);
    if let Some(url) = &opts.base_url {
        if let Err(why) = config::check_base_url(url) {
            diags.push(
                Diagnostic::flag("--base-url", format!("{url:?} {why}"))
                    .with_help("pass an absolute http(s) URL, such as http://127.0.0.1:1111"),
            );
            return Err(BuildError::new(diags.take()));
        }
        config.base_url = url.trim_end_matches('/').to_string();
    }
    let syntax_css = hl.theme_css(&config.markdown.highlight_theme);
    if config.markdown.highlight_code && syntax_css.is_none() {
        diags.push(
            Diagnostic::error(
                config::CONFIG_FILE,
                format!(
                    "`markdown.highlight_theme` = {:?} is not a known theme",
                    config.markdown.highlight_theme
                ),
            )
            .with_help(format!("use one of: {}", hl.theme_names().join(", "))),
        );
    }
    Ok((config, syntax_css))
}

/// The theme's files and its compiled templates, or their problems in `diags`.
fn load_theme(
    opts: &BuildOptions,
    config: &Config,
    urls: &Urls,
    diags: &mut Diagnostics,
) -> (Option<ThemeFiles>, Option<Templates>) {
    let theme = match theme::load(&opts.root, &config.theme) {
        Ok(t) => Some(t),
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    let templates =
        theme
            .as_ref()
            .and_then(|t| match Templates::new(&t.templates, urls.origin()) {
                Ok(t) => Some(t),
                Err(errors) => {
                    diags.extend(errors);
                    None
                }
            });
    (theme, templates)
}

/// Builds the site into its output folder. On any error the old output is left as it was.
pub fn build(opts: &BuildOptions, hl: &Highlighter) -> Result<BuildReport, BuildError> {
    if opts.no_cache {
        build_with(opts, hl, &mut NoStore)
    } else {
        build_with(opts, hl, &mut Cache::new(&opts.root))
    }
}

/// Builds reusing what `store` kept from the last build, and keeps this build's for the next.
pub fn build_with(
    opts: &BuildOptions,
    hl: &Highlighter,
    store: &mut dyn Store,
) -> Result<BuildReport, BuildError> {
    build_keeping(opts, hl, store).map(|(report, _)| report)
}

/// [`build_with`], also handing back the loaded site (for `Session`).
fn build_keeping(
    opts: &BuildOptions,
    hl: &Highlighter,
    store: &mut dyn Store,
) -> Result<(BuildReport, Loaded), BuildError> {
    let start = Instant::now();
    let output = opts.output_dir();
    check_output_dir(&opts.root, &output)?;
    output::recover(&output).map_err(BuildError::from)?;
    // A build is warm only over the output folder the cache describes: deleting the output
    // folder (like --no-cache) makes the next build cold, pages and all.
    let old = store.load_manifest(&output);
    let keep_data = store.keeps_data_cache();
    let loaded = match load_with(opts, hl, store, old.is_some(), keep_data) {
        Ok(loaded) => loaded,
        Err(e) => {
            // Nothing was written: the manifest still describes the output.
            if let Some(m) = old {
                store.save_manifest(m);
            }
            return Err(e);
        }
    };
    let fail = |warnings: &[Diagnostic], mut all: Vec<Diagnostic>| {
        all.extend(warnings.iter().cloned());
        BuildError::new(all)
    };
    let renderer = loaded.renderer();
    let jobs = match renderer.plan() {
        Ok(jobs) => jobs,
        Err(errors) => {
            // Nothing was written: the manifest still describes the output.
            if let Some(m) = old {
                store.save_manifest(m);
            }
            return Err(fail(&loaded.warnings, errors));
        }
    };
    let mut timings = loaded.timings.clone();
    timings.lap("plan every output");
    let (manifest, written) = write_outputs(
        &renderer,
        &jobs,
        &output,
        old,
        store.verify_outputs(),
        &mut timings,
    )
    .map_err(|d| fail(&loaded.warnings, vec![d]))?;
    drop(renderer);
    store.save_manifest(manifest);
    let key = cache::content_key(loaded.config.fingerprint(), opts.drafts);
    let all_pages = loaded
        .site
        .posts
        .iter()
        .chain(&loaded.site.pages)
        .cloned()
        .collect();
    store.save_content(key, all_pages, &loaded.warnings, loaded.content_changed);
    timings.lap("keep the cache");
    let report = loaded.report(output, jobs.len(), written, start, timings);
    Ok((report, loaded))
}

impl Loaded {
    /// What a build of this site did.
    fn report(
        &self,
        output: PathBuf,
        files: usize,
        written: usize,
        start: Instant,
        timings: Timings,
    ) -> BuildReport {
        BuildReport {
            posts: self.site.posts.len(),
            pages: self.site.pages.len(),
            files,
            written,
            output,
            elapsed: start.elapsed(),
            warnings: self.warnings.clone(),
            timings,
        }
    }

    /// A renderer of this site.
    pub fn renderer(&self) -> Renderer<'_> {
        Renderer::new(
            &self.site,
            &self.config,
            &self.urls,
            &self.templates,
            &self.theme,
            &self.site_value,
            self.syntax_css.as_deref(),
        )
        .with_intel(&self.intel)
    }
}

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
            match index::resolve_related(&last.site.posts, &last.urls) {
                Ok(related) => last.site.related = related,
                Err(_) => return Ok(None),
            }
        }
        let renderer = last.renderer();
        let Some(jobs) = plan_small_edits(&renderer, &edits, in_feeds)? else {
            return Ok(None);
        };
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
        let states = update_in_place(&renderer, &changed_jobs, &output, &[])?;
        timings.lap("render and move in the changed outputs");
        let files = manifest.files.len();
        manifest.files.extend(states);
        self.store.save_manifest(manifest);
        Ok(Some(last.report(
            output,
            files,
            changed_jobs.len(),
            start,
            timings,
        )))
    }
}

/// Changed files parsed again for the fast path.
struct SmallEdits {
    /// Each changed page: where it is, its new version, its warnings.
    replaced: Vec<(Place, Arc<Page>, Vec<Diagnostic>)>,
    /// Posts whose summary (title, TLDR...) changed, though not their place in the site.
    summaries: Vec<usize>,
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
            Place::Post(i) => &last.site.posts[i],
            Place::Page(j) => &last.site.pages[j],
        };
        let parsed = content::parse_one(
            &opts.root,
            file,
            &last.config,
            hl,
            opts.drafts,
            &last.urls.cve_prefix(),
        );
        match (parsed, place) {
            (Ok((Some(page), warnings)), _) if page.same_outside_own_page(old) => {
                edits.replaced.push((place, page, warnings))
            }
            (Ok((Some(page), warnings)), Place::Post(i)) if page.same_place(old) => {
                edits.summaries.push(i);
                edits.replaced.push((place, page, warnings))
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
    for (place, page, warnings) in &edits.replaced {
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
        .map(|(place, ..)| match *place {
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

/// Renders `changed` beside the output folder and moves them in, deleting `deleted`, as
/// one journaled update. Returns the new states of the written files.
fn update_in_place(
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

/// Where a page is in the site: posts or standalone pages.
#[derive(Clone, Copy)]
enum Place {
    Post(usize),
    Page(usize),
}

/// Writes the outputs: only the changed ones when `old` describes the output folder as it
/// is and few changed, else all of them into a fresh folder. Returns the new manifest and
/// how many files were written.
fn write_outputs(
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

fn manifest_for(
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
fn on_disk_as_recorded(path: &Path, state: &cache::FileState) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_file() && cache::file_state(&m, state.fingerprint) == *state)
}

/// Renders (or copies) `jobs` in parallel through `write` and `copy`; returns each file's
/// recorded state.
fn execute(
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
fn check_output_dir(root: &Path, output: &Path) -> Result<(), BuildError> {
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

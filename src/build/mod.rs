//! The build, as one flow:
//!
//! ```text
//! config::Config::load      site.toml
//!   -> content::load        walk content/, parse front matter, render Markdown (parallel;
//!                           pages whose source did not change come from the cache)
//!   -> index::index         sort, taxonomies, related
//!   -> theme::load + templates::Templates::new
//!   -> render::Renderer     plan every output with a fingerprint of its inputs, each path
//!                           claimed once (render::routes)
//!   -> write::write_outputs cold: render everything into output::Staging, swap it in;
//!                           warm: render only changed outputs, output::Update moves them in
//! ```
//!
//! [`load`] runs everything up to rendering and is shared by `build` and `check`.
//! [`Session`] (in `session.rs`) is `serve`'s: it keeps the last build in memory and takes
//! a fast path for edits that touch only a post's own page or its summary. `timings.rs`
//! measures the stages for `--timings`.

mod session;
mod timings;
mod write;

pub use session::Session;
pub use timings::Timings;
use write::{check_output_dir, write_outputs};

use crate::render::search::index::Index;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::{self, Config};
use crate::content;
use crate::content::highlight::Highlighter;
use crate::content::shortcodes::Shortcodes;
use crate::error::{BuildError, Diagnostic, Diagnostics};
use crate::index::schedule::{self, Held, Schedule};
use crate::index::{self, Site};
use crate::output;
use crate::output::cache::{self, Cache, NoStore, Store};
use crate::render::deploy::assets::Assets;
use crate::render::templates::Templates;
use crate::render::theme::{self, ThemeFiles};
use crate::render::{self, Renderer};
use crate::support::fingerprint::{Builder, Fingerprint};
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
    /// The moment the site is built for: posts dated (or `publish_at`) later are left
    /// out, posts whose `expires` has passed too. Read once by the command line (`--now`,
    /// `SOURCE_DATE_EPOCH` or the clock); the build never reads the clock. `None` publishes
    /// every post whatever its dates.
    pub now: Option<chrono::DateTime<chrono::Utc>>,
    /// Publish scheduled posts too, marked as scheduled (`--future`).
    pub future: bool,
}

impl BuildOptions {
    /// The moment and what to do with scheduled posts.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            now: self.now,
            future: self.future,
        }
    }

    /// The output folder this build writes.
    pub fn output_dir(&self) -> PathBuf {
        match &self.output {
            Some(o) => o.clone(),
            None if self.root == Path::new(".") => PathBuf::from("public"),
            None => self.root.join("public"),
        }
    }
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
    /// Image variants, social cards and favicons, ready to be written.
    pub images: render::images::Images,
    pub warnings: Vec<Diagnostic>,
    pub timings: Timings,
    /// Threat intelligence on what the site mentions, from its data files.
    pub intel: Arc<crate::intel::Intel>,
    /// Whether the content cache should be saved (something was parsed, or went away).
    pub content_changed: bool,
    /// The shortcode templates the content was rendered with.
    pub shortcodes: Option<Arc<Shortcodes>>,
    /// Scheduled and expired pages, left out of `site` (kept for the cache and reports).
    pub held: Held,
    /// The search index, when the store keeps one (`serve` updates it after an edit);
    /// otherwise it is built while planning and dropped.
    pub search: Option<crate::render::search::index::Index>,
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
    /// Source images this build decoded (0 when the image cache had everything).
    pub images_decoded: usize,
    /// Source image files this build read (0 when the probe cache knew them all).
    pub images_read: usize,
    /// Social cards this build drew (0 when the image cache had them all).
    pub cards_drawn: usize,
    /// Scheduled posts and pages left out, and when the next one goes live.
    pub scheduled: usize,
    pub next_due: Option<chrono::DateTime<chrono::Utc>>,
    /// Expired posts and pages left out.
    pub expired: usize,
    /// Scheduled posts and pages published anyway (`--future`).
    pub previews: usize,
}

impl BuildReport {
    /// What the build left out or published early, for the terminal; none when nothing.
    /// It names no post: build logs may be public, embargoed titles must not be.
    pub fn editorial(&self) -> Option<String> {
        let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if self.scheduled > 0 {
            let due = self
                .next_due
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                .unwrap_or_default();
            parts.push(format!(
                "{} held back; the next is due {due} (rebuild then)",
                plural(self.scheduled, "scheduled post")
            ));
        }
        if self.previews > 0 {
            parts.push(format!(
                "{} published early for --future",
                plural(self.previews, "scheduled post")
            ));
        }
        if self.expired > 0 {
            parts.push(format!(
                "{} taken down",
                plural(self.expired, "expired post")
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

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
        load_with(opts, hl, &mut NoStore, false, false, false)
    } else {
        // Images are made in a temporary folder: loading (for `check`) writes nothing.
        load_with(opts, hl, &mut Cache::new(&opts.root), true, false, false)
    }
}

/// What cached pages depend on besides their source: the config and the shortcode templates.
fn content_fingerprint(config: &Config, shortcodes: Option<&Shortcodes>) -> Fingerprint {
    Builder::new("content")
        .fp(config.fingerprint())
        .fp(shortcodes.map_or(0, Shortcodes::fingerprint))
        .finish()
}

/// `use_content_cache`: whether pages may come from `store`; `use_image_cache`: whether
/// images are made in (and taken from) the site's `.sitrep-cache/images/` rather than a
/// temporary folder.
fn load_with(
    opts: &BuildOptions,
    hl: &Highlighter,
    store: &mut dyn Store,
    use_content_cache: bool,
    use_image_cache: bool,
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
    let attack = kept(
        &mut diags,
        crate::intel::load_attack(&opts.root, &config.data, data_cache),
    )
    .flatten();
    if let Some(t) = &attack {
        config.attack_ids = Arc::new(t.techniques.keys().cloned().collect());
    }
    timings.lap("ATT&CK data");

    let (theme, templates) = load_theme(opts, &config, &urls, syntax_css.as_deref(), &mut diags);
    let shortcodes = theme.as_ref().and_then(|t| {
        let site = render::config_site_value(&config, &urls);
        Shortcodes::new(&t.templates, &urls, site).map(Arc::new)
    });
    timings.lap("templates");
    let content = load_content(
        opts,
        hl,
        store,
        use_content_cache,
        &config,
        &urls,
        shortcodes.clone(),
    )
    .map_err(|errors| diags.extend(errors))
    .ok();
    timings.lap("content (cache, read, front matter, Markdown)");
    diags.check()?;
    let Some((mut content, content_changed)) = content else {
        return Err(BuildError::new(diags.take()));
    };
    diags.extend(std::mem::take(&mut content.warnings));
    // Embargoes: scheduled and expired pages leave here, before anything is indexed.
    // Their warnings depend on the moment, so they stay out of `warnings`, which the
    // content cache keeps with each file.
    let (editorial, mut held, editorial_warnings) =
        schedule::split(&mut content, opts.schedule(), config.editorial.expired);
    held.warnings = editorial_warnings;
    // The data files are read while the site is indexed: they need only the ids the
    // posts and pages name.
    let (cves, techniques) = crate::intel::mentioned(&content.posts, &content.pages);
    let (site, loaded_intel) = rayon::join(
        || index::index(content, &urls, editorial, config.related_posts),
        || {
            crate::intel::Intel::load(
                &opts.root,
                &config.data,
                &cves,
                &techniques,
                attack.as_deref(),
                data_cache,
            )
        },
    );
    let site = site.map_err(|errors| {
        diags.extend(errors);
        BuildError::new(diags.take())
    })?;
    let loaded_intel =
        crate::intel::with_technique_warnings(loaded_intel, &config, &site, attack.as_deref());
    let Some(intel) = kept(&mut diags, loaded_intel) else {
        return Err(BuildError::new(diags.take()));
    };
    timings.lap("index (taxonomies, related coverage) and data (CVE records, KEV, EPSS)");
    let (Some(theme), Some(mut templates)) = (theme, templates) else {
        return Err(BuildError::new(diags.take()));
    };
    let site_value = render::intel::site_links(
        render::site_value(
            &site,
            &config,
            &urls,
            render::images::favicons::enabled(&config, &theme),
            templates.assets(),
        ),
        &site,
        &intel,
        &urls,
    );
    templates.set_site(site_value.clone());
    timings.lap("site variable");
    let image_cache = use_image_cache.then(|| {
        opts.root
            .join(cache::CACHE_DIR)
            .join(render::images::CACHE_SUBDIR)
    });
    let prepared = render::images::prepare(
        &config,
        &urls,
        &theme,
        &templates,
        &site,
        &intel,
        image_cache,
    );
    let Some(images) = kept(&mut diags, prepared) else {
        return Err(BuildError::new(diags.take()));
    };
    timings.lap("images (probe, variants, cards, favicons)");
    Ok(Loaded {
        config,
        urls,
        site,
        theme,
        templates,
        site_value,
        syntax_css,
        images,
        warnings: diags.take(),
        timings,
        intel: Arc::new(intel),
        content_changed,
        shortcodes,
        held,
        search: None,
    })
}

/// Stage 2, through the content cache: the pages of `content/`, and whether any was parsed
/// anew or a cached one is gone.
fn load_content(
    opts: &BuildOptions,
    hl: &Highlighter,
    store: &mut dyn Store,
    use_content_cache: bool,
    config: &Config,
    urls: &Urls,
    shortcodes: Option<Arc<Shortcodes>>,
) -> Result<(content::Content, bool), Vec<Diagnostic>> {
    let content_key = cache::content_key(
        content_fingerprint(config, shortcodes.as_deref()),
        opts.drafts,
    );
    let content_cache = if use_content_cache {
        store.load_content(content_key)
    } else {
        None
    };
    let content = content::load(
        &opts.root,
        config,
        hl,
        opts.drafts,
        &urls.cve_prefix(),
        content_cache.as_ref().map(|c| c as &dyn content::Reuse),
        shortcodes,
    )?;
    let changed = content.parsed > 0 || content_cache.as_ref().is_none_or(|c| c.untaken() > 0);
    Ok((content, changed))
}

/// The value of a step that reports warnings beside it; its problems go into `diags`.
fn kept<T>(
    diags: &mut Diagnostics,
    result: Result<(T, Vec<Diagnostic>), Vec<Diagnostic>>,
) -> Option<T> {
    match result {
        Ok((value, warnings)) => {
            diags.extend(warnings);
            Some(value)
        }
        Err(errors) => {
            diags.extend(errors);
            None
        }
    }
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
    if let (Some(now), Some(s)) = (opts.now, &config.security_txt) {
        use crate::config::deploy::Expiry;
        let at = |d: Diagnostic| d.at_opt(s.expires_line);
        match s.expiry(now.timestamp()) {
            Expiry::Fine => {}
            Expiry::Soon(message) => {
                diags.push(at(Diagnostic::warning(config::CONFIG_FILE, message)
                    .with_help(
                        "set a new `expires` in [security_txt] soon, less than a year ahead",
                    )))
            }
            Expiry::Wrong(message, help) => {
                diags.push(at(
                    Diagnostic::error(config::CONFIG_FILE, message).with_help(help)
                ))
            }
        }
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

/// The theme's files and its compiled templates, or their problems in `diags`. The
/// static files' links (`asset_url`, hashed names with `[deploy] hash_assets`) are known
/// to the templates.
fn load_theme(
    opts: &BuildOptions,
    config: &Config,
    urls: &Urls,
    syntax_css: Option<&str>,
    diags: &mut Diagnostics,
) -> (Option<ThemeFiles>, Option<Templates>) {
    let theme = match theme::load(&opts.root, &config.theme) {
        Ok(t) => Some(t),
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    let assets = theme.as_ref().and_then(|t| {
        match Assets::new(t, syntax_css, config.deploy.hash_assets, urls) {
            Ok(a) => Some(Arc::new(a)),
            Err(errors) => {
                diags.extend(errors);
                None
            }
        }
    });
    let templates = theme.as_ref().zip(assets).and_then(|(t, a)| {
        match Templates::with_assets(&t.templates, urls.origin(), a) {
            Ok(t) => Some(t),
            Err(errors) => {
                diags.extend(errors);
                None
            }
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
    let loaded = match load_with(opts, hl, store, old.is_some(), !opts.no_cache, keep_data) {
        // Missing images fail the build; `check` reports them with the links instead.
        Ok(loaded) if !loaded.images.missing.is_empty() => {
            let mut all = loaded.images.missing.clone();
            all.extend(loaded.warnings.iter().cloned());
            if let Some(m) = old {
                store.save_manifest(m);
            }
            return Err(BuildError::new(all));
        }
        Ok(mut loaded) => {
            if store.keeps_search_index() && loaded.config.search {
                let index = Index::build(&loaded.site.posts, &loaded.urls, true);
                loaded.search = Some(index);
            }
            loaded
        }
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
    let mut jobs = match renderer.plan() {
        Ok(jobs) => jobs,
        Err(errors) => {
            // Nothing was written: the manifest still describes the output.
            if let Some(m) = old {
                store.save_manifest(m);
            }
            return Err(fail(&loaded.warnings, errors));
        }
    };
    let pre = write::precompression(&loaded.config, &mut jobs);
    let deploy_warnings = renderer.deploy_warnings();
    let mut timings = loaded.timings.clone();
    timings.lap("plan every output");
    let (manifest, written) = write_outputs(
        &renderer,
        &jobs,
        pre,
        &output,
        old,
        store.verify_outputs(),
        &mut timings,
    )
    .map_err(|d| fail(&loaded.warnings, vec![d]))?;
    let key = cache::content_key(
        content_fingerprint(&loaded.config, loaded.shortcodes.as_deref()),
        opts.drafts,
    );
    let all_pages = loaded
        .site
        .posts
        .iter()
        .chain(&loaded.site.pages)
        .chain(loaded.held.pages())
        .cloned()
        .collect();
    let warnings: Vec<Diagnostic> = loaded
        .warnings
        .iter()
        .chain(&deploy_warnings)
        .cloned()
        .collect();
    // The renderer's values (every page's, every term's) are freed on another thread
    // while the cache is kept.
    std::thread::scope(|s| {
        s.spawn(move || drop(renderer));
        store.save_manifest(manifest);
        store.save_content(key, all_pages, &warnings, loaded.content_changed);
    });
    let mut loaded = loaded;
    loaded.warnings = warnings;
    timings.lap("keep the cache");
    let report = loaded.report(output, jobs.len(), written, start, timings);
    Ok((report, loaded))
}

impl Loaded {
    /// The build's warnings and those about held-back posts.
    pub fn all_warnings(&self) -> Vec<Diagnostic> {
        self.warnings
            .iter()
            .chain(&self.held.warnings)
            .cloned()
            .collect()
    }

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
            warnings: self.all_warnings(),
            timings,
            images_decoded: self.images.decoded,
            images_read: self.images.read,
            cards_drawn: self.images.cards_drawn,
            scheduled: self.held.scheduled.len(),
            next_due: self.held.next_due(),
            expired: self.held.expired.len(),
            previews: self.held.previews.len(),
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
        .with_images(&self.images)
        .with_intel(&self.intel)
        .with_search(self.search.as_ref())
    }
}

//! The build, as one flow:
//!
//! ```text
//! config::Config::load      site.toml
//!   -> content::load        walk content/, parse front matter, render Markdown (parallel)
//!   -> index::index         sort, taxonomies, related, every route checked for clashes
//!   -> theme::load + templates::Templates::new
//!   -> render::render_all   every page, feed and file, streamed into output::Staging
//!   -> Staging::commit      swap the new folder in; the old output stays until then
//! ```
//!
//! [`load`] runs everything up to rendering and is shared by `build` and `check`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{self, Config};
use crate::content;
use crate::error::{BuildError, Diagnostic, Diagnostics};
use crate::highlight::{self, Highlighter};
use crate::index::{self, Site};
use crate::output::Staging;
use crate::render;
use crate::templates::Templates;
use crate::theme::{self, ThemeFiles};
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
}

impl BuildOptions {
    /// The output folder this build writes.
    pub fn output_dir(&self) -> PathBuf {
        self.output
            .clone()
            .unwrap_or_else(|| self.root.join("public"))
    }
}

/// How long each stage took (`sitrep build --timings`).
#[derive(Debug, Clone)]
pub struct Timings {
    last: Instant,
    pub laps: Vec<(&'static str, Duration)>,
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
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    /// One line per stage.
    pub fn report(&self) -> String {
        self.laps
            .iter()
            .map(|(n, d)| format!("{:>10.1} ms  {n}", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A loaded, checked site, ready to render.
pub struct Loaded {
    pub config: Config,
    pub urls: Urls,
    pub site: Site,
    pub theme: ThemeFiles,
    pub templates: Templates,
    pub warnings: Vec<Diagnostic>,
    pub timings: Timings,
}

/// What a successful build did.
#[derive(Debug)]
pub struct BuildReport {
    pub posts: usize,
    pub pages: usize,
    pub files: usize,
    pub output: PathBuf,
    pub elapsed: Duration,
    pub warnings: Vec<Diagnostic>,
    pub timings: Timings,
}

impl BuildReport {
    /// The one-line summary printed at the end of a build.
    pub fn summary(&self) -> String {
        format!(
            "built {} post{}, {} page{}: {} files in {:.2} s -> {}",
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
    let mut timings = Timings::default();
    let mut diags = Diagnostics::default();
    let (mut config, warnings) = Config::load(&opts.root).map_err(BuildError::new)?;
    diags.extend(warnings);
    if let Some(url) = &opts.base_url {
        if let Err(why) = config::check_base_url(url) {
            diags.push(
                Diagnostic::error("--base-url", format!("{url:?} {why}"))
                    .with_help("pass an absolute http(s) URL, such as http://127.0.0.1:1111"),
            );
            return Err(BuildError::new(diags.take()));
        }
        config.base_url = url.trim_end_matches('/').to_string();
    }
    if config.markdown.highlight_code
        && highlight::theme_css(&config.markdown.highlight_theme).is_none()
    {
        diags.push(
            Diagnostic::error(
                config::CONFIG_FILE,
                format!(
                    "`markdown.highlight_theme` = {:?} is not a known theme",
                    config.markdown.highlight_theme
                ),
            )
            .with_help(format!(
                "use one of: {}",
                highlight::theme_names().join(", ")
            )),
        );
    }
    let urls = Urls::new(&config.base_url);
    timings.lap("config");

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

    timings.lap("templates");
    let content = match content::load(&opts.root, &config, hl, opts.drafts, &urls.cve_prefix()) {
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
    let site = index::index(content, config.posts_per_page, &urls).map_err(|errors| {
        diags.extend(errors);
        BuildError::new(diags.take())
    })?;
    let (Some(theme), Some(mut templates)) = (theme, templates) else {
        return Err(BuildError::new(diags.take()));
    };
    templates.set_site(render::site_value(&site, &config, &urls));
    timings.lap("index");
    Ok(Loaded {
        config,
        urls,
        site,
        theme,
        templates,
        warnings: diags.take(),
        timings,
    })
}

/// Builds the site into its output folder. On any error the old output is left as it was.
pub fn build(opts: &BuildOptions, hl: &Highlighter) -> Result<BuildReport, BuildError> {
    let start = Instant::now();
    let output = opts.output_dir();
    check_output_dir(&opts.root, &output)?;
    let mut loaded = load(opts, hl)?;
    let staging = Staging::create(&output).map_err(BuildError::from)?;
    let rendered = render::render_all(
        &loaded.site,
        &loaded.config,
        &loaded.urls,
        &loaded.templates,
        &loaded.theme,
        &staging,
        &mut loaded.timings,
    )
    .map_err(|d| {
        let mut all = loaded.warnings.clone();
        all.insert(0, d);
        BuildError::new(all)
    })?;
    staging.commit().map_err(BuildError::from)?;
    loaded.timings.lap("swap in the new output");
    let mut warnings = loaded.warnings;
    warnings.extend(rendered.warnings);
    Ok(BuildReport {
        posts: loaded.site.posts.len(),
        pages: loaded.site.pages.len(),
        files: rendered.files,
        output,
        elapsed: start.elapsed(),
        warnings,
        timings: loaded.timings,
    })
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

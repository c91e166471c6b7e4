//! Stage 4: plan every output of the indexed site, and render the ones that need it.
//!
//! [`Renderer::plan`] lists every output file as a [`Job`] with a fingerprint of everything
//! the file is made from. A cold build renders every job; a warm build (or `serve`) renders
//! only jobs whose fingerprint differs from the one recorded when the file was last written.
//! Each fingerprint is built next to the template values it covers, from the same parts.
//!
//! Template values that many pages share are built once and shared by reference count:
//! each post's summary (built lazily, on first use), each term's link, the "Latest from
//! Blog" lists (at most `latest_posts + 1` distinct ones), and the sidebar fragment rendered
//! from `partials/latest.html` once per distinct list. No page re-serialises the site.

mod cve_facts;
pub mod deploy;
pub mod editorial;
pub mod feeds;
mod generated;
pub mod images;
pub mod intel;
pub mod ioc_exports;
mod listing;
mod post;
pub mod routes;
pub mod search;
pub mod sitemap;
pub mod templates;
pub mod theme;

use std::path::PathBuf;
use std::sync::OnceLock;

use tera::{Context, Map, Value};

use crate::config::Config;
use crate::error::Diagnostic;
use crate::index::{Site, TaxonomyKind};
use crate::render::templates::Templates;
use crate::render::theme::ThemeFiles;
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::{self, Urls};
pub use routes::Origin;

/// The sidebar fragment template: rendered once per distinct "Latest from Blog" list.
pub const LATEST_PARTIAL: &str = "partials/latest.html";

/// One output file: where it goes, what it is made from, how to make it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Path relative to the output folder.
    pub path: PathBuf,
    pub fingerprint: Fingerprint,
    pub kind: JobKind,
    /// Who wants this file, for the route table ([`routes::claim_all`]).
    pub origin: Origin,
}

/// How a job's bytes are made.
#[derive(Debug, Clone)]
pub enum JobKind {
    /// A page rendered from a template.
    Page(PageJob),
    /// A redirect page to an absolute URL.
    Redirect(String),
    /// Bytes made while planning (feeds, sitemap, robots.txt, stylesheet).
    Bytes(std::sync::Arc<Vec<u8>>),
    /// A file copied as it is.
    Copy(PathBuf),
    /// A file of the built-in theme.
    Embedded(&'static [u8]),
}

/// Which templated page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageJob {
    Post(usize),
    Page(usize),
    Home(usize),
    TaxonomyList(usize),
    /// Taxonomy, term, page number.
    Term(usize, usize, usize),
    NotFound,
    /// A threat-intelligence page (`/cve/kev/`, `/attack/...`).
    Intel(intel::IntelPage),
    /// The search page (`/search/`).
    Search,
    /// Where an expired post was (`[editorial] expired = "gone"`): index into
    /// `Site::withdrawn`.
    Withdrawn(usize),
}

/// Builds a template map from `(key, value)` pairs, in order.
fn map<const N: usize>(entries: [(&'static str, Value); N]) -> Value {
    let mut m = Map::with_capacity_and_hasher(N, Default::default());
    for (k, v) in entries {
        m.insert(k.into(), v);
    }
    Value::from(m)
}

fn opt_str(s: Option<String>) -> Value {
    s.map_or_else(Value::none, Value::from)
}

fn strings(list: &[String]) -> Value {
    Value::from(
        list.iter()
            .map(|s| Value::from(s.as_str()))
            .collect::<Vec<_>>(),
    )
}

/// Everything needed to plan and render the outputs of one build.
pub struct Renderer<'a> {
    site: &'a Site,
    config: &'a Config,
    urls: &'a Urls,
    templates: &'a Templates,
    theme: &'a ThemeFiles,
    /// Covers sitrep's version, the templates, the config and the `site` variable: when it
    /// changes, every page changes.
    global: Fingerprint,
    /// For each taxonomy (in `TaxonomyKind::ALL` order), each term's link value, built on
    /// first use.
    terms: Vec<Vec<OnceLock<Value>>>,
    term_fps: Vec<Vec<OnceLock<Fingerprint>>>,
    /// Each post's summary value, built on first use.
    summaries: Vec<OnceLock<Value>>,
    summary_fps: Vec<OnceLock<Fingerprint>>,
    /// The newest `latest_posts` posts, and for each of those posts the list without it.
    latest_top: Vec<usize>,
    latest_without: Vec<Vec<usize>>,
    /// The sidebar fragments, built on first use: `[top, without 0, without 1, ...]`.
    latest_html: Vec<OnceLock<Result<Value, Diagnostic>>>,
    /// The stylesheet of the highlighting theme, if code is highlighted.
    syntax_css: Option<&'a str>,
    /// Images of bodies, social cards, favicons ([`images::prepare`]); none: no images.
    images: Option<&'a images::Images>,
    /// Threat intelligence from the data files ([`Renderer::with_intel`]).
    intel: Option<intel::IntelView<'a>>,
    /// A search index built already (`serve` keeps one); none: built when planned.
    search: Option<&'a search::index::Index>,
}

impl<'a> Renderer<'a> {
    pub fn new(
        site: &'a Site,
        config: &'a Config,
        urls: &'a Urls,
        templates: &'a Templates,
        theme: &'a ThemeFiles,
        site_value: &Value,
        syntax_css: Option<&'a str>,
    ) -> Self {
        let site_json = serde_json::to_vec(site_value).unwrap_or_default();
        let global = Builder::new("global")
            .str(env!("CARGO_PKG_VERSION"))
            .fp(templates.fingerprint())
            .fp(config.fingerprint())
            .fp(fingerprint::of_bytes(&site_json))
            .finish();
        let terms = site
            .taxonomies
            .iter()
            .map(|tax| tax.terms.iter().map(|_| OnceLock::new()).collect())
            .collect();
        let term_fps = site
            .taxonomies
            .iter()
            .map(|tax| tax.terms.iter().map(|_| OnceLock::new()).collect())
            .collect();
        let n = config.latest_posts;
        let latest_top = site.latest(n, None);
        let latest_without: Vec<Vec<usize>> = (0..n.min(site.posts.len()))
            .map(|i| site.latest(n, Some(i)))
            .collect();
        Renderer {
            site,
            config,
            urls,
            templates,
            theme,
            global,
            terms,
            term_fps,
            summaries: (0..site.posts.len()).map(|_| OnceLock::new()).collect(),
            summary_fps: (0..site.posts.len()).map(|_| OnceLock::new()).collect(),
            latest_html: (0..=latest_without.len())
                .map(|_| OnceLock::new())
                .collect(),
            latest_top,
            latest_without,
            syntax_css,
            images: None,
            intel: None,
            search: None,
        }
    }

    /// This renderer, planning the search index from `index` instead of building one.
    pub fn with_search(mut self, index: Option<&'a search::index::Index>) -> Self {
        self.search = index;
        self
    }

    /// This renderer, showing the images `images` prepared and planning their outputs.
    pub fn with_images(mut self, images: &'a images::Images) -> Self {
        self.images = Some(images);
        self
    }

    /// A context with what every page gets.
    fn context(&self, kind: &str, route: &str, title: &str) -> Context {
        let mut ctx = Context::new();
        ctx.insert_value("kind", Value::from(kind));
        ctx.insert_value("current_url", Value::from(self.urls.url(route)));
        ctx.insert_value("canonical", Value::from(self.urls.permalink(route)));
        ctx.insert_value("title", Value::from(title));
        ctx
    }

    /// The route, template and context of a templated page.
    fn page_context(&self, job: PageJob) -> Result<(String, &'static str, Context), Diagnostic> {
        let site = self.site;
        Ok(match job {
            PageJob::Post(i) => {
                let p = &site.posts[i];
                let mut ctx = self.context("post", &p.route, &p.title);
                ctx.insert_value("page", self.post_value(i)?);
                self.insert_latest(&mut ctx, self.latest_slot(Some(i)))?;
                (p.route.clone(), "post.html", ctx)
            }
            PageJob::Page(j) => {
                let p = &site.pages[j];
                let mut ctx = self.context("page", &p.route, &p.title);
                ctx.insert_value("page", self.page_value(p)?);
                self.insert_latest(&mut ctx, 0)?;
                (p.route.clone(), "page.html", ctx)
            }
            PageJob::Home(n) => {
                let route = urls::home(n);
                let mut ctx = self.context("home", &route, &self.config.title);
                let all: Vec<usize> = (0..site.posts.len()).collect();
                ctx.insert_value("paginator", self.paginator("", &all, n));
                self.insert_latest(&mut ctx, 0)?;
                (route, "index.html", ctx)
            }
            PageJob::TaxonomyList(k) => {
                let kind = site.taxonomies[k].kind;
                let route = urls::taxonomy(kind.name());
                let mut ctx = self.context("taxonomy", &route, kind.title());
                ctx.insert_value("taxonomy", self.taxonomy_value(k, true));
                self.insert_latest(&mut ctx, 0)?;
                if kind == TaxonomyKind::Cve {
                    ctx.insert_value("cves_ranked", self.cves_ranked(k));
                    ctx.insert_value("data_notice", self.data_notice(true, false));
                }
                let template = if kind == TaxonomyKind::Cve && self.templates.has("cve_list.html") {
                    "cve_list.html"
                } else {
                    "taxonomy_list.html"
                };
                (route, template, ctx)
            }
            PageJob::Term(k, t, n) => {
                let tax = &site.taxonomies[k];
                let term = &tax.terms[t];
                let name = tax.kind.name();
                let first = urls::term(name, &term.slug, 1);
                let route = urls::term(name, &term.slug, n);
                let mut ctx = self.context("term", &route, &term.name);
                ctx.insert_value("taxonomy", self.taxonomy_value(k, false));
                ctx.insert_value("term", self.term_value(k, t));
                ctx.insert_value("paginator", self.paginator(&first, &term.posts, n));
                self.insert_latest(&mut ctx, 0)?;
                if tax.kind == TaxonomyKind::Cve {
                    ctx.insert_value("data_notice", self.data_notice(true, false));
                }
                let template = if tax.kind == TaxonomyKind::Cve && self.templates.has("cve.html") {
                    "cve.html"
                } else {
                    "taxonomy_term.html"
                };
                (route, template, ctx)
            }
            PageJob::Intel(page) => self.intel_context(page)?,
            PageJob::NotFound => {
                let mut ctx = self.context("404", urls::NOT_FOUND, "Page not found");
                self.insert_latest(&mut ctx, 0)?;
                (urls::NOT_FOUND.to_string(), "404.html", ctx)
            }
            PageJob::Search => {
                let mut ctx = self.context("search", urls::SEARCH, "Search");
                ctx.insert_value(
                    "search_index_url",
                    Value::from(self.urls.url(search::index::MANIFEST)),
                );
                self.insert_latest(&mut ctx, 0)?;
                (urls::SEARCH.to_string(), search::TEMPLATE, ctx)
            }
            PageJob::Withdrawn(w) => {
                let route = &site.withdrawn[w].route;
                let mut ctx = self.context("withdrawn", route, "Post withdrawn");
                self.insert_latest(&mut ctx, 0)?;
                (route.clone(), editorial::WITHDRAWN_TEMPLATE, ctx)
            }
        })
    }

    /// Renders a job that is not a copy into `buf`.
    pub fn render(&self, kind: &JobKind, buf: &mut Vec<u8>) -> Result<(), Diagnostic> {
        buf.clear();
        match kind {
            JobKind::Page(PageJob::Withdrawn(_))
                if !self.templates.has(editorial::WITHDRAWN_TEMPLATE) =>
            {
                buf.extend_from_slice(
                    editorial::withdrawn_html(
                        &self.config.language,
                        &self.config.title,
                        &self.urls.url(""),
                    )
                    .as_bytes(),
                );
                Ok(())
            }
            JobKind::Page(job) => {
                let (_, template, ctx) = self.page_context(*job)?;
                self.templates.render_to(template, &ctx, buf)
            }
            JobKind::Redirect(target) => {
                buf.extend_from_slice(
                    sitemap::redirect_html(target, &self.config.language).as_bytes(),
                );
                Ok(())
            }
            JobKind::Bytes(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
            JobKind::Embedded(bytes) => {
                buf.extend_from_slice(bytes);
                Ok(())
            }
            JobKind::Copy(_) => Ok(()),
        }
    }

    /// Every output of the site, in a stable order, each path claimed once (see
    /// [`routes::claim_all`]: two claims on one path are errors naming both).
    pub fn plan(&self) -> Result<Vec<Job>, Vec<Diagnostic>> {
        self.render_markers()?;
        let latest_top_fp = self.list_fp(&self.latest_top);
        // Independent parts, planned in parallel and joined in a fixed order.
        let ((statics, pages), (terms, (redirects, generated))) = rayon::join(
            || rayon::join(|| self.plan_static(), || self.plan_pages(latest_top_fp)),
            || {
                rayon::join(
                    || self.plan_taxonomies(latest_top_fp),
                    || rayon::join(|| self.plan_redirects(), || self.plan_generated()),
                )
            },
        );
        let mut jobs = statics;
        jobs.extend(pages);
        jobs.extend(terms);
        jobs.extend(redirects);
        jobs.extend(generated.map_err(|d| vec![d])?);
        if let Some(im) = self.images {
            jobs.extend(im.jobs.iter().cloned());
        }
        jobs.extend(self.plan_deploy());
        jobs.extend(self.plan_intel(latest_top_fp));
        routes::claim_all(jobs, self.site)
    }

    fn page_job(route: &str, fingerprint: Fingerprint, job: PageJob) -> Job {
        let origin = match job {
            PageJob::Post(i) => Origin::Post(i),
            PageJob::Page(j) => Origin::Page(j),
            PageJob::Home(_) => Origin::Generated("the home page"),
            PageJob::TaxonomyList(k) => Origin::TaxonomyList(k),
            PageJob::Term(k, t, _) => Origin::Term(k, t),
            PageJob::NotFound => Origin::Generated("the 404 page"),
            PageJob::Intel(_) => Origin::Generated("a threat-intelligence page (data/)"),
            PageJob::Search => Origin::Generated("the search page"),
            PageJob::Withdrawn(w) => Origin::Withdrawn(w),
        };
        Job {
            path: urls::output_file(route),
            fingerprint,
            kind: JobKind::Page(job),
            origin,
        }
    }
}

/// The part of the global `site` variable that follows from the config alone: what
/// shortcode templates get as `site` (they run while content is read, before the site is
/// indexed, and their output is cached under a key that covers the config).
pub fn config_site_value(config: &Config, urls: &Urls) -> Value {
    map([
        ("title", Value::from(config.title.as_str())),
        ("description", Value::from(config.description.as_str())),
        ("language", Value::from(config.language.as_str())),
        ("base_url", Value::from(urls.base_url())),
        ("url", Value::from(urls.url(""))),
        ("rss_url", Value::from(urls.url(urls::RSS))),
        ("atom_url", Value::from(urls.url(urls::ATOM))),
        ("json_feed_url", Value::from(urls.url(urls::JSON_FEED))),
        ("sitemap_url", Value::from(urls.url(urls::SITEMAP))),
        (
            "search_url",
            if config.search {
                Value::from(urls.url(urls::SEARCH))
            } else {
                Value::none()
            },
        ),
        ("extra", Value::from_serializable(&config.extra)),
        (
            "generator",
            Value::from(concat!("sitrep ", env!("CARGO_PKG_VERSION"))),
        ),
    ])
}

/// The global `site` variable: [`config_site_value`] and what follows from the site.
pub fn site_value(
    site: &Site,
    config: &Config,
    urls: &Urls,
    favicons: bool,
    assets: &deploy::assets::Assets,
) -> Value {
    let syntax_css_url = assets
        .link(urls::SYNTAX_CSS)
        .map_or_else(|| urls.url(urls::SYNTAX_CSS), str::to_string);
    let security_meta = if config.deploy.meta_tags && config.headers.enabled {
        deploy::meta::tags(&config.headers.with_frames(&ioc_exports::frame_hosts(site)))
    } else {
        String::new()
    };
    let taxonomies: Vec<Value> = site
        .taxonomies
        .iter()
        .map(|t| {
            map([
                ("name", Value::from(t.kind.name())),
                ("title", Value::from(t.kind.title())),
                ("url", Value::from(urls.url(&urls::taxonomy(t.kind.name())))),
                ("count", Value::from(t.terms.len())),
            ])
        })
        .collect();
    let pages: Vec<Value> = site
        .pages
        .iter()
        .filter(|p| !p.route.is_empty())
        .map(|p| {
            map([
                ("title", Value::from(p.title.as_str())),
                ("url", Value::from(urls.url(&p.route))),
            ])
        })
        .collect();
    let mut m = config_site_value(config, urls)
        .into_map()
        .unwrap_or_default();
    let from_site = [
        ("syntax_css_url", Value::from(syntax_css_url)),
        ("security_meta", Value::safe_string(&security_meta)),
        ("taxonomies", Value::from(taxonomies)),
        ("pages", Value::from(pages)),
        ("post_count", Value::from(site.posts.len())),
        (
            "manifest_url",
            if favicons {
                Value::from(urls.url(images::favicons::MANIFEST))
            } else {
                Value::none()
            },
        ),
    ];
    for (k, v) in from_site {
        m.insert(k.into(), v);
    }
    Value::from(m)
}

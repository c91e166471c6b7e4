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

pub mod feeds;
pub mod intel;
pub mod templates;
pub mod theme;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;
use tera::{Context, Map, Value};

use crate::config::Config;
use crate::config::headers;
use crate::content::{Page, PageKind};
use crate::error::Diagnostic;
use crate::index::{Site, TaxonomyKind, page_count};
use crate::render::templates::Templates;
use crate::render::theme::{FileSource, ThemeFiles};
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::{self, Urls};
use feeds::{FeedPost, FeedSite, SitemapEntry};

/// The sidebar fragment template: rendered once per distinct "Latest from Blog" list.
pub const LATEST_PARTIAL: &str = "partials/latest.html";

/// One output file: where it goes, what it is made from, how to make it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Path relative to the output folder.
    pub path: PathBuf,
    pub fingerprint: Fingerprint,
    pub kind: JobKind,
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
    /// Threat intelligence from the data files ([`Renderer::with_intel`]).
    intel: Option<intel::IntelView<'a>>,
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
            .str(&format!("{config:?}"))
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
            intel: None,
        }
    }

    /// The fingerprint of term `t` of taxonomy `k` (what its link value shows).
    fn term_fp(&self, k: usize, t: usize) -> Fingerprint {
        *self.term_fps[k][t].get_or_init(|| {
            let tax = &self.site.taxonomies[k];
            let term = &tax.terms[t];
            Builder::new("term")
                .str(tax.kind.name())
                .str(&term.name)
                .str(&term.slug)
                .num(term.posts.len() as u64)
                .fp(if tax.kind == TaxonomyKind::Cve {
                    self.cve_intel_fp(&term.slug)
                } else {
                    0
                })
                .finish()
        })
    }

    /// The fingerprint of post `i`'s summary.
    fn summary_fp_of(&self, i: usize) -> Fingerprint {
        *self.summary_fps[i].get_or_init(|| self.summary_fp(&self.site.posts[i]))
    }

    fn kind_index(kind: TaxonomyKind) -> usize {
        TaxonomyKind::ALL
            .iter()
            .position(|x| *x == kind)
            .unwrap_or(0)
    }

    fn term_fps_of<'b>(
        &'b self,
        kind: TaxonomyKind,
        names: &'b [String],
    ) -> impl Iterator<Item = Fingerprint> + 'b {
        let k = Self::kind_index(kind);
        names
            .iter()
            .filter_map(move |n| self.site.term_of(kind, n).map(|t| self.term_fp(k, t)))
    }

    /// The link value of term `t` of taxonomy `k`.
    fn term_value(&self, k: usize, t: usize) -> Value {
        self.terms[k][t]
            .get_or_init(|| {
                let tax = &self.site.taxonomies[k];
                let term = &tax.terms[t];
                let route = urls::term(tax.kind.name(), &term.slug, 1);
                let (record, intel) = if tax.kind == TaxonomyKind::Cve {
                    (
                        Value::from(urls::cve_record(&term.slug)),
                        self.cve_intel_value(&term.slug),
                    )
                } else {
                    (Value::none(), Value::none())
                };
                map([
                    ("name", Value::from(term.name.as_str())),
                    ("slug", Value::from(term.slug.as_str())),
                    ("url", Value::from(self.urls.url(&route))),
                    ("permalink", Value::from(self.urls.permalink(&route))),
                    ("count", Value::from(term.posts.len())),
                    ("record_url", record),
                    ("intel", intel),
                ])
            })
            .clone()
    }

    fn term_links(&self, kind: TaxonomyKind, names: &[String]) -> Value {
        let k = Self::kind_index(kind);
        Value::from(
            names
                .iter()
                .filter_map(|n| self.site.term_of(kind, n).map(|t| self.term_value(k, t)))
                .collect::<Vec<_>>(),
        )
    }

    /// What listings, sidebars and neighbours show of post `i`.
    fn summary(&self, i: usize) -> Value {
        self.summaries[i]
            .get_or_init(|| {
                let p = &self.site.posts[i];
                let u = self.urls;
                map([
                    ("title", Value::from(p.title.as_str())),
                    ("url", Value::from(u.url(&p.route))),
                    ("permalink", Value::from(u.permalink(&p.route))),
                    ("slug", Value::from(p.slug.as_str())),
                    ("date", opt_str(p.date.map(|d| d.ymd()))),
                    ("datetime", opt_str(p.date.map(|d| d.rfc3339()))),
                    ("updated", opt_str(p.updated.map(|d| d.ymd()))),
                    ("updated_datetime", opt_str(p.updated.map(|d| d.rfc3339()))),
                    ("tldr", strings(&p.tldr)),
                    ("description", Value::from(p.description.as_str())),
                    ("tags", self.term_links(TaxonomyKind::Tags, &p.tags)),
                    (
                        "categories",
                        self.term_links(TaxonomyKind::Categories, &p.categories),
                    ),
                    ("cves", self.term_links(TaxonomyKind::Cve, &p.cves)),
                    ("authors", strings(&p.authors)),
                    ("reading_time", Value::from(p.reading_time)),
                    (
                        "image",
                        opt_str(p.image.as_deref().map(|i| u.absolutize(i))),
                    ),
                    ("draft", Value::from(p.draft)),
                ])
            })
            .clone()
    }

    /// Covers exactly the fields [`Renderer::summary`] shows (and the terms' values).
    fn summary_fp(&self, p: &Page) -> Fingerprint {
        let date =
            |d: Option<crate::support::date::Date>| d.map(|d| d.rfc3339()).unwrap_or_default();
        Builder::new("summary")
            .str(&p.title)
            .str(&p.route)
            .str(&p.slug)
            .str(&date(p.date))
            .str(&date(p.updated))
            .all(p.tldr.iter().map(|t| fingerprint::of_bytes(t.as_bytes())))
            .str(&p.description)
            .all(self.term_fps_of(TaxonomyKind::Tags, &p.tags))
            .all(self.term_fps_of(TaxonomyKind::Categories, &p.categories))
            .all(self.term_fps_of(TaxonomyKind::Cve, &p.cves))
            .all(
                p.authors
                    .iter()
                    .map(|a| fingerprint::of_bytes(a.as_bytes())),
            )
            .num(p.reading_time as u64)
            .str(p.image.as_deref().unwrap_or(""))
            .num(p.draft.into())
            .finish()
    }

    fn list(&self, indices: &[usize]) -> Value {
        Value::from(indices.iter().map(|&i| self.summary(i)).collect::<Vec<_>>())
    }

    fn list_fp(&self, indices: &[usize]) -> Fingerprint {
        Builder::new("list")
            .all(indices.iter().map(|&i| self.summary_fp_of(i)))
            .finish()
    }

    /// Which latest list a page shows: 0 for the top list, `1 + i` for "without post i".
    fn latest_slot(&self, post: Option<usize>) -> usize {
        match post {
            Some(i) if i < self.latest_without.len() => i + 1,
            _ => 0,
        }
    }

    fn latest_indices(&self, slot: usize) -> &[usize] {
        if slot == 0 {
            &self.latest_top
        } else {
            &self.latest_without[slot - 1]
        }
    }

    /// `latest`, and the prerendered `latest_html` fragment when the theme has one.
    fn insert_latest(&self, ctx: &mut Context, slot: usize) -> Result<(), Diagnostic> {
        let list = self.list(self.latest_indices(slot));
        if self.templates.has(LATEST_PARTIAL) {
            let html = self.latest_html[slot]
                .get_or_init(|| {
                    let mut c = Context::new();
                    c.insert_value("latest", list.clone());
                    let mut buf = Vec::new();
                    self.templates.render_to(LATEST_PARTIAL, &c, &mut buf)?;
                    Ok(Value::safe_string(&String::from_utf8_lossy(&buf)))
                })
                .clone()?;
            ctx.insert_value("latest_html", html);
        }
        ctx.insert_value("latest", list);
        Ok(())
    }

    /// Everything a post's own page shows: the summary plus body, related, neighbours.
    fn post_value(&self, i: usize) -> Result<Value, Diagnostic> {
        let p = &self.site.posts[i];
        let mut m = self.summary(i).into_map().unwrap_or_default();
        m.insert("word_count".into(), Value::from(p.word_count));
        m.insert("content".into(), Value::safe_string(p.html.get()?));
        m.insert("toc".into(), toc(p));
        m.insert("extra".into(), Value::from_serializable(&p.extra));
        m.insert("attack".into(), self.attack_links(&p.attack));
        m.insert(
            "related".into(),
            Value::from(
                self.site.related[i]
                    .iter()
                    .map(|r| {
                        map([
                            ("title", Value::from(r.title.as_str())),
                            ("url", Value::from(r.url.as_str())),
                            ("internal", Value::from(r.post.is_some())),
                            ("post", r.post.map_or_else(Value::none, |j| self.summary(j))),
                        ])
                    })
                    .collect::<Vec<_>>(),
            ),
        );
        let newer = i
            .checked_sub(1)
            .map_or_else(Value::none, |j| self.summary(j));
        let older = if i + 1 < self.site.posts.len() {
            self.summary(i + 1)
        } else {
            Value::none()
        };
        m.insert("newer".into(), newer);
        m.insert("older".into(), older);
        Ok(Value::from(m))
    }

    fn post_fp(&self, i: usize) -> Fingerprint {
        // The source covers the body, table of contents, extra and related entries.
        let mut b = Builder::new("post")
            .fp(self.global)
            .fp(self.summary_fp_of(i))
            .fp(self.site.posts[i].source_hash)
            .fp(self.attack_links_fp(&self.site.posts[i].attack));
        for r in &self.site.related[i] {
            b = b
                .str(&r.title)
                .str(&r.url)
                .fp(r.post.map_or(0, |j| self.summary_fp_of(j)));
        }
        let newer = i.checked_sub(1).map_or(0, |j| self.summary_fp_of(j));
        let older = if i + 1 < self.site.posts.len() {
            self.summary_fp_of(i + 1)
        } else {
            0
        };
        b.fp(newer)
            .fp(older)
            .fp(self.list_fp(self.latest_indices(self.latest_slot(Some(i)))))
            .finish()
    }

    fn page_value(&self, p: &Page) -> Result<Value, Diagnostic> {
        let u = self.urls;
        Ok(map([
            ("title", Value::from(p.title.as_str())),
            ("url", Value::from(u.url(&p.route))),
            ("permalink", Value::from(u.permalink(&p.route))),
            ("slug", Value::from(p.slug.as_str())),
            ("description", Value::from(p.description.as_str())),
            ("date", opt_str(p.date.map(|d| d.ymd()))),
            ("datetime", opt_str(p.date.map(|d| d.rfc3339()))),
            ("updated", opt_str(p.updated.map(|d| d.ymd()))),
            ("updated_datetime", opt_str(p.updated.map(|d| d.rfc3339()))),
            ("tldr", strings(&p.tldr)),
            ("authors", strings(&p.authors)),
            (
                "image",
                opt_str(p.image.as_deref().map(|i| u.absolutize(i))),
            ),
            ("reading_time", Value::from(p.reading_time)),
            ("word_count", Value::from(p.word_count)),
            ("content", Value::safe_string(p.html.get()?)),
            ("toc", toc(p)),
            ("extra", Value::from_serializable(&p.extra)),
        ]))
    }

    /// The posts `posts` show on page `n` of a listing.
    fn slice<'p>(&self, posts: &'p [usize], n: usize) -> &'p [usize] {
        let per = self.config.posts_per_page;
        let start = ((n - 1) * per).min(posts.len());
        &posts[start..(start + per).min(posts.len())]
    }

    fn paginator(&self, first_route: &str, posts: &[usize], n: usize) -> Value {
        let per = self.config.posts_per_page;
        let total = page_count(posts.len(), per);
        let u = self.urls;
        let at = |k: usize| Value::from(u.url(&urls::paginated(first_route, k)));
        map([
            ("number", Value::from(n)),
            ("total_pages", Value::from(total)),
            ("total_posts", Value::from(posts.len())),
            ("per_page", Value::from(per)),
            ("posts", self.list(self.slice(posts, n))),
            ("first_url", at(1)),
            ("last_url", at(total)),
            (
                "previous_url",
                if n > 1 { at(n - 1) } else { Value::none() },
            ),
            (
                "next_url",
                if n < total { at(n + 1) } else { Value::none() },
            ),
        ])
    }

    fn paginator_fp(&self, first_route: &str, posts: &[usize], n: usize) -> Fingerprint {
        Builder::new("paginator")
            .str(first_route)
            .num(n as u64)
            .num(posts.len() as u64)
            .fp(self.list_fp(self.slice(posts, n)))
            .finish()
    }

    fn taxonomy_value(&self, k: usize, with_terms: bool) -> Value {
        let tax = &self.site.taxonomies[k];
        let name = tax.kind.name();
        let terms = if with_terms {
            Value::from(
                (0..tax.terms.len())
                    .map(|t| self.term_value(k, t))
                    .collect::<Vec<_>>(),
            )
        } else {
            Value::none()
        };
        map([
            ("name", Value::from(name)),
            ("title", Value::from(tax.kind.title())),
            ("url", Value::from(self.urls.url(&urls::taxonomy(name)))),
            (
                "permalink",
                Value::from(self.urls.permalink(&urls::taxonomy(name))),
            ),
            ("terms", terms),
        ])
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
        })
    }

    /// Renders a job that is not a copy into `buf`.
    pub fn render(&self, kind: &JobKind, buf: &mut Vec<u8>) -> Result<(), Diagnostic> {
        buf.clear();
        match kind {
            JobKind::Page(job) => {
                let (_, template, ctx) = self.page_context(*job)?;
                self.templates.render_to(template, &ctx, buf)
            }
            JobKind::Redirect(target) => {
                buf.extend_from_slice(
                    feeds::redirect_html(target, &self.config.language).as_bytes(),
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

    /// Every output of the site, each once (a generated page replaces a static file of
    /// the same path), in a stable order; and warnings about replaced static files.
    pub fn plan(&self) -> Result<(Vec<Job>, Vec<Diagnostic>), Diagnostic> {
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
        let (mut jobs, warnings) = statics;
        jobs.extend(pages);
        jobs.extend(terms);
        jobs.extend(redirects);
        jobs.extend(generated?);
        jobs.extend(self.plan_intel(latest_top_fp)?);
        Ok((jobs, warnings))
    }

    fn page_job(route: &str, fingerprint: Fingerprint, job: PageJob) -> Job {
        Job {
            path: urls::output_file(route),
            fingerprint,
            kind: JobKind::Page(job),
        }
    }

    /// Static files of the theme and the site, and files beside bundled pages.
    fn plan_static(&self) -> (Vec<Job>, Vec<Diagnostic>) {
        let mut jobs = Vec::new();
        let mut warnings = Vec::new();
        for (rel, (src, shown)) in &self.theme.statics {
            if rel != Path::new(urls::ROBOTS) && self.site.is_generated(rel) {
                warnings.push(
                    Diagnostic::warning(
                        shown,
                        format!("a generated page replaces this file at /{}", rel.display()),
                    )
                    .with_help("rename or remove the static file"),
                );
                continue;
            }
            let (fp, kind) = match src {
                FileSource::Disk(path) => (copy_fingerprint(path), JobKind::Copy(path.clone())),
                FileSource::Embedded(bytes) => {
                    (fingerprint::of_bytes(bytes), JobKind::Embedded(bytes))
                }
            };
            jobs.push(Job {
                path: rel.clone(),
                fingerprint: fp,
                kind,
            });
        }
        for a in &self.site.assets {
            jobs.push(Job {
                path: a.dest.clone(),
                fingerprint: copy_fingerprint(&a.source),
                kind: JobKind::Copy(a.source.clone()),
            });
        }
        (jobs, warnings)
    }

    /// Posts, standalone pages, the home pages and the 404 page.
    fn plan_pages(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
        let site = self.site;
        let mut jobs: Vec<Job> = (0..site.posts.len())
            .into_par_iter()
            .map(|i| self.plan_post(i))
            .collect();
        for (j, p) in site.pages.iter().enumerate() {
            let fp = Builder::new("page")
                .fp(self.global)
                .fp(p.source_hash)
                .fp(latest_top_fp)
                .finish();
            jobs.push(Self::page_job(&p.route, fp, PageJob::Page(j)));
        }
        for n in 1..=page_count(site.posts.len(), self.config.posts_per_page) {
            jobs.push(self.plan_home(n, latest_top_fp));
        }
        let fp = Builder::new("404")
            .fp(self.global)
            .fp(latest_top_fp)
            .finish();
        jobs.push(Self::page_job(urls::NOT_FOUND, fp, PageJob::NotFound));
        jobs
    }

    /// The list of terms of each taxonomy, and every page of every term.
    fn plan_taxonomies(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (k, tax) in self.site.taxonomies.iter().enumerate() {
            let name = tax.kind.name();
            let fp = Builder::new("taxonomy")
                .fp(self.global)
                .str(name)
                .all((0..tax.terms.len()).map(|t| self.term_fp(k, t)))
                .fp(latest_top_fp)
                .finish();
            jobs.push(Self::page_job(
                &urls::taxonomy(name),
                fp,
                PageJob::TaxonomyList(k),
            ));
            let per_term: Vec<Vec<Job>> = tax
                .terms
                .par_iter()
                .enumerate()
                .map(|(t, term)| {
                    (1..=page_count(term.posts.len(), self.config.posts_per_page))
                        .map(|n| self.plan_term(k, t, n, latest_top_fp))
                        .collect()
                })
                .collect();
            jobs.extend(per_term.into_iter().flatten());
        }
        jobs
    }

    /// Redirects: aliases, and page 1 of every listing to the listing itself.
    fn plan_redirects(&self) -> Vec<Job> {
        let redirect = |route: &str, target: String| {
            let fingerprint = Builder::new("redirect")
                .str(&target)
                .str(&self.config.language)
                .finish();
            Job {
                path: urls::output_file(route),
                fingerprint,
                kind: JobKind::Redirect(target),
            }
        };
        let mut jobs = Vec::new();
        for p in self.site.posts.iter().chain(&self.site.pages) {
            for a in &p.aliases {
                jobs.push(redirect(a, self.urls.permalink(&p.route)));
            }
        }
        jobs.push(redirect("page/1/", self.urls.permalink("")));
        for tax in &self.site.taxonomies {
            let more: Vec<Job> = tax
                .terms
                .par_iter()
                .map(|term| {
                    let first = urls::term(tax.kind.name(), &term.slug, 1);
                    redirect(&format!("{first}page/1/"), self.urls.permalink(&first))
                })
                .collect();
            jobs.extend(more);
        }
        jobs
    }

    /// The three feeds, made now and fingerprinted by their bytes.
    pub fn plan_feeds(&self) -> Result<Vec<Job>, Diagnostic> {
        let feed_site = FeedSite {
            title: &self.config.title,
            description: &self.config.description,
            language: &self.config.language,
            urls: self.urls,
        };
        let newest: Vec<FeedPost<'_>> = self
            .site
            .posts
            .iter()
            .take(self.config.feed_limit)
            .map(|page| {
                Ok(FeedPost {
                    page,
                    html: page.html.get()?,
                })
            })
            .collect::<Result<_, Diagnostic>>()?;
        Ok(vec![
            bytes_job(urls::RSS, feeds::rss(&feed_site, &newest)),
            bytes_job(urls::ATOM, feeds::atom(&feed_site, &newest)),
            bytes_job(urls::JSON_FEED, feeds::json_feed(&feed_site, &newest)),
        ])
    }

    /// The job of post `i`'s own page.
    pub fn plan_post(&self, i: usize) -> Job {
        Self::page_job(&self.site.posts[i].route, self.post_fp(i), PageJob::Post(i))
    }

    /// The job of home page `n`.
    fn plan_home(&self, n: usize, latest_top_fp: Fingerprint) -> Job {
        let all: Vec<usize> = (0..self.site.posts.len()).collect();
        let fp = Builder::new("home")
            .fp(self.global)
            .fp(self.paginator_fp("", &all, n))
            .fp(latest_top_fp)
            .finish();
        Self::page_job(&urls::home(n), fp, PageJob::Home(n))
    }

    /// The job of page `n` of term `t` of taxonomy `k`.
    fn plan_term(&self, k: usize, t: usize, n: usize, latest_top_fp: Fingerprint) -> Job {
        let tax = &self.site.taxonomies[k];
        let term = &tax.terms[t];
        let first = urls::term(tax.kind.name(), &term.slug, 1);
        let fp = Builder::new("term-page")
            .fp(self.global)
            .fp(self.term_fp(k, t))
            .fp(self.paginator_fp(&first, &term.posts, n))
            .fp(latest_top_fp)
            .finish();
        Self::page_job(&urls::paginated(&first, n), fp, PageJob::Term(k, t, n))
    }

    /// Every page that shows post `i`'s summary: its own page, its neighbours, the posts
    /// whose related links name it, and the home and term pages that list it. `None` when
    /// it is in a "Latest from Blog" list, which nearly every page shows. These are exactly
    /// the jobs whose fingerprint covers `summary_fp_of(i)` (see `post_fp` and
    /// `paginator_fp`), so a change that only changes that summary changes only them.
    pub fn plan_showing_summary(&self, i: usize) -> Option<Vec<Job>> {
        let site = self.site;
        if self.latest_top.contains(&i) || self.latest_without.iter().any(|l| l.contains(&i)) {
            return None;
        }
        let per = self.config.posts_per_page.max(1);
        let latest_top_fp = self.list_fp(&self.latest_top);
        let mut jobs = vec![self.plan_post(i)];
        if i > 0 {
            jobs.push(self.plan_post(i - 1));
        }
        if i + 1 < site.posts.len() {
            jobs.push(self.plan_post(i + 1));
        }
        for (j, related) in site.related.iter().enumerate() {
            if related.iter().any(|r| r.post == Some(i)) {
                jobs.push(self.plan_post(j));
            }
        }
        jobs.push(self.plan_home(i / per + 1, latest_top_fp));
        let p = &site.posts[i];
        for (k, tax) in site.taxonomies.iter().enumerate() {
            let names = match tax.kind {
                TaxonomyKind::Tags => &p.tags,
                TaxonomyKind::Categories => &p.categories,
                TaxonomyKind::Cve => &p.cves,
            };
            for name in names {
                if let Some(t) = site.term_of(tax.kind, name)
                    && let Ok(pos) = tax.terms[t].posts.binary_search(&i)
                {
                    jobs.push(self.plan_term(k, t, pos / per + 1, latest_top_fp));
                }
            }
        }
        Some(jobs)
    }

    /// The job of standalone page `j`.
    pub fn plan_page(&self, j: usize) -> Job {
        let p = &self.site.pages[j];
        let fp = Builder::new("page")
            .fp(self.global)
            .fp(p.source_hash)
            .fp(self.list_fp(&self.latest_top))
            .finish();
        Self::page_job(&p.route, fp, PageJob::Page(j))
    }

    /// Feeds, sitemap, robots.txt, `_headers`, the highlighting stylesheet: made now and
    /// fingerprinted by their bytes.
    fn plan_generated(&self) -> Result<Vec<Job>, Diagnostic> {
        let site = self.site;
        let mut jobs = self.plan_feeds()?;
        let bytes =
            |jobs: &mut Vec<Job>, route: &str, text: String| jobs.push(bytes_job(route, text));
        let mut entries = sitemap_entries(site, self.urls);
        entries.extend(self.intel_routes().into_iter().map(|r| SitemapEntry {
            loc: self.urls.permalink(&r),
            lastmod: None,
        }));
        for (route, text) in feeds::sitemaps(&entries, self.urls) {
            bytes(&mut jobs, &route, text);
        }
        if !self.theme.statics.contains_key(Path::new(urls::ROBOTS)) {
            bytes(&mut jobs, urls::ROBOTS, feeds::robots(self.urls));
        }
        // Security headers, unless turned off or the site ships its own `_headers`.
        if self.config.headers.enabled && !self.theme.statics.contains_key(Path::new(headers::FILE))
        {
            bytes(&mut jobs, headers::FILE, self.config.headers.file());
        }
        if let Some(css) = self.syntax_css {
            bytes(&mut jobs, urls::SYNTAX_CSS, css.to_string());
        }
        Ok(jobs)
    }
}

/// A file made while planning, fingerprinted by its bytes.
fn bytes_job(route: &str, text: String) -> Job {
    let b = text.into_bytes();
    Job {
        path: PathBuf::from(route),
        fingerprint: fingerprint::of_bytes(&b),
        kind: JobKind::Bytes(std::sync::Arc::new(b)),
    }
}

/// A copied file is fingerprinted by its path, size and modification time.
fn copy_fingerprint(path: &Path) -> Fingerprint {
    use std::os::unix::fs::MetadataExt;
    let b = Builder::new("copy").str(&path.to_string_lossy());
    match std::fs::metadata(path) {
        Ok(m) => b
            .num(m.len())
            .num(m.mtime() as u64)
            .num(m.mtime_nsec() as u64)
            .num(m.ino())
            .finish(),
        Err(_) => b.finish(),
    }
}

fn toc(p: &Page) -> Value {
    Value::from(
        p.headings
            .iter()
            .map(|h| {
                map([
                    ("level", Value::from(h.level)),
                    ("id", Value::from(h.id.as_str())),
                    ("title", Value::from(h.text.as_str())),
                ])
            })
            .collect::<Vec<_>>(),
    )
}

/// The global `site` variable.
pub fn site_value(site: &Site, config: &Config, urls: &Urls) -> Value {
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
        ("syntax_css_url", Value::from(urls.url(urls::SYNTAX_CSS))),
        ("taxonomies", Value::from(taxonomies)),
        ("pages", Value::from(pages)),
        ("post_count", Value::from(site.posts.len())),
        ("extra", Value::from_serializable(&config.extra)),
        (
            "generator",
            Value::from(concat!("sitrep ", env!("CARGO_PKG_VERSION"))),
        ),
    ])
}

fn sitemap_entries(site: &Site, urls: &Urls) -> Vec<SitemapEntry> {
    let lastmod_of = |p: &Page| p.updated.or(p.date).map(|d| d.rfc3339());
    let newest_of = |posts: &[usize]| {
        posts
            .iter()
            .filter_map(|&i| site.posts[i].updated.or(site.posts[i].date))
            .max()
            .map(|d| d.rfc3339())
    };
    let all: Vec<usize> = (0..site.posts.len()).collect();
    let mut entries = vec![SitemapEntry {
        loc: urls.permalink(""),
        lastmod: newest_of(&all),
    }];
    for p in site
        .posts
        .iter()
        .chain(site.pages.iter().filter(|p| p.kind == PageKind::Page))
    {
        entries.push(SitemapEntry {
            loc: urls.permalink(&p.route),
            lastmod: lastmod_of(p),
        });
    }
    for tax in &site.taxonomies {
        let name = tax.kind.name();
        let every: Vec<usize> = tax
            .terms
            .iter()
            .flat_map(|t| t.posts.iter().copied())
            .collect();
        entries.push(SitemapEntry {
            loc: urls.permalink(&urls::taxonomy(name)),
            lastmod: newest_of(&every),
        });
        for term in &tax.terms {
            entries.push(SitemapEntry {
                loc: urls.permalink(&urls::term(name, &term.slug, 1)),
                lastmod: newest_of(&term.posts),
            });
        }
    }
    entries
}

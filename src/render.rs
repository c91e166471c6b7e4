//! Stage 4: render every page of the indexed site and hand each to the writer.
//!
//! Shared lists are built once as template values and shared by reference count: each
//! post's summary, each term's link, the "Latest from Blog" lists (at most
//! `latest_posts + 1` distinct ones). No page re-serialises the site. Pages are rendered in
//! parallel and streamed to disk one by one, so memory does not grow with the output.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tera::{Context, Map, Value};

use crate::config::Config;
use crate::content::{Page, PageKind};
use crate::error::Diagnostic;
use crate::feeds::{self, FeedSite, SitemapEntry};
use crate::headers;
use crate::highlight;
use crate::index::{Site, TaxonomyKind, page_count};
use crate::output::Staging;
use crate::templates::Templates;
use crate::theme::{FileSource, ThemeFiles};
use crate::urls::{self, Urls};

/// What rendering wrote.
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: usize,
    pub warnings: Vec<Diagnostic>,
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

/// Template values shared across pages, built once per build.
struct Shared<'a> {
    site: &'a Site,
    config: &'a Config,
    urls: &'a Urls,
    /// For each taxonomy (in `TaxonomyKind::ALL` order), each term's link value.
    terms: Vec<Vec<Value>>,
    /// Each post's summary value.
    summaries: Vec<Value>,
    /// The newest `latest_posts` posts.
    latest_top: Value,
    /// For the newest posts, the latest list without themselves.
    latest_without: Vec<Value>,
}

impl<'a> Shared<'a> {
    fn new(site: &'a Site, config: &'a Config, urls: &'a Urls) -> Self {
        let terms: Vec<Vec<Value>> = site
            .taxonomies
            .iter()
            .map(|tax| {
                tax.terms
                    .iter()
                    .map(|t| {
                        let route = urls::term(tax.kind.name(), &t.slug, 1);
                        let record = if tax.kind == TaxonomyKind::Cve {
                            Value::from(urls::cve_record(&t.slug))
                        } else {
                            Value::none()
                        };
                        map([
                            ("name", Value::from(t.name.as_str())),
                            ("slug", Value::from(t.slug.as_str())),
                            ("url", Value::from(urls.url(&route))),
                            ("permalink", Value::from(urls.permalink(&route))),
                            ("count", Value::from(t.posts.len())),
                            ("record_url", record),
                        ])
                    })
                    .collect()
            })
            .collect();
        let mut shared = Shared {
            site,
            config,
            urls,
            terms,
            summaries: Vec::new(),
            latest_top: Value::from(Vec::<Value>::new()),
            latest_without: Vec::new(),
        };
        shared.summaries = site.posts.par_iter().map(|p| shared.summary(p)).collect();
        let n = config.latest_posts;
        shared.latest_top = shared.list(&site.latest(n, None));
        shared.latest_without = (0..n.min(site.posts.len()))
            .map(|i| shared.list(&site.latest(n, Some(i))))
            .collect();
        shared
    }

    fn list(&self, indices: &[usize]) -> Value {
        Value::from(
            indices
                .iter()
                .map(|&i| self.summaries[i].clone())
                .collect::<Vec<_>>(),
        )
    }

    fn latest_for(&self, post: usize) -> Value {
        self.latest_without
            .get(post)
            .cloned()
            .unwrap_or_else(|| self.latest_top.clone())
    }

    fn term_links(&self, kind: TaxonomyKind, names: &[String]) -> Value {
        let k = TaxonomyKind::ALL
            .iter()
            .position(|x| *x == kind)
            .unwrap_or(0);
        Value::from(
            names
                .iter()
                .filter_map(|n| self.site.term_of(kind, n).map(|t| self.terms[k][t].clone()))
                .collect::<Vec<_>>(),
        )
    }

    /// What listings, sidebars and neighbours show of a post.
    fn summary(&self, p: &Page) -> Value {
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
            ("word_count", Value::from(p.word_count)),
            (
                "image",
                opt_str(p.image.as_deref().map(|i| u.absolutize(i))),
            ),
            ("draft", Value::from(p.draft)),
        ])
    }

    /// Everything a post's own page shows: the summary plus body, related, neighbours.
    fn post_value(&self, i: usize) -> Value {
        let p = &self.site.posts[i];
        let mut m = self.summaries[i].clone().into_map().unwrap_or_default();
        m.insert("content".into(), Value::safe_string(&p.html));
        m.insert("toc".into(), toc(p));
        m.insert("extra".into(), Value::from_serializable(&p.extra));
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
                            (
                                "post",
                                r.post
                                    .map_or_else(Value::none, |j| self.summaries[j].clone()),
                            ),
                        ])
                    })
                    .collect::<Vec<_>>(),
            ),
        );
        let newer = i
            .checked_sub(1)
            .map_or_else(Value::none, |j| self.summaries[j].clone());
        let older = self
            .summaries
            .get(i + 1)
            .cloned()
            .unwrap_or_else(Value::none);
        m.insert("newer".into(), newer);
        m.insert("older".into(), older);
        Value::from(m)
    }

    fn page_value(&self, p: &Page) -> Value {
        let u = self.urls;
        map([
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
            ("content", Value::safe_string(&p.html)),
            ("toc", toc(p)),
            ("extra", Value::from_serializable(&p.extra)),
        ])
    }

    fn paginator(&self, first_route: &str, posts: &[usize], n: usize) -> Value {
        let per = self.config.posts_per_page;
        let total = page_count(posts.len(), per);
        let u = self.urls;
        let slice: Vec<usize> = posts
            .iter()
            .copied()
            .skip((n - 1) * per)
            .take(per)
            .collect();
        let at = |k: usize| Value::from(u.url(&urls::paginated(first_route, k)));
        map([
            ("number", Value::from(n)),
            ("total_pages", Value::from(total)),
            ("total_posts", Value::from(posts.len())),
            ("per_page", Value::from(per)),
            ("posts", self.list(&slice)),
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

    /// A context with what every page gets.
    fn context(&self, kind: &str, route: &str, title: &str) -> Context {
        let mut ctx = Context::new();
        ctx.insert_value("kind", Value::from(kind));
        ctx.insert_value("current_url", Value::from(self.urls.url(route)));
        ctx.insert_value("canonical", Value::from(self.urls.permalink(route)));
        ctx.insert_value("title", Value::from(title));
        ctx.insert_value("latest", self.latest_top.clone());
        ctx
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

/// Renders and writes everything.
pub fn render_all(
    site: &Site,
    config: &Config,
    urls: &Urls,
    templates: &Templates,
    theme: &ThemeFiles,
    staging: &Staging,
) -> Result<Rendered, Diagnostic> {
    let shared = Shared::new(site, config, urls);
    let files = AtomicUsize::new(0);
    let mut warnings = Vec::new();
    let write = |rel: PathBuf, bytes: &[u8]| -> Result<(), Diagnostic> {
        staging.write(&rel, bytes)?;
        files.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    let render_page =
        |buf: &mut Vec<u8>, template: &str, ctx: &Context, route: &str| -> Result<(), Diagnostic> {
            buf.clear();
            templates.render_to(template, ctx, buf)?;
            write(urls::output_file(route), buf)
        };

    // Static files first: generated pages of the same name replace them (with a warning).
    let static_robots = theme.statics.keys().any(|p| p == Path::new(urls::ROBOTS));
    theme
        .statics
        .par_iter()
        .try_for_each(|(rel, (src, _))| -> Result<(), Diagnostic> {
            match src {
                FileSource::Disk(path) => staging.copy(path, rel)?,
                FileSource::Embedded(bytes) => staging.write(rel, bytes)?,
            }
            files.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })?;
    for (rel, (_, shown)) in &theme.statics {
        if rel != Path::new(urls::ROBOTS) && site.is_generated(rel) {
            warnings.push(
                Diagnostic::warning(
                    shown,
                    format!("a generated page replaces this file at /{}", rel.display()),
                )
                .with_help("rename or remove the static file"),
            );
        }
    }
    site.assets
        .par_iter()
        .try_for_each(|a| -> Result<(), Diagnostic> {
            staging.copy(&a.source, &a.dest)?;
            files.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })?;

    // Posts.
    (0..site.posts.len()).into_par_iter().try_for_each_init(
        || Vec::with_capacity(64 * 1024),
        |buf, i| {
            let p = &site.posts[i];
            let mut ctx = shared.context("post", &p.route, &p.title);
            ctx.insert_value("page", shared.post_value(i));
            ctx.insert_value("latest", shared.latest_for(i));
            render_page(buf, "post.html", &ctx, &p.route)
        },
    )?;

    // Standalone pages.
    site.pages.par_iter().try_for_each_init(
        || Vec::with_capacity(32 * 1024),
        |buf, p| {
            let mut ctx = shared.context("page", &p.route, &p.title);
            ctx.insert_value("page", shared.page_value(p));
            render_page(buf, "page.html", &ctx, &p.route)
        },
    )?;

    // Home pages.
    let all: Vec<usize> = (0..site.posts.len()).collect();
    let home_pages = page_count(all.len(), config.posts_per_page);
    (1..=home_pages).into_par_iter().try_for_each_init(
        || Vec::with_capacity(64 * 1024),
        |buf, n| {
            let route = urls::home(n);
            let mut ctx = shared.context("home", &route, &config.title);
            ctx.insert_value("paginator", shared.paginator("", &all, n));
            render_page(buf, "index.html", &ctx, &route)
        },
    )?;

    // Taxonomies: the list of terms, then every page of every term.
    let mut term_jobs: Vec<(usize, usize, usize)> = Vec::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    for (k, tax) in site.taxonomies.iter().enumerate() {
        let name = tax.kind.name();
        let route = urls::taxonomy(name);
        let mut ctx = shared.context("taxonomy", &route, tax.kind.title());
        ctx.insert_value("taxonomy", taxonomy_value(&shared, k, true));
        let template = if name == "cve" && templates.has("cve_list.html") {
            "cve_list.html"
        } else {
            "taxonomy_list.html"
        };
        render_page(&mut buf, template, &ctx, &route)?;
        for (t, term) in tax.terms.iter().enumerate() {
            for n in 1..=page_count(term.posts.len(), config.posts_per_page) {
                term_jobs.push((k, t, n));
            }
        }
    }
    let tax_values: Vec<Value> = (0..site.taxonomies.len())
        .map(|k| taxonomy_value(&shared, k, false))
        .collect();
    term_jobs.par_iter().try_for_each_init(
        || Vec::with_capacity(64 * 1024),
        |buf, &(k, t, n)| {
            let tax = &site.taxonomies[k];
            let term = &tax.terms[t];
            let name = tax.kind.name();
            let first = urls::term(name, &term.slug, 1);
            let route = urls::term(name, &term.slug, n);
            let mut ctx = shared.context("term", &route, &term.name);
            ctx.insert_value("taxonomy", tax_values[k].clone());
            ctx.insert_value("term", shared.terms[k][t].clone());
            ctx.insert_value("paginator", shared.paginator(&first, &term.posts, n));
            let template = if name == "cve" && templates.has("cve.html") {
                "cve.html"
            } else {
                "taxonomy_term.html"
            };
            render_page(buf, template, &ctx, &route)
        },
    )?;

    // 404.
    let ctx = shared.context("404", urls::NOT_FOUND, "Page not found");
    render_page(&mut buf, "404.html", &ctx, urls::NOT_FOUND)?;

    // Redirects: aliases, and page 1 of every listing to the listing itself.
    let mut redirects: Vec<(String, String)> = Vec::new();
    for p in site.posts.iter().chain(&site.pages) {
        for a in &p.aliases {
            redirects.push((a.clone(), urls.permalink(&p.route)));
        }
    }
    redirects.push(("page/1/".to_string(), urls.permalink("")));
    for tax in &site.taxonomies {
        for term in &tax.terms {
            let first = urls::term(tax.kind.name(), &term.slug, 1);
            redirects.push((format!("{first}page/1/"), urls.permalink(&first)));
        }
    }
    redirects.par_iter().try_for_each(|(route, target)| {
        write(
            urls::output_file(route),
            feeds::redirect_html(target, &config.language).as_bytes(),
        )
    })?;

    // Feeds, sitemap, robots, highlighting stylesheet.
    let feed_site = FeedSite {
        title: &config.title,
        description: &config.description,
        language: &config.language,
        urls,
    };
    let newest: Vec<&Page> = site.posts.iter().take(config.feed_limit).collect();
    write(
        PathBuf::from(urls::RSS),
        feeds::rss(&feed_site, &newest).as_bytes(),
    )?;
    write(
        PathBuf::from(urls::ATOM),
        feeds::atom(&feed_site, &newest).as_bytes(),
    )?;
    write(
        PathBuf::from(urls::JSON_FEED),
        feeds::json_feed(&feed_site, &newest).as_bytes(),
    )?;
    for (route, text) in feeds::sitemaps(&sitemap_entries(site, urls), urls) {
        write(PathBuf::from(route), text.as_bytes())?;
    }
    if !static_robots {
        write(PathBuf::from(urls::ROBOTS), feeds::robots(urls).as_bytes())?;
    }
    // Security headers, unless turned off or the site ships its own `_headers`.
    if config.headers.enabled && !theme.statics.contains_key(Path::new(headers::FILE)) {
        write(
            PathBuf::from(headers::FILE),
            config.headers.file().as_bytes(),
        )?;
    }
    if let Some(css) = highlight::theme_css(&config.markdown.highlight_theme) {
        write(PathBuf::from(urls::SYNTAX_CSS), css.as_bytes())?;
    }

    Ok(Rendered {
        files: files.load(Ordering::Relaxed),
        warnings,
    })
}

fn taxonomy_value(shared: &Shared<'_>, k: usize, with_terms: bool) -> Value {
    let tax = &shared.site.taxonomies[k];
    let name = tax.kind.name();
    let terms = if with_terms {
        Value::from(shared.terms[k].clone())
    } else {
        Value::none()
    };
    map([
        ("name", Value::from(name)),
        ("title", Value::from(tax.kind.title())),
        ("url", Value::from(shared.urls.url(&urls::taxonomy(name)))),
        (
            "permalink",
            Value::from(shared.urls.permalink(&urls::taxonomy(name))),
        ),
        ("terms", terms),
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

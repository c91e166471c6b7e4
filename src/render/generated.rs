//! Files that are not templated pages: static files of the theme and the site, files
//! beside bundled pages, redirects (aliases and first pages of listings), the feeds, the
//! sitemap, robots.txt, `_headers` and the highlighting stylesheet.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::feeds::{self, FeedPost, FeedSite};
use super::sitemap::{self, SitemapEntry};
use super::{Job, JobKind, Origin, Renderer};
use crate::config::headers;
use crate::content::{Page, PageKind};
use crate::error::Diagnostic;
use crate::index::Site;
use crate::render::theme::FileSource;
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::{self, Urls};

impl Renderer<'_> {
    /// Static files of the theme and the site, and files beside bundled pages.
    pub(super) fn plan_static(&self) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (rel, (src, shown)) in &self.theme.statics {
            let (fp, kind) = match src {
                FileSource::Disk(path) => (copy_fingerprint(path), JobKind::Copy(path.clone())),
                FileSource::Embedded(bytes) => {
                    (fingerprint::of_bytes(bytes), JobKind::Embedded(bytes))
                }
            };
            // The copy named by its content (`[deploy] hash_assets`).
            let rel_s = rel.to_string_lossy().replace('\\', "/");
            if let Some(hashed) = self.templates.assets().hashed_of(&rel_s) {
                jobs.push(Job {
                    path: PathBuf::from(hashed),
                    fingerprint: fp,
                    kind: kind.clone(),
                    origin: Origin::Static(shown.clone()),
                });
            }
            jobs.push(Job {
                path: rel.clone(),
                fingerprint: fp,
                kind,
                origin: Origin::Static(shown.clone()),
            });
        }
        for a in &self.site.assets {
            jobs.push(Job {
                path: a.dest.clone(),
                fingerprint: copy_fingerprint(&a.source),
                kind: JobKind::Copy(a.source.clone()),
                origin: Origin::Asset(a.shown.clone()),
            });
        }
        jobs
    }

    /// Redirects: aliases, and page 1 of every listing to the listing itself.
    pub(super) fn plan_redirects(&self) -> Vec<Job> {
        let redirect = |route: &str, target: String, origin: Origin| {
            let fingerprint = Builder::new("redirect")
                .str(&target)
                .str(&self.config.language)
                .finish();
            Job {
                path: urls::output_file(route),
                fingerprint,
                kind: JobKind::Redirect(target),
                origin,
            }
        };
        let mut jobs = Vec::new();
        for p in self.site.posts.iter().chain(&self.site.pages) {
            for a in &p.aliases {
                jobs.push(redirect(
                    a,
                    self.urls.permalink(&p.route),
                    Origin::Alias(p.file.clone()),
                ));
            }
        }
        jobs.push(redirect(
            "page/1/",
            self.urls.permalink(""),
            Origin::Generated("the redirect from the first home page to the home page"),
        ));
        for tax in &self.site.taxonomies {
            let more: Vec<Job> = tax
                .terms
                .par_iter()
                .map(|term| {
                    let first = urls::term(tax.kind.name(), &term.slug, 1);
                    redirect(
                        &format!("{first}page/1/"),
                        self.urls.permalink(&first),
                        Origin::Generated("the redirect from a term's first page to the term"),
                    )
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
        // Each post's update notes go above its body (`editorial::feed_html`).
        let bodies: Vec<(&crate::content::Page, std::borrow::Cow<'_, str>)> = self
            .site
            .posts
            .iter()
            .take(self.config.feed_limit)
            .map(|page| {
                let html = page.html.get()?;
                // Images get their sizes, so feed readers reserve their space.
                let body = match self.images.and_then(|im| im.feed_body(page, html)) {
                    Some(sized) => std::borrow::Cow::Owned(
                        super::editorial::feed_html(page, &sized).into_owned(),
                    ),
                    None => super::editorial::feed_html(page, html),
                };
                Ok((&**page, body))
            })
            .collect::<Result<_, Diagnostic>>()?;
        let newest: Vec<FeedPost<'_>> = bodies
            .iter()
            .map(|(page, html)| FeedPost { page, html })
            .collect();
        Ok(vec![
            bytes_job(urls::RSS, feeds::rss(&feed_site, &newest), "the RSS feed"),
            bytes_job(
                urls::ATOM,
                feeds::atom(&feed_site, &newest),
                "the Atom feed",
            ),
            bytes_job(
                urls::JSON_FEED,
                feeds::json_feed(&feed_site, &newest),
                "the JSON feed",
            ),
        ])
    }

    /// Feeds, sitemap, robots.txt, `_headers`, the highlighting stylesheet: made now and
    /// fingerprinted by their bytes.
    pub(super) fn plan_generated(&self) -> Result<Vec<Job>, Diagnostic> {
        let site = self.site;
        let mut jobs = self.plan_feeds()?;
        let mut entries = sitemap_entries(site, self.urls);
        entries.extend(self.intel_routes().into_iter().map(|r| SitemapEntry {
            loc: self.urls.permalink(&r),
            lastmod: None,
        }));
        for (route, text) in sitemap::sitemaps(&entries, self.urls) {
            jobs.push(bytes_job(&route, text, "the sitemap"));
        }
        // A site's own static robots.txt or _headers replaces these (routes::SITE_FILE_REPLACES).
        jobs.push(bytes_job(
            urls::ROBOTS,
            sitemap::robots(self.urls),
            "the generated robots.txt",
        ));
        if self.config.headers.enabled {
            // The security headers, and caching for hashed assets and feeds.
            let rules = self.deploy_rules();
            let feeds = super::deploy::netlify::feed_links(self.urls);
            jobs.push(bytes_job(
                headers::FILE,
                super::deploy::netlify::headers_file(&rules, &feeds),
                "the generated _headers",
            ));
        }
        for (route, text, origin) in super::ioc_exports::files(site, self.config, self.urls) {
            jobs.push(Job {
                origin,
                ..bytes_job(&route, text, "")
            });
        }
        if let Some(css) = self.syntax_css {
            jobs.push(bytes_job(
                urls::SYNTAX_CSS,
                css.to_string(),
                "the highlighting stylesheet",
            ));
            if let Some(hashed) = self.templates.assets().hashed_of(urls::SYNTAX_CSS) {
                jobs.push(bytes_job(
                    hashed,
                    css.to_string(),
                    "the content-hashed copy of the highlighting stylesheet",
                ));
            }
        }
        jobs.extend(self.plan_search());
        Ok(jobs)
    }
}

/// A file made while planning, fingerprinted by its bytes.
pub(super) fn bytes_job(route: &str, text: String, what: &'static str) -> Job {
    let b = text.into_bytes();
    Job {
        path: PathBuf::from(route),
        fingerprint: fingerprint::of_bytes(&b),
        kind: JobKind::Bytes(std::sync::Arc::new(b)),
        origin: Origin::Generated(what),
    }
}

/// A copied file is fingerprinted by its path, size and modification time.
pub(super) fn copy_fingerprint(path: &Path) -> Fingerprint {
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

pub(super) fn sitemap_entries(site: &Site, urls: &Urls) -> Vec<SitemapEntry> {
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

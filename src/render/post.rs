//! Posts and standalone pages: what each shows (its template values) and, beside each
//! value, the fingerprint that covers it.
//!
//! A post's *summary* (title, dates, TLDR, terms...) is what listings, sidebars and
//! neighbours show of it; its own page adds the body, related links and neighbours.

use rayon::prelude::*;
use tera::{Map, Value};

use super::{Job, PageJob, Renderer, map, opt_str, strings};
use crate::content::Page;
use crate::error::Diagnostic;
use crate::index::{TaxonomyKind, page_count};
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls;

impl Renderer<'_> {
    /// The fingerprint of post `i`'s summary.
    pub(super) fn summary_fp_of(&self, i: usize) -> Fingerprint {
        *self.summary_fps[i].get_or_init(|| self.summary_fp(&self.site.posts[i]))
    }

    /// What listings, sidebars and neighbours show of post `i`.
    pub(super) fn summary(&self, i: usize) -> Value {
        self.summaries[i]
            .get_or_init(|| {
                let p = &self.site.posts[i];
                let mut m = self.shown_of_every_page(p);
                m.insert("description".into(), Value::from(p.description.as_str()));
                m.insert("tags".into(), self.term_links(TaxonomyKind::Tags, &p.tags));
                m.insert(
                    "categories".into(),
                    self.term_links(TaxonomyKind::Categories, &p.categories),
                );
                m.insert("cves".into(), self.term_links(TaxonomyKind::Cve, &p.cves));
                m.insert("cve_marker".into(), self.post_cve_marker(&p.cves));
                m.insert("draft".into(), Value::from(p.draft));
                m.insert("scheduled".into(), self.scheduled(p));
                Value::from(m)
            })
            .clone()
    }

    /// Covers exactly the fields [`Renderer::summary`] shows (and the terms' values).
    pub(super) fn summary_fp(&self, p: &Page) -> Fingerprint {
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
            .fp(self.scheduled_fp(p))
            .finish()
    }

    /// Everything a post's own page shows: the summary plus body, related, neighbours.
    pub(super) fn post_value(&self, i: usize) -> Result<Value, Diagnostic> {
        let p = &self.site.posts[i];
        let mut m = self.summary(i).into_map().unwrap_or_default();
        m.insert("word_count".into(), Value::from(p.word_count));
        self.body_and_social(p, &mut m)?;
        m.insert("toc".into(), toc(p));
        m.insert("attack".into(), self.attack_links(&p.attack));
        m.insert("extra".into(), Value::from_serializable(&p.extra));
        super::ioc_exports::page_values(p, self.urls, &mut m);
        m.insert("updates".into(), self.updates_with_facts(p)?);
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
        m.insert(
            "related_posts".into(),
            self.list(&self.site.related_posts[i]),
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

    pub(super) fn post_fp(&self, i: usize) -> Fingerprint {
        // The source covers the body, table of contents, extra and related entries.
        let mut b = Builder::new("post")
            .fp(self.global)
            .fp(self.summary_fp_of(i))
            .fp(self.site.posts[i].source_hash)
            .fp(self.images_fp(&self.site.posts[i]))
            .fp(self.cve_facts_fp(&self.site.posts[i]))
            .fp(self.attack_links_fp(&self.site.posts[i].attack));
        for r in &self.site.related[i] {
            b = b
                .str(&r.title)
                .str(&r.url)
                .fp(r.post.map_or(0, |j| self.summary_fp_of(j)));
        }
        b = b.fp(self.list_fp(&self.site.related_posts[i]));
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

    /// What a standalone page's own page shows.
    pub(super) fn page_value(&self, p: &Page) -> Result<Value, Diagnostic> {
        let mut m = self.shown_of_every_page(p);
        m.insert("description".into(), Value::from(p.description.as_str()));
        m.insert("word_count".into(), Value::from(p.word_count));
        self.body_and_social(p, &mut m)?;
        m.insert("toc".into(), toc(p));
        m.insert("extra".into(), Value::from_serializable(&p.extra));
        super::ioc_exports::page_values(p, self.urls, &mut m);
        m.insert("updates".into(), self.updates_with_facts(p)?);
        m.insert("scheduled".into(), self.scheduled(p));
        Ok(Value::from(m))
    }

    /// A page's body with its images' attributes ([`super::images`]), and its social image
    /// fields: its own `image`, else its card.
    fn body_and_social(&self, p: &Page, m: &mut Map) -> Result<(), Diagnostic> {
        let html = p.html.get()?;
        let (body, social) = match self.images {
            Some(im) => (im.body(p, html), im.of(p).and_then(|x| x.social.clone())),
            None => (html.to_string(), None),
        };
        let body = self.fill_cve_facts(p, body)?;
        m.insert("content".into(), Value::safe_string(&body));
        let social = social.or_else(|| {
            p.image.as_deref().map(|i| super::images::Social {
                url: self.urls.absolutize(i),
                width: None,
                height: None,
                alt: p.title.clone(),
            })
        });
        let (url, w, h, alt) = match social {
            Some(s) => (
                Value::from(s.url),
                s.width.map_or_else(Value::none, Value::from),
                s.height.map_or_else(Value::none, Value::from),
                Value::from(s.alt),
            ),
            None => (Value::none(), Value::none(), Value::none(), Value::none()),
        };
        m.insert("social_image".into(), url);
        m.insert("social_image_width".into(), w);
        m.insert("social_image_height".into(), h);
        m.insert("social_image_alt".into(), alt);
        Ok(())
    }

    /// Covers what [`Renderer::body_and_social`] adds from images.
    fn images_fp(&self, p: &Page) -> Fingerprint {
        self.images.map_or(0, |im| im.fingerprint(p))
    }

    /// The fields posts and standalone pages show alike.
    fn shown_of_every_page(&self, p: &Page) -> Map {
        let u = self.urls;
        let entries = [
            ("title", Value::from(p.title.as_str())),
            ("url", Value::from(u.url(&p.route))),
            ("permalink", Value::from(u.permalink(&p.route))),
            ("slug", Value::from(p.slug.as_str())),
            ("date", opt_str(p.date.map(|d| d.ymd()))),
            ("datetime", opt_str(p.date.map(|d| d.rfc3339()))),
            ("updated", opt_str(p.updated.map(|d| d.ymd()))),
            ("updated_datetime", opt_str(p.updated.map(|d| d.rfc3339()))),
            ("tldr", strings(&p.tldr)),
            ("authors", strings(&p.authors)),
            ("reading_time", Value::from(p.reading_time)),
            (
                "image",
                opt_str(p.image.as_deref().map(|i| u.absolutize(i))),
            ),
        ];
        let mut m = Map::with_capacity_and_hasher(entries.len() + 8, Default::default());
        for (k, v) in entries {
            m.insert(k.into(), v);
        }
        m
    }

    /// The job of post `i`'s own page.
    pub fn plan_post(&self, i: usize) -> Job {
        Self::page_job(&self.site.posts[i].route, self.post_fp(i), PageJob::Post(i))
    }

    /// Every page that shows post `i`'s summary: its own page, its neighbours, the posts
    /// whose related links or related coverage name it, and the home and term pages that list it. `None` when
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
            if related.iter().any(|r| r.post == Some(i)) || site.related_posts[j].contains(&i) {
                jobs.push(self.plan_post(j));
            }
        }
        jobs.push(self.plan_home(i / per + 1, latest_top_fp));
        let p = &site.posts[i];
        for (k, tax) in site.taxonomies.iter().enumerate() {
            for name in tax.kind.terms_of(p) {
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
        let fp = self.page_fp(p, self.list_fp(&self.latest_top));
        Self::page_job(&p.route, fp, PageJob::Page(j))
    }

    /// The fingerprint of standalone page `p`'s own page (`latest_top_fp`: of the sidebar).
    fn page_fp(&self, p: &Page, latest_top_fp: Fingerprint) -> Fingerprint {
        Builder::new("page")
            .fp(self.global)
            .fp(p.source_hash)
            .fp(self.images_fp(p))
            .fp(self.cve_facts_fp(p))
            .fp(self.scheduled_fp(p))
            .fp(latest_top_fp)
            .finish()
    }

    /// Posts, standalone pages, the home pages and the 404 page.
    pub(super) fn plan_pages(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
        let site = self.site;
        let mut jobs: Vec<Job> = (0..site.posts.len())
            .into_par_iter()
            .map(|i| self.plan_post(i))
            .collect();
        for (j, p) in site.pages.iter().enumerate() {
            let fp = self.page_fp(p, latest_top_fp);
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
        jobs.extend(self.plan_withdrawn(latest_top_fp));
        jobs
    }
}

pub(super) fn toc(p: &Page) -> Value {
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

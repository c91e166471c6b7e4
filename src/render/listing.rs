//! Listings: the home pages, taxonomies and their terms, paginated, and the "Latest from
//! Blog" sidebar; their template values and, beside each, its fingerprint.

use rayon::prelude::*;
use tera::{Context, Value};

use super::{Job, LATEST_PARTIAL, PageJob, Renderer, map};
use crate::error::Diagnostic;
use crate::index::{TaxonomyKind, page_count};
use crate::support::fingerprint::{Builder, Fingerprint};
use crate::urls;

impl Renderer<'_> {
    /// The fingerprint of term `t` of taxonomy `k` (what its link value shows).
    pub(super) fn term_fp(&self, k: usize, t: usize) -> Fingerprint {
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

    pub(super) fn kind_index(kind: TaxonomyKind) -> usize {
        TaxonomyKind::ALL
            .iter()
            .position(|x| *x == kind)
            .unwrap_or(0)
    }

    pub(super) fn term_fps_of<'b>(
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
    pub(super) fn term_value(&self, k: usize, t: usize) -> Value {
        self.terms[k][t]
            .get_or_init(|| {
                let tax = &self.site.taxonomies[k];
                let term = &tax.terms[t];
                let route = urls::term(tax.kind.name(), &term.slug, 1);
                let (record, intel, marker, marker_html) = if tax.kind == TaxonomyKind::Cve {
                    (
                        Value::from(urls::cve_record(&term.slug)),
                        self.cve_intel_value(&term.slug),
                        self.cve_marker_value(&term.slug),
                        self.cve_marker_html(t, &term.slug),
                    )
                } else {
                    (Value::none(), Value::none(), Value::none(), Value::none())
                };
                map([
                    ("name", Value::from(term.name.as_str())),
                    ("slug", Value::from(term.slug.as_str())),
                    ("url", Value::from(self.urls.url(&route))),
                    ("permalink", Value::from(self.urls.permalink(&route))),
                    ("count", Value::from(term.posts.len())),
                    ("record_url", record),
                    ("intel", intel),
                    ("marker", marker),
                    ("marker_html", marker_html),
                ])
            })
            .clone()
    }

    pub(super) fn term_links(&self, kind: TaxonomyKind, names: &[String]) -> Value {
        let k = Self::kind_index(kind);
        Value::from(
            names
                .iter()
                .filter_map(|n| self.site.term_of(kind, n).map(|t| self.term_value(k, t)))
                .collect::<Vec<_>>(),
        )
    }

    pub(super) fn list(&self, indices: &[usize]) -> Value {
        Value::from(indices.iter().map(|&i| self.summary(i)).collect::<Vec<_>>())
    }

    pub(super) fn list_fp(&self, indices: &[usize]) -> Fingerprint {
        Builder::new("list")
            .all(indices.iter().map(|&i| self.summary_fp_of(i)))
            .finish()
    }

    /// Which latest list a page shows: 0 for the top list, `1 + i` for "without post i".
    pub(super) fn latest_slot(&self, post: Option<usize>) -> usize {
        match post {
            Some(i) if i < self.latest_without.len() => i + 1,
            _ => 0,
        }
    }

    pub(super) fn latest_indices(&self, slot: usize) -> &[usize] {
        if slot == 0 {
            &self.latest_top
        } else {
            &self.latest_without[slot - 1]
        }
    }

    /// `latest`, and the prerendered `latest_html` fragment when the theme has one.
    pub(super) fn insert_latest(&self, ctx: &mut Context, slot: usize) -> Result<(), Diagnostic> {
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

    /// The posts `posts` show on page `n` of a listing.
    pub(super) fn slice<'p>(&self, posts: &'p [usize], n: usize) -> &'p [usize] {
        let per = self.config.posts_per_page;
        let start = ((n - 1) * per).min(posts.len());
        &posts[start..(start + per).min(posts.len())]
    }

    pub(super) fn paginator(&self, first_route: &str, posts: &[usize], n: usize) -> Value {
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

    pub(super) fn paginator_fp(&self, first_route: &str, posts: &[usize], n: usize) -> Fingerprint {
        Builder::new("paginator")
            .str(first_route)
            .num(n as u64)
            .num(posts.len() as u64)
            .fp(self.list_fp(self.slice(posts, n)))
            .finish()
    }

    pub(super) fn taxonomy_value(&self, k: usize, with_terms: bool) -> Value {
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

    /// The job of home page `n`.
    pub(super) fn plan_home(&self, n: usize, latest_top_fp: Fingerprint) -> Job {
        let all: Vec<usize> = (0..self.site.posts.len()).collect();
        let fp = Builder::new("home")
            .fp(self.global)
            .fp(self.paginator_fp("", &all, n))
            .fp(latest_top_fp)
            .finish();
        Self::page_job(&urls::home(n), fp, PageJob::Home(n))
    }

    /// The job of page `n` of term `t` of taxonomy `k`.
    pub(super) fn plan_term(
        &self,
        k: usize,
        t: usize,
        n: usize,
        latest_top_fp: Fingerprint,
    ) -> Job {
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

    /// The list of terms of each taxonomy, and every page of every term.
    pub(super) fn plan_taxonomies(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
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
}

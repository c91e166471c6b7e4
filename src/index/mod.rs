//! Stage 3: the site index — posts sorted, taxonomies built, related links resolved. The
//! table of every route is the renderer's plan (`render::routes`), where every output of
//! every kind is claimed once.
//! Scheduled and expired pages never get here: [`schedule::split`] takes them out first.

pub mod related;
pub mod schedule;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use crate::content::{Asset, Content, Page, RelatedRef};
use crate::error::Diagnostic;
use crate::support::slug::slugify;
use crate::urls::Urls;

/// The three taxonomies of SPEC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaxonomyKind {
    Tags,
    Categories,
    Cve,
}

impl TaxonomyKind {
    pub const ALL: [TaxonomyKind; 3] = [
        TaxonomyKind::Tags,
        TaxonomyKind::Categories,
        TaxonomyKind::Cve,
    ];

    /// The URL segment and template name: `tags`, `categories`, `cve`.
    pub fn name(self) -> &'static str {
        match self {
            TaxonomyKind::Tags => "tags",
            TaxonomyKind::Categories => "categories",
            TaxonomyKind::Cve => "cve",
        }
    }

    /// A heading for the list of terms.
    pub fn title(self) -> &'static str {
        match self {
            TaxonomyKind::Tags => "Tags",
            TaxonomyKind::Categories => "Categories",
            TaxonomyKind::Cve => "CVEs",
        }
    }

    pub fn terms_of(self, page: &Page) -> &[String] {
        match self {
            TaxonomyKind::Tags => &page.tags,
            TaxonomyKind::Categories => &page.categories,
            TaxonomyKind::Cve => &page.cves,
        }
    }

    /// A term's slug: CVE ids keep their own form (`CVE-2024-3400`).
    pub fn slug(self, term: &str) -> String {
        match self {
            TaxonomyKind::Cve => term.to_string(),
            _ => slugify(term),
        }
    }
}

/// One term and its posts, newest first.
#[derive(Debug, Clone)]
pub struct Term {
    pub name: String,
    pub slug: String,
    /// Indices into [`Site::posts`].
    pub posts: Vec<usize>,
}

/// A taxonomy and its terms, sorted by slug.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub kind: TaxonomyKind,
    pub terms: Vec<Term>,
}

/// A related link, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub title: String,
    /// A link: root-relative for posts of this site, as written for others.
    pub url: String,
    /// The related post, when the entry named one.
    pub post: Option<usize>,
}

/// The whole site, indexed.
#[derive(Debug)]
pub struct Site {
    /// Posts, newest first (ties broken by slug, then file).
    pub posts: Vec<Arc<Page>>,
    /// Standalone pages, by route.
    pub pages: Vec<Arc<Page>>,
    pub taxonomies: Vec<Taxonomy>,
    /// For each post, its related links.
    pub related: Vec<Vec<Related>>,
    /// For each post, its automatically related posts ("Related coverage"), best first:
    /// indices into `posts`, none of them in its `related` links.
    pub related_posts: Vec<Vec<usize>>,
    pub assets: Vec<Asset>,
    /// Source files of scheduled posts published by `--future` (shown as "Scheduled").
    pub previews: HashSet<PathBuf>,
    /// URLs of expired posts that get a "withdrawn" page (`[editorial] expired = "gone"`).
    pub withdrawn: Vec<schedule::Withdrawn>,
    /// Slugs of held-back posts: related links to them are left out (with a warning from
    /// [`schedule::split`]) rather than errors.
    held_slugs: HashSet<String>,
    /// For each taxonomy and term slug, the index of the term in its taxonomy.
    term_index: HashMap<(TaxonomyKind, String), usize>,
}

impl Site {
    /// The taxonomy of `kind`.
    pub fn taxonomy(&self, kind: TaxonomyKind) -> &Taxonomy {
        &self.taxonomies[TaxonomyKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0)]
    }

    /// The index of the term `name` in its taxonomy.
    pub fn term_of(&self, kind: TaxonomyKind, name: &str) -> Option<usize> {
        self.term_index.get(&(kind, kind.slug(name))).copied()
    }

    /// Whether post or page `p` is a scheduled one published by `--future`.
    pub fn is_preview(&self, p: &Page) -> bool {
        !self.previews.is_empty() && self.previews.contains(&p.file)
    }

    /// Each post's related links resolved again (after a post's title changed).
    pub fn resolve_related(&self, urls: &Urls) -> Result<Vec<Vec<Related>>, Vec<Diagnostic>> {
        resolve_related_except(&self.posts, urls, &self.held_slugs)
    }

    /// "Latest from Blog": the `n` newest posts other than `exclude`.
    pub fn latest(&self, n: usize, exclude: Option<usize>) -> Vec<usize> {
        (0..self.posts.len())
            .filter(|&i| Some(i) != exclude)
            .take(n)
            .collect()
    }
}

/// Number of pages needed for `items` at `per_page` (at least one: an empty listing has a page).
pub fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page.max(1)).max(1)
}

/// Sorts, builds taxonomies and resolves related links. (Routes are claimed when the renderer
/// plans the outputs: `render::routes`.) `editorial` is what [`schedule::split`] decided
/// (the default when nothing was split); `related_posts`: how many automatically related
/// posts each post gets.
pub fn index(
    content: Content,
    urls: &Urls,
    editorial: schedule::Editorial,
    related_posts: usize,
) -> Result<Site, Vec<Diagnostic>> {
    let Content {
        mut posts,
        mut pages,
        assets,
        ..
    } = content;
    posts.sort_by(|a, b| {
        b.date
            .cmp(&a.date)
            .then_with(|| a.slug.cmp(&b.slug))
            .then_with(|| a.file.cmp(&b.file))
    });
    pages.sort_by(|a, b| a.route.cmp(&b.route).then_with(|| a.file.cmp(&b.file)));
    let mut errors = Vec::new();

    let related = match resolve_related_except(&posts, urls, &editorial.held_slugs) {
        Ok(r) => r,
        Err(e) => {
            errors.extend(e);
            Vec::new()
        }
    };
    // The taxonomies (each by itself) while related coverage is found: neither needs the
    // other.
    let (taxonomies, related_posts) = rayon::join(
        || {
            use rayon::prelude::*;
            TaxonomyKind::ALL
                .par_iter()
                .map(|&kind| build_taxonomy(kind, &posts))
                .collect::<Vec<_>>()
        },
        || auto_related(&posts, &related, related_posts),
    );
    let mut term_index = HashMap::new();
    for (kind, tax) in TaxonomyKind::ALL.into_iter().zip(&taxonomies) {
        for (i, t) in tax.terms.iter().enumerate() {
            term_index.insert((kind, t.slug.clone()), i);
        }
    }
    let site = Site {
        posts,
        pages,
        taxonomies,
        related,
        related_posts,
        assets,
        previews: editorial.previews,
        withdrawn: editorial.withdrawn,
        held_slugs: editorial.held_slugs,
        term_index,
    };
    if errors.is_empty() {
        Ok(site)
    } else {
        Err(errors)
    }
}

/// Each post's automatically related posts, leaving out its front matter `related` posts.
pub fn auto_related(posts: &[Arc<Page>], related: &[Vec<Related>], n: usize) -> Vec<Vec<usize>> {
    let exclude: Vec<Vec<usize>> = related
        .iter()
        .map(|list| list.iter().filter_map(|r| r.post).collect())
        .collect();
    related::related_posts(posts, n, &exclude)
}

/// Each post's related links, `post:` entries resolved to the post's title and link.
pub fn resolve_related(
    posts: &[Arc<Page>],
    urls: &Urls,
) -> Result<Vec<Vec<Related>>, Vec<Diagnostic>> {
    resolve_related_except(posts, urls, &HashSet::new())
}

/// [`resolve_related`], leaving out entries that name a post in `held` (scheduled or
/// expired posts).
fn resolve_related_except(
    posts: &[Arc<Page>],
    urls: &Urls,
    held: &HashSet<String>,
) -> Result<Vec<Vec<Related>>, Vec<Diagnostic>> {
    let by_slug: HashMap<&str, usize> = posts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.slug.as_str(), i))
        .collect();
    let mut errors = Vec::new();
    let mut related = Vec::with_capacity(posts.len());
    for post in posts {
        let mut list = Vec::with_capacity(post.related.len());
        for r in &post.related {
            match r {
                RelatedRef::External { title, url } => list.push(Related {
                    title: title.clone(),
                    url: url.clone(),
                    post: None,
                }),
                RelatedRef::Post { slug, .. } if held.contains(slug) => {}
                RelatedRef::Post { slug, title, line } => match by_slug.get(slug.as_str()) {
                    Some(&i) => list.push(Related {
                        title: title.clone().unwrap_or_else(|| posts[i].title.clone()),
                        url: urls.url(&posts[i].route),
                        post: Some(i),
                    }),
                    None => {
                        let hint = crate::error::closest(
                            slug,
                            &by_slug.keys().copied().collect::<Vec<_>>(),
                        )
                        .map(|c| format!("did you mean `{c}`? "))
                        .unwrap_or_default();
                        errors.push(
                            Diagnostic::error(&post.file, format!("related: no post has the slug `{slug}`"))
                                .at_opt(*line)
                                .with_help(format!(
                                    "{hint}a post's slug is its file name without the date and .md, or its `slug:` field; drafts count only with --drafts"
                                )),
                        );
                    }
                },
            }
        }
        related.push(list);
    }
    if errors.is_empty() {
        Ok(related)
    } else {
        Err(errors)
    }
}

fn build_taxonomy(kind: TaxonomyKind, posts: &[Arc<Page>]) -> Taxonomy {
    // Each distinct spelling is slugified once; terms are found by slug.
    let mut slug_of: HashMap<&str, usize> = HashMap::new();
    let mut by_slug: HashMap<String, usize> = HashMap::new();
    // (slug, spellings with their counts, posts)
    type Found<'p> = (String, Vec<(&'p str, usize)>, Vec<usize>);
    let mut terms: Vec<Found<'_>> = Vec::new();
    for (i, post) in posts.iter().enumerate() {
        for name in kind.terms_of(post) {
            let t = match slug_of.get(name.as_str()) {
                Some(&t) => t,
                None => {
                    let slug = kind.slug(name);
                    if slug.is_empty() {
                        continue;
                    }
                    let t = *by_slug.entry(slug.clone()).or_insert_with(|| {
                        terms.push((slug, Vec::new(), Vec::new()));
                        terms.len() - 1
                    });
                    slug_of.insert(name, t);
                    t
                }
            };
            let (_, spellings, term_posts) = &mut terms[t];
            match spellings.iter_mut().find(|(s, _)| *s == name) {
                Some((_, n)) => *n += 1,
                None => spellings.push((name, 1)),
            }
            if term_posts.last() != Some(&i) {
                term_posts.push(i);
            }
        }
    }
    let mut terms: Vec<Term> = terms
        .into_iter()
        .map(|(slug, spellings, posts)| {
            // The most used spelling names the term; ties go to the first in sort order.
            let name = spellings
                .iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(n, _)| n.to_string())
                .unwrap_or_else(|| slug.clone());
            Term { name, slug, posts }
        })
        .collect();
    terms.sort_by(|a, b| a.slug.cmp(&b.slug));
    Taxonomy { kind, terms }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_counts() {
        assert_eq!(page_count(0, 10), 1);
        assert_eq!(page_count(10, 10), 1);
        assert_eq!(page_count(11, 10), 2);
    }
}

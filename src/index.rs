//! Stage 3: the site index — posts sorted, taxonomies, related links resolved, and the
//! table of every route, so two things that want the same URL are caught before rendering.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::content::{Asset, Content, Page, RelatedRef};
use crate::error::Diagnostic;
use crate::slug::slugify;
use crate::urls::{self, Urls};

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

    fn terms_of(self, page: &Page) -> &[String] {
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
    pub posts: Vec<Page>,
    /// Standalone pages, by route.
    pub pages: Vec<Page>,
    pub taxonomies: Vec<Taxonomy>,
    /// For each post, its related links.
    pub related: Vec<Vec<Related>>,
    pub assets: Vec<Asset>,
    /// For each taxonomy and term slug, the index of the term in its taxonomy.
    term_index: HashMap<(TaxonomyKind, String), usize>,
    /// Every generated output file, lowercased.
    outputs: HashSet<String>,
}

impl Site {
    /// The taxonomy of `kind`.
    pub fn taxonomy(&self, kind: TaxonomyKind) -> &Taxonomy {
        &self.taxonomies[TaxonomyKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0)]
    }

    /// Whether a page or copied file of the site is written at `rel` (compared without case).
    pub fn is_generated(&self, rel: &Path) -> bool {
        self.outputs.contains(&rel.to_string_lossy().to_lowercase())
    }

    /// The index of the term `name` in its taxonomy.
    pub fn term_of(&self, kind: TaxonomyKind, name: &str) -> Option<usize> {
        self.term_index.get(&(kind, kind.slug(name))).copied()
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

/// Sorts, builds taxonomies, resolves related links and checks that every route is unique.
pub fn index(content: Content, per_page: usize, urls: &Urls) -> Result<Site, Vec<Diagnostic>> {
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

    let mut taxonomies = Vec::new();
    let mut term_index = HashMap::new();
    for kind in TaxonomyKind::ALL {
        let tax = build_taxonomy(kind, &posts);
        for (i, t) in tax.terms.iter().enumerate() {
            term_index.insert((kind, t.slug.clone()), i);
        }
        taxonomies.push(tax);
    }

    let by_slug: HashMap<&str, usize> = posts
        .iter()
        .enumerate()
        .map(|(i, p)| (p.slug.as_str(), i))
        .collect();
    let mut related = Vec::with_capacity(posts.len());
    for post in &posts {
        let mut list = Vec::with_capacity(post.related.len());
        for r in &post.related {
            match r {
                RelatedRef::External { title, url } => list.push(Related {
                    title: title.clone(),
                    url: url.clone(),
                    post: None,
                }),
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

    let mut site = Site {
        posts,
        pages,
        taxonomies,
        related,
        assets,
        term_index,
        outputs: HashSet::new(),
    };
    let (route_errors, outputs) = check_routes(&site, per_page);
    errors.extend(route_errors);
    site.outputs = outputs;
    if errors.is_empty() {
        Ok(site)
    } else {
        Err(errors)
    }
}

fn build_taxonomy(kind: TaxonomyKind, posts: &[Page]) -> Taxonomy {
    // slug -> (spellings and their counts, posts)
    let mut terms: BTreeMap<String, (BTreeMap<&str, usize>, Vec<usize>)> = BTreeMap::new();
    for (i, post) in posts.iter().enumerate() {
        for name in kind.terms_of(post) {
            let slug = kind.slug(name);
            if slug.is_empty() {
                continue;
            }
            let entry = terms.entry(slug).or_default();
            *entry.0.entry(name.as_str()).or_default() += 1;
            if entry.1.last() != Some(&i) {
                entry.1.push(i);
            }
        }
    }
    let terms = terms
        .into_iter()
        .map(|(slug, (spellings, posts))| {
            // The most used spelling names the term; ties go to the first in sort order.
            let name = spellings
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(n, _)| n.to_string())
                .unwrap_or_else(|| slug.clone());
            Term { name, slug, posts }
        })
        .collect();
    Taxonomy { kind, terms }
}

/// Every output file and who wants it; two owners of one file (compared without case, as
/// case-insensitive file systems would) is an error naming both.
fn check_routes(site: &Site, per_page: usize) -> (Vec<Diagnostic>, HashSet<String>) {
    let mut owners: HashMap<String, (String, PathBuf)> = HashMap::new();
    let mut errors = Vec::new();
    let mut claim = |route: String, what: String, file: PathBuf| {
        let key = urls::output_file(&route).to_string_lossy().to_lowercase();
        if let Some((other_what, other_file)) = owners.get(&key) {
            errors.push(
                Diagnostic::error(
                    &file,
                    format!(
                        "{what} has the URL /{route}, which {other_what} already has ({})",
                        other_file.display()
                    ),
                )
                .with_help(
                    "give one of them another `slug:` (or rename the file), or remove the alias",
                ),
            );
        } else {
            owners.insert(key, (what, file));
        }
    };
    let generated = PathBuf::from("(generated)");
    for n in 1..=page_count(site.posts.len(), per_page) {
        claim(urls::home(n), "the home page".into(), generated.clone());
    }
    for fixed in [
        urls::RSS,
        urls::ATOM,
        urls::JSON_FEED,
        urls::SITEMAP,
        urls::ROBOTS,
        urls::NOT_FOUND,
        urls::SYNTAX_CSS,
    ] {
        claim(
            fixed.to_string(),
            format!("the generated {fixed}"),
            generated.clone(),
        );
    }
    for tax in &site.taxonomies {
        claim(
            urls::taxonomy(tax.kind.name()),
            format!("the list of {}", tax.kind.name()),
            generated.clone(),
        );
        for term in &tax.terms {
            for n in 1..=page_count(term.posts.len(), per_page) {
                claim(
                    urls::term(tax.kind.name(), &term.slug, n),
                    format!("the {} page of `{}`", tax.kind.name(), term.name),
                    generated.clone(),
                );
            }
        }
    }
    for p in site.posts.iter().chain(&site.pages) {
        let what = if p.kind == crate::content::PageKind::Post {
            "this post"
        } else {
            "this page"
        };
        claim(p.route.clone(), what.into(), p.file.clone());
    }
    for p in site.posts.iter().chain(&site.pages) {
        for a in &p.aliases {
            claim(
                a.clone(),
                format!("an alias of {}", p.file.display()),
                p.file.clone(),
            );
        }
    }
    for a in &site.assets {
        claim(
            a.dest.to_string_lossy().into_owned(),
            "a copied file".into(),
            PathBuf::from("content").join(&a.dest),
        );
    }
    (errors, owners.into_keys().collect())
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

//! The route table: every output file of a build is claimed here, once.
//!
//! The renderer plans each output as a [`Job`] carrying its [`Origin`]: the content file,
//! static file or generated listing that wants it. [`claim_all`] takes the whole plan and
//! refuses two claims on one path (compared without case, as case-insensitive file systems
//! would) with an error naming both, whatever their kinds: a page at `content/page/1.md`
//! and the redirect of the first home page, a post and an alias, a static file and a feed.
//! Nothing is dropped in silence.
//!
//! The one exception is written down in [`SITE_FILE_REPLACES`]: a site's own `static/_headers`
//! or `static/robots.txt` replaces the generated file, as the SPEC says.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Job;
use crate::config::headers;
use crate::error::Diagnostic;
use crate::index::Site;
use crate::urls;

/// Generated files that a static file of the same path replaces (the static file wins).
pub const SITE_FILE_REPLACES: &[&str] = &[headers::FILE, urls::ROBOTS];

/// Who wants an output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Post `i` of the site.
    Post(usize),
    /// Standalone page `j` of the site.
    Page(usize),
    /// An alias (old path) of a post or page, by the content file that declares it.
    Alias(PathBuf),
    /// A file beside a bundled page (`content/posts/<slug>/image.png`), by its source.
    Asset(PathBuf),
    /// A static file of the site or the theme, as the author knows it (`static/x.css`).
    Static(PathBuf),
    /// The list of terms of taxonomy `k`.
    TaxonomyList(usize),
    /// A page of term `t` of taxonomy `k`.
    Term(usize, usize),
    /// Anything else sitrep makes: the home pages, feeds, sitemaps, redirects of page 1.
    Generated(&'static str),
    /// The "withdrawn" page at an expired post's URL: index into `Site::withdrawn`.
    Withdrawn(usize),
}

impl Origin {
    /// The file the claim comes from, if it comes from one.
    fn file(&self, site: &Site) -> Option<PathBuf> {
        match self {
            Origin::Post(i) => Some(site.posts[*i].file.clone()),
            Origin::Page(j) => Some(site.pages[*j].file.clone()),
            Origin::Alias(f) | Origin::Asset(f) | Origin::Static(f) => Some(f.clone()),
            Origin::Withdrawn(w) => Some(site.withdrawn[*w].file.clone()),
            _ => None,
        }
    }

    /// What kind of file the claim comes from (`post`, `static file`...).
    fn noun(&self) -> &'static str {
        match self {
            Origin::Post(_) => "post",
            Origin::Page(_) => "page",
            Origin::Alias(_) => "alias in",
            Origin::Asset(_) => "file",
            Origin::Static(_) => "static file",
            Origin::Withdrawn(_) => "withdrawn page of the expired post",
            _ => "output",
        }
    }

    /// How a message names the claimant when it is not the subject.
    fn describe(&self, site: &Site) -> String {
        match (self, self.file(site)) {
            (Origin::TaxonomyList(k), _) => {
                format!("the list of {}", site.taxonomies[*k].kind.name())
            }
            (Origin::Term(k, t), _) => {
                let tax = &site.taxonomies[*k];
                format!("the {} page of `{}`", tax.kind.name(), tax.terms[*t].name)
            }
            (Origin::Generated(what), _) => (*what).to_string(),
            (_, Some(file)) => format!("the {} {}", self.noun(), file.display()),
            (_, None) => "another output".to_string(),
        }
    }

    /// How to end the clash, from this claimant's side.
    fn fix(&self) -> &'static str {
        match self {
            Origin::Post(_) | Origin::Page(_) => {
                "give it another `slug:`, or rename or move the file"
            }
            Origin::Alias(_) => "change or remove the alias",
            Origin::Withdrawn(_) => {
                "the expired post keeps its URL under `[editorial] expired = \"gone\"`: delete the post's file to free it"
            }
            Origin::Asset(_) => "rename or move the file",
            Origin::Static(_) => {
                "rename or remove the static file (only _headers and robots.txt may replace what sitrep makes)"
            }
            _ => "",
        }
    }
}

/// The key two claims must not share: the path, lowercased.
fn key(path: &Path) -> String {
    let mut key = path.to_string_lossy().into_owned();
    key.make_ascii_lowercase();
    if !key.is_ascii() {
        key = key.to_lowercase();
    }
    key
}

/// Whether `static_job` is a site's file that replaces the generated `other`.
fn replaces(static_job: &Job, other: &Job) -> bool {
    matches!(static_job.origin, Origin::Static(_))
        && matches!(other.origin, Origin::Generated(_))
        && SITE_FILE_REPLACES
            .iter()
            .any(|f| Path::new(f) == other.path.as_path())
}

/// Checks the whole plan: every path claimed once, or one error per second claim naming
/// both claimants. Returns the jobs to write, in plan order.
pub fn claim_all(jobs: Vec<Job>, site: &Site) -> Result<Vec<Job>, Vec<Diagnostic>> {
    let mut owner: HashMap<String, usize> = HashMap::with_capacity(jobs.len());
    let mut replaced = vec![false; jobs.len()];
    let mut errors = Vec::new();
    for (n, job) in jobs.iter().enumerate() {
        let Some(&first) = owner.get(&key(&job.path)) else {
            owner.insert(key(&job.path), n);
            continue;
        };
        let other = &jobs[first];
        if replaces(job, other) {
            replaced[first] = true;
            owner.insert(key(&job.path), n);
        } else if replaces(other, job) {
            replaced[n] = true;
        } else {
            errors.push(clash(job, other, site));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(jobs
        .into_iter()
        .zip(replaced)
        .filter(|(_, r)| !r)
        .map(|(j, _)| j)
        .collect())
}

/// The error for two claims on one path: on the file of whichever has one.
fn clash(job: &Job, other: &Job, site: &Site) -> Diagnostic {
    let (this, that) = if job.origin.file(site).is_none() && other.origin.file(site).is_some() {
        (&other.origin, &job.origin)
    } else {
        (&job.origin, &other.origin)
    };
    let route = urls::route_of_output(&job.path);
    let subject = match this {
        Origin::Alias(_) => "an alias in this file".to_string(),
        _ if this.file(site).is_some() => format!("this {}", this.noun()),
        _ => this.describe(site),
    };
    let message = format!(
        "{subject} has the URL /{route}, which {} already has",
        that.describe(site)
    );
    let help = if that.file(site).is_some() && this.fix() != that.fix() {
        format!("{}; or, for the other, {}", this.fix(), that.fix())
    } else {
        format!("{}: every output path has one owner", this.fix())
    };
    // Two generated outputs cannot share a path (their routes are fixed by sitrep); were it
    // to happen, the site's configuration is what made it.
    let file = this
        .file(site)
        .unwrap_or_else(|| PathBuf::from(crate::config::CONFIG_FILE));
    Diagnostic::error(file, message).with_help(help)
}

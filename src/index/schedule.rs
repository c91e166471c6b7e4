//! Embargoes: which pages are published at the build's moment, decided once.
//!
//! [`split`] runs after content is parsed and before the site is indexed. A page whose
//! publish moment (`publish_at`, else `date`) is later than *now* is **scheduled**; one
//! whose `expires` is at or before *now* is **expired**. Both are taken out of the content
//! together with the files of their bundles, so nothing after this point — listings,
//! feeds, sitemap, terms, CVE pages, aliases, related links, and whatever is added later —
//! ever sees them. `--future` keeps scheduled pages in (marked as previews); expired pages
//! stay out.
//!
//! *Now* is an input ([`Schedule::now`]): the command line reads `--now`,
//! `SOURCE_DATE_EPOCH` or the clock once, and the build never looks at the clock. Parsed
//! pages do not depend on it, so the content cache holds scheduled pages like any other,
//! and a warm build at a later moment writes what a cold one would.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::content::{Content, Page, RelatedRef};
use crate::error::Diagnostic;

/// The build's moment and what to do with scheduled pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Schedule {
    /// The moment the site is built for. `None`: no moment was given (library callers,
    /// benchmarks), and every page is published whatever its dates.
    pub now: Option<DateTime<Utc>>,
    /// Publish scheduled pages too (previews), marked as scheduled.
    pub future: bool,
}

/// What `[editorial] expired` in site.toml does with an expired post's URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpiredMode {
    /// Nothing is written: the URL answers with the 404 page.
    #[default]
    Absent,
    /// A small "this post was withdrawn" page is written at the URL.
    Gone,
}

/// Where a page stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Published,
    /// Goes live at this moment.
    Scheduled(DateTime<Utc>),
    /// Was taken down at this moment.
    Expired(DateTime<Utc>),
}

/// Where `page` stands at `now`.
pub fn state(page: &Page, now: DateTime<Utc>) -> State {
    if let Some(at) = page.publish_moment()
        && at.at > now
    {
        return State::Scheduled(at.at.with_timezone(&Utc));
    }
    match page.expires {
        Some(e) if e.at <= now => State::Expired(e.at.with_timezone(&Utc)),
        _ => State::Published,
    }
}

/// A page held back from the output, and when it goes live or went away.
#[derive(Debug, Clone)]
pub struct HeldPage {
    pub page: Arc<Page>,
    pub at: DateTime<Utc>,
}

/// The pages a build leaves out. They are kept only for the build cache, the build's
/// report and `sitrep check`: never hand them to the index or the renderer.
#[derive(Debug, Default)]
pub struct Held {
    /// Scheduled pages left out, the next due first.
    pub scheduled: Vec<HeldPage>,
    /// Expired pages, the latest taken down first.
    pub expired: Vec<HeldPage>,
    /// Scheduled pages published anyway (`--future`), the next due first.
    pub previews: Vec<HeldPage>,
    /// Warnings that depend on the moment (related links to held-back posts).
    pub warnings: Vec<Diagnostic>,
}

impl Held {
    /// When the next scheduled page goes live (the moment to rebuild).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.scheduled.first().map(|h| h.at)
    }

    /// Every page left out.
    pub fn pages(&self) -> impl Iterator<Item = &Arc<Page>> {
        self.scheduled.iter().chain(&self.expired).map(|h| &h.page)
    }
}

/// A URL where an expired post was, answered by a "withdrawn" page (`expired = "gone"`).
/// Only the route and the source file (for messages) are kept: nothing of the post shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    pub route: String,
    pub file: PathBuf,
}

/// What the index needs to know of the split: which published pages are previews, which
/// URLs get a withdrawn page, and which slugs are held back (so related links to them are
/// left out rather than errors). No held page's content.
#[derive(Debug, Clone, Default)]
pub struct Editorial {
    /// Source files of the scheduled pages published by `--future`.
    pub previews: HashSet<PathBuf>,
    pub withdrawn: Vec<Withdrawn>,
    /// Slugs of held-back posts that no published post has.
    pub held_slugs: HashSet<String>,
}

/// Takes scheduled and expired pages (and their bundles' files) out of `content`.
/// Returns what the index needs, what was held back, and warnings about published posts
/// whose `related:` names a held-back post (that entry is left out).
pub fn split(
    content: &mut Content,
    schedule: Schedule,
    expired_mode: ExpiredMode,
) -> (Editorial, Held, Vec<Diagnostic>) {
    let mut editorial = Editorial::default();
    let mut held = Held::default();
    let Some(now) = schedule.now else {
        return (editorial, held, Vec::new());
    };
    let keep = |list: &mut Vec<Arc<Page>>, held: &mut Held| {
        list.retain(|page| match state(page, now) {
            State::Published => true,
            State::Scheduled(at) if schedule.future => {
                held.previews.push(HeldPage {
                    page: Arc::clone(page),
                    at,
                });
                true
            }
            State::Scheduled(at) => {
                held.scheduled.push(HeldPage {
                    page: Arc::clone(page),
                    at,
                });
                false
            }
            State::Expired(at) => {
                held.expired.push(HeldPage {
                    page: Arc::clone(page),
                    at,
                });
                false
            }
        });
    };
    keep(&mut content.posts, &mut held);
    keep(&mut content.pages, &mut held);
    let order =
        |a: &HeldPage, b: &HeldPage| a.at.cmp(&b.at).then_with(|| a.page.file.cmp(&b.page.file));
    held.scheduled.sort_by(order);
    held.previews.sort_by(order);
    held.expired.sort_by(|a, b| order(b, a));
    editorial.previews = held.previews.iter().map(|h| h.page.file.clone()).collect();

    // A bundle's files go with its page.
    let held_routes: Vec<&str> = held
        .pages()
        .map(|p| p.route.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    if !held_routes.is_empty() {
        content.assets.retain(|a| {
            !held_routes
                .iter()
                .any(|r| a.dest.starts_with(r.trim_end_matches('/')))
        });
    }

    if expired_mode == ExpiredMode::Gone {
        editorial.withdrawn = held
            .expired
            .iter()
            .map(|h| Withdrawn {
                route: h.page.route.clone(),
                file: h.page.file.clone(),
            })
            .collect();
        editorial.withdrawn.sort_by(|a, b| a.route.cmp(&b.route));
    }

    let published: HashSet<&str> = content.posts.iter().map(|p| p.slug.as_str()).collect();
    editorial.held_slugs = held
        .pages()
        .filter(|p| {
            p.kind == crate::content::PageKind::Post && !published.contains(p.slug.as_str())
        })
        .map(|p| p.slug.clone())
        .collect();

    let mut warnings = Vec::new();
    if !editorial.held_slugs.is_empty() {
        for post in &content.posts {
            for r in &post.related {
                if let RelatedRef::Post { slug, line, .. } = r
                    && editorial.held_slugs.contains(slug)
                {
                    warnings.push(related_warning(&post.file, slug, *line, &held));
                }
            }
        }
    }
    (editorial, held, warnings)
}

fn related_warning(
    file: &std::path::Path,
    slug: &str,
    line: Option<usize>,
    held: &Held,
) -> Diagnostic {
    let find = |list: &[HeldPage]| {
        list.iter()
            .find(|h| h.page.slug == slug)
            .map(|h| h.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    };
    let (message, help) = match find(&held.scheduled) {
        Some(at) => (
            format!(
                "related: the post `{slug}` is scheduled for {at}: the link is left out until then"
            ),
            "rebuild after it goes live; until then the link would show its slug and lead nowhere",
        ),
        None => (
            format!(
                "related: the post `{slug}` expired on {}: the link is left out",
                find(&held.expired).unwrap_or_default()
            ),
            "remove the entry, or link to another post",
        ),
    };
    Diagnostic::warning(file, message)
        .at_opt(line)
        .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Asset, PageKind};
    use crate::support::date::Date;

    fn page(file: &str, slug: &str, date: &str) -> Page {
        Page {
            kind: PageKind::Post,
            file: PathBuf::from(file),
            route: format!("posts/{slug}/"),
            slug: slug.into(),
            title: slug.into(),
            date: Some(Date::parse(date).unwrap()),
            updated: None,
            publish_at: None,
            expires: None,
            updates: Vec::new(),
            tldr: Vec::new(),
            description: String::new(),
            tags: Vec::new(),
            categories: Vec::new(),
            authors: Vec::new(),
            related: Vec::new(),
            cves: Vec::new(),
            attack: vec![],
            draft: false,
            image: None,
            aliases: Vec::new(),
            extra: serde_json::Value::Null,
            html: crate::content::Html::new(String::new()),
            word_count: 0,
            reading_time: 1,
            body_terms: Default::default(),
            headings: Vec::new(),
            links: Vec::new(),
            iocs: Vec::new(),
            features: Vec::new(),
            source_hash: 0,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        Date::parse(s).unwrap().at.with_timezone(&Utc)
    }

    #[test]
    fn states_at_the_edges() {
        let mut p = page("a.md", "a", "2027-03-01T09:00:00Z");
        assert_eq!(
            state(&p, at("2027-03-01T08:59:59Z")),
            State::Scheduled(at("2027-03-01T09:00:00Z"))
        );
        assert_eq!(state(&p, at("2027-03-01T09:00:00Z")), State::Published);
        p.publish_at = Some(Date::parse("2027-03-02").unwrap());
        assert!(matches!(
            state(&p, at("2027-03-01T12:00:00Z")),
            State::Scheduled(_)
        ));
        p.expires = Some(Date::parse("2027-04-01T00:00:00+02:00").unwrap());
        assert_eq!(state(&p, at("2027-03-31T21:59:59Z")), State::Published);
        assert_eq!(
            state(&p, at("2027-03-31T22:00:00Z")),
            State::Expired(at("2027-03-31T22:00:00Z"))
        );
    }

    #[test]
    fn split_takes_pages_and_bundles_out() {
        let mut scheduled = page("s.md", "secret", "2027-03-01T09:00:00Z");
        scheduled.route = "posts/secret/".into();
        let mut old = page("o.md", "old", "2020-01-01");
        old.expires = Some(Date::parse("2021-01-01").unwrap());
        let mut live = page("l.md", "live", "2024-01-01");
        live.related = vec![RelatedRef::Post {
            slug: "secret".into(),
            title: None,
            line: Some(7),
        }];
        let mut content = Content {
            posts: vec![Arc::new(scheduled), Arc::new(old), Arc::new(live)],
            assets: vec![
                Asset {
                    source: "x".into(),
                    shown: "x".into(),
                    dest: "posts/secret/cover.png".into(),
                },
                Asset {
                    source: "y".into(),
                    shown: "y".into(),
                    dest: "posts/secret-ish/cover.png".into(),
                },
            ],
            ..Content::default()
        };
        let schedule = Schedule {
            now: Some(at("2026-11-30T00:00:00Z")),
            future: false,
        };
        let (ed, held, warnings) = split(&mut content, schedule, ExpiredMode::Gone);
        assert_eq!(content.posts.len(), 1);
        assert_eq!(content.posts[0].slug, "live");
        assert_eq!(content.assets.len(), 1);
        assert_eq!(
            content.assets[0].dest,
            PathBuf::from("posts/secret-ish/cover.png")
        );
        assert_eq!(held.next_due(), Some(at("2027-03-01T09:00:00Z")));
        assert_eq!(held.expired.len(), 1);
        assert_eq!(ed.withdrawn[0].route, "posts/old/");
        assert!(ed.held_slugs.contains("secret"));
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(7));
        assert!(
            warnings[0]
                .message
                .contains("scheduled for 2027-03-01T09:00:00Z")
        );
    }

    #[test]
    fn future_keeps_scheduled_pages_as_previews_and_no_moment_keeps_everything() {
        let mk = || Content {
            posts: vec![
                Arc::new(page("s.md", "s", "2027-03-01")),
                Arc::new(page("l.md", "l", "2024-01-01")),
            ],
            ..Content::default()
        };
        let mut content = mk();
        let (ed, held, _) = split(
            &mut content,
            Schedule {
                now: Some(at("2026-11-30T00:00:00Z")),
                future: true,
            },
            ExpiredMode::Absent,
        );
        assert_eq!(content.posts.len(), 2);
        assert!(ed.previews.contains(&PathBuf::from("s.md")));
        assert!(held.scheduled.is_empty() && held.previews.len() == 1);
        let mut content = mk();
        let (ed, held, _) = split(&mut content, Schedule::default(), ExpiredMode::Absent);
        assert_eq!(content.posts.len(), 2);
        assert!(ed.previews.is_empty() && held.previews.is_empty());
    }
}

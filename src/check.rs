//! `sitrep check`: everything `build` validates, plus the internal links of every post and
//! page, without writing anything.
//!
//! [`check`] loads the site with [`build::load`] (so every build error is found the same
//! way), lists every file a build would write ([`site_files`]) and resolves each Markdown
//! link and image of each body against it, the way a browser would: relative links against
//! the page's URL, root-relative links under the base URL's path, absolute links to the
//! site's own base URL like root-relative ones. A problem is a link to a path the site does
//! not have, an image that is not there, or a `#fragment` that names no id on its target
//! page (posts and standalone pages: heading ids, footnotes and the `id`s of raw HTML).
//! Other sites are not fetched. Leftover Hugo and Liquid syntax in bodies is reported too,
//! with the sitrep way to write it (`content::shortcodes::migration`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Component, Path};

use crate::build::{self, BuildOptions, Loaded};
use crate::content::highlight::Highlighter;
use crate::content::{BodyLink, Page};
use crate::error::{BuildError, Diagnostic, closest};
use crate::render::Renderer;
use crate::urls::{self, Urls, percent_decode};

/// What a check found.
#[derive(Debug)]
pub struct CheckReport {
    /// Warnings of the build (unknown front matter fields …).
    pub warnings: Vec<Diagnostic>,
    /// Broken links, missing images and anchors: each an error with file and line.
    pub problems: Vec<Diagnostic>,
    /// Posts and pages whose links were checked.
    pub pages: usize,
    /// Links and images checked (external ones are counted but not fetched).
    pub links: usize,
    /// Posts and pages left out or published early at the build's moment: (what, when,
    /// file), the next due first, then the expired ones.
    pub editorial: Vec<(&'static str, String, std::path::PathBuf)>,
}

impl CheckReport {
    /// One line per scheduled, preview or expired post, with its moment and file.
    pub fn editorial_lines(&self) -> Vec<String> {
        self.editorial
            .iter()
            .map(|(what, at, file)| format!("{what:<9} {at}  {}", file.display()))
            .collect()
    }

    /// The closing line for the terminal.
    pub fn summary(&self) -> String {
        let n = self.problems.len();
        format!(
            "checked {} link{} in {} page{}: {}",
            self.links,
            if self.links == 1 { "" } else { "s" },
            self.pages,
            if self.pages == 1 { "" } else { "s" },
            match n {
                0 => "no problems".to_string(),
                1 => "1 problem".to_string(),
                n => format!("{n} problems"),
            }
        )
    }
}

/// Loads the site as `build` would and checks its internal links; writes nothing.
/// A site that does not load is the `Err` (the same errors `build` reports).
pub fn check(opts: &BuildOptions, hl: &Highlighter) -> Result<CheckReport, BuildError> {
    let loaded = build::load(opts, hl)?;
    let files = site_files(&loaded).map_err(BuildError::new)?;
    let site = &loaded.site;
    let pages: Vec<&Page> = site.posts.iter().chain(&site.pages).map(|p| &**p).collect();
    let anchors: HashMap<String, HashSet<String>> = pages
        .iter()
        .map(|p| {
            Ok((
                urls::output_file(&p.route).to_string_lossy().into_owned(),
                anchors_of(p)?,
            ))
        })
        .collect::<Result<_, Diagnostic>>()
        .map_err(|d: Diagnostic| BuildError::new(vec![d]))?;
    let moment = |at: &chrono::DateTime<chrono::Utc>| {
        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    };
    let held = &loaded.held;
    let mut held_routes: Vec<(String, Held)> = Vec::new();
    for (list, what) in [(&held.scheduled, "scheduled"), (&held.expired, "expired")] {
        for h in list {
            let info = Held {
                what,
                at: moment(&h.at),
            };
            held_routes.push((h.page.route.clone(), info.clone()));
            for a in &h.page.aliases {
                held_routes.push((a.clone(), info.clone()));
            }
        }
    }
    let checker = Checker {
        urls: &loaded.urls,
        files: &files,
        anchors: &anchors,
        pages: &pages,
        drafts: opts.drafts,
        held: &held_routes,
    };
    let mut problems = Vec::new();
    let mut warnings = loaded.all_warnings();
    let mut links = 0;
    for page in &pages {
        for link in &page.links {
            links += 1;
            if let Some(problem) = checker.check(page, link) {
                if problem.severity == crate::error::Severity::Warning {
                    warnings.push(problem);
                } else {
                    problems.push(problem);
                }
            }
        }
    }
    // Body images are checked above, like links; a missing front matter `image` only here.
    problems.extend(
        (loaded.images.missing.iter())
            .filter(|d| d.message.starts_with("`image`"))
            .cloned(),
    );
    // Hugo and Liquid syntax a migrated site still has: shown as text by sitrep.
    problems.extend(crate::content::shortcodes::migration::problems(
        &opts.root,
        pages.iter().map(|p| p.file.as_path()),
    ));
    let editorial = held
        .scheduled
        .iter()
        .map(|h| ("scheduled", h))
        .chain(held.previews.iter().map(|h| ("preview", h)))
        .chain(held.expired.iter().map(|h| ("expired", h)))
        .map(|(what, h)| (what, moment(&h.at), h.page.file.clone()))
        .collect();
    Ok(CheckReport {
        warnings,
        problems,
        pages: pages.len(),
        links,
        editorial,
    })
}

/// Every file a build of this site writes, relative to the output folder, `/`-separated
/// (`index.html`, `posts/x/index.html`, `style.css`): the paths of the build's own plan.
pub fn site_files(loaded: &Loaded) -> Result<BTreeSet<String>, Vec<Diagnostic>> {
    let renderer = Renderer::new(
        &loaded.site,
        &loaded.config,
        &loaded.urls,
        &loaded.templates,
        &loaded.theme,
        &loaded.site_value,
        loaded.syntax_css.as_deref(),
    )
    .with_images(&loaded.images);
    let jobs = renderer.plan()?;
    Ok(jobs.iter().map(|j| slashed(&j.path)).collect())
}

fn slashed(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The ids a link's `#fragment` may name on a page: its headings and every `id="…"` or
/// `name="…"` in its HTML (footnotes, raw HTML anchors).
pub fn anchors_of(page: &Page) -> Result<HashSet<String>, Diagnostic> {
    let mut ids: HashSet<String> = page.headings.iter().map(|h| h.id.clone()).collect();
    let html = page.html.get()?;
    for attr in [" id=\"", " name=\""] {
        let mut from = 0;
        while let Some(i) = html[from..].find(attr) {
            let start = from + i + attr.len();
            let Some(len) = html[start..].find('"') else {
                break;
            };
            ids.insert(unescape_html(&html[start..start + len]));
            from = start + len;
        }
    }
    Ok(ids)
}

fn unescape_html(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Where a link leads, as far as the site is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkTarget {
    /// Another site, `mailto:` and the like: not checked.
    External,
    /// A path of this site (decoded, without its leading `/` and without the base path),
    /// and the decoded fragment if any.
    Internal {
        path: String,
        fragment: Option<String>,
    },
    /// A link that cannot work, and why.
    Invalid(String),
}

/// Resolves a link written on the page at `page_route` the way a browser would.
pub fn resolve_link(dest: &str, page_route: &str, urls: &Urls) -> LinkTarget {
    let dest = dest.trim();
    let (before, fragment) = match dest.split_once('#') {
        Some((b, f)) => (b, Some(decode(f))),
        None => (dest, None),
    };
    let before = before.split('?').next().unwrap_or("");
    let base_path = urls.base_path();
    // An absolute link to this site's own base URL is a root-relative one.
    let own = urls.base_url();
    let absolute_own = before
        .get(..own.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(own))
        && matches!(before.as_bytes().get(own.len()), None | Some(b'/'));
    let rooted: String;
    let before = if absolute_own {
        rooted = format!("{base_path}{}", &before[own.len()..]);
        if rooted.is_empty() {
            "/"
        } else {
            rooted.as_str()
        }
    } else {
        before
    };
    if before.starts_with("//") || has_scheme(before) {
        return LinkTarget::External;
    }
    let joined = if before.is_empty() {
        page_route.to_string()
    } else if let Some(rest) = before.strip_prefix('/') {
        if base_path.is_empty() {
            rest.to_string()
        } else if before == base_path {
            String::new()
        } else if let Some(rest) = before.strip_prefix(&format!("{base_path}/")) {
            rest.to_string()
        } else {
            return LinkTarget::Invalid(format!(
                "is outside the site, whose pages are all under {base_path}/"
            ));
        }
    } else {
        let dir = match page_route.rfind('/') {
            Some(i) => &page_route[..=i],
            None => "",
        };
        format!("{dir}{before}")
    };
    let decoded = decode(&joined);
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = decoded.split('/').collect();
    let mut trailing = false;
    for (i, seg) in parts.iter().enumerate() {
        let last = i == parts.len() - 1;
        match *seg {
            "" | "." => trailing = last,
            ".." => {
                if segments.pop().is_none() {
                    return LinkTarget::Invalid("goes above the root of the site".into());
                }
                trailing = last;
            }
            s => {
                segments.push(s);
                trailing = false;
            }
        }
    }
    let mut path = segments.join("/");
    if trailing && !path.is_empty() {
        path.push('/');
    }
    LinkTarget::Internal { path, fragment }
}

fn has_scheme(s: &str) -> bool {
    let end = s.find([':', '/']).unwrap_or(s.len());
    end > 0
        && s[end..].starts_with(':')
        && s[..end].starts_with(|c: char| c.is_ascii_alphabetic())
        && s[..end]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn decode(s: &str) -> String {
    percent_decode(s)
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| s.to_string())
}

/// The output file a site path is served from, if the site has it: `x/` is `x/index.html`,
/// and `x` is the file `x` or, as hosts redirect it, the folder `x/`.
pub fn file_for(path: &str, files: &BTreeSet<String>) -> Option<String> {
    let candidates = if path.is_empty() || path.ends_with('/') {
        vec![format!("{path}index.html")]
    } else {
        vec![path.to_string(), format!("{path}/index.html")]
    };
    candidates.into_iter().find(|c| files.contains(c))
}

/// A held-back post a link may lead to: scheduled or expired, and since or until when.
#[derive(Clone)]
struct Held {
    what: &'static str,
    at: String,
}

struct Checker<'a> {
    /// Routes and aliases of held-back posts.
    held: &'a [(String, Held)],
    urls: &'a Urls,
    files: &'a BTreeSet<String>,
    anchors: &'a HashMap<String, HashSet<String>>,
    pages: &'a [&'a Page],
    /// Whether drafts were loaded (`--drafts`).
    drafts: bool,
}

impl Checker<'_> {
    fn check(&self, page: &Page, link: &BodyLink) -> Option<Diagnostic> {
        let what = if link.is_image { "image" } else { "link" };
        let problem = |msg: String| {
            Diagnostic::error(&page.file, format!("{what} `{}` {msg}", link.dest))
                .at_line(link.line)
        };
        let (path, fragment) = match resolve_link(&link.dest, &page.route, self.urls) {
            LinkTarget::External => return None,
            LinkTarget::Invalid(why) => {
                return Some(problem(why).with_help(format!(
                    "write a path on this site, such as {}",
                    self.urls.url("posts/some-post/")
                )));
            }
            LinkTarget::Internal { path, fragment } => (path, fragment),
        };
        let shown = self.urls.url(&path);
        if file_for(&path, self.files).is_none()
            && let Some((_, held)) = self.held.iter().find(|(route, _)| {
                let r = route.trim_end_matches('/');
                path == *route || path == r || path.starts_with(route.as_str())
            })
        {
            let (message, help) = if held.what == "scheduled" {
                (
                    format!(
                        "{what} `{}` leads to a post scheduled for {}: until then the link is broken and shows where the embargoed post will be",
                        link.dest, held.at
                    ),
                    "publish this page no earlier than the post, or remove the link until the post is out",
                )
            } else {
                (
                    format!(
                        "{what} `{}` leads to a post that expired on {}: the link is broken",
                        link.dest, held.at
                    ),
                    "remove the link, or point it to another post",
                )
            };
            return Some(
                Diagnostic::warning(&page.file, message)
                    .at_line(link.line)
                    .with_help(help),
            );
        }
        let Some(file) = file_for(&path, self.files) else {
            let help = if link.is_image {
                "put the image in static/ (served from the site root) or beside the post, in a bundle: content/posts/<slug>/index.md with the image next to it".to_string()
            } else {
                self.suggest(&path, &page.route, !link.dest.trim_start().starts_with('/'))
            };
            return Some(
                problem(format!("leads nowhere: the site has no {shown}")).with_help(help),
            );
        };
        let fragment = fragment.filter(|f| !f.is_empty() && f != "top")?;
        let ids = self.anchors.get(&file)?;
        if ids.contains(&fragment) {
            return None;
        }
        let mut known: Vec<&str> = ids.iter().map(String::as_str).collect();
        known.sort_unstable();
        let help = match closest(&fragment, &known) {
            Some(c) => format!("did you mean #{c}?"),
            None if known.is_empty() => "that page has no headings or anchors".to_string(),
            None => format!(
                "ids on that page: {}",
                known
                    .iter()
                    .take(12)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Some(problem(format!("names `#{fragment}`, which {shown} does not have")).with_help(help))
    }

    /// A hint for a link that leads nowhere.
    fn suggest(&self, path: &str, page_route: &str, relative: bool) -> String {
        if path.ends_with(".md") {
            let name = path.rsplit('/').next().unwrap_or(path);
            if let Some(target) = self.pages.iter().find(|p| {
                p.file
                    .file_name()
                    .is_some_and(|f| f.to_string_lossy() == name)
            }) {
                return format!(
                    "link to the page's URL, not its Markdown file: {}",
                    self.urls.url(&target.route)
                );
            }
        }
        // Only near misses: a typo or two, not any path of a similar length.
        let near = self
            .files
            .iter()
            .map(|f| f.strip_suffix("index.html").unwrap_or(f))
            .map(|r| (strsim::damerau_levenshtein(path, r), r))
            .filter(|(d, _)| *d <= 2.max(path.chars().count() / 8))
            .min();
        let mut help = vec![match near.map(|(_, r)| r) {
            Some(c) => format!("did you mean {}?", self.urls.url(c)),
            None => "check the path".to_string(),
        }];
        if !self.drafts && path.starts_with(&format!("{}/", urls::POSTS)) {
            help.push("a draft is only built with --drafts".to_string());
        }
        if relative {
            help.push(format!(
                "relative links start from this page's URL, {}",
                self.urls.url(page_route)
            ));
        }
        help.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn internal(path: &str, fragment: Option<&str>) -> LinkTarget {
        LinkTarget::Internal {
            path: path.into(),
            fragment: fragment.map(Into::into),
        }
    }

    #[test]
    fn links_resolve_like_a_browser() {
        let u = Urls::new("https://news.example.com");
        let r = |dest: &str| resolve_link(dest, "posts/a/", &u);
        assert_eq!(r("/posts/b/"), internal("posts/b/", None));
        assert_eq!(r("/posts/b/#x"), internal("posts/b/", Some("x")));
        assert_eq!(r("img.png"), internal("posts/a/img.png", None));
        assert_eq!(r("./img.png"), internal("posts/a/img.png", None));
        assert_eq!(r("../b/"), internal("posts/b/", None));
        assert_eq!(r("../../"), internal("", None));
        assert_eq!(r("../.."), internal("", None));
        assert_eq!(r("#sec"), internal("posts/a/", Some("sec")));
        assert_eq!(r("?q=1"), internal("posts/a/", None));
        assert_eq!(r("/tags/%E6%97%A5/"), internal("tags/日/", None));
        assert_eq!(r("/rss.xml"), internal("rss.xml", None));
        assert_eq!(r("/"), internal("", None));
        assert_eq!(
            r("https://news.example.com/posts/b/"),
            internal("posts/b/", None)
        );
        assert_eq!(r("HTTPS://NEWS.EXAMPLE.COM"), internal("", None));
        assert_eq!(r("https://news.example.com.evil/x"), LinkTarget::External);
        assert_eq!(r("https://news.example.öö/x"), LinkTarget::External);
        assert_eq!(r("日本語"), internal("posts/a/日本語", None));
        assert_eq!(r("https://nvd.nist.gov/"), LinkTarget::External);
        assert_eq!(r("mailto:a@b.c"), LinkTarget::External);
        assert_eq!(r("//cdn.example.com/x.js"), LinkTarget::External);
        assert!(matches!(r("../../../x"), LinkTarget::Invalid(_)));
        assert_eq!(r("a:b/c"), LinkTarget::External);
        assert_eq!(r("x/a:b"), internal("posts/a/x/a:b", None));
    }

    #[test]
    fn links_under_a_base_path() {
        let u = Urls::new("https://example.com/blog");
        let r = |dest: &str| resolve_link(dest, "posts/a/", &u);
        assert_eq!(r("/blog/posts/b/"), internal("posts/b/", None));
        assert_eq!(r("/blog"), internal("", None));
        assert_eq!(r("/blog/"), internal("", None));
        assert!(matches!(r("/posts/b/"), LinkTarget::Invalid(_)));
        assert!(matches!(r("/blogger/"), LinkTarget::Invalid(_)));
        assert_eq!(r("https://example.com/blog/x/"), internal("x/", None));
        assert!(matches!(
            r("https://example.com/other/"),
            LinkTarget::External
        ));
    }

    #[test]
    fn files_for_paths() {
        let files: BTreeSet<String> = ["index.html", "posts/a/index.html", "rss.xml"]
            .map(String::from)
            .into();
        assert_eq!(file_for("", &files).as_deref(), Some("index.html"));
        assert_eq!(
            file_for("posts/a/", &files).as_deref(),
            Some("posts/a/index.html")
        );
        assert_eq!(
            file_for("posts/a", &files).as_deref(),
            Some("posts/a/index.html")
        );
        assert_eq!(file_for("rss.xml", &files).as_deref(), Some("rss.xml"));
        assert_eq!(file_for("rss.xml/", &files), None);
        assert_eq!(file_for("posts/b/", &files), None);
    }

    #[test]
    fn anchors_come_from_headings_and_html_ids() {
        let hl = Highlighter::new();
        let md = crate::content::markdown::render(
            "## Patch now\n\nText[^n].\n\n<a id=\"raw\"></a>\n\n[^n]: A note.\n",
            &crate::content::markdown::Options {
                cve_prefix: "/cve/".into(),
                highlight: false,
                unsafe_html: true,
                attack_ids: Default::default(),
                shortcodes: None,
                search_text: Default::default(),
            },
            &mut hl.session(),
        );
        let page = Page {
            kind: crate::content::PageKind::Post,
            file: "content/posts/a.md".into(),
            route: "posts/a/".into(),
            slug: "a".into(),
            title: "A".into(),
            date: None,
            updated: None,
            publish_at: None,
            expires: None,
            updates: Vec::new(),
            tldr: vec![],
            description: String::new(),
            tags: vec![],
            categories: vec![],
            authors: vec![],
            related: vec![],
            cves: vec![],
            attack: vec![],
            draft: false,
            image: None,
            aliases: vec![],
            extra: serde_json::Value::Null,
            html: crate::content::Html::new(md.html),
            word_count: 0,
            reading_time: 1,
            body_terms: Default::default(),
            headings: md.headings,
            links: vec![],
            iocs: vec![],
            features: vec![],
            source_hash: 0,
        };
        let ids = anchors_of(&page).unwrap();
        assert!(ids.contains("patch-now"), "{ids:?}");
        assert!(ids.contains("raw"), "{ids:?}");
        assert!(ids.contains("n"), "{ids:?} {:?}", page.html.get());
        assert!(!ids.contains("nope"));
    }
}

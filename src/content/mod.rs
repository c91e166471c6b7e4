//! Stage 2: walk `content/` and turn each Markdown file into a [`Page`].
//!
//! Layout (SPEC): `content/posts/*.md` or `content/posts/<slug>/index.md` (a bundle, its
//! other files copied beside the page) are posts; every other `.md` is a standalone page
//! (`content/about.md` -> `/about/`). Other files are copied as they are. Files and folders
//! whose names start with `.` are ignored.
//!
//! Files are parsed in parallel; each is read once, its front matter checked field by field
//! (every problem of every file is reported, not only the first), and its body rendered to
//! HTML here so the text is walked once.

pub mod body;
pub mod callouts;
pub mod editorial;
pub mod frontmatter;
pub mod highlight;
pub mod images;
pub mod ioc;
pub mod markdown;
mod page;
pub mod shortcodes;

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::Config;
pub use crate::content::body::Html;
use crate::content::highlight::{Highlighter, Session};
use crate::error::{Diagnostic, Problem, line_col};
use crate::support::date::Date;
use crate::support::fingerprint::{self, Fingerprint};
use crate::support::slug::{slug_from_file_stem, slugify};
use crate::urls::checked_relative;
use frontmatter::{Parsed, RelatedField};
use markdown::Heading;
use page::Settings;

/// A post or a standalone page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PageKind {
    Post,
    Page,
}

/// One content file, parsed and rendered.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Page {
    pub kind: PageKind,
    /// The source file, relative to the site root (for messages).
    pub file: PathBuf,
    pub route: String,
    pub slug: String,
    pub title: String,
    pub date: Option<Date>,
    /// `updated`, else the newest of `updates`.
    pub updated: Option<Date>,
    /// When the page goes live, if not at `date` (see [`Page::publish_moment`]).
    pub publish_at: Option<Date>,
    /// When the page is taken down.
    pub expires: Option<Date>,
    /// Dated update notes, newest first.
    pub updates: Vec<editorial::UpdateNote>,
    pub tldr: Vec<String>,
    /// From `description`, else the TLDR, else the first paragraph.
    pub description: String,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub authors: Vec<String>,
    pub related: Vec<RelatedRef>,
    /// Front matter `cves` and the ids found in the body, in that order, without repeats.
    pub cves: Vec<String>,
    /// Front matter `attack` and the known technique ids found in the body, in that order,
    /// without repeats.
    #[serde(default)]
    pub attack: Vec<String>,
    pub draft: bool,
    pub image: Option<String>,
    /// Routes of the redirect pages (`old/path/` or `old.html`).
    pub aliases: Vec<String>,
    pub extra: serde_json::Value,
    /// The rendered body: in memory, or in the build cache until a page needs it. Kept
    /// out of the page's own serialisation: the cache stores bodies apart.
    #[serde(skip)]
    pub html: Html,
    pub word_count: usize,
    pub reading_time: usize,
    /// The body's search terms, counted (built here, in parallel, and kept in the cache).
    #[serde(default)]
    pub body_terms: crate::render::search::index::BodyTerms,
    pub headings: Vec<Heading>,
    /// Links and images in the body: destination, file line, is it an image.
    pub links: Vec<BodyLink>,
    /// Indicators of compromise: front matter's `iocs:`, then those of `{% ioc() %}` blocks.
    pub iocs: Vec<ioc::Ioc>,
    /// What the body's shortcodes need from the page and the site (`shortcodes::FEATURE_*`).
    pub features: Vec<String>,
    /// Fingerprint of the source file's bytes: the page is a function of them (and of the
    /// config), so warm builds reuse a cached page whose source did not change.
    pub source_hash: Fingerprint,
}

/// Pages a build may take instead of parsing their files again: the build cache, or
/// `serve`'s memory of the last build. Each page is handed out at most once.
pub trait Reuse: Sync {
    /// The page of `file` (relative to the site root) when the file is known not to have
    /// changed: it is not read at all.
    fn unchanged(&self, file: &Path) -> Option<Reused>;
    /// The page of `file` if the file's bytes still hash to `hash`.
    fn same_bytes(&self, file: &Path, hash: Fingerprint) -> Option<Reused>;
}

/// A page taken from the last build, with its file's warnings.
#[derive(Debug)]
pub struct Reused {
    pub page: Arc<Page>,
    pub warnings: Vec<Diagnostic>,
}

/// A link in a body, with its line in the source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BodyLink {
    pub dest: String,
    pub line: usize,
    pub is_image: bool,
}

/// A `related:` entry, checked but not yet resolved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RelatedRef {
    External {
        title: String,
        url: String,
    },
    Post {
        slug: String,
        title: Option<String>,
        line: Option<usize>,
    },
}

/// A non-Markdown file under `content/`, copied to `dest` (relative to the output).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Asset {
    pub source: PathBuf,
    /// The source as messages show it (`content/posts/x/chart.png`).
    pub shown: PathBuf,
    pub dest: PathBuf,
}

/// Everything under `content/`.
#[derive(Debug, Default)]
pub struct Content {
    pub posts: Vec<Arc<Page>>,
    pub pages: Vec<Arc<Page>>,
    pub assets: Vec<Asset>,
    pub warnings: Vec<Diagnostic>,
    /// How many files were parsed (rather than taken from the cache).
    pub parsed: usize,
}

/// A Markdown file found by the walk, with what its place in the tree says.
#[derive(Debug, Clone)]
struct Source {
    path: PathBuf,
    rel: PathBuf,
    kind: PageKind,
    /// The slug the file name gives (for posts) or the page's path segments.
    segments: Vec<String>,
}

/// Walks and parses `root/content`.
/// `cache` holds pages from the last build: a file whose bytes did not change is not parsed
/// again (see [`Reuse`]).
pub fn load(
    root: &Path,
    config: &Config,
    hl: &Highlighter,
    drafts: bool,
    cve_prefix: &str,
    cache: Option<&dyn Reuse>,
    shortcodes: Option<shortcodes::Shared>,
) -> Result<Content, Vec<Diagnostic>> {
    let content_dir = root.join("content");
    let mut errors = Vec::new();
    let mut content = Content::default();
    if !content_dir.is_dir() {
        content.warnings.push(
            Diagnostic::warning(
                "content",
                "there is no content/ folder: the site has no posts",
            )
            .with_help("create content/posts/ and write a post, or run `sitrep new \"Title\"`"),
        );
        return Ok(content);
    }

    let (sources, asset_files) = walk(&content_dir, &mut errors);
    let bundle_dirs: BTreeSet<PathBuf> = sources
        .iter()
        .filter(|s| s.rel.file_name().is_some_and(|n| n == "index.md"))
        .filter_map(|s| s.rel.parent().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty() && p != Path::new("posts"))
        .collect();

    let md_opts = markdown_options(config, cve_prefix, shortcodes);
    let settings = Settings {
        config,
        md_opts: &md_opts,
        drafts,
    };
    for r in parse_all(&sources, &settings, hl, cache) {
        content.parsed += usize::from(!r.cached);
        content.warnings.extend(r.warnings);
        errors.extend(r.errors);
        if let Some(page) = r.page {
            match page.kind {
                PageKind::Post => content.posts.push(page),
                PageKind::Page => content.pages.push(page),
            }
        }
    }
    place_assets(&mut content, &bundle_dirs, asset_files, &mut errors);

    if errors.is_empty() {
        Ok(content)
    } else {
        errors.extend(content.warnings);
        Err(errors)
    }
}

/// Parses every source in parallel, in their order.
fn parse_all(
    sources: &[Source],
    settings: &Settings<'_>,
    hl: &Highlighter,
    cache: Option<&dyn Reuse>,
) -> Vec<FileResult> {
    // Few large chunks rather than rayon's fine splits: each chunk highlights through one
    // session, whose memo of highlighted lines is then reused across many posts.
    let chunk = (sources.len() / (rayon::current_num_threads() * 4)).max(16);
    sources
        .par_chunks(chunk)
        .flat_map_iter(|files| {
            let mut session = hl.session();
            files
                .iter()
                .map(|s| parse_file(s, settings, &mut session, cache))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Places the other files of `content/`: beside their bundle's page, or at their own path.
/// A bundle whose page is a draft or failed takes its files with it.
fn place_assets(
    content: &mut Content,
    bundle_dirs: &BTreeSet<PathBuf>,
    asset_files: Vec<(PathBuf, PathBuf)>,
    errors: &mut Vec<Diagnostic>,
) {
    let route_of_file: HashMap<&Path, &str> = content
        .posts
        .iter()
        .chain(&content.pages)
        .map(|p| (p.file.as_path(), p.route.as_str()))
        .collect();
    let routes_of_bundles: HashMap<&Path, String> = bundle_dirs
        .iter()
        .filter_map(|dir| {
            let index = Path::new("content").join(dir).join("index.md");
            route_of_file
                .get(index.as_path())
                .map(|route| (dir.as_path(), route.to_string()))
        })
        .collect();
    let mut assets = Vec::new();
    for (path, rel) in asset_files {
        let in_bundle = rel.ancestors().skip(1).find(|a| bundle_dirs.contains(*a));
        let dest = match in_bundle {
            Some(dir) => match routes_of_bundles.get(dir) {
                Some(route) => PathBuf::from(route).join(rel.strip_prefix(dir).unwrap_or(&rel)),
                None => continue,
            },
            None => rel.clone(),
        };
        let shown = Path::new("content").join(&rel);
        match checked_relative(&dest.to_string_lossy()) {
            Ok(dest) => assets.push(Asset {
                source: path,
                shown,
                dest,
            }),
            Err(why) => errors.push(
                Diagnostic::error(shown, format!("cannot copy this file: {why}"))
                    .with_help("rename the file"),
            ),
        }
    }
    content.assets.extend(assets);
}

/// How content is rendered, from the config.
fn markdown_options(
    config: &Config,
    cve_prefix: &str,
    shortcodes: Option<shortcodes::Shared>,
) -> markdown::Options {
    markdown::Options {
        cve_prefix: cve_prefix.to_string(),
        highlight: config.markdown.highlight_code,
        unsafe_html: config.markdown.unsafe_html,
        attack_ids: config.attack_ids.clone(),
        shortcodes,
        // Search and related coverage read it (related only ATT&CK ids, from the same part).
        search_text: if !config.search && config.related_posts == 0 {
            markdown::SearchText::None
        } else {
            match config.search_body_words {
                crate::config::BodyWords::All => markdown::SearchText::All,
                crate::config::BodyWords::First(words) => markdown::SearchText::Lede {
                    words,
                    wpm: config.words_per_minute,
                    cpm: config.cjk_chars_per_minute,
                },
            }
        },
    }
}

/// A file parsed again: its page (none for a draft left out) and its warnings.
pub type Reparsed = (Option<Arc<Page>>, Vec<Diagnostic>);

/// Parses one content file again (`serve`'s fast path), as [`load`] would: `file` is
/// relative to the site root (`content/posts/x.md`). `Ok(None)` for a draft left out.
/// Returns the page with the file's warnings, or the file's errors.
pub fn parse_one(
    root: &Path,
    file: &Path,
    config: &Config,
    hl: &Highlighter,
    drafts: bool,
    cve_prefix: &str,
    shortcodes: Option<shortcodes::Shared>,
) -> Result<Reparsed, Vec<Diagnostic>> {
    let rel = file.strip_prefix("content").map_err(|_| {
        vec![
            Diagnostic::error(file, "not a content file")
                .with_help("content files live under content/"),
        ]
    })?;
    let (kind, segments) = classify(rel).map_err(|d| vec![d])?;
    let src = Source {
        path: root.join(file),
        rel: rel.to_path_buf(),
        kind,
        segments,
    };
    let md_opts = markdown_options(config, cve_prefix, shortcodes);
    let settings = Settings {
        config,
        md_opts: &md_opts,
        drafts,
    };
    let r = parse_file(&src, &settings, &mut hl.session(), None);
    if r.errors.is_empty() {
        Ok((r.page, r.warnings))
    } else {
        Err(r.errors)
    }
}

impl Page {
    /// The moment the page goes live: `publish_at`, else `date` (none for an undated page,
    /// which is always live).
    pub fn publish_moment(&self) -> Option<Date> {
        editorial::publish_moment(self.publish_at, self.date)
    }

    /// Whether another version of this page shows the same everywhere but on its own page:
    /// in listings, sidebars, neighbours, related links, taxonomies, feeds' item headers,
    /// the sitemap and the routes. Only its body, table of contents, `extra` and word count
    /// may differ.
    pub fn same_outside_own_page(&self, other: &Page) -> bool {
        self.same_place(other)
            && self.title == other.title
            && self.tldr == other.tldr
            && self.description == other.description
            && self.authors == other.authors
            && self.image == other.image
            && self.reading_time == other.reading_time
    }

    /// Whether another version of this page is placed and linked the same: same file,
    /// route, slug, dates, terms, related entries, aliases, draft flag, indicators of
    /// compromise and shortcode features (files beside the page and `_headers` follow
    /// those). What its summary
    /// shows (title, TLDR, description, authors, image, reading time) may differ.
    pub fn same_place(&self, other: &Page) -> bool {
        self.kind == other.kind
            && self.file == other.file
            && self.route == other.route
            && self.slug == other.slug
            && self.date == other.date
            && self.updated == other.updated
            && self.publish_at == other.publish_at
            && self.expires == other.expires
            && self.tags == other.tags
            && self.categories == other.categories
            && self.related == other.related
            && self.cves == other.cves
            && self.attack == other.attack
            && self.draft == other.draft
            && self.aliases == other.aliases
            && self.iocs == other.iocs
            && self.features == other.features
    }
}

/// Lists Markdown sources and other files, in a stable order.
fn walk(
    content_dir: &Path,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<Source>, Vec<(PathBuf, PathBuf)>) {
    let mut sources = Vec::new();
    let mut assets = Vec::new();
    let walker = walkdir::WalkDir::new(content_dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_ignored(e.file_name().to_string_lossy().as_ref()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(|p| display_path(content_dir, p))
                    .unwrap_or_else(|| "content".into());
                let d = if let Some(ancestor) = e.loop_ancestor() {
                    Diagnostic::error(
                        path,
                        format!(
                            "symbolic link loop: it leads back to {}",
                            display_path(content_dir, ancestor).display()
                        ),
                    )
                    .with_help("remove or fix the symbolic link")
                } else if let Some(io) = e.io_error() {
                    Diagnostic::io(&path, "read", io)
                } else {
                    Diagnostic::error(path, e.to_string())
                };
                errors.push(d);
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path().to_path_buf();
        let Ok(rel) = path.strip_prefix(content_dir).map(Path::to_path_buf) else {
            continue;
        };
        let is_md = path
            .extension()
            .is_some_and(|e| e == "md" || e == "markdown");
        if !is_md {
            assets.push((path, rel));
            continue;
        }
        match classify(&rel) {
            Ok((kind, segments)) => sources.push(Source {
                path,
                rel,
                kind,
                segments,
            }),
            Err(d) => errors.push(d),
        }
    }
    (sources, assets)
}

fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('#') || name.ends_with('~')
}

fn display_path(content_dir: &Path, p: &Path) -> PathBuf {
    match p.strip_prefix(content_dir) {
        Ok(rel) => Path::new("content").join(rel),
        Err(_) => p.to_path_buf(),
    }
}

/// What a file's place in `content/` makes it: a post and its slug, or a page and its path.
fn classify(rel: &Path) -> Result<(PageKind, Vec<String>), Diagnostic> {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let file = Path::new("content").join(rel);
    if parts.is_empty() {
        return Err(Diagnostic::error(&file, "is not a file name").with_help("rename the file"));
    }
    let stem = |name: &str| name.rsplit_once('.').map_or(name, |(s, _)| s).to_string();
    let is_index = parts.last().is_some_and(|n| stem(n) == "index");
    if parts.len() >= 2 && parts[0] == "posts" {
        let name = if is_index && parts.len() >= 3 {
            parts[parts.len() - 2].clone()
        } else {
            stem(&parts[parts.len() - 1])
        };
        let slug = slug_from_file_stem(&name);
        return Ok((PageKind::Post, vec![slug]));
    }
    let mut raw: Vec<String> = parts[..parts.len() - 1].to_vec();
    if !is_index {
        raw.push(stem(&parts[parts.len() - 1]));
    }
    let mut segments = Vec::with_capacity(raw.len());
    for r in raw {
        let s = slugify(&r);
        if s.is_empty() {
            return Err(
                Diagnostic::error(&file, format!("{r:?} gives an empty URL segment"))
                    .with_help("rename the file or folder so it has letters or digits"),
            );
        }
        segments.push(s);
    }
    Ok((PageKind::Page, segments))
}

/// What parsing one content file gave: the page (unless it failed or is a skipped draft),
/// its warnings and its errors.
#[derive(Debug, Default)]
pub struct FileResult {
    /// Taken from the cache, not parsed.
    pub cached: bool,
    pub page: Option<Arc<Page>>,
    pub warnings: Vec<Diagnostic>,
    pub errors: Vec<Diagnostic>,
}

fn parse_file(
    src: &Source,
    settings: &Settings<'_>,
    hl: &mut Session<'_>,
    cache: Option<&dyn Reuse>,
) -> FileResult {
    let file = Path::new("content").join(&src.rel);
    let fail = |d: Diagnostic| FileResult {
        errors: vec![d],
        ..FileResult::default()
    };
    if let Some(cached) = cache.and_then(|c| c.unchanged(&file)) {
        return FileResult {
            cached: true,
            page: Some(cached.page),
            warnings: cached.warnings,
            errors: Vec::new(),
        };
    }
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&src.path)
        .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes));
    match read {
        Ok(n) if n as u64 > MAX_FILE_BYTES => fail(
            Diagnostic::error(
                &file,
                format!(
                    "the file is larger than {} MiB, the limit for a content file",
                    MAX_FILE_BYTES >> 20
                ),
            )
            .with_help(
                "split it into several posts, or put large data (logs, dumps, IOC lists) in static/ and link to it",
            ),
        ),
        Ok(_) => {
            let source_hash = fingerprint::of_bytes(&bytes);
            match cache.and_then(|c| c.same_bytes(&file, source_hash)) {
                Some(cached) => FileResult {
                    cached: true,
                    page: Some(cached.page),
                    warnings: cached.warnings,
                    errors: Vec::new(),
                },
                None => parse_bytes(src, &bytes, source_hash, settings, hl),
            }
        }
        Err(e) => fail(Diagnostic::io(&file, "read", &e)),
    }
}

/// The longest URL segment (a slug, a term, a part of an alias) sitrep writes: each one is
/// a folder name, and file systems refuse names over 255 bytes.
pub const MAX_SEGMENT_BYTES: usize = 200;

/// How many list items of one file get their own line in messages (the rest get the
/// line of their field).
const MAX_LOCATED: usize = 50;

/// The most tags (and the most categories) one post can have.
pub const MAX_TERMS: usize = 100;

/// The largest Markdown file sitrep reads. A 10 MB post builds in a few seconds; one ten
/// times larger is a mistake (a pasted log) that would take gigabytes of memory and put
/// hundreds of megabytes in each feed.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// Parses the bytes of one content file as if it were at `content/<rel>`: the per-file half
/// of [`load`], without the disk (the fuzz targets drive it).
pub fn parse_content_file(
    rel: &Path,
    bytes: &[u8],
    config: &Config,
    hl: &Highlighter,
    cve_prefix: &str,
    drafts: bool,
) -> FileResult {
    let (kind, segments) = match classify(rel) {
        Ok(c) => c,
        Err(d) => {
            return FileResult {
                errors: vec![d],
                ..FileResult::default()
            };
        }
    };
    let src = Source {
        path: rel.to_path_buf(),
        rel: rel.to_path_buf(),
        kind,
        segments,
    };
    static BUILTIN: std::sync::LazyLock<Option<shortcodes::Shared>> =
        std::sync::LazyLock::new(|| shortcodes::Shortcodes::builtin().map(Arc::new));
    let md_opts = markdown_options(config, cve_prefix, BUILTIN.clone());
    let settings = Settings {
        config,
        md_opts: &md_opts,
        drafts,
    };
    parse_bytes(
        &src,
        bytes,
        fingerprint::of_bytes(bytes),
        &settings,
        &mut hl.session(),
    )
}

fn parse_bytes(
    src: &Source,
    bytes: &[u8],
    source_hash: Fingerprint,
    settings: &Settings<'_>,
    hl: &mut Session<'_>,
) -> FileResult {
    let file = Path::new("content").join(&src.rel);
    let fail = |d: Diagnostic| FileResult {
        cached: false,
        page: None,
        warnings: Vec::new(),
        errors: vec![d],
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) => {
            return fail(
                Diagnostic::error(&file, "the file is UTF-16 text, not UTF-8")
                    .at_line(1)
                    .with_help("save the file as UTF-8"),
            );
        }
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or("");
            let (line, col) = line_col(valid, valid.len());
            return fail(
                Diagnostic::error(&file, "the file is not valid UTF-8 text")
                    .at(line, col)
                    .with_help("save the file as UTF-8"),
            );
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = match frontmatter::parse(&file, text) {
        Ok(p) => p,
        Err(d) => return fail(d),
    };
    let mut r = FileResult {
        cached: false,
        page: None,
        warnings: parsed.warnings.clone(),
        errors: Vec::new(),
    };
    if parsed.front_matter.draft.unwrap_or(false) && !settings.drafts {
        return r;
    }
    let page = page::build(src, &file, &parsed, source_hash, settings, hl, &mut r);
    if r.errors.is_empty() {
        r.page = page.map(Arc::new);
    }
    r
}

fn link_lines(parsed: &Parsed<'_>, links: &[markdown::Link]) -> Vec<BodyLink> {
    // Links come in source order: count newlines incrementally.
    let bytes = parsed.body.as_bytes();
    let (mut pos, mut line) = (0usize, parsed.body_line);
    links
        .iter()
        .map(|l| {
            let target = l.offset.min(bytes.len());
            if target >= pos {
                line += bytes[pos..target].iter().filter(|&&b| b == b'\n').count();
                pos = target;
            } else {
                line = parsed.body_line + line_col(parsed.body, target).0 - 1;
                pos = target;
            }
            BodyLink {
                dest: l.dest.clone(),
                line,
                is_image: l.is_image,
            }
        })
        .collect()
}

fn related_ref(rel: &RelatedField) -> Result<RelatedRef, Problem> {
    let title = rel
        .title
        .as_ref()
        .map(|t| t.0.trim().to_string())
        .filter(|t| !t.is_empty());
    match (&rel.url, &rel.post) {
        (Some(_), Some(_)) => Err(Problem::new(
            "has both `url` and `post`",
            "give either `url` (with a `title`) or `post: slug`",
        )),
        (None, None) => Err(Problem::new(
            "has neither `url` nor `post`",
            "write `{title: \"...\", url: \"https://...\"}` or `{post: slug-of-a-post}`",
        )),
        (Some(url), None) => {
            let url = url.0.trim().to_string();
            check_link(&url).map_err(|why| {
                Problem::new(
                    format!("url {url:?} {why}"),
                    "use an http(s) URL or a path on this site",
                )
            })?;
            Ok(RelatedRef::External {
                title: title.unwrap_or_else(|| url.clone()),
                url,
            })
        }
        (None, Some(post)) => {
            let slug = slugify(&post.0);
            if slug.is_empty() {
                return Err(Problem::new(
                    format!("post {:?} is not a slug", post.0),
                    "name a post by its slug, such as `post: my-earlier-post`",
                ));
            }
            Ok(RelatedRef::Post {
                slug,
                title,
                line: None,
            })
        }
    }
}

/// Checks a URL from front matter: http(s), mailto, or a path; never `javascript:`,
/// `data:` or any other scheme a browser would run or render inline.
pub fn check_link(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("is empty".into());
    }
    if url.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    match scheme_of(url).as_deref() {
        None | Some("http" | "https" | "mailto") => Ok(()),
        Some(scheme) => Err(format!("uses the `{scheme}:` scheme, which is not allowed")),
    }
}

/// The scheme of a URL as a browser reads it: leading spaces and controls dropped, tabs
/// and newlines inside removed (`java\tscript:` is `javascript:`), any case.
pub fn scheme_of(url: &str) -> Option<String> {
    let squeezed: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let end = squeezed.find(['/', '?', '#']).unwrap_or(squeezed.len());
    let colon = squeezed[..end].find(':')?;
    Some(squeezed[..colon].to_ascii_lowercase())
}

/// Why a link in a body must not be written: a scheme that runs script when clicked or
/// loaded. Images may use `data:` (an image cannot run script).
pub fn body_link_problem(dest: &str, is_image: bool) -> Option<String> {
    match scheme_of(dest)?.as_str() {
        s @ ("javascript" | "vbscript") => Some(s.to_string()),
        "data" if !is_image => Some("data".to_string()),
        _ => None,
    }
}

/// The route of an alias path, refusing anything that would leave the output folder.
pub fn alias_route(alias: &str) -> Result<String, String> {
    let a = alias.trim();
    if a.contains("://") || a.starts_with("//") {
        return Err("is not a path on this site".into());
    }
    let path = a.split(['?', '#']).next().unwrap_or("");
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Err("is the home page".into());
    }
    checked_relative(trimmed.trim_end_matches('/'))?;
    if trimmed.split('/').any(|seg| seg.len() > MAX_SEGMENT_BYTES) {
        return Err(format!(
            "has a path segment longer than {MAX_SEGMENT_BYTES} bytes"
        ));
    }
    let last = trimmed
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    if !trimmed.ends_with('/') && (last.ends_with(".html") || last.ends_with(".htm")) {
        Ok(trimmed.to_string())
    } else {
        Ok(format!("{}/", trimmed.trim_end_matches('/')))
    }
}

fn truncate_words(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut,
    };
    format!(
        "{}…",
        cut.trim_end_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_posts_bundles_and_pages() {
        let c = |p: &str| classify(Path::new(p)).unwrap();
        assert_eq!(
            c("posts/2024-05-01-Hello.md"),
            (PageKind::Post, vec!["hello".to_string()])
        );
        assert_eq!(
            c("posts/my-post/index.md"),
            (PageKind::Post, vec!["my-post".to_string()])
        );
        assert_eq!(c("about.md"), (PageKind::Page, vec!["about".to_string()]));
        assert_eq!(
            c("legal/Privacy Policy.md"),
            (
                PageKind::Page,
                vec!["legal".to_string(), "privacy-policy".to_string()]
            )
        );
        assert_eq!(
            c("team/index.md"),
            (PageKind::Page, vec!["team".to_string()])
        );
        assert_eq!(c("index.md"), (PageKind::Page, vec![]));
    }

    #[test]
    fn dangerous_links_refused() {
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "java\tscript:x",
            " data:text/html,x",
            "vbscript:x",
            "file:///etc/passwd",
        ] {
            assert!(check_link(bad).is_err(), "{bad:?}");
        }
        for good in [
            "https://nvd.nist.gov/x",
            "http://a.b",
            "/posts/x/",
            "../x",
            "mailto:a@b.c",
            "x.png",
            "/a:b",
        ] {
            assert!(check_link(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn body_links_that_run_script_are_refused() {
        for (bad, is_image) in [
            ("javascript:alert(1)", false),
            (" JaVa\tScRiPt:alert(1)", true),
            ("vbscript:x", false),
            ("data:text/html,<script>x</script>", false),
        ] {
            assert!(body_link_problem(bad, is_image).is_some(), "{bad:?}");
        }
        for (good, is_image) in [
            ("https://e.x/", false),
            ("/posts/x/", false),
            ("#fn1", false),
            ("mailto:a@b.c", false),
            ("tel:+1", false),
            ("data:image/png;base64,AAAA", true),
            ("/a:b", false),
        ] {
            assert_eq!(body_link_problem(good, is_image), None, "{good:?}");
        }
    }

    #[test]
    fn long_alias_segments_refused() {
        assert!(alias_route(&format!("/a/{}/", "x".repeat(MAX_SEGMENT_BYTES))).is_ok());
        assert!(alias_route(&format!("/a/{}/", "x".repeat(MAX_SEGMENT_BYTES + 1))).is_err());
    }

    #[test]
    fn alias_routes() {
        assert_eq!(alias_route("/old/path").unwrap(), "old/path/");
        assert_eq!(alias_route("old/path/").unwrap(), "old/path/");
        assert_eq!(alias_route("/2019/x.html").unwrap(), "2019/x.html");
        for bad in [
            "/../../etc/passwd",
            "/a/../../b",
            "https://evil.com/x",
            "//evil.com/x",
            "/",
            "",
            "/a/./b",
            "/a\\..\\b",
        ] {
            assert!(alias_route(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn truncation() {
        assert_eq!(truncate_words("short", 300), "short");
        let long = "word ".repeat(100);
        let t = truncate_words(&long, 50);
        assert!(t.chars().count() <= 51 && t.ends_with('…'), "{t}");
    }
}

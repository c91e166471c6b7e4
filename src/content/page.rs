//! One content file's parsed front matter and body, checked field by field into a [`Page`].
//!
//! [`build`] runs one small step per field (title, date, slug and route, terms, CVEs,
//! related links, image, aliases, indicators of compromise), then renders the body (with its
//! shortcodes). Each step reports its problems
//! into the [`Fields`] it works on, which knows the file and finds the line of a value, so
//! every problem of the file is reported at once, each naming its file, line and fix.

use std::collections::HashSet;
use std::path::Path;

use super::frontmatter::Parsed;
use super::highlight::Session;
use super::markdown::{self, is_cve_id};
use super::{
    BodyLink, FileResult, Html, MAX_LOCATED, MAX_SEGMENT_BYTES, MAX_TERMS, Page, PageKind,
    RelatedRef, Source, alias_route, body_link_problem, check_link, link_lines, related_ref,
    truncate_words,
};
use crate::config::Config;
use crate::error::{Diagnostic, Severity};
use crate::support::date::Date;
use crate::support::fingerprint::Fingerprint;
use crate::support::slug::slugify;
use crate::urls;

/// What parsing any content file needs besides the file itself.
pub(super) struct Settings<'a> {
    pub(super) config: &'a Config,
    pub md_opts: &'a markdown::Options,
    /// Build drafts too (`--drafts`).
    pub drafts: bool,
}

/// The file being checked: its parsed text, the errors found so far, and how many more
/// list items may be located by line (finding a line scans the front matter, so only the
/// first few are located and thousands of bad items cannot make the work quadratic).
struct Fields<'a, 'p> {
    file: &'a Path,
    parsed: &'a Parsed<'p>,
    errors: Vec<Diagnostic>,
    locatable: usize,
}

impl Fields<'_, '_> {
    /// The line of a list item's value, while the budget lasts.
    fn locate(&mut self, needle: &str) -> Option<usize> {
        let left = self.locatable;
        self.locatable = left.saturating_sub(1);
        (left > 0).then(|| self.parsed.line_of(needle)).flatten()
    }

    fn line_of_key(&self, key: &str) -> Option<usize> {
        self.parsed.line_of_key(key)
    }

    fn error(&mut self, message: String, line: Option<usize>, help: &str) {
        self.errors.push(
            Diagnostic::error(self.file, message)
                .at_opt(line)
                .with_help(help),
        );
    }

    fn title(&mut self) -> String {
        let fm = &self.parsed.front_matter;
        let title = fm
            .title
            .as_ref()
            .map(|t| t.0.trim().to_string())
            .unwrap_or_default();
        if title.is_empty() {
            self.error(
                "`title` is required".into(),
                self.line_of_key("title").or(Some(1)),
                "add a line such as: title: \"What happened\"",
            );
        }
        title
    }

    fn date(&mut self, kind: PageKind) -> Option<Date> {
        let date = self.parsed.front_matter.date.map(|d| d.0);
        if kind == PageKind::Post && date.is_none() {
            self.error(
                "`date` is required for posts".into(),
                Some(1),
                "add a line such as: date: 2024-05-14",
            );
        }
        date
    }

    /// The `slug:` field slugified, or an error when nothing of it is left.
    fn explicit_slug(&mut self, example: &str) -> Option<String> {
        let s = self.parsed.front_matter.slug.as_ref()?;
        let slug = slugify(&s.0);
        if slug.is_empty() {
            self.error(
                format!("`slug` {:?} has no letters or digits", s.0),
                self.line_of_key("slug"),
                &format!("write a slug such as: slug: {example}"),
            );
        }
        Some(slug)
    }

    /// The page's slug and route: a post's from its `slug:` or file name, a page's from its
    /// path with the last segment replaced by its `slug:`.
    fn slug_and_route(&mut self, src: &Source) -> (String, String) {
        let (slug, route) = match src.kind {
            PageKind::Post => {
                let slug = match self.explicit_slug("my-post") {
                    Some(slug) => slug,
                    None => {
                        let slug = src.segments[0].clone();
                        if slug.is_empty() {
                            self.error(
                                "the file name gives an empty slug".into(),
                                Some(1),
                                "rename the file, or add a `slug:` field",
                            );
                        }
                        slug
                    }
                };
                let route = urls::post(&slug);
                (slug, route)
            }
            PageKind::Page => {
                let mut segments = src.segments.clone();
                match self.explicit_slug("about-us") {
                    Some(slug) if !slug.is_empty() => match segments.last_mut() {
                        Some(last) => *last = slug,
                        None => segments.push(slug),
                    },
                    _ => {}
                }
                let slug = segments.last().cloned().unwrap_or_default();
                let route = if segments.is_empty() {
                    String::new()
                } else {
                    urls::page(&segments)
                };
                (slug, route)
            }
        };
        if let Some(long) = route.split('/').find(|seg| seg.len() > MAX_SEGMENT_BYTES) {
            self.error(
                format!(
                    "the URL segment {:?}… is {} bytes long; the limit is {MAX_SEGMENT_BYTES}",
                    long.chars().take(40).collect::<String>(),
                    long.len()
                ),
                self.line_of_key("slug").or(Some(1)),
                "use a shorter `slug:` or file name: file systems refuse longer names",
            );
        }
        (slug, route)
    }

    /// Tags or categories: at most [`MAX_TERMS`], each with a page of its own.
    fn check_terms(&mut self, field: &str, terms: &[String]) {
        if terms.len() > MAX_TERMS {
            // Every term page shows the post, and post cards list its tags: pages times
            // terms grows with the square (10,000 tags wrote 4.6 GB).
            self.error(
                format!(
                    "{field}: {} terms; a post can have at most {MAX_TERMS}",
                    terms.len()
                ),
                self.line_of_key(field),
                "keep the terms readers browse by; mention the others in the text",
            );
            return;
        }
        for t in terms {
            let slug = slugify(t);
            if slug.is_empty() {
                let line = self.locate(t);
                self.error(
                    format!("{field}: {t:?} has no letters or digits, so it cannot have a page"),
                    line,
                    "use a term with letters or digits",
                );
            } else if slug.len() > MAX_SEGMENT_BYTES {
                let line = self.locate(t);
                self.error(
                    format!(
                        "{field}: a term whose URL segment is {} bytes long; the limit is {MAX_SEGMENT_BYTES}",
                        slug.len()
                    ),
                    line,
                    "use a shorter term: file systems refuse longer names",
                );
            }
        }
    }

    /// Front matter `cves`, uppercased, without repeats; and the set of them.
    fn cves(&mut self) -> (Vec<String>, HashSet<String>) {
        let cves_line = self.line_of_key("cves");
        let mut cves = Vec::new();
        let mut seen = HashSet::new();
        for c in &self.parsed.front_matter.cves.0 {
            let id = c.trim().to_ascii_uppercase();
            if !is_cve_id(&id) {
                let line = self.locate(c).or(cves_line);
                self.error(
                    format!("cves: {c:?} is not a CVE id"),
                    line,
                    "write CVE ids as CVE-YYYY-NNNN, for example CVE-2024-3400",
                );
            } else if seen.insert(id.clone()) {
                cves.push(id);
            }
        }
        (cves, seen)
    }

    /// Front matter `attack`: ATT&CK technique ids, uppercased, without repeats.
    fn attack(&mut self) -> Vec<String> {
        let line = self.line_of_key("attack");
        let mut ids = Vec::new();
        for t in &self.parsed.front_matter.attack.0 {
            let id = t.trim().to_ascii_uppercase();
            if !crate::intel::attack::is_technique_id(&id) {
                let at = self.locate(t).or(line);
                self.error(
                    format!("attack: {t:?} is not an ATT&CK technique id"),
                    at,
                    "write technique ids as T1234 or T1234.001, for example T1190",
                );
            } else if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    /// `related:` entries, each a link or a post's slug (resolved by the index).
    fn related(&mut self) -> Vec<RelatedRef> {
        let related_line = self.line_of_key("related");
        let mut related = Vec::new();
        for (i, rel) in self.parsed.front_matter.related.0.iter().enumerate() {
            match related_ref(rel) {
                Ok(rr) => related.push(rr),
                Err(problem) => {
                    let needle = rel
                        .url
                        .as_ref()
                        .or(rel.post.as_ref())
                        .or(rel.title.as_ref())
                        .map(|t| t.0.as_str())
                        .unwrap_or("related");
                    let line = self.locate(needle).or(related_line);
                    self.error(
                        format!("related entry {}: {}", i + 1, problem.message),
                        line,
                        &problem.help,
                    );
                }
            }
        }
        related
            .into_iter()
            .map(|rr| match rr {
                RelatedRef::Post { slug, title, .. } => {
                    let line = self.locate(&slug).or(related_line);
                    RelatedRef::Post { slug, title, line }
                }
                other => other,
            })
            .collect()
    }

    fn image(&mut self) -> Option<String> {
        let img = self.parsed.front_matter.image.as_ref()?;
        match check_link(&img.0) {
            Ok(()) => Some(img.0.trim().to_string()),
            Err(why) => {
                self.error(
                    format!("`image` {:?} {why}", img.0),
                    self.line_of_key("image"),
                    "use an http(s) URL or a path on this site, such as /images/cover.png",
                );
                None
            }
        }
    }

    fn aliases(&mut self) -> Vec<String> {
        let aliases_line = self.line_of_key("aliases");
        let mut aliases = Vec::new();
        for a in &self.parsed.front_matter.aliases.0 {
            match alias_route(a) {
                Ok(route) => aliases.push(route),
                Err(why) => {
                    let line = self.locate(a).or(aliases_line);
                    self.error(
                        format!("alias {a:?} {why}"),
                        line,
                        "write an alias as a path on this site, such as /2019/05/old-post/",
                    );
                }
            }
        }
        aliases
    }
}

/// Trimmed, non-empty, without repeats.
fn clean(list: &[String]) -> Vec<String> {
    let mut seen = HashSet::with_capacity(list.len());
    list.iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty() && seen.insert(*s))
        .map(str::to_string)
        .collect()
}

/// The rendered body, with its problems placed on the lines of the file.
struct Body {
    rendered: markdown::Rendered,
    links: Vec<BodyLink>,
    /// From `{% ioc() %}` blocks.
    iocs: Vec<super::ioc::Ioc>,
    /// What the body's shortcodes need (`shortcodes::FEATURE_*`).
    features: Vec<String>,
}

/// Renders the body and turns its problems (and links that would run script) into
/// diagnostics on the file's lines.
fn render_body(
    file: &Path,
    parsed: &Parsed<'_>,
    page: &super::shortcodes::PageVars<'_>,
    md_opts: &markdown::Options,
    hl: &mut Session<'_>,
    r: &mut FileResult,
) -> Body {
    // Markdown, with the shortcodes expanded (their problems name line and column).
    let rich = super::shortcodes::render(
        file,
        parsed.body,
        parsed.body_line,
        page,
        md_opts,
        hl,
        &mut r.errors,
    );
    let body = rich.rendered;
    // Byte offsets of the body's line starts, to place warnings (there can be thousands).
    let line_starts: Vec<usize> = if body.warnings.is_empty() && body.errors.is_empty() {
        Vec::new()
    } else {
        parsed
            .body
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .collect()
    };
    let body_line =
        |offset: usize| parsed.body_line + line_starts.partition_point(|&s| s <= offset);
    for e in &body.errors {
        r.errors.push(
            e.problem
                .in_file(Severity::Error, file)
                .at_line(body_line(e.offset)),
        );
    }
    for w in &body.warnings {
        r.warnings.push(
            w.problem
                .in_file(Severity::Warning, file)
                .at_line(body_line(w.offset)),
        );
    }
    let links = link_lines(parsed, &body.links);
    for l in &links {
        if let Some(scheme) = body_link_problem(&l.dest, l.is_image) {
            r.errors.push(
                Diagnostic::error(
                    file,
                    format!(
                        "{} to a `{scheme}:` URL, which would run in the reader's browser",
                        if l.is_image { "an image" } else { "a link" }
                    ),
                )
                .at_line(l.line)
                .with_help("to show such a URL, put it in `code`; raw HTML stays yours to write"),
            );
        }
    }
    Body {
        rendered: body,
        links,
        iocs: rich.iocs,
        features: rich.features.into_iter().collect(),
    }
}

/// The front matter's fields, checked.
struct Checked {
    title: String,
    date: Option<Date>,
    slug: String,
    route: String,
    tldr: Vec<String>,
    tags: Vec<String>,
    categories: Vec<String>,
    authors: Vec<String>,
    cves: Vec<String>,
    seen_cves: HashSet<String>,
    attack: Vec<String>,
    related: Vec<RelatedRef>,
    image: Option<String>,
    aliases: Vec<String>,
    iocs: Vec<super::ioc::Ioc>,
}

impl Checked {
    /// What shortcode templates get as `page`.
    fn page_vars(&self) -> super::shortcodes::PageVars<'_> {
        super::shortcodes::PageVars {
            title: &self.title,
            route: &self.route,
            date: self.date,
            tags: &self.tags,
            cves: &self.cves,
        }
    }
}

/// Checks every front matter field of a parsed file: the fields, or `None` with the
/// problems in `r.errors`.
fn check_fields(
    src: &Source,
    file: &Path,
    parsed: &Parsed<'_>,
    r: &mut FileResult,
) -> Option<Checked> {
    let fm = &parsed.front_matter;
    let mut f = Fields {
        file,
        parsed,
        errors: Vec::new(),
        locatable: MAX_LOCATED,
    };
    let title = f.title();
    let date = f.date(src.kind);
    let (slug, route) = f.slug_and_route(src);
    let tldr = clean(&fm.tldr.0);
    let tags = clean(&fm.tags.0);
    let categories = clean(&fm.categories.0);
    let authors = clean(&fm.authors.0);
    f.check_terms("tags", &tags);
    f.check_terms("categories", &categories);
    let (cves, seen_cves) = f.cves();
    let attack = f.attack();
    let related = f.related();
    let image = f.image();
    let aliases = f.aliases();
    let iocs = super::ioc::from_front_matter(
        fm.iocs.as_deref().unwrap_or_default(),
        file,
        &|v| parsed.line_of(v),
        &mut f.errors,
    );
    r.errors.append(&mut f.errors);
    if !r.errors.is_empty() {
        return None;
    }
    Some(Checked {
        title,
        date,
        slug,
        route,
        tldr,
        tags,
        categories,
        authors,
        cves,
        seen_cves,
        attack,
        related,
        image,
        aliases,
        iocs,
    })
}

/// Adds to `cves` the ids of `found` not in `seen` yet, in order.
fn add_cves(cves: &mut Vec<String>, seen: &mut HashSet<String>, found: &[String]) {
    for id in found {
        if seen.insert(id.clone()) {
            cves.push(id.clone());
        }
    }
}

/// Checks every field of a parsed file and renders its body: the page, or `None` with the
/// problems in `r.errors`.
pub(super) fn build(
    src: &Source,
    file: &Path,
    parsed: &Parsed<'_>,
    source_hash: Fingerprint,
    settings: &Settings<'_>,
    hl: &mut Session<'_>,
    r: &mut FileResult,
) -> Option<Page> {
    let fm = &parsed.front_matter;
    let mut c = check_fields(src, file, parsed, r)?;

    let Body {
        rendered: body,
        links,
        iocs: body_iocs,
        features,
    } = render_body(file, parsed, &c.page_vars(), settings.md_opts, hl, r);
    c.iocs.extend(body_iocs);
    // Front matter `cves` only, for the notes' shortcodes as for the body's.
    let fm_cves = c.cves.len();
    add_cves(&mut c.cves, &mut c.seen_cves, &body.cves);
    for id in &body.attack {
        if !c.attack.contains(id) {
            c.attack.push(id.clone());
        }
    }
    // Editorial time: publish_at, expires, the updates log (see `content::editorial`).
    let page_vars = super::shortcodes::PageVars {
        cves: &c.cves[..fm_cves],
        ..c.page_vars()
    };
    let mut ed = super::editorial::read(
        file,
        parsed,
        c.date,
        &page_vars,
        settings.md_opts,
        hl,
        &mut r.errors,
        &mut r.warnings,
    );
    add_cves(&mut c.cves, &mut c.seen_cves, &ed.cves);
    c.iocs.append(&mut ed.iocs);
    let features = if ed.features.is_empty() {
        features
    } else {
        let mut all: std::collections::BTreeSet<String> = features.into_iter().collect();
        all.append(&mut ed.features);
        all.into_iter().collect()
    };
    let description = match &fm.description {
        Some(d) if !d.0.trim().is_empty() => d.0.trim().to_string(),
        _ if !c.tldr.is_empty() => c.tldr.join(" "),
        _ => truncate_words(body.first_paragraph.trim(), 300),
    };
    let reading_time = reading_minutes(
        body.word_count - body.cjk_chars,
        body.cjk_chars,
        settings.config.words_per_minute,
        settings.config.cjk_chars_per_minute,
    );
    Some(Page {
        kind: src.kind,
        file: file.to_path_buf(),
        route: c.route,
        slug: c.slug,
        title: c.title,
        date: c.date,
        updated: fm
            .updated
            .map(|d| d.0)
            .or_else(|| ed.updates.first().map(|u| u.date)),
        publish_at: ed.publish_at,
        expires: ed.expires,
        updates: ed.updates,
        tldr: c.tldr,
        description,
        tags: c.tags,
        categories: c.categories,
        authors: c.authors,
        related: c.related,
        cves: c.cves,
        attack: c.attack,
        draft: fm.draft.unwrap_or(false),
        image: c.image,
        aliases: c.aliases,
        extra: fm.extra.clone().unwrap_or(serde_json::Value::Null),
        html: Html::new(body.html),
        word_count: body.word_count,
        reading_time,
        // Of the text Markdown kept for search and related coverage: none when both are off
        // (`markdown::SearchText`), so then no terms.
        body_terms: crate::render::search::index::BodyTerms::of(&body.text),
        headings: body.headings,
        links,
        iocs: c.iocs,
        features,
        source_hash,
    })
}

/// Minutes to read `words` words and `cjk` CJK characters, rounded up, at least 1.
fn reading_minutes(words: usize, cjk: usize, wpm: usize, cpm: usize) -> usize {
    let (wpm, cpm) = (wpm.max(1), cpm.max(1));
    (words * cpm + cjk * wpm).div_ceil(wpm * cpm).max(1)
}

#[cfg(test)]
mod reading_time_tests {
    use super::reading_minutes;

    #[test]
    fn reading_time_counts_cjk_characters_at_their_own_rate() {
        assert_eq!(reading_minutes(0, 0, 200, 500), 1);
        assert_eq!(reading_minutes(400, 0, 200, 500), 2);
        assert_eq!(reading_minutes(0, 1500, 200, 500), 3);
        assert_eq!(reading_minutes(200, 500, 200, 500), 2);
        assert_eq!(reading_minutes(201, 500, 200, 500), 3);
    }
}

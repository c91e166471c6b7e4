//! Shortcodes: Zola's `{{ name(args) }}` and `{% name(args) %}body{% end %}` in Markdown,
//! rendered by the Tera templates `templates/shortcodes/<name>.html` (the site's override the
//! theme's, file by file).
//!
//! They run in the content stage, with the body's Markdown, so a page's cached body already
//! holds their output: a warm build re-runs none. A body without `{{` or `{%` (nearly all of
//! them) goes straight to Markdown ([`parser::may_have_calls`]).
//!
//! How a body with calls is rendered:
//! 1. [`parser::scan`] finds the calls, skipping code blocks and inline code;
//! 2. each call is replaced by a placeholder (a private-use character and a number), a call
//!    alone on its line by a paragraph of its own; a body stays Markdown between an opening
//!    and a closing placeholder (except `ioc`, whose lines are indicators, not Markdown);
//! 3. the text is rendered as Markdown, as any body (sanitised too when
//!    `markdown.unsafe_html = false`);
//! 4. the placeholders are replaced, innermost first, by the templates' output, which gets
//!    the arguments as variables and `body`, the rendered body, as safe HTML.
//!
//! Built-in shortcodes have their arguments checked here (types, required ones, safe URLs,
//! ids of the right shape) before their template sees them; an unknown shortcode, a missing
//! argument, a bad value or a template error is an error naming the post's file, line and
//! column.

pub mod migration;
pub mod parser;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pulldown_cmark::{Event, Parser, Tag};
use tera::{Context, Tera, Value};

use crate::content::check_link;
use crate::content::highlight::Session;
use crate::content::ioc::{self, Ioc};
use crate::content::markdown::{self, Rendered, is_cve_id};
use crate::error::{Diagnostic, line_col};
use crate::render::theme::TemplateFile;
use crate::support::date::Date;
use crate::support::fingerprint::{Builder, Fingerprint};
use crate::urls::Urls;
use parser::{Arg, ArgValue, Call, Item};

/// Where shortcode templates live, under `templates/`.
pub const DIR: &str = "shortcodes/";

/// Features a page's shortcodes use, which the page's template and the site's `_headers`
/// act on.
pub const FEATURE_YOUTUBE: &str = "youtube";
pub const FEATURE_VIMEO: &str = "vimeo";
pub const FEATURE_IOC: &str = "ioc";
/// A `cve` card whose facts (severity, exploited) the render stage fills in
/// ([`fill_cve_facts`]).
pub const FEATURE_CVE: &str = "cve";

/// The placeholder of a `cve` card's facts: shortcodes run at parse time and are cached
/// with the body, while CVE data is read after indexing, so the card carries this empty
/// element and the render stage replaces it with `partials/cve_facts.html`.
const CVE_FACTS_OPEN: &str = "<span class=\"cve-facts\" data-cve=\"";
const CVE_FACTS_CLOSE: &str = "\"></span>";

/// The placeholder of the facts of CVE `id` (an element with no content, so that where it
/// is not filled, in feeds, it shows nothing).
pub fn cve_facts_placeholder(id: &str) -> String {
    let mut out = String::from(CVE_FACTS_OPEN);
    crate::support::escape::html_into(id, &mut out);
    out.push_str(CVE_FACTS_CLOSE);
    out
}

/// `html` with each placeholder of [`cve_facts_placeholder`] replaced by `fill(id)`.
/// Only placeholders holding a well-formed CVE id are replaced (anything else is raw HTML
/// an author wrote, left as it is); `fill`'s first error stops the work.
pub fn fill_cve_facts<E>(
    html: &str,
    mut fill: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    while let Some(i) = rest.find(CVE_FACTS_OPEN) {
        let after = &rest[i + CVE_FACTS_OPEN.len()..];
        let id = after
            .find(CVE_FACTS_CLOSE)
            .map(|e| &after[..e])
            .filter(|id| is_cve_id(id));
        match id {
            Some(id) => {
                out.push_str(&rest[..i]);
                out.push_str(&fill(id)?);
                rest = &after[id.len() + CVE_FACTS_CLOSE.len()..];
            }
            None => {
                out.push_str(&rest[..i + CVE_FACTS_OPEN.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The hosts an embed's iframe loads from, after the reader's click.
pub const YOUTUBE_FRAME_HOST: &str = "https://www.youtube-nocookie.com";
pub const VIMEO_FRAME_HOST: &str = "https://player.vimeo.com";

/// The shortcode templates of a build.
pub struct Shortcodes {
    tera: Tera,
    /// Template name -> file shown in messages.
    shown: HashMap<String, PathBuf>,
    /// Names of the available shortcodes (template names without folder and `.html`).
    names: BTreeSet<String>,
    fingerprint: Fingerprint,
    /// Link to the home page (`/` or `/blog/`), for templates.
    root_url: String,
    /// The site's links, for `page.url` and `page.permalink`.
    urls: Urls,
    /// What templates get as `site` (see [`Shortcodes::new`]).
    site: Value,
}

impl std::fmt::Debug for Shortcodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shortcodes")
            .field("names", &self.names)
            .field("root_url", &self.root_url)
            .finish()
    }
}

impl Shortcodes {
    /// The shortcode templates among a build's templates (after the site's overrides).
    /// `site` is what templates get as `site`: only values the content cache's key covers
    /// (`render::config_site_value`, from the config), as shortcodes run while content is
    /// read and their output is cached with the body. `None` when a template does not
    /// parse: `render::templates` reports that error with its line.
    pub fn new(
        templates: &BTreeMap<String, TemplateFile>,
        urls: &Urls,
        site: Value,
    ) -> Option<Shortcodes> {
        let root_url = urls.url("");
        let mut tera = Tera::new();
        tera.autoescape_on(vec![".html", ".htm", ".xml"]);
        tera.set_escape_fn(crate::support::escape::html_to);
        crate::render::templates::register_filters(&mut tera, urls.origin());
        let ours: Vec<(&String, &TemplateFile)> = templates
            .iter()
            .filter(|(n, _)| n.starts_with(DIR) && n.ends_with(".html"))
            .collect();
        tera.add_raw_templates(ours.iter().map(|(n, f)| (n.as_str(), f.text.as_str())))
            .ok()?;
        let names = ours
            .iter()
            .map(|(n, _)| n[DIR.len()..n.len() - ".html".len()].to_string())
            .collect();
        let site_json = serde_json::to_vec(&site).unwrap_or_default();
        let fingerprint = ours
            .iter()
            .fold(
                Builder::new("shortcodes")
                    .str(&root_url)
                    .str(urls.base_url())
                    .fp(crate::support::fingerprint::of_bytes(&site_json)),
                |b, (n, f)| b.str(n).str(&f.text),
            )
            .finish();
        Some(Shortcodes {
            tera,
            shown: ours
                .iter()
                .map(|(n, f)| ((*n).clone(), f.shown.clone()))
                .collect(),
            names,
            fingerprint,
            root_url,
            urls: urls.clone(),
            site,
        })
    }

    /// The built-in theme's shortcodes (for tools that parse content without a site).
    pub fn builtin() -> Option<Shortcodes> {
        let mut files = BTreeMap::new();
        crate::render::theme::embedded_templates_into(&mut files);
        let urls = Urls::new("https://example.com");
        let site = crate::render::config_site_value(&crate::config::Config::default(), &urls);
        Shortcodes::new(&files, &urls, site)
    }

    /// Of every shortcode template: pages cached with other templates are parsed again.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }
}

/// What shortcode templates get as `page`: fields of the page's own file (with the config),
/// which the cached body is keyed by, so a template reading them cannot go stale.
#[derive(Debug, Default, Clone, Copy)]
pub struct PageVars<'a> {
    pub title: &'a str,
    /// The page's route (`posts/slug/`), for `page.url` and `page.permalink`.
    pub route: &'a str,
    pub date: Option<Date>,
    /// Front matter `tags`.
    pub tags: &'a [String],
    /// Front matter `cves`, upper case.
    pub cves: &'a [String],
}

impl PageVars<'_> {
    fn value(&self, urls: &Urls) -> Value {
        let strings = |l: &[String]| {
            Value::from(
                l.iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            )
        };
        let mut m = tera::Map::default();
        m.insert("title".into(), Value::from(self.title));
        m.insert("url".into(), Value::from(urls.url(self.route)));
        m.insert("permalink".into(), Value::from(urls.permalink(self.route)));
        m.insert(
            "date".into(),
            self.date.map_or_else(Value::none, |d| Value::from(d.ymd())),
        );
        m.insert(
            "datetime".into(),
            self.date
                .map_or_else(Value::none, |d| Value::from(d.rfc3339())),
        );
        m.insert("tags".into(), strings(self.tags));
        m.insert("cves".into(), strings(self.cves));
        Value::from(m)
    }
}

/// A rendered body with what its shortcodes found.
#[derive(Debug, Default)]
pub struct Body {
    pub rendered: Rendered,
    /// Indicators from `{% ioc() %}` blocks, in order.
    pub iocs: Vec<Ioc>,
    /// What the page needs: [`FEATURE_YOUTUBE`], [`FEATURE_VIMEO`], [`FEATURE_IOC`].
    pub features: BTreeSet<String>,
}

/// Renders a body (`body`, which starts on line `body_line` of `file`), expanding its
/// shortcodes. Problems go to `errors` with their file, line and column.
pub fn render(
    file: &Path,
    body: &str,
    body_line: usize,
    page: &PageVars<'_>,
    opts: &markdown::Options,
    hl: &mut Session<'_>,
    errors: &mut Vec<Diagnostic>,
) -> Body {
    let Some(sc) = opts.shortcodes.as_deref() else {
        return plain(body, opts, hl);
    };
    if !parser::may_have_calls(body) {
        return plain(body, opts, hl);
    }
    let at = |offset: usize| {
        let (line, col) = line_col(body, offset);
        (body_line + line - 1, col)
    };
    let fail = |offset: usize, message: String, help: String| {
        let (line, col) = at(offset);
        Diagnostic::error(file, message)
            .at(line, col)
            .with_help(help)
    };
    let items = match parser::scan(body, &code_ranges(body)) {
        Ok(items) if items.is_empty() => return plain(body, opts, hl),
        Ok(items) => items,
        Err(e) => {
            errors.push(fail(e.offset, format!("shortcode: {}", e.message), e.help));
            return Body::default();
        }
    };
    if body.contains(MARK) {
        errors.push(fail(
            body.find(MARK).unwrap_or(0),
            "the text contains U+E000, a private-use character sitrep uses to place shortcodes"
                .into(),
            "remove the character".into(),
        ));
        return Body::default();
    }
    let expanded = expand(body, &items);
    let mut rendered = markdown::render(&expanded.text, opts, hl);
    let back = |o: usize| expanded.map_back(o);
    for l in &mut rendered.links {
        l.offset = back(l.offset);
    }
    for w in rendered
        .warnings
        .iter_mut()
        .chain(rendered.errors.iter_mut())
    {
        w.offset = back(w.offset);
    }
    rendered.first_paragraph = strip_marks(&rendered.first_paragraph);
    without_callout_marker(&mut rendered.first_paragraph);
    for h in &mut rendered.headings {
        h.text = strip_marks(&h.text);
    }
    let mut out = Body::default();
    let mut env = Expansion {
        sc,
        page: page.value(&sc.urls),
        calls: &expanded.calls,
        cve_prefix: &opts.cve_prefix,
        nth: HashMap::new(),
        out: &mut out,
        problems: Vec::new(),
        cves: Vec::new(),
        links: Vec::new(),
    };
    let html = env.substitute(&rendered.html);
    let problems = std::mem::take(&mut env.problems);
    for id in std::mem::take(&mut env.cves) {
        if !rendered.cves.contains(&id) {
            rendered.cves.push(id);
        }
    }
    rendered.links.extend(std::mem::take(&mut env.links));
    for (offset, message, help) in problems {
        errors.push(fail(offset, message, help));
    }
    rendered.html = html;
    out.rendered = rendered;
    out
}

fn plain(body: &str, opts: &markdown::Options, hl: &mut Session<'_>) -> Body {
    let mut rendered = markdown::render(body, opts, hl);
    without_callout_marker(&mut rendered.first_paragraph);
    Body {
        rendered,
        ..Body::default()
    }
}

/// A body that opens with a titled callout (`> [!WARNING] Patch now`) has the marker in
/// its first paragraph's text, which may become the page's description: it goes.
fn without_callout_marker(first_paragraph: &mut String) {
    if first_paragraph.starts_with("[!")
        && let Some((_, _, rest)) = crate::content::callouts::parse_marker(first_paragraph)
    {
        *first_paragraph = rest.to_string();
    }
}

/// Byte ranges of code (fenced and indented blocks, inline code), where nothing is a call.
fn code_ranges(src: &str) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for (event, range) in Parser::new_ext(src, markdown::cmark_options()).into_offset_iter() {
        let code = matches!(event, Event::Code(_) | Event::Start(Tag::CodeBlock(_)));
        if code && out.last().is_none_or(|l| l.end <= range.start) {
            out.push(range);
        }
    }
    out
}

/// Starts a placeholder: `MARK n END` for a call or the opening of a body, `MARK / n END`
/// for the closing.
const MARK: char = '\u{E000}';
const MARK_END: char = '\u{E001}';

fn strip_marks(s: &str) -> String {
    if !s.contains(MARK) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(MARK) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        match rest.find(MARK_END) {
            Some(e) => rest = &rest[e + MARK_END.len_utf8()..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// One call to render after the Markdown.
#[derive(Debug)]
struct Pending {
    call: Call,
    /// Whether the call has a body (`{% %}`).
    has_body: bool,
    /// `ioc`'s body, as written, and its offset.
    raw_body: Option<(String, usize)>,
}

/// The body with placeholders, and how its offsets map back.
struct Expanded {
    text: String,
    calls: Vec<Pending>,
    /// `(offset in text, offset in source, copied)`: from each offset on, text was copied
    /// from the source (offsets shift alike) or inserted (they all map to one place).
    map: Vec<(usize, usize, bool)>,
}

impl Expanded {
    fn map_back(&self, o: usize) -> usize {
        let i = self
            .map
            .partition_point(|&(t, _, _)| t <= o)
            .saturating_sub(1);
        match self.map.get(i) {
            Some(&(t, s, true)) => s + (o - t),
            Some(&(_, s, false)) => s,
            None => o,
        }
    }
}

/// Built-ins whose body is not Markdown.
fn raw_body(name: &str) -> bool {
    name == "ioc"
}

/// Whether the item at `range` is alone on its line (only spaces and `>` before it), and
/// that line's start, end and prefix.
fn alone_on_line(src: &str, range: &Range<usize>) -> Option<(usize, usize)> {
    let line_start = src[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[range.end..]
        .find('\n')
        .map_or(src.len(), |i| range.end + i);
    let prefix_ok = src[line_start..range.start]
        .chars()
        .all(|c| c == ' ' || c == '\t' || c == '>');
    let suffix_ok = src[range.end..line_end].trim().is_empty();
    (prefix_ok && suffix_ok).then_some((line_start, line_end))
}

/// The text of `src` with a placeholder for each call of `items`, and the calls.
fn expand(src: &str, items: &[Item]) -> Expanded {
    let mut e = Expanded {
        text: String::with_capacity(src.len() + 64),
        calls: Vec::new(),
        map: Vec::new(),
    };
    let mut pos = 0;
    let mut stack: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Escaped(text, range) => {
                e.copy(src, pos, range.start);
                e.map.push((e.text.len(), range.start, false));
                e.text.push_str(text);
                pos = range.end;
            }
            Item::Inline(call, range) => {
                let n = e.push_call(call, false, None);
                e.place(src, &mut pos, range.clone(), range.end, &token(n));
            }
            Item::Open(call, range) if raw_body(&call.name) => {
                // Up to the matching end; calls inside are text of the block.
                let (j, end_range) = matching_end(items, i, range);
                let raw = (src[range.end..end_range.start].to_string(), range.end);
                let n = e.push_call(call, true, Some(raw));
                e.place(
                    src,
                    &mut pos,
                    range.start..end_range.end,
                    end_range.end,
                    &token(n),
                );
                i = j;
            }
            Item::Open(call, range) => {
                let n = e.push_call(call, true, None);
                stack.push(n);
                e.place(src, &mut pos, range.clone(), range.end, &token(n));
            }
            Item::End(range) => {
                let n = stack.pop().unwrap_or(0);
                e.place(
                    src,
                    &mut pos,
                    range.clone(),
                    range.end,
                    &format!("{MARK}/{n}{MARK_END}"),
                );
            }
        }
        i += 1;
    }
    e.copy(src, pos, src.len());
    e
}

/// The opening placeholder of call `n`.
fn token(n: usize) -> String {
    format!("{MARK}{n}{MARK_END}")
}

/// The index and range of the end matching the opening at `items[i]`, whose range is
/// `range` (an empty range after it when there is none).
fn matching_end(items: &[Item], i: usize, range: &Range<usize>) -> (usize, Range<usize>) {
    let mut depth = 0;
    let mut j = i + 1;
    loop {
        match items.get(j) {
            Some(Item::Open(..)) => depth += 1,
            Some(Item::End(r)) if depth == 0 => return (j, r.clone()),
            Some(Item::End(_)) => depth -= 1,
            Some(_) => {}
            None => return (j, range.end..range.end),
        }
        j += 1;
    }
}

impl Expanded {
    /// Adds a call; its number.
    fn push_call(
        &mut self,
        call: &Call,
        has_body: bool,
        raw_body: Option<(String, usize)>,
    ) -> usize {
        let n = self.calls.len();
        self.calls.push(Pending {
            call: call.clone(),
            has_body,
            raw_body,
        });
        n
    }

    /// Copies `src[from..to]` to the text.
    fn copy(&mut self, src: &str, from: usize, to: usize) {
        if to > from {
            self.map.push((self.text.len(), from, true));
            self.text.push_str(&src[from..to]);
        }
    }

    /// Puts `token` in place of `range` (the text before it copied from `pos`): as a
    /// paragraph of its own when the item is alone on its line, else where it stands.
    fn place(&mut self, src: &str, pos: &mut usize, range: Range<usize>, end: usize, token: &str) {
        match alone_on_line(src, &(range.start..end)) {
            Some((line_start, line_end)) if line_start >= *pos => {
                self.copy(src, *pos, line_start);
                let prefix = &src[line_start..range.start];
                let quote = prefix.trim_end();
                self.map.push((self.text.len(), range.start, false));
                self.text
                    .push_str(&format!("{quote}\n{prefix}{token}\n{quote}"));
                *pos = line_end;
            }
            _ => {
                self.copy(src, *pos, range.start);
                self.map.push((self.text.len(), range.start, false));
                self.text.push_str(token);
                *pos = end;
            }
        }
    }
}

/// A problem at a source offset: message and help.
type Problem = (usize, String, String);

struct Expansion<'a> {
    sc: &'a Shortcodes,
    /// What templates get as `page`.
    page: Value,
    calls: &'a [Pending],
    cve_prefix: &'a str,
    nth: HashMap<String, usize>,
    out: &'a mut Body,
    problems: Vec<Problem>,
    /// CVE ids of `cve` calls, for the page's CVE list.
    cves: Vec<String>,
    /// Images and links of `figure` calls, for `sitrep check`.
    links: Vec<markdown::Link>,
}

impl Expansion<'_> {
    /// Replaces every placeholder in `html` by its call's output.
    fn substitute(&mut self, html: &str) -> String {
        let mut out = String::with_capacity(html.len() + 256);
        let mut done = vec![false; self.calls.len()];
        // Open bodies: call number and where its HTML starts in `out`.
        let mut open: Vec<(usize, usize)> = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find(MARK) {
            let (before, at_mark) = rest.split_at(i);
            out.push_str(before);
            let token_len = at_mark
                .find(MARK_END)
                .map_or(at_mark.len(), |e| e + MARK_END.len_utf8());
            let token = &at_mark[MARK.len_utf8()
                ..token_len
                    .saturating_sub(MARK_END.len_utf8())
                    .max(MARK.len_utf8())];
            rest = &at_mark[token_len..];
            let closing = token.starts_with('/');
            let Ok(n) = token.trim_start_matches('/').parse::<usize>() else {
                continue;
            };
            let Some(pending) = self.calls.get(n) else {
                continue;
            };
            // A placeholder alone in its paragraph stands for a block: the paragraph goes.
            let alone = out.ends_with("<p>") && rest.starts_with("</p>");
            if alone {
                out.truncate(out.len() - 3);
                rest = &rest[4..];
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            if inside_tag(&out) {
                self.problems.push((
                    pending.call.offset,
                    format!(
                        "the shortcode `{}` cannot be used here: it is inside a link, an image or an HTML tag",
                        pending.call.name
                    ),
                    "put the shortcode in running text or on a line of its own".into(),
                ));
                done[n] = true;
                continue;
            }
            if closing {
                match open.pop() {
                    Some((m, start)) if m == n => {
                        done[n] = true;
                        self.emit(pending, &mut out, start, true, &mut rest, alone);
                    }
                    other => {
                        if let Some(o) = other {
                            open.push(o);
                        }
                        self.problems.push((
                            pending.call.offset,
                            format!(
                                "the body of `{}` is cut apart by the Markdown around it (a list, quote or table ends inside it)",
                                pending.call.name
                            ),
                            "put `{% name() %}` and `{% end %}` each on a line of its own, at the same level of the text".into(),
                        ));
                        done[n] = true;
                    }
                }
            } else if pending.has_body && pending.raw_body.is_none() {
                open.push((n, out.len()));
            } else {
                done[n] = true;
                let start = out.len();
                self.emit(pending, &mut out, start, false, &mut rest, alone);
            }
        }
        out.push_str(rest);
        for (n, _) in open {
            done[n] = true;
            self.problems.push((
                self.calls[n].call.offset,
                format!(
                    "the body of `{}` is cut apart by the Markdown around it",
                    self.calls[n].call.name
                ),
                "put `{% name() %}` and `{% end %}` each on a line of its own".into(),
            ));
        }
        for (n, ok) in done.iter().enumerate() {
            if !ok {
                self.problems.push((
                    self.calls[n].call.offset,
                    format!(
                        "the shortcode `{}` cannot be used here (in a link's URL, an attribute or raw HTML)",
                        self.calls[n].call.name
                    ),
                    "put the shortcode in running text or on a line of its own".into(),
                ));
            }
        }
        out
    }

    /// Renders call `p` in place of `out[start..]` (its body's HTML when `has_body`), the
    /// HTML after it being `rest`. A call whose output is a block (a `<div>`, `<details>`,
    /// `<figure>`...) standing in a paragraph, as in a list item, a quote or running text
    /// (`- {% details(summary="x") %}text{% end %}`), splits the paragraph: a block inside
    /// `<p>` is not valid HTML. The text of the paragraph before it and after it stays in
    /// paragraphs of its own, and the part of its body inside the paragraph becomes one.
    fn emit(
        &mut self,
        p: &Pending,
        out: &mut String,
        start: usize,
        has_body: bool,
        rest: &mut &str,
        alone: bool,
    ) {
        let opened_in_p = open_paragraph(&out[..start]);
        let closed_in_p = open_paragraph(out);
        let body = has_body.then(|| out[start..].to_string());
        out.truncate(start);
        if body.as_deref().is_some_and(|b| !containers_balanced(b)) {
            self.problems.push((
                p.call.offset,
                format!(
                    "the body of `{}` is cut apart by the Markdown around it (a list, quote or table ends inside it)",
                    p.call.name
                ),
                "indent `{% end %}` like the text of the list item it starts in, or quote it with `>` like the quote it starts in; or put the call and `{% end %}` each on a line of its own, at the same level of the text".into(),
            ));
            return;
        }
        let mark = self.mark(&p.call.name);
        let Some(mut html) = self.call(p, body.as_deref()) else {
            return;
        };
        if !(opened_in_p || closed_in_p) || !is_block(&html) {
            out.push_str(&html);
            if alone {
                out.push('\n');
            }
            return;
        }
        if let Some(body) = &body {
            let fixed = paragraphs_closed(body, opened_in_p);
            if &fixed != body {
                // Rendered again with the body's paragraphs whole; what the first render
                // recorded is undone first.
                self.rewind(mark, &p.call.name);
                match self.call(p, Some(&fixed)) {
                    Some(again) => html = again,
                    None => return,
                }
            }
        }
        if opened_in_p {
            let kept = out.trim_end().len();
            out.truncate(kept);
            match out.strip_suffix("<p>") {
                Some(o) => {
                    let kept = o.len();
                    out.truncate(kept);
                }
                None => out.push_str("</p>\n"),
            }
        }
        out.push_str(&html);
        out.push('\n');
        if closed_in_p {
            let r = rest.trim_start();
            match r.strip_prefix("</p>") {
                Some(after) => *rest = after.strip_prefix('\n').unwrap_or(after),
                None => {
                    *rest = r;
                    out.push_str("<p>");
                }
            }
        }
    }

    /// What rendering a call records, to undo it ([`Expansion::rewind`]).
    fn mark(&self, name: &str) -> (usize, usize, usize, usize, usize) {
        (
            self.problems.len(),
            self.cves.len(),
            self.links.len(),
            self.out.iocs.len(),
            self.nth.get(name).copied().unwrap_or(0),
        )
    }

    fn rewind(&mut self, mark: (usize, usize, usize, usize, usize), name: &str) {
        let (problems, cves, links, iocs, nth) = mark;
        self.problems.truncate(problems);
        self.cves.truncate(cves);
        self.links.truncate(links);
        self.out.iocs.truncate(iocs);
        self.nth.insert(name.to_string(), nth);
    }

    /// Renders one call; problems are recorded and give `None`.
    fn call(&mut self, p: &Pending, body_html: Option<&str>) -> Option<String> {
        let call = &p.call;
        let name = call.name.as_str();
        let nth = {
            let n = self.nth.entry(name.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let template = format!("{DIR}{name}.html");
        if !self.sc.names.contains(name) {
            let known: Vec<&str> = self.sc.names.iter().map(String::as_str).collect();
            let help = match crate::error::closest(name, &known) {
                Some(c) => format!("did you mean `{c}`? Or create templates/{template}"),
                None => format!(
                    "create templates/{template}, or use one of: {}",
                    known.join(", ")
                ),
            };
            self.problems
                .push((call.offset, format!("unknown shortcode `{name}`"), help));
            return None;
        }
        let mut ctx = Context::new();
        for a in &call.args {
            ctx.insert_value(a.name.clone(), a.value.to_tera());
        }
        ctx.insert_value("nth", Value::from(nth));
        ctx.insert_value("root_url", Value::from(self.sc.root_url.as_str()));
        ctx.insert_value("site", self.sc.site.clone());
        ctx.insert_value("page", self.page.clone());
        if let Some(b) = body_html {
            ctx.insert_value("body", Value::safe_string(b));
        }
        if let Some(spec) = builtin(name) {
            if let Err((offset, message, help)) = self.builtin(spec, p, &mut ctx) {
                self.problems.push((offset, message, help));
                return None;
            }
        }
        let mut buf = Vec::new();
        match self.sc.tera.render_to(&template, &ctx, &mut buf) {
            // Templates end in a newline; a call in running text must not add a space.
            Ok(()) => Some(String::from_utf8_lossy(&buf).trim().to_string()),
            Err(e) => {
                let shown = self
                    .sc
                    .shown
                    .get(&template)
                    .cloned()
                    .unwrap_or_else(|| PathBuf::from("templates").join(&template));
                let mut msg = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(s) = src {
                    msg.push_str(&format!(": {s}"));
                    src = s.source();
                }
                self.problems.push((
                    call.offset,
                    format!(
                        "the shortcode `{name}` failed in {}: {msg}",
                        shown.display()
                    ),
                    "check the arguments the template uses, or fix the template".into(),
                ));
                None
            }
        }
    }

    /// Checks a built-in's arguments and adds what its template needs.
    fn builtin(&mut self, spec: &Spec, p: &Pending, ctx: &mut Context) -> Result<(), Problem> {
        let call = &p.call;
        check_body(spec, call, p.has_body)?;
        check_arg_types(spec, call)?;
        check_required_args(spec, call)?;
        let args = Args {
            call,
            name: spec.name,
        };
        for (arg, _, _) in spec.args {
            if args.get(arg).is_none() {
                ctx.insert_value(*arg, Value::none());
            }
        }
        match spec.name {
            "figure" => self.figure(&args),
            "youtube" => self.youtube(&args, ctx),
            "vimeo" => self.vimeo(&args, ctx),
            "x" | "tweet" => x_post(&args, ctx),
            "mastodon" => mastodon(&args, ctx),
            "gist" => gist(&args, ctx),
            "callout" => callout(&args, ctx),
            "cve" => self.cve(&args, ctx),
            "attack" => attack(&args, ctx),
            "ioc" => self.ioc(&args, p, ctx),
            _ => Ok(()),
        }
    }

    /// `figure`: a safe image and link, recorded for `sitrep check`.
    fn figure(&mut self, args: &Args) -> Result<(), Problem> {
        let call = args.call;
        let src = args.text("src").unwrap_or("");
        if let Err(why) = check_link(src) {
            return Err(args.bad(
                "src",
                format!("`src` of `figure`: {src:?} {why}"),
                "use a path on this site or an http(s) URL",
            ));
        }
        args.link("link")?;
        self.links.push(markdown::Link {
            dest: src.to_string(),
            offset: call.offset,
            is_image: true,
        });
        if let Some(l) = args.text("link") {
            self.links.push(markdown::Link {
                dest: l.to_string(),
                offset: call.offset,
                is_image: false,
            });
        }
        if args.get("link").is_some() && args.text("alt").is_some_and(|a| a.trim().is_empty()) {
            return Err(args.bad(
                "alt",
                "a linked `figure` needs alt text: it is the link's only name".into(),
                "describe where the link leads in alt=\"...\"",
            ));
        }
        Ok(())
    }

    /// `youtube`: the video's watch and embed addresses.
    fn youtube(&mut self, args: &Args, ctx: &mut Context) -> Result<(), Problem> {
        let id = args.id_chars(
            "id",
            &|c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            11..12,
            "a YouTube video id (11 letters, digits, - or _)",
        )?;
        args.local("poster")?;
        let start = args.int("start").unwrap_or(0);
        if start < 0 {
            return Err(args.bad(
                "start",
                "`start` of `youtube` is a number of seconds from 0".into(),
                "write start=90 to start at 1:30",
            ));
        }
        let t = if start > 0 {
            format!("&t={start}s")
        } else {
            String::new()
        };
        let s = if start > 0 {
            format!("&start={start}")
        } else {
            String::new()
        };
        put(
            ctx,
            "watch_url",
            format!("https://www.youtube.com/watch?v={id}{t}"),
        );
        put(
            ctx,
            "embed_url",
            format!("{YOUTUBE_FRAME_HOST}/embed/{id}?autoplay=1{s}"),
        );
        self.out.features.insert(FEATURE_YOUTUBE.into());
        Ok(())
    }

    /// `vimeo`: the video's watch and embed addresses.
    fn vimeo(&mut self, args: &Args, ctx: &mut Context) -> Result<(), Problem> {
        let id = args.id_chars(
            "id",
            &|c| c.is_ascii_digit(),
            1..20,
            "a Vimeo video id (digits)",
        )?;
        args.local("poster")?;
        put(ctx, "watch_url", format!("https://vimeo.com/{id}"));
        put(
            ctx,
            "embed_url",
            format!("{VIMEO_FRAME_HOST}/video/{id}?autoplay=1&dnt=1"),
        );
        self.out.features.insert(FEATURE_VIMEO.into());
        Ok(())
    }

    /// `cve`: the id's pages, recorded for the page's CVE list.
    fn cve(&mut self, args: &Args, ctx: &mut Context) -> Result<(), Problem> {
        let id = args.text("id").unwrap_or("").trim().to_ascii_uppercase();
        if !is_cve_id(&id) {
            return Err(args.bad(
                "id",
                format!("`id` of `cve`: {id:?} is not a CVE id"),
                "write it as CVE-YYYY-NNNN, for example CVE-2024-3400",
            ));
        }
        put(ctx, "url", format!("{}{id}/", self.cve_prefix));
        put(ctx, "record_url", crate::urls::cve_record(&id));
        self.cves.push(id.clone());
        ctx.insert_value("facts", Value::safe_string(&cve_facts_placeholder(&id)));
        put(ctx, "id", id);
        self.out.features.insert(FEATURE_CVE.into());
        Ok(())
    }

    /// `ioc`: the indicators of the raw body, one a line; a bad line is a problem of its own.
    fn ioc(&mut self, args: &Args, p: &Pending, ctx: &mut Context) -> Result<(), Problem> {
        let (raw, at) = p.raw_body.clone().unwrap_or_default();
        let mut rows = Vec::new();
        for (line, item) in ioc::parse_block(&raw) {
            let offset = at
                + raw
                    .split_inclusive('\n')
                    .take(line)
                    .map(str::len)
                    .sum::<usize>();
            match item {
                Ok(i) => {
                    rows.push(ioc_value(&i));
                    self.out.iocs.push(i);
                }
                Err(why) => self.problems.push((
                    offset + (raw[offset - at..].len() - raw[offset - at..].trim_start().len()),
                    format!("indicator of compromise: {why}"),
                    "fix the value, or remove the line; one indicator per line, a note after ` # `"
                        .into(),
                )),
            }
        }
        if rows.is_empty() {
            return Err((
                args.call.offset,
                "the `ioc` block lists no indicators".into(),
                "write one indicator per line between {% ioc() %} and {% end %}".into(),
            ));
        }
        ctx.insert_value("iocs", Value::from(rows));
        ctx.insert_value(
            "caption",
            args.get("title")
                .map_or_else(Value::none, |a| a.value.to_tera()),
        );
        self.out.features.insert(FEATURE_IOC.into());
        Ok(())
    }
}

/// Whether a built-in call has a body when its shortcode needs one, and none when it takes none.
fn check_body(spec: &Spec, call: &Call, has_body: bool) -> Result<(), Problem> {
    let name = spec.name;
    match (spec.body, has_body) {
        (BodyRule::Required, false) => Err((
            call.offset,
            format!("the shortcode `{name}` needs a body"),
            format!("write {{% {name}(...) %}}\n...\n{{% end %}}"),
        )),
        (BodyRule::None, true) => Err((
            call.offset,
            format!("the shortcode `{name}` takes no body"),
            format!("write {{{{ {name}(...) }}}}"),
        )),
        _ => Ok(()),
    }
}

/// Whether every argument of a built-in call is one of its shortcode's, of the right type.
fn check_arg_types(spec: &Spec, call: &Call) -> Result<(), Problem> {
    let name = spec.name;
    for a in &call.args {
        let Some(&(_, ty, _)) = spec.args.iter().find(|(n, _, _)| *n == a.name) else {
            let names: Vec<&str> = spec.args.iter().map(|(n, _, _)| *n).collect();
            return Err((
                a.offset,
                format!("the shortcode `{name}` has no argument `{}`", a.name),
                match crate::error::closest(&a.name, &names) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None if names.is_empty() => format!("`{name}` takes no arguments"),
                    None => format!("its arguments are: {}", names.join(", ")),
                },
            ));
        };
        let ok = matches!(
            (ty, &a.value),
            (Ty::Str, ArgValue::Str(_))
                | (Ty::Int, ArgValue::Int(_))
                | (Ty::Bool, ArgValue::Bool(_))
        );
        if !ok {
            return Err((
                a.offset,
                format!(
                    "`{}` of `{name}` must be {}, not {}",
                    a.name,
                    ty.name(),
                    a.value.type_name()
                ),
                match ty {
                    Ty::Str => format!("put the value in quotes: {}=\"...\"", a.name),
                    Ty::Int => format!("write a whole number: {}=30", a.name),
                    Ty::Bool => format!("write {}=true or {}=false", a.name, a.name),
                },
            ));
        }
    }
    Ok(())
}

/// Whether a built-in call gives every argument its shortcode requires.
fn check_required_args(spec: &Spec, call: &Call) -> Result<(), Problem> {
    let name = spec.name;
    for &(arg, _, required) in spec.args {
        if required && !call.args.iter().any(|a| a.name == arg) {
            let help = if name == "figure" && arg == "alt" {
                "describe the image for readers who cannot see it: alt=\"...\"; write alt=\"\" only for a purely decorative image".to_string()
            } else {
                format!("add {arg}=\"...\" to the call")
            };
            return Err((
                call.offset,
                format!("the shortcode `{name}` needs the argument `{arg}`"),
                help,
            ));
        }
    }
    Ok(())
}

/// A built-in call's arguments (already checked against its spec), with the checks the
/// built-ins share.
struct Args<'c> {
    call: &'c Call,
    name: &'static str,
}

impl<'c> Args<'c> {
    fn get(&self, arg: &str) -> Option<&'c Arg> {
        self.call.args.iter().find(|a| a.name == arg)
    }

    fn text(&self, arg: &str) -> Option<&'c str> {
        match self.get(arg).map(|a| &a.value) {
            Some(ArgValue::Str(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    fn int(&self, arg: &str) -> Option<i64> {
        match self.get(arg).map(|a| &a.value) {
            Some(ArgValue::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// A problem at the argument `arg`, or at the call when it is absent.
    fn bad(&self, arg: &str, message: String, help: &str) -> Problem {
        (
            self.get(arg).map_or(self.call.offset, |a| a.offset),
            message,
            help.to_string(),
        )
    }

    /// Whether `arg`, when given, is a safe link.
    fn link(&self, arg: &str) -> Result<(), Problem> {
        let name = self.name;
        match self.text(arg) {
            Some(u) => check_link(u).map_err(|why| {
                self.bad(
                    arg,
                    format!("`{arg}` of `{name}`: {u:?} {why}"),
                    "use an http(s) URL or a path on this site",
                )
            }),
            None => Ok(()),
        }
    }

    /// Whether `arg`, when given, is an image on this site.
    fn local(&self, arg: &str) -> Result<(), Problem> {
        let name = self.name;
        match self.text(arg) {
            Some(u)
                if u.trim().is_empty()
                    || u.contains("//")
                    || crate::content::scheme_of(u).is_some() =>
            {
                Err(self.bad(
                    arg,
                    format!("`{arg}` of `{name}` must be an image on this site, not {u:?}"),
                    "an image from another site would be loaded before the reader clicks: give a path such as /images/poster.jpg, or leave it out",
                ))
            }
            _ => Ok(()),
        }
    }

    /// `arg`, trimmed, when it has a length in `len` and only characters `ok` accepts.
    fn id_chars(
        &self,
        arg: &str,
        ok: &dyn Fn(char) -> bool,
        len: Range<usize>,
        what: &str,
    ) -> Result<String, Problem> {
        let name = self.name;
        let v = self.text(arg).unwrap_or("").trim();
        if len.contains(&v.chars().count()) && v.chars().all(ok) {
            Ok(v.to_string())
        } else {
            Err(self.bad(
                arg,
                format!("`{arg}` of `{name}`: {v:?} is not {what}"),
                "copy it from the address of the post or video",
            ))
        }
    }
}

fn put(ctx: &mut Context, k: &'static str, v: String) {
    ctx.insert_value(k, Value::from(v));
}

/// `x` and `tweet`: the post's address.
fn x_post(args: &Args, ctx: &mut Context) -> Result<(), Problem> {
    let user = args.id_chars(
        "user",
        &|c| c.is_ascii_alphanumeric() || c == '_',
        1..16,
        "an X user name (letters, digits and _)",
    )?;
    let id = args.id_chars("id", &|c| c.is_ascii_digit(), 1..25, "a post id (digits)")?;
    put(ctx, "url", format!("https://x.com/{user}/status/{id}"));
    Ok(())
}

/// `mastodon`: the post's host and account.
fn mastodon(args: &Args, ctx: &mut Context) -> Result<(), Problem> {
    let url = args.text("url").unwrap_or("").trim();
    let host_ok = url
        .strip_prefix("https://")
        .and_then(|r| r.split('/').next())
        .is_some_and(|h| !h.is_empty() && ioc::check(ioc::IocKind::Domain, h).is_ok());
    if !host_ok || !url.contains("/@") {
        return Err(args.bad(
            "url",
            format!("`url` of `mastodon`: {url:?} is not the https address of a Mastodon post"),
            "copy the post's address, such as https://infosec.exchange/@user/111111111111111111",
        ));
    }
    let (host, path) = url["https://".len()..].split_once('/').unwrap_or(("", ""));
    let account = path.split('/').next().unwrap_or("");
    put(ctx, "host", host.to_string());
    put(ctx, "account", format!("{account}@{host}"));
    Ok(())
}

/// `gist`: the gist's address.
fn gist(args: &Args, ctx: &mut Context) -> Result<(), Problem> {
    let user = args.id_chars(
        "user",
        &|c| c.is_ascii_alphanumeric() || c == '-',
        1..40,
        "a GitHub user name",
    )?;
    let id = args.id_chars("id", &|c| c.is_ascii_alphanumeric(), 1..64, "a gist id")?;
    put(ctx, "url", format!("https://gist.github.com/{user}/{id}"));
    Ok(())
}

/// `callout`: the kind's name and label, and a valid `fold`.
fn callout(args: &Args, ctx: &mut Context) -> Result<(), Problem> {
    let kind = args
        .text("kind")
        .unwrap_or("note")
        .trim()
        .to_ascii_lowercase();
    let Some(k) = crate::content::callouts::Kind::parse(&kind) else {
        return Err(args.bad(
            "kind",
            format!("`kind` of `callout`: {kind:?} is not a callout kind"),
            "use note, tip, important, warning or caution",
        ));
    };
    let fold = args.text("fold").unwrap_or("");
    if !matches!(fold, "" | "open" | "closed") {
        return Err(args.bad(
            "fold",
            format!("`fold` of `callout`: {fold:?} is neither \"open\" nor \"closed\""),
            "write fold=\"closed\" for a callout folded shut, fold=\"open\" for one that can be folded",
        ));
    }
    put(ctx, "kind", k.name().to_string());
    put(ctx, "label", k.label().to_string());
    Ok(())
}

/// `attack`: the id's page on the MITRE ATT&CK site.
fn attack(args: &Args, ctx: &mut Context) -> Result<(), Problem> {
    let id = args.text("id").unwrap_or("").trim().to_ascii_uppercase();
    let Some(url) = attack_url(&id) else {
        return Err(args.bad(
            "id",
            format!("`id` of `attack`: {id:?} is not a MITRE ATT&CK id"),
            "write a technique (T1059, T1059.001), tactic (TA0001), group (G0016), software (S0154) or mitigation (M1036) id",
        ));
    };
    put(ctx, "url", url);
    put(ctx, "id", id);
    Ok(())
}

/// Whether `html` ends inside a paragraph (`<p>` opened and not closed).
fn open_paragraph(html: &str) -> bool {
    match (html.rfind("<p>"), html.rfind("</p>")) {
        (Some(o), Some(c)) => o > c,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Whether the elements that hold blocks (lists, quotes, tables...) open and close in
/// pairs in `html`: when not, a body began in one and ended outside it. Paragraphs are
/// left out, [`paragraphs_closed`] mends those.
fn containers_balanced(html: &str) -> bool {
    const CONTAINERS: &[&str] = &[
        "ul",
        "ol",
        "li",
        "blockquote",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "div",
        "details",
        "section",
        "aside",
        "figure",
        "dl",
        "dt",
        "dd",
    ];
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let closing = rest.starts_with('/');
        let name = tag_name(&rest[usize::from(closing)..]);
        let Some(&tag) = CONTAINERS.iter().find(|t| t.eq_ignore_ascii_case(name)) else {
            continue;
        };
        if closing {
            if stack.pop() != Some(tag) {
                return false;
            }
        } else {
            stack.push(tag);
        }
    }
    stack.is_empty()
}

/// Elements that cannot stand in a paragraph.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "dialog",
    "div",
    "dl",
    "fieldset",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "ul",
];

/// Whether a call's output starts with a block element.
fn is_block(html: &str) -> bool {
    let Some(tag) = html.trim_start().strip_prefix('<') else {
        return false;
    };
    BLOCK_TAGS.contains(&tag_name(tag).to_ascii_lowercase().as_str())
}

/// The element name at the start of `tag` (the text after `<`, or after `</`).
fn tag_name(tag: &str) -> &str {
    let len = tag
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    &tag[..len]
}

/// A body's HTML cut from a paragraph made whole: opened where the body starts inside a
/// paragraph (`opened_in_p`), closed where it ends inside one; empty paragraphs go.
fn paragraphs_closed(body: &str, opened_in_p: bool) -> String {
    let mut out = String::with_capacity(body.len() + 8);
    if opened_in_p {
        out.push_str("<p>");
        out.push_str(body.trim());
    } else {
        out.push_str(body.trim_end());
    }
    if open_paragraph(&out) {
        out.push_str("</p>");
    }
    let mut s = out.as_str();
    while let Some(r) = s.strip_prefix("<p></p>") {
        s = r.trim_start();
    }
    while let Some(r) = s.strip_suffix("<p></p>") {
        s = r.trim_end();
    }
    s.to_string()
}

/// Whether the end of `html` is inside a tag (between `<` and `>`).
fn inside_tag(html: &str) -> bool {
    match (html.rfind('<'), html.rfind('>')) {
        (Some(lt), Some(gt)) => lt > gt,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The template value of an indicator: `{type, label, value, defanged, note}`.
pub fn ioc_value(i: &Ioc) -> Value {
    let mut m = tera::Map::default();
    m.insert("type".into(), Value::from(i.kind.name()));
    m.insert("label".into(), Value::from(i.kind.label()));
    m.insert("value".into(), Value::from(i.value.as_str()));
    m.insert("defanged".into(), Value::from(i.defanged()));
    m.insert("note".into(), Value::from(i.note.as_str()));
    Value::from(m)
}

/// The page of a MITRE ATT&CK id.
fn attack_url(id: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let (kind, num) = if let Some(n) = id.strip_prefix("TA") {
        ("tactics", n)
    } else if let Some(n) = id.strip_prefix('T') {
        ("techniques", n)
    } else if let Some(n) = id.strip_prefix('G') {
        ("groups", n)
    } else if let Some(n) = id.strip_prefix('S') {
        ("software", n)
    } else if let Some(n) = id.strip_prefix('M') {
        ("mitigations", n)
    } else {
        return None;
    };
    if kind == "techniques" {
        let (main, sub) = match num.split_once('.') {
            Some((m, s)) => (m, Some(s)),
            None => (num, None),
        };
        if !digits(main, 4) || sub.is_some_and(|s| !digits(s, 3)) {
            return None;
        }
        return Some(match sub {
            Some(s) => format!("https://attack.mitre.org/techniques/T{main}/{s}/"),
            None => format!("https://attack.mitre.org/techniques/T{main}/"),
        });
    }
    digits(num, 4).then(|| format!("https://attack.mitre.org/{kind}/{id}/"))
}

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Int,
    Bool,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Str => "a string",
            Ty::Int => "a whole number",
            Ty::Bool => "true or false",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BodyRule {
    Required,
    None,
}

/// A built-in shortcode: its arguments `(name, type, required)` and whether it has a body.
struct Spec {
    name: &'static str,
    args: &'static [(&'static str, Ty, bool)],
    body: BodyRule,
}

/// `x` and its other name `tweet` take the same arguments.
const X_POST_ARGS: &[(&str, Ty, bool)] = &[
    ("user", Ty::Str, true),
    ("id", Ty::Str, true),
    ("text", Ty::Str, false),
    ("date", Ty::Str, false),
];

const BUILTINS: &[Spec] = &[
    Spec {
        name: "figure",
        args: &[
            ("src", Ty::Str, true),
            ("alt", Ty::Str, true),
            ("caption", Ty::Str, false),
            ("credit", Ty::Str, false),
            ("link", Ty::Str, false),
            ("width", Ty::Int, false),
            ("height", Ty::Int, false),
        ],
        body: BodyRule::None,
    },
    Spec {
        name: "youtube",
        args: &[
            ("id", Ty::Str, true),
            ("start", Ty::Int, false),
            ("title", Ty::Str, false),
            ("poster", Ty::Str, false),
        ],
        body: BodyRule::None,
    },
    Spec {
        name: "vimeo",
        args: &[
            ("id", Ty::Str, true),
            ("title", Ty::Str, false),
            ("poster", Ty::Str, false),
        ],
        body: BodyRule::None,
    },
    Spec {
        name: "x",
        args: X_POST_ARGS,
        body: BodyRule::None,
    },
    Spec {
        name: "tweet",
        args: X_POST_ARGS,
        body: BodyRule::None,
    },
    Spec {
        name: "mastodon",
        args: &[
            ("url", Ty::Str, true),
            ("text", Ty::Str, false),
            ("date", Ty::Str, false),
        ],
        body: BodyRule::None,
    },
    Spec {
        name: "gist",
        args: &[
            ("user", Ty::Str, true),
            ("id", Ty::Str, true),
            ("file", Ty::Str, false),
        ],
        body: BodyRule::None,
    },
    Spec {
        name: "details",
        args: &[("summary", Ty::Str, true), ("open", Ty::Bool, false)],
        body: BodyRule::Required,
    },
    Spec {
        name: "callout",
        args: &[
            ("kind", Ty::Str, false),
            ("title", Ty::Str, false),
            ("fold", Ty::Str, false),
        ],
        body: BodyRule::Required,
    },
    Spec {
        name: "cve",
        args: &[("id", Ty::Str, true)],
        body: BodyRule::None,
    },
    Spec {
        name: "attack",
        args: &[("id", Ty::Str, true), ("name", Ty::Str, false)],
        body: BodyRule::None,
    },
    Spec {
        name: "ioc",
        args: &[("title", Ty::Str, false)],
        body: BodyRule::Required,
    },
];

fn builtin(name: &str) -> Option<&'static Spec> {
    BUILTINS.iter().find(|s| s.name == name)
}

/// The names of the built-in shortcodes.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|s| s.name)
}

/// Shared by `Arc` in [`markdown::Options`].
pub type Shared = Arc<Shortcodes>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::highlight::Highlighter;

    fn opts() -> markdown::Options {
        markdown::Options {
            cve_prefix: "/cve/".into(),
            highlight: false,
            unsafe_html: true,
            attack_ids: Default::default(),
            shortcodes: Shortcodes::builtin().map(Arc::new),
            search_text: Default::default(),
        }
    }

    fn run(body: &str) -> (Body, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let out = render(
            Path::new("content/posts/t.md"),
            body,
            5,
            &PageVars::default(),
            &opts(),
            &mut Highlighter::new().session(),
            &mut errors,
        );
        (out, errors)
    }

    #[test]
    fn offsets_after_calls_point_into_the_source() {
        let body = "{% details(summary=\"s\") %}\nA [link](/a/) in it.\n{% end %}\n\n{{ cve(id=\"CVE-2024-3400\") }} then [b](/b/).\n";
        let (out, errors) = run(body);
        assert!(errors.is_empty(), "{errors:?}");
        let links: Vec<(&str, usize)> = out
            .rendered
            .links
            .iter()
            .map(|l| (l.dest.as_str(), l.offset))
            .collect();
        assert_eq!(links[0], ("/a/", body.find("[link]").unwrap()));
        assert_eq!(links[1], ("/b/", body.find("[b]").unwrap()));
        assert_eq!(out.rendered.cves, ["CVE-2024-3400"]);
    }

    #[test]
    fn blocks_are_not_paragraphs_and_inline_calls_are() {
        let (out, _) = run(
            "Text\n{{ cve(id=\"CVE-2024-3400\") }}\nmore\n\nIn {{ attack(id=\"T1059\") }} text.\n",
        );
        let html = &out.rendered.html;
        assert!(
            html.starts_with("<p>Text</p>\n<span class=\"cve-card\">"),
            "{html}"
        );
        assert!(html.contains("</span>\n<p>more</p>"), "{html}");
        assert!(html.contains("<p>In <a class=\"attack\""), "{html}");
    }

    #[test]
    fn bodies_nest_and_quotes_hold_calls() {
        let (out, errors) = run(
            "{% callout(kind=\"note\") %}\nOuter\n\n{% details(summary=\"In\") %}\nInner *x*\n{% end %}\n{% end %}\n\n> {{ cve(id=\"CVE-2024-0001\") }}\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let html = &out.rendered.html;
        assert!(
            html.contains("<p>Outer</p>\n<details class=\"details\">\n<summary>In</summary>\n<p>Inner <em>x</em></p>\n</details>\n</div>"),
            "{html}"
        );
        assert!(
            html.contains("<blockquote>\n<span class=\"cve-card\">"),
            "{html}"
        );
        assert!(!html.contains('\u{E000}'), "{html}");
    }

    /// Runs with the built-ins and the site templates `extra` (name, text).
    fn run_with(body: &str, extra: &[(&str, &str)]) -> (Body, Vec<Diagnostic>) {
        run_page(body, extra, &PageVars::default())
    }

    fn run_page(
        body: &str,
        extra: &[(&str, &str)],
        page: &PageVars<'_>,
    ) -> (Body, Vec<Diagnostic>) {
        let mut files = BTreeMap::new();
        crate::render::theme::embedded_templates_into(&mut files);
        for (name, text) in extra {
            files.insert(
                format!("{DIR}{name}.html"),
                TemplateFile {
                    text: (*text).to_string(),
                    shown: PathBuf::from(format!("templates/{DIR}{name}.html")),
                },
            );
        }
        let mut o = opts();
        let urls = Urls::new("https://example.com/blog");
        let config = crate::config::Config {
            title: "Test <Site>".into(),
            ..Default::default()
        };
        let site = crate::render::config_site_value(&config, &urls);
        o.shortcodes = Shortcodes::new(&files, &urls, site).map(Arc::new);
        let mut errors = Vec::new();
        let out = render(
            Path::new("content/posts/t.md"),
            body,
            5,
            page,
            &o,
            &mut Highlighter::new().session(),
            &mut errors,
        );
        (out, errors)
    }

    /// No block element inside a paragraph, and every container closed where it opened.
    fn assert_valid(html: &str) {
        assert!(containers_balanced(html), "{html}");
        let mut rest = html;
        while let Some(i) = rest.find("<p>") {
            let para = &rest[i..];
            let end = para.find("</p>").expect(html);
            assert!(
                !para[3..end].contains("<p>")
                    && !is_block(&para[3..end])
                    && !BLOCK_TAGS
                        .iter()
                        .any(|t| para[3..end].contains(&format!("<{t} "))
                            || para[3..end].contains(&format!("<{t}>"))),
                "block in a paragraph: {html}"
            );
            rest = &para[end..];
        }
    }

    #[test]
    fn body_calls_in_list_items_and_quotes() {
        let (out, errors) = run(concat!(
            "- {% details(summary=\"x\") %}text *em*{% end %}\n",
            "- {% details(summary=\"multi\") %}\n  para one\n\n  para two\n  {% end %}\n",
            "- last\n\n",
            "> {% callout(kind=\"warning\") %}quoted *body*{% end %}\n\n",
            "> {{ cve(id=\"CVE-2024-3400\") }}\n\n",
            "- > {% callout(kind=\"tip\") %}deep{% end %}\n",
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let html = &out.rendered.html;
        assert_valid(html);
        assert!(
            html.starts_with("<ul>\n<li>\n<details class=\"details\">\n<summary>x</summary>\n<p>text <em>em</em></p></details>\n</li>"),
            "{html}"
        );
        assert!(
            html.contains("<summary>multi</summary>\n<p>para one</p>\n<p>para two</p></details>\n</li>\n<li>\n<p>last</p>"),
            "{html}"
        );
        assert!(
            html.contains("<blockquote>\n<div class=\"callout callout-warning\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Warning</span></p>\n<p>quoted <em>body</em></p></div>\n</blockquote>"),
            "{html}"
        );
        assert!(
            html.contains("<blockquote>\n<span class=\"cve-card\"><a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a>"),
            "{html}"
        );
        assert!(
            html.contains("<li>\n<blockquote>\n<div class=\"callout callout-tip\" role=\"note\">"),
            "{html}"
        );
        assert!(!html.contains(MARK), "{html}");
        assert_eq!(out.rendered.cves, ["CVE-2024-3400"]);
    }

    #[test]
    fn a_block_in_running_text_splits_its_paragraph() {
        let (out, errors) = run(
            "Before {% details(summary=\"s\") %}inside{% end %} after.\n\nWatch {{ youtube(id=\"aqz-KE-bpKQ\") }} now.\n\n1. tight {% details(summary=\"t\") %}x{% end %}\n2. two\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let html = &out.rendered.html;
        assert_valid(html);
        assert!(
            html.starts_with("<p>Before</p>\n<details class=\"details\">\n<summary>s</summary>\n<p>inside</p></details>\n<p>after.</p>"),
            "{html}"
        );
        assert!(
            html.contains("<p>Watch</p>\n<figure class=\"embed"),
            "{html}"
        );
        assert!(html.contains("</figure>\n<p>now.</p>"), "{html}");
        // A tight list item holds no paragraph: the block stays where it is.
        assert!(
            html.contains(
                "<li>tight <details class=\"details\">\n<summary>t</summary>\nx</details></li>"
            ),
            "{html}"
        );
    }

    #[test]
    fn site_body_shortcodes_stay_inline_or_split_by_their_output() {
        let (out, errors) = run_with(
            "A {% mark() %}word{% end %} b.\n\n- {% boxed() %}one{% end %}\n\n  {% boxed() %}two{% end %} c\n",
            &[
                ("mark", "<mark>{{ body }}</mark>"),
                (
                    "boxed",
                    "<div class=\"box\" id=\"b{{ nth }}\">{{ body }}</div>",
                ),
            ],
        );
        assert!(errors.is_empty(), "{errors:?}");
        let html = &out.rendered.html;
        assert_valid(html);
        assert!(html.starts_with("<p>A <mark>word</mark> b.</p>"), "{html}");
        // Each call counted once, though a block in a paragraph is rendered twice.
        assert!(
            html.contains("<div class=\"box\" id=\"b1\"><p>one</p></div>"),
            "{html}"
        );
        assert!(
            html.contains("<div class=\"box\" id=\"b2\"><p>two</p></div>\n<p>c</p>"),
            "{html}"
        );
    }

    #[test]
    fn hostile_arguments_in_list_items_and_quotes_are_text() {
        let (out, errors) = run(
            "- {% details(summary=\"\\\"><script>alert(1)</script>\") %}t{% end %}\n\n  more\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let html = &out.rendered.html;
        assert!(
            html.contains(
                "<summary>&quot;&gt;&lt;script&gt;alert(1)&lt;&#x2F;script&gt;</summary>"
            ) || html
                .contains("<summary>&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</summary>"),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
        let (_, errors) = run("text\n\n> {{ cve(id=\"\\\"><script>\") }}\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (Some(7), Some(10)));
        assert!(
            errors[0]
                .message
                .contains("\"\\\"><SCRIPT>\" is not a CVE id"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn bodies_cut_apart_by_lists_and_quotes_are_errors() {
        for (body, line, col) in [
            ("- {% details(summary=\"x\") %}\ntext\n\n{% end %}\n", 5, 3),
            (
                "Intro.\n\n> {% details(summary=\"q\") %}\n> in quote\n\n{% end %}\n",
                7,
                3,
            ),
            ("- a\n- {% callout() %}b\n\nc {% end %}\n", 6, 3),
        ] {
            let (_, errors) = run(body);
            assert_eq!(errors.len(), 1, "{body}: {errors:?}");
            assert!(errors[0].message.contains("cut apart"), "{}", errors[0]);
            assert_eq!(
                (errors[0].line, errors[0].column),
                (Some(line), Some(col)),
                "{body}"
            );
        }
    }

    #[test]
    fn templates_get_site_and_page_escaped() {
        let tags = ["a&b".to_string(), "\"><script>".to_string()];
        let cves = ["CVE-2024-3400".to_string()];
        let page = PageVars {
            title: "\"><script>alert(1)</script>",
            route: "posts/hello/",
            date: crate::support::date::Date::parse("2024-05-01").ok(),
            tags: &tags,
            cves: &cves,
        };
        let (out, errors) = run_page(
            "{{ about() }}\n",
            &[(
                "about",
                "<p class=\"about\">{{ site.title }}|{{ site.base_url }}|{{ site.url }}|{{ page.title }}|{{ page.permalink }}|{{ page.url }}|{{ page.date }}|{{ page.tags | join(sep=\",\") }}|{{ page.cves | join(sep=\",\") }}</p>",
            )],
            &page,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            out.rendered.html.trim(),
            "<p class=\"about\">Test &lt;Site&gt;|https://example.com/blog|/blog/|&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;|https://example.com/blog/posts/hello/|/blog/posts/hello/|2024-05-01|a&amp;b,&quot;&gt;&lt;script&gt;|CVE-2024-3400</p>"
        );
        // What the site variable holds, and what it does not (the index is not built yet).
        let (_, errors) = run_with("{{ count() }}\n", &[("count", "{{ site.post_count }}")]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .contains("the shortcode `count` failed in templates/shortcodes/count.html"),
            "{}",
            errors[0].message
        );
        assert_eq!((errors[0].line, errors[0].column), (Some(5), Some(1)));
    }

    #[test]
    fn cve_facts_placeholders_are_filled_and_forged_ones_left_alone() {
        let (out, errors) =
            run("A {{ cve(id=\"cve-2024-3400\") }} and {{ cve(id=\"CVE-2021-44228\") }}.\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert!(out.features.contains(FEATURE_CVE));
        let html = &out.rendered.html;
        assert!(
            html.contains(&cve_facts_placeholder("CVE-2024-3400")),
            "{html}"
        );
        let mut seen = Vec::new();
        let filled = fill_cve_facts(html, |id| {
            seen.push(id.to_string());
            Ok::<_, ()>(format!("<b>{id}</b>"))
        })
        .unwrap();
        assert_eq!(seen, ["CVE-2024-3400", "CVE-2021-44228"]);
        assert!(
            filled.contains("CVE-2024-3400</a><b>CVE-2024-3400</b></span>"),
            "{filled}"
        );
        assert!(!filled.contains("cve-facts"), "{filled}");
        // Raw HTML imitating a placeholder with anything but a CVE id is not touched.
        for forged in [
            "<span class=\"cve-facts\" data-cve=\"&quot;&gt;&lt;script&gt;\"></span>",
            "<span class=\"cve-facts\" data-cve=\"\"><script>x</script>\"></span>",
            "<span class=\"cve-facts\" data-cve=\"CVE-2024-3400",
        ] {
            let out = fill_cve_facts(forged, |_| Ok::<_, ()>("FILLED".into())).unwrap();
            assert_eq!(out, forged);
        }
        // The id is escaped in the placeholder (it is always a CVE id; escaping is kept anyway).
        assert_eq!(
            cve_facts_placeholder("\"><x>"),
            "<span class=\"cve-facts\" data-cve=\"&quot;&gt;&lt;x&gt;\"></span>"
        );
        // The first error of `fill` stops the work.
        assert_eq!(
            fill_cve_facts(html, |_| Err::<String, _>("bad")),
            Err("bad")
        );
    }

    #[test]
    fn problems_carry_line_and_column() {
        let (_, errors) = run("a\n\n  {{ nope() }}\n");
        assert_eq!(errors.len(), 1);
        assert_eq!((errors[0].line, errors[0].column), (Some(7), Some(3)));
        let (_, errors) = run("x \u{E000} {{ cve(id=\"CVE-2024-0001\") }}\n");
        assert!(errors[0].message.contains("U+E000"), "{errors:?}");
    }

    #[test]
    fn attack_ids() {
        assert_eq!(
            attack_url("T1059").unwrap(),
            "https://attack.mitre.org/techniques/T1059/"
        );
        assert_eq!(
            attack_url("T1059.001").unwrap(),
            "https://attack.mitre.org/techniques/T1059/001/"
        );
        assert_eq!(
            attack_url("TA0001").unwrap(),
            "https://attack.mitre.org/tactics/TA0001/"
        );
        assert_eq!(
            attack_url("G0016").unwrap(),
            "https://attack.mitre.org/groups/G0016/"
        );
        assert_eq!(
            attack_url("S0154").unwrap(),
            "https://attack.mitre.org/software/S0154/"
        );
        assert_eq!(
            attack_url("M1036").unwrap(),
            "https://attack.mitre.org/mitigations/M1036/"
        );
        for bad in ["T105", "T1059.1", "X1234", "TA01", "T1059/../x"] {
            assert!(attack_url(bad).is_none(), "{bad}");
        }
    }
}

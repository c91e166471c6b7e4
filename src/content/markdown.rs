//! Markdown to HTML with pulldown-cmark, plus what the site index needs from a body.
//!
//! On top of CommonMark: tables, footnotes, strikethrough, task lists, heading ids (written
//! `{#id}` or derived from the heading text), code blocks highlighted by [`crate::content::highlight::Highlighter`], and
//! CVE ids in running text linked to their `/cve/<ID>/` page. One pass over the events also
//! counts words, collects CVE ids, the first paragraph, the headings and the links.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options as CmarkOptions, Parser, Tag, TagEnd};

use crate::content::highlight::{Outcome, Session};
use crate::error::Problem;
use crate::support::escape;
use crate::support::slug::slugify;

/// How to render.
#[derive(Debug, Clone)]
pub struct Options {
    /// URL path prefix of CVE pages, ending in `/` (`/cve/`, or `/blog/cve/` under a sub-path).
    pub cve_prefix: String,
    /// Highlight code blocks (site.toml `markdown.highlight_code`).
    pub highlight: bool,
    /// Keep raw HTML as the author wrote it (site.toml `markdown.unsafe_html`); when false
    /// the rendered body goes through [`sanitize`].
    pub unsafe_html: bool,
    /// The ATT&CK technique ids the data knows: those in running text link to their page.
    pub attack_ids: std::sync::Arc<std::collections::BTreeSet<String>>,
    /// The shortcode templates; `None` renders `{{ … }}` as text (tools without a site).
    pub shortcodes: Option<crate::content::shortcodes::Shared>,
    /// How much plain text [`Rendered::text`] keeps for search to read word by word.
    pub search_text: SearchText,
}

/// How much of a body's plain text is kept for the search index (site.toml
/// `search_body_words`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchText {
    /// None: search and related coverage are off.
    #[default]
    None,
    /// The first `words` words, where a CJK character counts as the part of a word it is in
    /// reading time (`wpm / cpm`: 0.4 at the defaults), so a lede is the same minute or so
    /// of reading in any language.
    Lede {
        words: usize,
        wpm: usize,
        cpm: usize,
    },
    /// All of it.
    All,
}

/// A heading, for a table of contents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A link or image in the body, for `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub dest: String,
    /// Byte offset in the Markdown source.
    pub offset: usize,
    pub is_image: bool,
}

/// A warning about the body, at a byte offset in the Markdown source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Byte offset in the body, placed on a line by the caller.
    pub offset: usize,
    pub problem: Problem,
}

/// A rendered body.
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    pub word_count: usize,
    /// CJK characters in the text (each one a word in `word_count`).
    pub cjk_chars: usize,
    /// The body as plain text (running text, code, headings), for the search index.
    pub text: String,
    /// CVE ids mentioned in running text and link text, in order of first appearance.
    pub cves: Vec<String>,
    /// Known ATT&CK technique ids mentioned in running text and link text, in order.
    pub attack: Vec<String>,
    /// The first paragraph as plain text (for the default description).
    pub first_paragraph: String,
    pub headings: Vec<Heading>,
    pub links: Vec<Link>,
    pub warnings: Vec<Warning>,
    /// Problems that fail the build (only from sanitising).
    pub errors: Vec<Warning>,
}

pub(crate) fn cmark_options() -> CmarkOptions {
    CmarkOptions::ENABLE_GFM
        | CmarkOptions::ENABLE_TABLES
        | CmarkOptions::ENABLE_FOOTNOTES
        | CmarkOptions::ENABLE_STRIKETHROUGH
        | CmarkOptions::ENABLE_TASKLISTS
        | CmarkOptions::ENABLE_HEADING_ATTRIBUTES
}

/// Renders a Markdown body.
pub fn render(src: &str, opts: &Options, hl: &mut Session<'_>) -> Rendered {
    let Some(first_nul) = src.find('\0') else {
        return render_text(src, opts, hl);
    };
    // CommonMark: U+0000 is replaced by U+FFFD (three bytes); offsets are mapped back to `src`.
    let replaced = src.replace('\0', "\u{FFFD}");
    let moved: Vec<usize> = src
        .match_indices('\0')
        .enumerate()
        .map(|(k, (i, _))| i + 2 * k)
        .collect();
    let back = |o: usize| o.saturating_sub(2 * moved.partition_point(|&p| p < o));
    let mut out = render_text(&replaced, opts, hl);
    for l in &mut out.links {
        l.offset = back(l.offset);
    }
    for w in &mut out.warnings {
        w.offset = back(w.offset);
    }
    out.warnings.insert(
        0,
        Warning {
            offset: first_nul,
            problem: Problem::new(
                "the text contains NUL bytes; they are shown as U+FFFD (\u{FFFD})",
                "remove them: a NUL byte usually means a damaged file or pasted binary data",
            ),
        },
    );
    out
}

fn render_text(src: &str, opts: &Options, hl: &mut Session<'_>) -> Rendered {
    let mut walk = Walk {
        opts,
        hl,
        out: Rendered::default(),
        events: Vec::with_capacity(src.len() / 16),
        seen_cves: HashSet::new(),
        ids: HeadingIds::default(),
        code: None,
        highlight_spent: Duration::ZERO,
        link_depth: 0,
        image_depth: 0,
        heading: None,
        paragraph: ParagraphState::Before,
        text_spent: 0,
        text_full: opts.search_text == SearchText::None,
    };
    for (event, range) in Parser::new_ext(src, cmark_options()).into_offset_iter() {
        walk.event(event, range.start);
    }
    walk.finish(src.len())
}

/// One walk over a body's Markdown events: what it has seen so far, and the events it
/// hands on to pulldown-cmark's HTML writer (code blocks highlighted, headings given ids,
/// tables wrapped, CVE ids linked).
struct Walk<'src, 'o, 'h, 'hl> {
    opts: &'o Options,
    hl: &'h mut Session<'hl>,
    out: Rendered,
    events: Vec<Event<'src>>,
    seen_cves: HashSet<String>,
    ids: HeadingIds,
    /// The code block being read: language, text, offset.
    code: Option<(String, String, usize)>,
    highlight_spent: Duration,
    link_depth: usize,
    image_depth: usize,
    /// The heading being read: index of its Start event, its text so far.
    heading: Option<(usize, String)>,
    paragraph: ParagraphState,
    /// Of a [`SearchText::Lede`]: reading spent so far (a word costs `cpm`, a CJK character
    /// `wpm`), and whether the text is full.
    text_spent: u64,
    text_full: bool,
}

impl<'src> Walk<'src, '_, '_, '_> {
    fn event(&mut self, event: Event<'src>, offset: usize) {
        if self.code.is_some() {
            self.in_code_block(event);
            return;
        }
        match &event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new(), offset));
                return;
            }
            Event::Start(Tag::Heading { .. }) => {
                self.heading = Some((self.events.len(), String::new()));
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.link_depth += 1;
                self.link(dest_url, offset, false);
            }
            Event::End(TagEnd::Link) => self.link_depth = self.link_depth.saturating_sub(1),
            Event::Start(Tag::Image { dest_url, .. }) => {
                self.image_depth += 1;
                self.link(dest_url, offset, true);
            }
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            // Wide tables scroll in a box that keyboard users can focus.
            Event::Start(Tag::Table(_)) => self.events.push(Event::Html(CowStr::Borrowed(
                "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Table\">\n",
            ))),
            Event::End(TagEnd::Table) => {
                self.events.push(event);
                self.events.push(Event::Html(CowStr::Borrowed("</div>\n")));
                return;
            }
            Event::Start(Tag::Paragraph) if self.paragraph == ParagraphState::Before => {
                self.paragraph = ParagraphState::In;
            }
            Event::End(TagEnd::Paragraph) if self.paragraph == ParagraphState::In => {
                self.paragraph = ParagraphState::Done;
            }
            Event::Code(t) => self.words(t),
            Event::SoftBreak | Event::HardBreak if self.paragraph == ParagraphState::In => {
                self.out.first_paragraph.push(' ');
            }
            _ => {}
        }
        if matches!(event, Event::End(_) | Event::SoftBreak | Event::HardBreak) && !self.text_full {
            self.out.text.push(' ');
        }
        if let Event::Text(t) = event {
            self.words(&t);
            let link_it = self.link_depth == 0 && self.image_depth == 0;
            let found = Found::of(&t, self.opts);
            let new = crate::intel::attack::new_ids(&t, &found.attack, &self.out.attack);
            self.out.attack.extend(new);
            push_text_with_cves(
                t,
                link_it,
                self.opts,
                found,
                &mut self.events,
                &mut self.out.cves,
                &mut self.seen_cves,
            );
        } else {
            self.events.push(event);
        }
    }

    /// Inside a code block: gather its text; at its end, hand on the highlighted block.
    fn in_code_block(&mut self, event: Event<'src>) {
        match event {
            Event::Text(t) => {
                if let Some((_, text, _)) = self.code.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let (lang, text, offset) = self.code.take().unwrap_or_default();
                self.count(&text);
                let html = code_block(
                    &lang,
                    &text,
                    offset,
                    self.opts,
                    self.hl,
                    &mut self.out.warnings,
                    &mut self.highlight_spent,
                );
                self.events.push(Event::Html(CowStr::from(html)));
            }
            _ => {}
        }
    }

    /// Counts the words of text or inline code, and keeps it for the heading or the first
    /// paragraph being read.
    fn words(&mut self, t: &str) {
        self.count(t);
        if let Some((_, h)) = self.heading.as_mut() {
            h.push_str(t);
        }
        if self.paragraph == ParagraphState::In {
            self.out.first_paragraph.push_str(t);
        }
    }

    /// Counts the words of `text`, and keeps it (or its start) for the search index.
    fn count(&mut self, text: &str) {
        let (words, cjk) = count_words_cjk(text);
        self.out.word_count += words;
        self.out.cjk_chars += cjk;
        if self.text_full {
            return;
        }
        let kept = match self.opts.search_text {
            SearchText::None => "",
            SearchText::All => text,
            SearchText::Lede {
                words: limit,
                wpm,
                cpm,
            } => {
                let (wpm, cpm) = (wpm.max(1) as u64, cpm.max(1) as u64);
                let room = (limit as u64).saturating_mul(cpm) - self.text_spent;
                let cost = (words - cjk) as u64 * cpm + cjk as u64 * wpm;
                if cost <= room {
                    self.text_spent += cost;
                    text
                } else {
                    self.text_full = true;
                    lede(text, room, wpm, cpm)
                }
            }
        };
        self.out.text.push_str(kept);
        self.out.text.push(' ');
    }

    fn link(&mut self, dest: &str, offset: usize, is_image: bool) {
        self.out.links.push(Link {
            dest: dest.to_string(),
            offset,
            is_image,
        });
    }

    /// A heading's end: give it a unique id and note it for the table of contents.
    fn end_heading(&mut self) {
        let Some((idx, text)) = self.heading.take() else {
            return;
        };
        let Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) = &self.events[idx]
        else {
            return;
        };
        let text = text.trim().to_string();
        let id = self.ids.claim(id.as_deref(), &text);
        self.out.headings.push(Heading {
            level: *level as u8,
            id: id.clone(),
            text,
        });
        self.events[idx] = Event::Start(Tag::Heading {
            level: *level,
            id: Some(CowStr::from(id)),
            classes: classes.clone(),
            attrs: attrs.clone(),
        });
    }

    /// The HTML of the events, sanitised when the site asks for it.
    fn finish(mut self, src_len: usize) -> Rendered {
        // `> [!NOTE]` quotes become callouts.
        crate::content::callouts::rewrite(&mut self.events);
        let mut out = self.out;
        out.html = String::with_capacity(src_len + src_len / 2);
        pulldown_cmark::html::push_html(&mut out.html, self.events.into_iter());
        if !self.opts.unsafe_html {
            let depth = nesting_depth(&out.html);
            if depth > MAX_SANITIZED_DEPTH {
                out.errors.push(Warning {
                    offset: 0,
                    problem: Problem::new(
                        format!(
                            "elements nest {depth} levels deep; with `markdown.unsafe_html = false` the limit is {MAX_SANITIZED_DEPTH}"
                        ),
                        "flatten the nested lists, quotes or raw HTML: sanitising deeper nesting takes time that grows with the square of the depth",
                    ),
                });
                out.html.clear();
            } else {
                out.html = sanitize(&out.html);
            }
        }
        out
    }
}

/// The time all code blocks of one body may spend being highlighted; blocks after it are
/// shown as plain text with a warning.
pub const MAX_FILE_HIGHLIGHT_TIME: Duration = Duration::from_secs(10);

/// The deepest nesting of elements that [`sanitize`] accepts. The HTML parser it relies on
/// (html5ever, like every HTML5 tree builder) scans the open elements at each tag, so its
/// time grows with elements x depth: 20,000 nested `<b>` take half a minute. Browsers
/// flatten anything deeper than 512 anyway.
pub const MAX_SANITIZED_DEPTH: usize = 128;

/// How deep elements nest in `html`, by a linear scan of its tags: void elements and those
/// a following sibling closes (`p`, `li`, `td`...) are not counted, so one `<p>` after
/// another is depth one, as for an HTML parser.
pub fn nesting_depth(html: &str) -> usize {
    const NOT_NESTING: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt",
        "rp", "rtc", "tbody", "thead", "tfoot", "colgroup", "caption",
    ];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let (closing, tag) = match rest.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, rest),
        };
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let name = &tag[..name_len];
        if !name.starts_with(|c: char| c.is_ascii_alphabetic())
            || NOT_NESTING.iter().any(|n| n.eq_ignore_ascii_case(name))
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Cleans rendered HTML with ammonia: raw HTML is cut down to harmless markup (no scripts,
/// event handlers, styles, frames, forms or `javascript:` URLs), while everything sitrep's
/// own Markdown rendering makes survives: highlighting classes, `data-lang`, heading ids,
/// footnotes, table alignment, task list checkboxes, CVE links, and the accessibility of
/// scrollable blocks (`tabindex="0"` on code blocks and table wrappers, which also carry
/// `role="region"` and an `aria-label`, so keyboard users can scroll them). Those three
/// attributes pass only with the values sitrep writes: `tabindex="0"`, `role="region"`.
pub fn sanitize(html: &str) -> String {
    static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
        let mut b = ammonia::Builder::default();
        b.link_rel(None)
            .add_tags(["input"])
            .add_tag_attributes("a", ["class"])
            .add_tag_attributes("pre", ["class", "data-lang", "tabindex"])
            .add_tag_attributes("code", ["class"])
            .add_tag_attributes("span", ["class"])
            .add_tag_attributes("sup", ["class"])
            .add_tag_attributes("div", ["class", "id", "tabindex", "role", "aria-label"])
            .add_tag_attributes("p", ["class"])
            .add_tag_attributes("details", ["class", "open"])
            .add_tag_attributes("summary", ["class"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("td", ["style"])
            .add_tag_attributes("input", ["checked"])
            .set_tag_attribute_value("input", "type", "checkbox")
            .set_tag_attribute_value("input", "disabled", "");
        for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
            b.add_tag_attributes(h, ["id", "class"]);
        }
        b.attribute_filter(|_element, attribute, value| {
            // Table alignment is the only style Markdown writes; no other CSS gets through.
            match attribute {
                "style" if !TABLE_ALIGN.contains(&value) => return None,
                "tabindex" if value != "0" => return None,
                "role" if value != "region" => return None,
                _ => {}
            }
            Some(value.into())
        });
        b
    });
    CLEANER.clean(html).to_string()
}

const TABLE_ALIGN: [&str; 3] = [
    "text-align: left",
    "text-align: center",
    "text-align: right",
];

#[derive(PartialEq, Eq, Clone, Copy)]
enum ParagraphState {
    Before,
    In,
    Done,
}

/// Unique heading ids within one body.
#[derive(Default)]
struct HeadingIds {
    used: HashSet<String>,
    /// The next suffix to try for each base, so 10,000 equal headings stay linear.
    next: std::collections::HashMap<String, usize>,
}

impl HeadingIds {
    fn claim(&mut self, explicit: Option<&str>, text: &str) -> String {
        let base = match explicit {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => {
                let s = slugify(text);
                if s.is_empty() {
                    "section".to_string()
                } else {
                    s
                }
            }
        };
        let mut id = base.clone();
        let n = self.next.entry(base.clone()).or_insert(1);
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            *n += 1;
        }
        id
    }
}

fn code_block(
    lang: &str,
    code: &str,
    offset: usize,
    opts: &Options,
    hl: &mut Session<'_>,
    warnings: &mut Vec<Warning>,
    spent: &mut Duration,
) -> String {
    let lang_attr: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.'))
        .collect();
    let outcome = if opts.highlight {
        // One file's code blocks share a budget too: many slow blocks are as bad as one.
        let left = MAX_FILE_HIGHLIGHT_TIME.saturating_sub(*spent);
        if left.is_zero() {
            Outcome::TooLarge(format!(
                "the code blocks before it took {} s to highlight, the most for one file",
                MAX_FILE_HIGHLIGHT_TIME.as_secs()
            ))
        } else {
            let start = hl.now();
            let outcome = hl.highlight_for(
                lang,
                code,
                left.min(crate::content::highlight::MAX_BLOCK_TIME),
            );
            *spent += hl.now().saturating_sub(start);
            outcome
        }
    } else {
        Outcome::Plain
    };
    let inner = match outcome {
        Outcome::Html(html) => html,
        Outcome::Plain => escape::html(code),
        Outcome::TooLarge(why) => {
            warnings.push(Warning {
                offset,
                problem: Problem::new(
                    format!("code block not highlighted: {why}"),
                    "it is shown as plain text; split it or link to a file to get highlighting",
                ),
            });
            escape::html(code)
        }
    };
    let mut html = String::with_capacity(inner.len() + 64);
    if lang_attr.is_empty() {
        html.push_str("<pre class=\"code\" tabindex=\"0\"><code>");
    } else {
        html.push_str("<pre class=\"code\" tabindex=\"0\" data-lang=\"");
        html.push_str(&lang_attr);
        html.push_str("\"><code class=\"language-");
        html.push_str(&lang_attr);
        html.push_str("\">");
    }
    html.push_str(&inner);
    html.push_str("</code></pre>\n");
    html
}

/// The start of `text` that `room` units of reading cover (a word costs `cpm`, a CJK
/// character `wpm`): cut before the first word past them. Words here are runs between
/// whitespace and CJK characters (the word count's rule, but for runs of punctuation only,
/// which cost a word here: the cut is where reading time says, give or take).
fn lede(text: &str, room: u64, wpm: u64, cpm: u64) -> &str {
    use crate::render::search::tokenizer::is_cjk;
    let mut spent = 0u64;
    let mut in_word = false;
    for (i, c) in text.char_indices() {
        let cost = if c.is_ascii_whitespace() {
            in_word = false;
            0
        } else if !c.is_ascii() && is_cjk(c) {
            in_word = false;
            wpm
        } else if in_word {
            0
        } else {
            in_word = true;
            cpm
        };
        spent += cost;
        if spent > room {
            return &text[..i];
        }
    }
    text
}

/// Words of `text` where each CJK character (Han, kana, Hangul) is a word of its own, and
/// how many of those there were. Other words are counted as [`count_words`] counts them.
pub fn count_words_cjk(text: &str) -> (usize, usize) {
    use crate::render::search::tokenizer::is_cjk;
    // CJK characters start with one of these bytes in UTF-8 (U+1xxx, U+3xxx to U+Dxxx,
    // U+Fxxx and beyond); text without them is counted byte by byte.
    let (words, seen) = count_words_seen(text);
    if seen & CJK_LEAD == 0 {
        return (words, 0);
    }
    let (mut words, mut cjk) = (0, 0);
    let mut in_word = false;
    let mut has_alnum = false;
    for c in text.chars() {
        let cjk_char = !c.is_ascii() && is_cjk(c);
        if cjk_char || c.is_ascii_whitespace() {
            if in_word && has_alnum {
                words += 1;
            }
            in_word = false;
            has_alnum = false;
            cjk += usize::from(cjk_char);
        } else {
            in_word = true;
            has_alnum |= c.is_ascii_alphanumeric() || !c.is_ascii();
        }
    }
    words += usize::from(in_word && has_alnum);
    (words + cjk, cjk)
}

/// Words: whitespace-separated runs with at least one letter or digit (any non-ASCII
/// character counts as one).
#[cfg(test)]
fn count_words(text: &str) -> usize {
    count_words_seen(text).0
}

/// [`WORD_CLASS`] bits: ASCII whitespace; a letter or digit (or any byte of a non-ASCII
/// character); a byte that may start a CJK character in UTF-8 (U+1xxx, U+3xxx to U+Dxxx,
/// U+Fxxx and beyond).
const SPACE: u8 = 1;
const ALNUM: u8 = 2;
const CJK_LEAD: u8 = 4;

const WORD_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_whitespace() {
            t[b] |= SPACE;
        }
        if c.is_ascii_alphanumeric() || c >= 0x80 {
            t[b] |= ALNUM;
        }
        if matches!(c, 0xE1 | 0xE3..=0xED | 0xEF | 0xF0..) {
            t[b] |= CJK_LEAD;
        }
        b += 1;
    }
    t
};

/// [`count_words`], and every class bit seen, in one pass without branches: it runs over
/// every body.
fn count_words_seen(text: &str) -> (usize, u8) {
    let (mut words, mut in_word, mut seen) = (0usize, 0u8, 0u8);
    for &b in text.as_bytes() {
        let c = WORD_CLASS[b as usize];
        seen |= c;
        let space = c & SPACE;
        // A space ends a word that has a letter or digit; anything else continues one.
        words += usize::from(in_word & space);
        in_word = (in_word | (c & ALNUM) >> 1) & (space ^ 1);
    }
    (words + usize::from(in_word), seen)
}

/// The CVE ids and known ATT&CK ids in a text.
struct Found {
    cves: Vec<(usize, usize)>,
    attack: Vec<(usize, usize)>,
}

impl Found {
    fn of(text: &str, opts: &Options) -> Found {
        Found {
            cves: find_cves(text),
            attack: crate::intel::attack::find_ids(text, &opts.attack_ids),
        }
    }
}

/// Pushes a text event, turning CVE ids (and known ATT&CK ids) into links when `link_it`
/// (not already in a link).
fn push_text_with_cves<'a>(
    text: CowStr<'a>,
    link_it: bool,
    opts: &Options,
    found: Found,
    events: &mut Vec<Event<'a>>,
    cves: &mut Vec<String>,
    seen: &mut HashSet<String>,
) {
    if found.cves.is_empty() && found.attack.is_empty() {
        events.push(Event::Text(text));
        return;
    }
    for &(start, end) in &found.cves {
        let id = &text[start..end];
        if seen.insert(id.to_string()) {
            cves.push(id.to_string());
        }
    }
    if !link_it {
        events.push(Event::Text(text));
        return;
    }
    let mut all: Vec<(usize, usize, bool)> =
        found.cves.iter().map(|&(s, e)| (s, e, true)).collect();
    all.extend(found.attack.iter().map(|&(s, e)| (s, e, false)));
    all.sort_unstable();
    let mut last = 0;
    for (start, end, is_cve) in all {
        if start > last {
            events.push(Event::Text(CowStr::from(text[last..start].to_string())));
        }
        let id = &text[start..end];
        events.push(Event::InlineHtml(CowStr::from(if is_cve {
            format!("<a class=\"cve\" href=\"{}{id}/\">", opts.cve_prefix)
        } else {
            crate::intel::attack::link_open(&opts.cve_prefix, id)
        })));
        events.push(Event::Text(CowStr::from(id.to_string())));
        events.push(Event::InlineHtml(CowStr::Borrowed("</a>")));
        last = end;
    }
    if last < text.len() {
        events.push(Event::Text(CowStr::from(text[last..].to_string())));
    }
}

/// Byte ranges of CVE ids (`CVE-YYYY-NNNN`, 4 to 7 digits) standing as words in `text`.
pub fn find_cves(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = text[from..].find("CVE-") {
        let start = from + pos;
        from = start + 4;
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        if let Some(end) = cve_end(bytes, start) {
            found.push((start, end));
            from = end;
        }
    }
    found
}

/// If a CVE id starts at `start`, where it ends.
fn cve_end(bytes: &[u8], start: usize) -> Option<usize> {
    let year = bytes.get(start + 4..start + 8)?;
    if !year.iter().all(u8::is_ascii_digit) || bytes.get(start + 8) != Some(&b'-') {
        return None;
    }
    let seq_start = start + 9;
    let digits = bytes[seq_start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(4..=7).contains(&digits) {
        return None;
    }
    let end = seq_start + digits;
    match bytes.get(end) {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => None,
        _ => Some(end),
    }
}

/// Whether `id` is exactly one CVE id.
pub fn is_cve_id(id: &str) -> bool {
    id.starts_with("CVE-") && cve_end(id.as_bytes(), 0) == Some(id.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            cve_prefix: "/cve/".into(),
            highlight: true,
            unsafe_html: true,
            attack_ids: Default::default(),
            shortcodes: None,
            search_text: SearchText::All,
        }
    }

    fn md(src: &str) -> Rendered {
        render(
            src,
            &opts(),
            &mut crate::content::highlight::Highlighter::new().session(),
        )
    }

    /// The plain text kept for search, rendered with `search_text`.
    fn kept(src: &str, search_text: SearchText) -> (String, usize) {
        let opts = Options {
            search_text,
            ..opts()
        };
        let r = render(
            src,
            &opts,
            &mut crate::content::highlight::Highlighter::new().session(),
        );
        (
            r.text.split_whitespace().collect::<Vec<_>>().join(" "),
            r.word_count,
        )
    }

    fn first_words(words: usize) -> SearchText {
        SearchText::Lede {
            words,
            wpm: 200,
            cpm: 500,
        }
    }

    #[test]
    fn search_text_keeps_the_first_words_across_blocks_and_counts_them_all() {
        let src = "one two three\n\nfour *five* six seven\n\n```\ncode eight\n```\n";
        assert_eq!(
            kept(src, first_words(5)),
            ("one two three four five".into(), 9)
        );
        assert_eq!(kept(src, first_words(3)).0, "one two three");
        assert_eq!(
            kept(src, first_words(8)).0,
            "one two three four five six seven code"
        );
        assert_eq!(kept(src, first_words(0)).0, "");
        assert_eq!(kept(src, first_words(100)), kept(src, SearchText::All));
        assert_eq!(
            kept(src, SearchText::All).0,
            "one two three four five six seven code eight"
        );
        assert_eq!(kept(src, SearchText::None), (String::new(), 9));
    }

    #[test]
    fn search_text_counts_cjk_characters_at_their_reading_rate() {
        // Two words of reading at 200 words and 500 characters a minute: five characters.
        assert_eq!(kept("能動的サイバー防御", first_words(2)).0, "能動的サイ");
        // A word (500 units) then three characters (600) in a budget of 1000.
        assert_eq!(kept("patch 能動的サイバー", first_words(2)).0, "patch 能動");
    }

    #[test]
    fn known_attack_ids_linked_in_text_only() {
        let o = Options {
            attack_ids: std::sync::Arc::new(
                ["T1190", "T1059.001"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..opts()
        };
        let r = render(
            "Initial access via T1190 and T1059.001, then T1027.\n\n`T1190` and [T1190](https://x.example/) and\n\n```\nT1190\n```\n\nCVE-2024-3400 (T1190) again.\n",
            &o,
            &mut crate::content::highlight::Highlighter::new().session(),
        );
        assert_eq!(
            r.html
                .matches("<a class=\"attack\" href=\"/attack/T1190/\">T1190</a>")
                .count(),
            2,
            "{}",
            r.html
        );
        assert!(
            r.html
                .contains("<a class=\"attack\" href=\"/attack/T1059.001/\">T1059.001</a>")
        );
        assert!(!r.html.contains("/attack/T1027/"), "unknown ids stay text");
        assert!(r.html.contains("<code>T1190</code>"));
        assert!(r.html.contains("<a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a> (<a class=\"attack\""), "{}", r.html);
        assert_eq!(r.attack, ["T1190", "T1059.001"]);
    }

    #[test]
    fn gfm_extensions() {
        let r = md(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~x~~\n\n- [x] done\n\nNote[^1]\n\n[^1]: foot\n",
        );
        assert!(
            r.html.contains("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Table\">\n<table>"),
            "{}",
            r.html
        );
        assert!(r.html.contains("</table>\n</div>\n"), "{}", r.html);
        assert!(r.html.contains("<del>x</del>"), "{}", r.html);
        assert!(r.html.contains("type=\"checkbox\""), "{}", r.html);
        assert!(r.html.contains("footnote"), "{}", r.html);
    }

    #[test]
    fn heading_ids_derived_unique_and_explicit() {
        let r = md("## Patch status\n\n## Patch status\n\n## Custom {#mine}\n\n## !!!\n");
        assert!(r.html.contains("<h2 id=\"patch-status\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"patch-status-1\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"mine\">"), "{}", r.html);
        assert!(r.html.contains("<h2 id=\"section\">"), "{}", r.html);
        assert_eq!(r.headings[0].text, "Patch status");
    }

    #[test]
    fn cves_linked_in_text_only() {
        let r = md(concat!(
            "Tracked as CVE-2024-3400, and CVE-2024-3400 again.\n\n",
            "`CVE-2023-1111` in code.\n\n",
            "[see CVE-2023-2222](https://nvd.nist.gov/)\n\n",
            "```\nCVE-2023-3333\n```\n\n",
            "Not xCVE-2023-4444 nor CVE-2023-55555555 nor CVE-2023-12.\n"
        ));
        assert_eq!(
            r.html
                .matches("<a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a>")
                .count(),
            2,
            "{}",
            r.html
        );
        assert!(!r.html.contains("/cve/CVE-2023-1111/"), "{}", r.html);
        assert!(!r.html.contains("/cve/CVE-2023-2222/"), "{}", r.html);
        assert!(!r.html.contains("/cve/CVE-2023-3333/"), "{}", r.html);
        assert!(!r.html.contains("/cve/CVE-2023-4444/"), "{}", r.html);
        assert_eq!(r.cves, ["CVE-2024-3400", "CVE-2023-2222"]);
    }

    #[test]
    fn code_is_highlighted_with_classes_and_escaped() {
        let r = md("```rust\nlet s = \"</code><script>\";\n```\n\n```nosuchlang\n<b>\n```\n");
        assert!(r.html.contains("<pre class=\"code\" tabindex=\"0\" data-lang=\"rust\"><code class=\"language-rust\"><span class=\"hl-"), "{}", r.html);
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(
            r.html
                .contains("<code class=\"language-nosuchlang\">&lt;b&gt;\n</code>"),
            "{}",
            r.html
        );
    }

    #[test]
    fn hostile_info_string_cannot_break_attributes() {
        let r = md("```\"><img src=x onerror=alert(1)>\nx\n```\n");
        assert!(!r.html.contains("<img"), "{}", r.html);
    }

    #[test]
    fn words_first_paragraph_links() {
        let r = md("First *para* here\nstill.\n\nSecond [link](/posts/x/) ![img](a.png).\n");
        assert_eq!(r.first_paragraph, "First para here still.");
        assert_eq!(r.word_count, 7);
        assert_eq!(r.links.len(), 2);
        assert_eq!(r.links[0].dest, "/posts/x/");
        assert!(r.links[1].is_image);
    }

    const EVERY_FEATURE: &str = concat!(
        "## Patch status {#patch}\n\n",
        "Tracked as CVE-2024-3400.[^1]\n\n",
        "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n",
        "- [x] done\n- [ ] todo\n\n",
        "```rust\nfn main() { let s = \"<b>\"; }\n```\n\n",
        "[^1]: A footnote.\n",
    );

    fn sanitized(src: &str) -> String {
        let opts = Options {
            unsafe_html: false,
            ..opts()
        };
        render(
            src,
            &opts,
            &mut crate::content::highlight::Highlighter::new().session(),
        )
        .html
    }

    #[test]
    fn sanitising_keeps_what_markdown_makes() {
        let html = sanitized(EVERY_FEATURE);
        for kept in [
            "<h2 id=\"patch\">Patch status</h2>",
            "<a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a>",
            "<sup class=\"footnote-reference\"><a href=\"#1\">1</a></sup>",
            "<div class=\"footnote-definition\" id=\"1\"><sup class=\"footnote-definition-label\">1</sup>",
            "<th style=\"text-align: left\">a</th>",
            "<td style=\"text-align: center\">2</td>",
            "<td style=\"text-align: right\">3</td>",
            "<pre class=\"code\" tabindex=\"0\" data-lang=\"rust\"><code class=\"language-rust\"><span class=\"hl-",
            "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"Table\">",
            "&lt;b&gt;",
        ] {
            assert!(html.contains(kept), "{kept} lost:\n{html}");
        }
        // Task list checkboxes stay checkboxes, disabled, and keep their state.
        let doc = html.replace(' ', "");
        assert_eq!(doc.matches("type=\"checkbox\"").count(), 2, "{html}");
        assert_eq!(doc.matches("disabled=\"\"").count(), 2, "{html}");
        assert_eq!(doc.matches("checked=\"\"").count(), 1, "{html}");
        // Nothing that was there is lost: same text, same number of elements.
        let unsanitised = md(EVERY_FEATURE).html;
        assert_eq!(
            html.matches('<').count(),
            unsanitised.matches('<').count(),
            "{html}\n{unsanitised}"
        );
    }

    #[test]
    fn sanitising_strips_hostile_raw_html() {
        let src = concat!(
            "<script>alert(1)</script>\n\n",
            "<div onclick=\"alert(2)\" style=\"position:fixed\">x</div>\n\n",
            "Inline <img src=x onerror=alert(3)> and <a href=\"javascript:alert(4)\">link</a>.\n\n",
            "<iframe src=\"https://evil.example/\"></iframe>\n\n",
            "<svg><script>alert(5)</script></svg>\n\n",
            "<form action=\"https://evil.example/\"><input type=\"text\" name=\"q\"></form>\n\n",
            "<style>body{display:none}</style>\n\n",
            "<a href=\"data:text/html,<script>alert(6)</script>\">d</a>\n\n",
            "| a |\n|---|\n| <td style=\"background:url(javascript:alert(7))\"> |\n\n",
            "## Heading {onclick=alert(8) style=color:red}\n\n",
            "<kbd>Ctrl</kbd> and <details><summary>more</summary>kept</details>\n\n",
            "<div tabindex=\"-1\" role=\"button\" aria-label=\"Pay <b>\">mimic</div>\n",
        );
        let html = sanitized(src);
        // Only the values sitrep writes pass; a label is text, escaped.
        assert!(!html.contains("tabindex=\"-1\"") && !html.contains("role=\"button\""));
        assert!(html.contains("aria-label=\"Pay &lt;b&gt;\""), "{html}");
        let lower = html.to_ascii_lowercase();
        for gone in [
            "<script",
            "onclick",
            "onerror",
            "javascript:",
            "<iframe",
            "<svg",
            "<form",
            "type=\"text\"",
            "<style",
            "data:",
            "position:fixed",
            "background",
            "color:red",
        ] {
            assert!(!lower.contains(gone), "{gone} survived:\n{html}");
        }
        for kept in [
            "<kbd>Ctrl</kbd>",
            "<details><summary>more</summary>kept</details>",
            "link</a>",
        ] {
            assert!(html.contains(kept), "{kept} lost:\n{html}");
        }
        // The author's choice by default: raw HTML is kept as written.
        assert!(md(src).html.contains("<script>alert(1)</script>"));
    }

    #[test]
    fn nul_bytes_become_replacement_characters() {
        let r = md("a\0b\n\n[x](/y/) \0\0\n\n```\n\0\n```\n");
        assert!(!r.html.contains('\0'), "{}", r.html);
        assert!(r.html.contains("a\u{FFFD}b"), "{}", r.html);
        assert_eq!(r.first_paragraph, "a\u{FFFD}b");
        // Offsets point into the text as written.
        assert_eq!(r.links[0].offset, 5);
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].offset, 1);
    }

    #[test]
    fn nesting_depth_counts_like_a_parser() {
        assert_eq!(nesting_depth("<p>a</p><p>b"), 0);
        assert_eq!(nesting_depth("<ul><li>a<ul><li>b</li></ul></li></ul>"), 2);
        assert_eq!(nesting_depth(&"<div>".repeat(300)), 300);
        assert_eq!(
            nesting_depth("<blockquote>\n<p>x <br /> <img src=a /></p></blockquote>"),
            1
        );
        assert_eq!(nesting_depth("<!-- <div><div> --><b>x</b><b>y</b>"), 1);
        assert_eq!(nesting_depth("a < b and c <5 or </ >"), 0);
    }

    #[test]
    fn sanitising_refuses_nesting_deeper_than_it_allows() {
        // Refused before the sanitiser runs (whose time grows with the depth): an error, and
        // no HTML. (How fast is for benchmarks, not for a test.)
        for src in [
            "- ".repeat(MAX_SANITIZED_DEPTH + 1) + "x",
            "> ".repeat(MAX_SANITIZED_DEPTH + 1) + "x",
            (0..20_000).map(|i| format!("<b a={i}>x")).collect(),
        ] {
            let r = render(
                &src,
                &Options {
                    unsafe_html: false,
                    ..opts()
                },
                &mut crate::content::highlight::Highlighter::new().session(),
            );
            assert_eq!(r.errors.len(), 1, "{}", &src[..20]);
            assert!(
                r.errors[0].problem.message.contains("levels deep"),
                "{:?}",
                r.errors
            );
            assert!(r.html.is_empty());
        }
        // As deep as allowed is fine, and unsanitised bodies have no limit.
        let ok = "> ".repeat(MAX_SANITIZED_DEPTH) + "x";
        let r = render(
            &ok,
            &Options {
                unsafe_html: false,
                ..opts()
            },
            &mut crate::content::highlight::Highlighter::new().session(),
        );
        assert!(r.errors.is_empty() && r.html.contains("<blockquote>"));
        let deep = "- ".repeat(10_000) + "x";
        assert!(md(&deep).errors.is_empty());
    }

    #[test]
    fn many_equal_headings_get_unique_ids_quickly() {
        let r = md(&"## Update\n\n".repeat(20_000));
        assert_eq!(r.headings.len(), 20_000);
        assert_eq!(r.headings[19_999].id, "update-19999");
        let ids: HashSet<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids.len(), 20_000);
        let r = md("## A\n\n## A-1\n\n## A\n");
        let ids: Vec<&str> = r.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["a", "a-1", "a-2"]);
    }

    /// Words as counted before the table: byte by byte, with branches.
    fn count_words_plain(text: &[u8]) -> usize {
        let (mut words, mut in_word, mut has_alnum) = (0, false, false);
        for &b in text {
            if b.is_ascii_whitespace() {
                words += usize::from(in_word && has_alnum);
                (in_word, has_alnum) = (false, false);
            } else {
                in_word = true;
                has_alnum |= b.is_ascii_alphanumeric() || b >= 0x80;
            }
        }
        words + usize::from(in_word && has_alnum)
    }

    #[test]
    fn word_counting_by_table_equals_the_plain_count() {
        // Pseudo-random text over an alphabet of spaces, punctuation, letters and
        // multi-byte characters.
        let alphabet = [
            " ", "\t", "\n", "-", ".", "a", "Z", "7", "é", "日", "—", "**",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400 {
            let mut text = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            assert_eq!(
                count_words(&text),
                count_words_plain(text.as_bytes()),
                "{text:?}"
            );
        }
    }

    #[test]
    fn word_counting() {
        assert_eq!(count_words(""), 0);
        assert_eq!(count_words("  one two\tthree\n"), 3);
        assert_eq!(count_words("a - b . c"), 3);
        assert_eq!(count_words("日本 語"), 2);
        // CJK characters count one each, other words as before.
        assert_eq!(count_words_cjk("能動的サイバー防御 law"), (10, 9));
        assert_eq!(count_words_cjk("one two"), (2, 0));
        assert_eq!(count_words_cjk("CVE-2024-3400を悪用"), (4, 3));
    }

    #[test]
    fn cve_id_check() {
        assert!(is_cve_id("CVE-2024-3400"));
        assert!(is_cve_id("CVE-2024-1234567"));
        assert!(!is_cve_id("CVE-2024-123"));
        assert!(!is_cve_id("CVE-2024-3400/../x"));
        assert!(!is_cve_id("cve-2024-3400"));
    }

    #[test]
    fn block_and_file_highlighting_budgets_are_kept() {
        use crate::content::highlight::{Clock, Highlighter};
        // Every clock reading is 100 ms on: a block of 30 lines "takes" over 2 s, and
        // blocks of 5 lines about 0.7 s each, so the file's 10 s run out after 15 of them.
        let hl = Highlighter::with_clock(Clock::Counted(Duration::from_millis(100)));
        let block = |lines: usize| format!("```java\n{}```\n\n", "int x = 1;\n".repeat(lines));
        let mut src = block(30);
        for _ in 0..20 {
            src.push_str(&block(5));
        }
        let r = render(&src, &opts(), &mut hl.session());
        let messages: Vec<&str> = r
            .warnings
            .iter()
            .map(|w| w.problem.message.as_str())
            .collect();
        assert_eq!(
            messages[0],
            "code block not highlighted: highlighting it took longer than 2.0 s"
        );
        assert_eq!(r.warnings[0].offset, 0);
        let over_file = messages
            .iter()
            .filter(|m| m.contains("the code blocks before it took 10 s to highlight"))
            .count();
        assert!((1..20).contains(&over_file), "{messages:?}");
        // Every block is either highlighted or named in a warning: none is lost.
        let highlighted = r.html.matches("<span class=\"hl-").count() > 0;
        assert!(
            highlighted,
            "the first blocks within the file budget are highlighted"
        );
        let blocks = r.html.matches("<pre class=\"code\"").count();
        assert_eq!(blocks, 21);
    }
}

//! Callouts: GitHub's alerts (`> [!NOTE]` … `> [!CAUTION]`, which pulldown-cmark parses with
//! its GFM option) and what Obsidian adds to them: a custom title (`> [!WARNING] Patch now`)
//! and folding (`> [!NOTE]-` closed, `> [!NOTE]+` open, as `<details>`).
//!
//! [`rewrite`] runs over the Markdown events of a body just before they become HTML. A
//! callout is a `<div class="callout callout-KIND" role="note">` (or a `<details>` when it
//! folds) whose title line carries the kind as text (`Warning`) beside a CSS icon, so the
//! kind is never told by colour alone. No inline style or script.

use pulldown_cmark::{BlockQuoteKind, CowStr, Event, Tag, TagEnd};

use crate::support::escape;

/// A callout's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Note,
    Tip,
    Important,
    Warning,
    Caution,
}

impl Kind {
    /// A kind as written in `[!KIND]` or `kind="…"`, any case; Obsidian's common names
    /// map to the nearest of the five.
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "note" | "info" | "abstract" | "summary" | "todo" | "quote" | "example" => Kind::Note,
            "tip" | "hint" | "success" | "check" | "done" => Kind::Tip,
            "important" | "question" | "help" => Kind::Important,
            "warning" | "attention" => Kind::Warning,
            "caution" | "danger" | "error" | "failure" | "bug" => Kind::Caution,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Note => "note",
            Kind::Tip => "tip",
            Kind::Important => "important",
            Kind::Warning => "warning",
            Kind::Caution => "caution",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Note => "Note",
            Kind::Tip => "Tip",
            Kind::Important => "Important",
            Kind::Warning => "Warning",
            Kind::Caution => "Caution",
        }
    }

    fn from_gfm(k: BlockQuoteKind) -> Kind {
        match k {
            BlockQuoteKind::Note => Kind::Note,
            BlockQuoteKind::Tip => Kind::Tip,
            BlockQuoteKind::Important => Kind::Important,
            BlockQuoteKind::Warning => Kind::Warning,
            BlockQuoteKind::Caution => Kind::Caution,
        }
    }
}

/// How a callout folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    No,
    Open,
    Closed,
}

/// The marker at the start of a quote's first line: `[!KIND]`, an optional `+`/`-`, and
/// the rest of the line (the custom title).
pub fn parse_marker(text: &str) -> Option<(Kind, Fold, &str)> {
    let rest = text.strip_prefix("[!")?;
    let close = rest.find(']')?;
    let kind = Kind::parse(&rest[..close])?;
    let mut after = &rest[close + 1..];
    let fold = if let Some(a) = after.strip_prefix('-') {
        after = a;
        Fold::Closed
    } else if let Some(a) = after.strip_prefix('+') {
        after = a;
        Fold::Open
    } else {
        Fold::No
    };
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    Some((kind, fold, after.trim_start()))
}

/// The HTML that opens a callout, up to where its title goes.
pub fn open_html(kind: Kind, fold: Fold) -> String {
    let k = kind.name();
    match fold {
        Fold::No => format!(
            "<div class=\"callout callout-{k}\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">{}</span>",
            kind.label()
        ),
        Fold::Open | Fold::Closed => format!(
            "<details class=\"callout callout-{k}\"{}>\n<summary class=\"callout-title\"><span class=\"callout-label\">{}</span>",
            if fold == Fold::Open { " open" } else { "" },
            kind.label()
        ),
    }
}

/// Between the label and a custom title.
pub const TITLE_SEPARATOR: &str = "<span class=\"callout-sep\">: </span>";

/// Closes the title line.
pub fn title_end(fold: Fold) -> &'static str {
    match fold {
        Fold::No => "</p>\n",
        _ => "</summary>\n",
    }
}

/// Closes the callout.
pub fn close_html(fold: Fold) -> &'static str {
    match fold {
        Fold::No => "</div>\n",
        _ => "</details>\n",
    }
}

/// Turns quotes that start with a callout marker into callouts, in place.
pub fn rewrite(events: &mut Vec<Event<'_>>) {
    if !events
        .iter()
        .any(|e| matches!(e, Event::Start(Tag::BlockQuote(_))))
    {
        return;
    }
    let mut out: Vec<Event<'_>> = Vec::with_capacity(events.len() + 8);
    // For each open quote: the fold of its callout, or None for a plain quote.
    let mut quotes: Vec<Option<Fold>> = Vec::new();
    let mut i = 0;
    let src = std::mem::take(events);
    let mut src: Vec<Option<Event<'_>>> = src.into_iter().map(Some).collect();
    while i < src.len() {
        let Some(event) = src[i].take() else {
            i += 1;
            continue;
        };
        match event {
            Event::Start(Tag::BlockQuote(kind)) => match callout_at(&mut src, i + 1, kind) {
                Some((kind, fold, title, skip_to)) => {
                    let mut html = open_html(kind, fold);
                    if !title.is_empty() {
                        html.push_str(TITLE_SEPARATOR);
                    }
                    out.push(Event::Html(CowStr::from(html)));
                    out.extend(title);
                    out.push(Event::Html(CowStr::Borrowed(title_end(fold))));
                    quotes.push(Some(fold));
                    i = skip_to;
                    continue;
                }
                None => {
                    quotes.push(None);
                    out.push(Event::Start(Tag::BlockQuote(None)));
                }
            },
            Event::End(TagEnd::BlockQuote(_)) => match quotes.pop() {
                Some(Some(fold)) => out.push(Event::Html(CowStr::Borrowed(close_html(fold)))),
                _ => out.push(Event::End(TagEnd::BlockQuote(None))),
            },
            other => out.push(other),
        }
        i += 1;
    }
    *events = out;
}

/// If the quote whose content starts at `start` is a callout: its kind, fold, the events
/// of its title, and the index to go on from (its first paragraph, or what follows the
/// title line). Consumed events are taken out of `src`.
fn callout_at<'a>(
    src: &mut [Option<Event<'a>>],
    start: usize,
    gfm: Option<BlockQuoteKind>,
) -> Option<(Kind, Fold, Vec<Event<'a>>, usize)> {
    if let Some(k) = gfm {
        return Some((Kind::from_gfm(k), Fold::No, Vec::new(), start));
    }
    if !matches!(src.get(start), Some(Some(Event::Start(Tag::Paragraph)))) {
        return None;
    }
    // The first line's text may come as several text events (`[`, `!NOTE]`, `-`).
    let mut j = start + 1;
    let mut head = String::new();
    while let Some(Some(Event::Text(t))) = src.get(j) {
        head.push_str(t);
        j += 1;
    }
    let (kind, fold, title_text) = parse_marker(&head)?;
    let title_text = title_text.to_string();
    // The title: the rest of the first line, with its inline markup.
    let mut title: Vec<Event<'a>> = Vec::new();
    if !title_text.is_empty() {
        title.push(Event::Text(CowStr::from(title_text)));
    }
    for slot in &mut src[start + 1..j] {
        *slot = None;
    }
    let mut k = j;
    loop {
        match src.get(k) {
            Some(Some(Event::SoftBreak | Event::HardBreak)) => {
                // The quote's text goes on: it becomes the callout's first paragraph.
                src[k] = Some(Event::Start(Tag::Paragraph));
                // Drop leading text events' whitespace is not needed: Markdown trims lines.
                return Some((kind, fold, trim_title(title), k));
            }
            Some(Some(Event::End(TagEnd::Paragraph))) => {
                src[k] = None;
                return Some((kind, fold, trim_title(title), k + 1));
            }
            Some(Some(_)) => {
                if let Some(e) = src[k].take() {
                    title.push(e);
                }
                k += 1;
            }
            _ => return Some((kind, fold, trim_title(title), k)),
        }
    }
}

fn trim_title(mut title: Vec<Event<'_>>) -> Vec<Event<'_>> {
    if let Some(Event::Text(t)) = title.first() {
        let trimmed = t.trim_start().to_string();
        if trimmed.is_empty() {
            title.remove(0);
        } else {
            title[0] = Event::Text(CowStr::from(trimmed));
        }
    }
    if let Some(Event::Text(t)) = title.last() {
        let trimmed = t.trim_end().to_string();
        if trimmed.is_empty() {
            title.pop();
        } else {
            *title.last_mut().expect("checked") = Event::Text(CowStr::from(trimmed));
        }
    }
    title
}

/// The HTML of a callout written with the `callout` shortcode, for tests comparing both.
pub fn wrap(kind: Kind, fold: Fold, title: &str, body_html: &str) -> String {
    let mut html = open_html(kind, fold);
    if !title.is_empty() {
        html.push_str(TITLE_SEPARATOR);
        html.push_str(&escape::html(title));
    }
    html.push_str(title_end(fold));
    html.push_str(body_html);
    html.push_str(close_html(fold));
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::markdown::{Options, render};

    fn md(src: &str) -> String {
        let opts = Options {
            cve_prefix: "/cve/".into(),
            highlight: false,
            unsafe_html: true,
            attack_ids: Default::default(),
            shortcodes: None,
            search_text: Default::default(),
        };
        render(
            src,
            &opts,
            &mut crate::content::highlight::Highlighter::new().session(),
        )
        .html
    }

    #[test]
    fn markers() {
        assert_eq!(parse_marker("[!NOTE]"), Some((Kind::Note, Fold::No, "")));
        assert_eq!(
            parse_marker("[!warning]- Patch now"),
            Some((Kind::Warning, Fold::Closed, "Patch now"))
        );
        assert_eq!(parse_marker("[!TIP]+"), Some((Kind::Tip, Fold::Open, "")));
        assert_eq!(
            parse_marker("[!danger] x"),
            Some((Kind::Caution, Fold::No, "x"))
        );
        assert_eq!(parse_marker("[!NOPE]"), None);
        assert_eq!(parse_marker("[!NOTE]x"), None);
        assert_eq!(parse_marker("[NOTE]"), None);
    }

    #[test]
    fn each_gfm_kind() {
        for (kind, label) in [
            ("NOTE", "Note"),
            ("TIP", "Tip"),
            ("IMPORTANT", "Important"),
            ("WARNING", "Warning"),
            ("CAUTION", "Caution"),
        ] {
            let html = md(&format!("> [!{kind}]\n> Body *text*.\n"));
            let k = kind.to_ascii_lowercase();
            assert_eq!(
                html,
                format!(
                    "<div class=\"callout callout-{k}\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">{label}</span></p>\n<p>Body <em>text</em>.</p>\n</div>\n"
                )
            );
        }
    }

    #[test]
    fn custom_title_with_markup_and_more_paragraphs() {
        let html = md("> [!WARNING] Patch *now*\n> First line.\n>\n> Second.\n");
        assert_eq!(
            html,
            "<div class=\"callout callout-warning\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Warning</span><span class=\"callout-sep\">: </span>Patch <em>now</em></p>\n<p>First line.</p>\n<p>Second.</p>\n</div>\n"
        );
    }

    #[test]
    fn folding_is_details() {
        let closed = md("> [!NOTE]- Details inside\n> Hidden text.\n");
        assert!(
            closed.starts_with("<details class=\"callout callout-note\">\n<summary class=\"callout-title\"><span class=\"callout-label\">Note</span><span class=\"callout-sep\">: </span>Details inside</summary>\n<p>Hidden text.</p>\n</details>"),
            "{closed}"
        );
        let open = md("> [!TIP]+\n> Shown.\n");
        assert!(
            open.starts_with("<details class=\"callout callout-tip\" open>\n<summary class=\"callout-title\"><span class=\"callout-label\">Tip</span></summary>\n<p>Shown.</p>\n</details>"),
            "{open}"
        );
    }

    #[test]
    fn title_only_and_nested_and_plain_quotes() {
        assert_eq!(
            md("> [!CAUTION] Only a title\n"),
            "<div class=\"callout callout-caution\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Caution</span><span class=\"callout-sep\">: </span>Only a title</p>\n</div>\n"
        );
        let nested = md("> [!NOTE]\n> Outer\n>\n> > Plain inner quote\n");
        assert!(
            nested.contains("<blockquote>\n<p>Plain inner quote</p>\n</blockquote>\n</div>"),
            "{nested}"
        );
        assert_eq!(
            md("> Just a quote\n"),
            "<blockquote>\n<p>Just a quote</p>\n</blockquote>\n"
        );
        assert_eq!(
            md("> [link](x) text\n"),
            "<blockquote>\n<p><a href=\"x\">link</a> text</p>\n</blockquote>\n"
        );
    }

    #[test]
    fn hostile_titles_stay_text() {
        let html = md("> [!NOTE] <b onmouseover=x>t</b> & \"q\"\n> x\n");
        // Raw HTML in a title is the author's, as anywhere in a body; text is escaped.
        assert!(html.contains("&amp; \"q\""), "{html}");
        assert_eq!(
            wrap(Kind::Note, Fold::No, "<script>", "<p>x</p>\n"),
            "<div class=\"callout callout-note\" role=\"note\">\n<p class=\"callout-title\"><span class=\"callout-label\">Note</span><span class=\"callout-sep\">: </span>&lt;script&gt;</p>\n<p>x</p>\n</div>\n"
        );
    }
}

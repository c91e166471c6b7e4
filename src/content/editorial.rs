//! Editorial time in front matter: `publish_at`, `expires` and the `updates:` log.
//!
//! This module only reads and checks the fields; it never looks at the clock. Which posts
//! are published at a given moment is decided once, after parsing, by
//! [`crate::index::schedule`], so parsed pages (and the cache that keeps them) do not
//! depend on *now*.

use std::collections::BTreeSet;
use std::path::Path;

use crate::content::body_link_problem;
use crate::content::frontmatter::Parsed;
use crate::content::highlight::Session;
use crate::content::markdown;
use crate::content::shortcodes::{self, PageVars};
use crate::error::Diagnostic;
use crate::support::date::Date;

/// A dated update note of a post, its Markdown rendered.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UpdateNote {
    pub date: Date,
    /// The note, rendered and escaped like a body (sanitised when `unsafe_html` is off).
    pub html: String,
}

/// What the editorial fields of one file say.
#[derive(Debug, Default)]
pub struct Fields {
    pub publish_at: Option<Date>,
    pub expires: Option<Date>,
    /// Newest first.
    pub updates: Vec<UpdateNote>,
    /// CVE ids mentioned in the notes, in order.
    pub cves: Vec<String>,
    /// Indicators from `{% ioc() %}` blocks in the notes.
    pub iocs: Vec<crate::content::ioc::Ioc>,
    /// What the notes' shortcodes need (`shortcodes::FEATURE_*`).
    pub features: BTreeSet<String>,
}

/// The moment a page goes live: `publish_at`, else its `date`.
pub fn publish_moment(publish_at: Option<Date>, date: Option<Date>) -> Option<Date> {
    publish_at.or(date)
}

/// Reads `publish_at`, `expires` and `updates` of a parsed file; problems go to `errors`
/// (each naming the file and line), warnings of the notes' Markdown to `warnings`. The
/// notes' shortcodes are expanded as in a body, with `page` for their templates.
#[allow(clippy::too_many_arguments)]
pub fn read(
    file: &Path,
    parsed: &Parsed<'_>,
    date: Option<Date>,
    page: &PageVars<'_>,
    md_opts: &markdown::Options,
    hl: &mut Session<'_>,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Fields {
    let fm = &parsed.front_matter;
    let publish_at = fm.publish_at.map(|d| d.0);
    let expires = fm.expires.map(|d| d.0);
    check_expires(file, parsed, publish_at, expires, date, errors);

    let updates_line = parsed.line_of_key("updates");
    let mut updates = Vec::new();
    let mut cves = Vec::new();
    let mut iocs = Vec::new();
    let mut features = BTreeSet::new();
    for (i, u) in fm.updates.iter().flatten().enumerate() {
        let note = u.note.as_ref().map(|n| n.0.trim()).unwrap_or("");
        // The entry's own line, found by its note's first line where that is unique enough.
        let line = note
            .lines()
            .next()
            .filter(|l| l.len() >= 8)
            .and_then(|l| parsed.line_of(l))
            .or(updates_line);
        let Some(d) = u.date else {
            errors.push(
                Diagnostic::error(file, format!("updates: entry {} has no `date`", i + 1))
                    .at_opt(line)
                    .with_help(
                        "write each update as {date: 2024-05-14T10:00:00Z, note: \"What changed\"}",
                    ),
            );
            continue;
        };
        if note.is_empty() {
            errors.push(
                Diagnostic::error(file, format!("updates: entry {} has no `note`", i + 1))
                    .at_opt(line)
                    .with_help(
                        "say what changed: {date: 2024-05-14, note: \"Vendor patch released\"}",
                    ),
            );
            continue;
        }
        let mut problems = Vec::new();
        let rich = shortcodes::render(file, note, 1, page, md_opts, hl, &mut problems);
        for d in problems {
            errors.push(placed_in_note(parsed, note, i, line, d));
        }
        let rendered = rich.rendered;
        iocs.extend(rich.iocs);
        features.extend(rich.features);
        note_problems(file, i, line, &rendered, errors, warnings);
        for c in rendered.cves {
            if !cves.contains(&c) {
                cves.push(c);
            }
        }
        updates.push(UpdateNote {
            date: d.0,
            html: rendered.html,
        });
    }
    // Newest first; notes of the same moment keep the order they were written in.
    updates.sort_by_key(|u| std::cmp::Reverse(u.date));
    Fields {
        publish_at,
        expires,
        updates,
        cves,
        iocs,
        features,
    }
}

/// A problem of a note's shortcodes (`d`, at a line and column of the note's own text),
/// placed in the file: entry `i`'s note starts on `line`; the note's line is looked for in
/// the front matter from there (through YAML's escapes `\"`, `\\` and `''`), to give the
/// line and column of the call. Not found (a folded note, other escapes), the problem keeps
/// the entry's line, without column.
fn placed_in_note(
    parsed: &Parsed<'_>,
    note: &str,
    i: usize,
    line: Option<usize>,
    mut d: Diagnostic,
) -> Diagnostic {
    d.message = format!("updates: entry {}: {}", i + 1, d.message);
    let (note_line, note_col) = (d.line.unwrap_or(1), d.column.unwrap_or(1));
    let raw = note.lines().nth(note_line - 1).unwrap_or("");
    let text = raw.trim();
    // Characters of the note's line before the call, after its indentation.
    let into =
        note_col.saturating_sub(1 + (raw.chars().count() - raw.trim_start().chars().count()));
    let from = line.map_or(0, |l| l.saturating_sub(parsed.fm_line));
    let found = (!text.is_empty())
        .then(|| {
            parsed
                .fm_text
                .lines()
                .enumerate()
                .skip(from)
                .find_map(|(k, l)| unescaped_column(l, text, into).map(|c| (k, c)))
        })
        .flatten();
    match found {
        Some((k, col)) => {
            d.line = Some(parsed.fm_line + k);
            d.column = Some(col);
        }
        None => {
            d.line = line;
            d.column = None;
        }
    }
    d
}

/// Where `text` is in the YAML line `line`, as written or read without its escapes: the
/// 1-based column in `line` of `text`'s character number `into`.
fn unescaped_column(line: &str, text: &str, into: usize) -> Option<usize> {
    // As written (block notes keep backslashes), else through the escapes.
    if let Some(at) = line.find(text) {
        return Some(line[..at].chars().count() + into + 1);
    }
    // The line without escapes, and for each of its characters its column in `line`.
    let mut plain = String::with_capacity(line.len());
    let mut cols = Vec::with_capacity(line.len());
    let mut chars = line.chars().enumerate().peekable();
    while let Some((c, ch)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        match (ch, next) {
            ('\\', Some('"' | '\\')) | ('\'', Some('\'')) => {
                let (_, n) = chars.next().unwrap_or((c, ch));
                plain.push(n);
            }
            _ => plain.push(ch),
        }
        cols.push(c + 1);
    }
    let at = plain.find(text)?;
    let start = plain[..at].chars().count();
    cols.get(start + into).copied()
}

/// An error when `expires` is not after the moment the post goes live.
fn check_expires(
    file: &Path,
    parsed: &Parsed<'_>,
    publish_at: Option<Date>,
    expires: Option<Date>,
    date: Option<Date>,
    errors: &mut Vec<Diagnostic>,
) {
    if let (Some(from), Some(until)) = (publish_moment(publish_at, date), expires)
        && until.at <= from.at
    {
        let field = if publish_at.is_some() {
            "publish_at"
        } else {
            "date"
        };
        errors.push(
        Diagnostic::error(
            file,
            format!(
                "`expires` ({}) is not after the post goes live (`{field}`: {}): it would never be published",
                until.rfc3339(),
                from.rfc3339()
            ),
        )
        .at_opt(parsed.line_of_key("expires"))
        .with_help("set `expires` to a later date-time, or remove it"),
    );
    }
}

/// The problems of the rendered note of update entry `i` (0-based), at `line`: its
/// Markdown's errors and warnings, and links to unsafe URLs.
fn note_problems(
    file: &Path,
    i: usize,
    line: Option<usize>,
    rendered: &markdown::Rendered,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    for e in rendered.errors.iter() {
        errors.push(
            Diagnostic::error(
                file,
                format!("updates: entry {}: {}", i + 1, e.problem.message),
            )
            .at_opt(line)
            .with_help(e.problem.help.clone()),
        );
    }
    for w in rendered.warnings.iter() {
        warnings.push(
            Diagnostic::warning(
                file,
                format!("updates: entry {}: {}", i + 1, w.problem.message),
            )
            .at_opt(line)
            .with_help(w.problem.help.clone()),
        );
    }
    for l in &rendered.links {
        if let Some(scheme) = body_link_problem(&l.dest, l.is_image) {
            errors.push(
                Diagnostic::error(
                    file,
                    format!(
                        "updates: entry {}: {} to a `{scheme}:` URL, which would run in the reader's browser",
                        i + 1,
                        if l.is_image { "an image" } else { "a link" }
                    ),
                )
                .at_opt(line)
                .with_help("to show such a URL, put it in `code`"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::frontmatter;
    use crate::content::highlight::Highlighter;

    fn read_text(text: &str) -> (Fields, Vec<Diagnostic>) {
        let parsed = frontmatter::parse(Path::new("p.md"), text).unwrap();
        let hl = Highlighter::new();
        let opts = markdown::Options {
            cve_prefix: "/cve/".into(),
            highlight: false,
            unsafe_html: false,
            attack_ids: Default::default(),
            shortcodes: shortcodes::Shortcodes::builtin().map(std::sync::Arc::new),
            search_text: Default::default(),
        };
        let date = parsed.front_matter.date.map(|d| d.0);
        let (mut errors, mut warnings) = (Vec::new(), Vec::new());
        let f = read(
            Path::new("p.md"),
            &parsed,
            date,
            &PageVars::default(),
            &opts,
            &mut hl.session(),
            &mut errors,
            &mut warnings,
        );
        (f, errors)
    }

    #[test]
    fn updates_are_rendered_newest_first() {
        let (f, errors) = read_text(concat!(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n",
            "  - {date: 2024-05-02, note: \"First *patch*\"}\n",
            "  - date: 2024-05-03T10:00:00Z\n    note: \"Exploited: CVE-2024-1111 <script>x</script>\"\n",
            "---\nbody\n"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(f.updates.len(), 2);
        assert_eq!(f.updates[0].date.rfc3339(), "2024-05-03T10:00:00Z");
        assert!(f.updates[0].html.contains("href=\"/cve/CVE-2024-1111/\""));
        assert!(
            !f.updates[0].html.contains("<script"),
            "{}",
            f.updates[0].html
        );
        assert!(f.updates[1].html.contains("<em>patch</em>"));
        assert_eq!(f.cves, ["CVE-2024-1111"]);
    }

    #[test]
    fn bad_entries_name_their_line() {
        let (_, errors) =
            read_text("---\ntitle: T\ndate: 2024-05-01\nupdates:\n  - {date: 2024-05-02}\n---\n");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("no `note`"), "{}", errors[0]);
        assert_eq!(errors[0].line, Some(4));
        let (_, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n  - {note: \"a note long enough\"}\n---\n",
        );
        assert_eq!(errors[0].line, Some(5), "{}", errors[0]);
        let (_, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n  - {date: 2024-05-02, note: \"[x](javascript:alert(1))\"}\n---\n",
        );
        assert!(errors[0].message.contains("javascript"), "{}", errors[0]);
    }

    #[test]
    fn notes_expand_shortcodes() {
        let (f, errors) = read_text(concat!(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n",
            "  - {date: 2024-05-02, note: \"Now {{ cve(id='cve-2024-3400') }} is exploited.\"}\n",
            "  - date: 2024-05-03\n    note: |\n      Details:\n\n      - {% details(summary=\"\\\"><script>x\") %}Logs *here*{% end %}\n",
            "---\nbody\n"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let newest = &f.updates[0].html;
        assert!(
            newest.contains("<li><details class=\"details\">\n<summary>&quot;&gt;&lt;script&gt;x</summary>\nLogs <em>here</em></details></li>"),
            "{newest}"
        );
        assert!(!newest.contains("<script"), "{newest}");
        let first = &f.updates[1].html;
        assert!(
            first.contains("<span class=\"cve-card\"><a class=\"cve\" href=\"/cve/CVE-2024-3400/\">CVE-2024-3400</a><span class=\"cve-facts\" data-cve=\"CVE-2024-3400\"></span></span>"),
            "{first}"
        );
        assert_eq!(f.cves, ["CVE-2024-3400"]);
        assert!(f.features.contains(shortcodes::FEATURE_CVE));
    }

    #[test]
    fn shortcode_problems_in_notes_name_line_and_column() {
        // One-line note: the call's column in the front matter line.
        let (_, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n  - {date: 2024-05-02, note: \"See {{ nosuch() }}.\"}\n---\n",
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            errors[0].message,
            "updates: entry 1: unknown shortcode `nosuch`"
        );
        assert_eq!((errors[0].line, errors[0].column), (Some(5), Some(35)));
        // A block note: the line of the call inside it.
        let (_, errors) = read_text(concat!(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n",
            "  - date: 2024-05-02\n    note: |\n      First line of it.\n      Then {{ cve(id=\"CVE-24\") }} here.\n",
            "---\n"
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .starts_with("updates: entry 1: `id` of `cve`: \"CVE-24\" is not a CVE id"),
            "{}",
            errors[0]
        );
        assert_eq!((errors[0].line, errors[0].column), (Some(8), Some(19)));
        // A body never closed, in the second entry.
        let (_, errors) = read_text(concat!(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n",
            "  - {date: 2024-05-02, note: \"fine enough\"}\n",
            "  - {date: 2024-05-03, note: \"open {% details(summary='x') %} forever\"}\n",
            "---\n"
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0]
                .message
                .starts_with("updates: entry 2: shortcode: the body of `details` is never closed"),
            "{}",
            errors[0]
        );
        assert_eq!((errors[0].line, errors[0].column), (Some(6), Some(36)));
        // Through YAML's escapes.
        let (_, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n  - {date: 2024-05-02, note: \"A \\\"quoted\\\" word and {{ nosuch() }}\"}\n---\n",
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (Some(5), Some(53)));
        // A folded note is not in the file as one line: the `updates` line, no column.
        let (_, errors) = read_text(concat!(
            "---\ntitle: T\ndate: 2024-05-01\nupdates:\n",
            "  - date: 2024-05-02\n    note: >\n      A folded note that\n      goes on {{ nosuch() }}\n",
            "---\n"
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (Some(4), None));
    }

    #[test]
    fn expiry_must_follow_publication() {
        let (_, errors) = read_text("---\ntitle: T\ndate: 2024-05-01\nexpires: 2024-04-01\n---\n");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, Some(4));
        let (_, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\npublish_at: 2024-06-01T00:00:00Z\nexpires: 2024-05-15\n---\n",
        );
        assert!(errors[0].message.contains("publish_at"), "{}", errors[0]);
        let (f, errors) = read_text(
            "---\ntitle: T\ndate: 2024-05-01\npublish_at: 2024-06-01T00:00:00Z\nexpires: 2024-07-01\n---\n",
        );
        assert!(errors.is_empty());
        assert_eq!(f.publish_at.unwrap().rfc3339(), "2024-06-01T00:00:00Z");
        assert_eq!(f.expires.unwrap().ymd(), "2024-07-01");
    }
}

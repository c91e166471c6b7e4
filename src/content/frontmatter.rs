//! Front matter: the YAML (`---`) or TOML (`+++`) block at the top of a content file.
//!
//! This is the only module that touches `serde_yaml` (deprecated upstream): replacing it
//! means replacing [`parse`] and nothing else. It checks types and syntax and reports them
//! with the file's own line numbers; what the fields *mean* (slugs, related posts, URLs) is
//! checked by `content`.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::error::{Diagnostic, closest, line_col};
use crate::support::date::{DATE_HELP, Date};

/// The fields of SPEC's front matter table, typed but not yet interpreted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FrontMatter {
    pub title: Option<Text>,
    pub date: Option<DateField>,
    pub updated: Option<DateField>,
    /// When the post goes live, if not at `date` (embargoes: see `index::schedule`).
    pub publish_at: Option<DateField>,
    /// When the post is taken down.
    pub expires: Option<DateField>,
    /// The dated update notes: `[{date, note}]`.
    pub updates: Option<Vec<UpdateField>>,
    pub slug: Option<Text>,
    pub tldr: StringList,
    pub description: Option<Text>,
    pub tags: StringList,
    pub categories: StringList,
    pub authors: StringList,
    pub related: RelatedList,
    pub cves: StringList,
    /// ATT&CK technique ids (`T1190`), as `cves` for CVEs.
    pub attack: StringList,
    pub draft: Option<bool>,
    pub image: Option<Text>,
    pub aliases: StringList,
    /// Indicators of compromise (`content::ioc`).
    pub iocs: Option<Vec<crate::content::ioc::IocEntry>>,
    /// Free-form; handed to templates as it is.
    pub extra: Option<serde_json::Value>,
}

/// Every field SPEC defines, for unknown-field suggestions.
pub const KNOWN_FIELDS: &[&str] = &[
    "title",
    "date",
    "updated",
    "publish_at",
    "expires",
    "updates",
    "slug",
    "tldr",
    "description",
    "tags",
    "categories",
    "authors",
    "related",
    "cves",
    "attack",
    "draft",
    "image",
    "aliases",
    "iocs",
    "extra",
];

/// The front matter and body of one file, with where each starts.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub front_matter: FrontMatter,
    /// The front matter's own text (between the fences).
    pub fm_text: &'a str,
    /// 1-based line of the first line of `fm_text` in the file.
    pub fm_line: usize,
    pub body: &'a str,
    /// 1-based line of the first line of `body` in the file.
    pub body_line: usize,
    pub warnings: Vec<Diagnostic>,
}

impl Parsed<'_> {
    /// The file line on which `needle` first appears in the front matter, for errors about a
    /// value that the typed parse accepted but that means nothing (an unknown related post).
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        self.fm_text
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i + self.fm_line)
    }

    /// The file line of a top-level `key:` (or `key =`), if present.
    pub fn line_of_key(&self, key: &str) -> Option<usize> {
        self.fm_text
            .lines()
            .position(|l| {
                l.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with([':', '=']))
            })
            .map(|i| i + self.fm_line)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Toml,
}

/// Splits `text` (the whole file, BOM already removed) and parses its front matter.
/// `file` is only used to label diagnostics.
pub fn parse<'a>(file: &Path, text: &'a str) -> Result<Parsed<'a>, Diagnostic> {
    let (format, fm_text, body, body_line) = split(file, text)?;
    let fm_line = 2;
    let (front_matter, unknown) = match format {
        Format::Yaml => parse_yaml(fm_text),
        Format::Toml => parse_toml(fm_text),
    }
    .map_err(|(offset_line, col, msg)| {
        let mut d = Diagnostic::error(file, format!("front matter: {msg}"));
        if let Some(l) = offset_line {
            d = d.at(l + fm_line - 1, col.unwrap_or(1));
        }
        d.with_help(help_for(&msg, format))
    })?;
    let mut parsed = Parsed {
        front_matter,
        fm_text,
        fm_line,
        body,
        body_line,
        warnings: Vec::new(),
    };
    parsed.warnings = unknown_field_warnings(file, &parsed, unknown);
    Ok(parsed)
}

/// `(format, front matter, body, body's first line)`.
fn split<'a>(file: &Path, text: &'a str) -> Result<(Format, &'a str, &'a str, usize), Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::error(file, "the file is empty")
            .at_line(1)
            .with_help(
                "write front matter and a body, for example:\n---\ntitle: \"My post\"\ndate: 2024-05-14\n---\n\nText.\nor delete the file",
            ));
    }
    let first_line = text.lines().next().unwrap_or("");
    if first_line.trim_end_matches('\r').contains('\r') {
        return Err(Diagnostic::error(
            file,
            "the lines of this file end in a lone carriage return (CR, old Mac line endings)",
        )
        .at_line(1)
        .with_help("save the file with Unix (LF) or Windows (CRLF) line endings"));
    }
    let format = match first_line.trim_end() {
        "---" => Format::Yaml,
        "+++" => Format::Toml,
        _ => {
            return Err(Diagnostic::error(file, "no front matter: the file must start with a `---` line")
                .at_line(1)
                .with_help(
                    "start the file with front matter, for example:\n---\ntitle: \"My post\"\ndate: 2024-05-14\n---",
                ));
        }
    };
    let fence = if format == Format::Yaml { "---" } else { "+++" };
    let after_open = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = after_open;
    for (line_no, line) in (2..).zip(text[after_open..].split_inclusive('\n')) {
        let trimmed = line.trim_end();
        if trimmed == fence || (format == Format::Yaml && trimmed == "...") {
            let fm = &text[after_open..offset];
            let body = &text[offset + line.len()..];
            return Ok((format, fm, body, line_no + 1));
        }
        offset += line.len();
    }
    Err(Diagnostic::error(
        file,
        format!("the front matter is never closed: no `{fence}` line after line 1"),
    )
    .at_line(1)
    .with_help(format!(
        "add a line with only `{fence}` after the last front matter field"
    )))
}

type ParseFailure = (Option<usize>, Option<usize>, String);

/// The typed front matter and the fields it ignored (unknown to sitrep).
type Typed = (FrontMatter, Vec<String>);

fn parse_yaml(fm: &str) -> Result<Typed, ParseFailure> {
    if fm.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    }) {
        return Ok((FrontMatter::default(), Vec::new()));
    }
    let located = |e: serde_yaml::Error| {
        let mut msg = friendly(&e.to_string());
        // Errors of libyaml's reader (control characters, bad encoding) carry their byte
        // offset in the message and no location.
        let mut index = e.location().map(|loc| loc.index());
        if let Some((head, tail)) = msg.rsplit_once(" at position ")
            && let Ok(at) = tail.trim().parse::<usize>()
        {
            index = Some(at);
            msg = head.to_string();
        }
        // From the byte offset, not libyaml's line: YAML also breaks lines at a lone `\r`,
        // which would put the error on a line the file does not have.
        match index {
            Some(i) => {
                let (line, col) = line_col(fm, i);
                if tab_indented(fm, line) {
                    msg = "a tab is used for indentation; YAML allows only spaces".to_string();
                }
                (Some(line), Some(col), msg)
            }
            // A value that aliases expand too far has no position: name the first alias.
            None if msg.contains("repetition limit") => {
                let first_alias = fm
                    .lines()
                    .position(|l| l.contains(" *") || l.contains("[*") || l.contains(",*"));
                (first_alias.map(|i| i + 1), None, msg)
            }
            None => (None, None, msg),
        }
    };
    let mut unknown = Vec::new();
    let fm = if has_merge_key(fm) {
        // Merge keys (`<<: *base`) are only applied on a generic value; the typed parse that
        // keeps line numbers would see `<<` as an unknown field. Errors found on the merged
        // value have no location: they are put on the first `<<:` line.
        let merge_line = fm
            .lines()
            .position(|l| l.trim_start().starts_with("<<:"))
            .map(|i| i + 1);
        let at_merge = |e: serde_yaml::Error| match located(e) {
            (None, _, msg) => (merge_line, None, msg),
            located => located,
        };
        let mut value: serde_yaml::Value = serde_yaml::from_str(fm).map_err(located)?;
        value.apply_merge().map_err(at_merge)?;
        serde_ignored::deserialize(value, |path| unknown.push(path.to_string()))
            .map_err(at_merge)?
    } else {
        serde_ignored::deserialize(serde_yaml::Deserializer::from_str(fm), |path| {
            unknown.push(path.to_string())
        })
        .map_err(located)?
    };
    Ok((fm, unknown))
}

/// Whether the 1-based `line` of `fm` is indented with a tab.
fn tab_indented(fm: &str, line: usize) -> bool {
    let Some(text) = line.checked_sub(1).and_then(|i| fm.lines().nth(i)) else {
        return false;
    };
    text.chars()
        .take_while(|c| c.is_whitespace())
        .any(|c| c == '\t')
}

fn has_merge_key(fm: &str) -> bool {
    fm.lines().any(|l| l.trim_start().starts_with("<<:"))
}

fn parse_toml(fm: &str) -> Result<Typed, ParseFailure> {
    let mut unknown = Vec::new();
    let typed = toml::Deserializer::parse(fm)
        .and_then(|d| serde_ignored::deserialize(d, |path| unknown.push(path.to_string())));
    typed.map(|fm| (fm, unknown)).map_err(|e| {
        let msg = friendly(e.message().trim());
        match e.span() {
            Some(span) => {
                let (l, c) = line_col(fm, span.start);
                (Some(l), Some(c), msg)
            }
            None => (None, None, msg),
        }
    })
}

/// Rewords serde's messages where they would puzzle an author.
fn friendly(msg: &str) -> String {
    let msg = without_positions(msg);
    if msg.contains("expected struct FrontMatter") {
        return "the front matter must be a map of `field: value` lines".to_string();
    }
    msg.replace("invalid type: ", "wrong type: ")
}

/// serde_yaml ends its problem, and the context after it, with ` at line L column C`
/// (lines of the front matter, not of the file). The problem's position is reported
/// separately; the context's becomes "that starts on line N" of the file.
fn without_positions(msg: &str) -> String {
    const AT: &str = " at line ";
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    let mut first = true;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i]);
        let tail = &rest[i + AT.len()..];
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let line = tail[..digits].parse::<usize>().ok();
        let mut after = &tail[digits..];
        if let Some(col) = after.strip_prefix(" column ") {
            after = col.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        if let (false, Some(l)) = (first, line) {
            out.push_str(&format!(" that starts on line {}", l + 1));
        }
        first = false;
        rest = after;
    }
    out.push_str(rest);
    out.trim().to_string()
}
fn help_for(msg: &str, format: Format) -> String {
    if msg.contains("date") {
        return DATE_HELP.to_string();
    }
    if msg.contains("a tab is used for indentation") {
        return "YAML does not allow tabs for indentation: indent with spaces".to_string();
    }
    if msg.contains("control characters are not allowed") {
        return "remove the control character (such as a NUL byte) at this position".to_string();
    }
    if msg.contains("repetition limit exceeded") {
        return "an alias (`*name`) repeats its anchor too often: YAML aliases cannot build huge values".to_string();
    }
    if msg.contains("recursion limit exceeded") {
        return "the value nests lists or maps more than 128 levels deep: flatten it".to_string();
    }
    if msg.contains("for merging") {
        return "`<<:` merges maps: write `<<: *name` where `&name` marks a map".to_string();
    }
    match format {
        Format::Yaml => "check the YAML syntax; quote a value that contains `: ` or starts with a special character (\"[{&*!|>'%@`)".to_string(),
        Format::Toml => "check the TOML syntax: strings need quotes, lists look like [\"a\", \"b\"]".to_string(),
    }
}

fn unknown_field_warnings(
    file: &Path,
    parsed: &Parsed<'_>,
    unknown: Vec<String>,
) -> Vec<Diagnostic> {
    unknown
        .into_iter()
        .filter(|k| k != "<<")
        .map(|k| {
            let help = match closest(&k, KNOWN_FIELDS) {
                Some(c) => format!("did you mean `{c}`? Custom values belong under `extra`"),
                None => "custom values belong under `extra`; this field is ignored".to_string(),
            };
            Diagnostic::warning(file, format!("unknown front matter field `{k}`"))
                .at_opt(parsed.line_of_key(&k))
                .with_help(help)
        })
        .collect()
}

// ---- field types ------------------------------------------------------------------------

/// A scalar taken as text: `title: 2024` is the title "2024", not a type error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
        Ok(Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
        Ok(Text(v.to_string()))
    }
}

/// A list of strings; one string or nothing (`tags:`) are accepted too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringList(pub Vec<String>);

impl<'de> Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_unit<E: de::Error>(self) -> Result<StringList, E> {
                Ok(StringList::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<StringList, E> {
                Ok(StringList::default())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StringList, E> {
                Ok(StringList(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(Text(s)) = seq.next_element()? {
                    out.push(s);
                }
                Ok(StringList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `date:` and `updated:`, checked while parsing so a bad date gets its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateField(pub Date);

/// The key under which the `toml` crate hands over a native TOML date-time.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for DateField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DateField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date such as 2024-05-14 or 2024-05-14T08:30:00Z")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DateField, E> {
                Date::parse(v).map(DateField).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DateField, A::Error> {
                match map.next_key::<String>()? {
                    Some(k) if k == TOML_DATETIME_KEY => {
                        let s: String = map.next_value()?;
                        self.visit_str(&s)
                    }
                    _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// One `updates:` entry: `{date, note}` (the note is Markdown). Both are checked by
/// `content`, which names the entry's line when one is missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateField {
    pub date: Option<DateField>,
    pub note: Option<Text>,
}

/// One `related:` entry: `{title, url}`, `{post: slug}` (optionally with a title), or a bare URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelatedField {
    pub title: Option<Text>,
    pub url: Option<Text>,
    pub post: Option<Text>,
}

/// The `related:` list; nothing (`related:`) is an empty list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelatedList(pub Vec<RelatedField>);

impl<'de> Deserialize<'de> for RelatedList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entry(RelatedField);
        impl<'de> Deserialize<'de> for Entry {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Entry;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("`{title: ..., url: ...}` or `{post: slug}`")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
                        Ok(Entry(RelatedField {
                            url: Some(Text(v.to_string())),
                            ..RelatedField::default()
                        }))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                        RelatedField::deserialize(de::value::MapAccessDeserializer::new(map))
                            .map(Entry)
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RelatedList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of `{title, url}` or `{post: slug}` entries")
            }
            fn visit_unit<E: de::Error>(self) -> Result<RelatedList, E> {
                Ok(RelatedList::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<RelatedList, E> {
                Ok(RelatedList::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RelatedList, A::Error> {
                let mut out = Vec::new();
                while let Some(Entry(e)) = seq.next_element()? {
                    out.push(e);
                }
                Ok(RelatedList(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Parsed<'_> {
        parse(Path::new("p.md"), text).unwrap()
    }

    fn err(text: &str) -> Diagnostic {
        parse(Path::new("p.md"), text).unwrap_err()
    }

    #[test]
    fn yaml_all_fields() {
        let p = ok(concat!(
            "---\n",
            "title: \"A & B\"\n",
            "date: 2024-05-14\n",
            "updated: 2024-05-15T10:00:00Z\n",
            "slug: custom\n",
            "tldr: One line\n",
            "tags: [a, b]\n",
            "categories:\n  - News\n",
            "authors: [X]\n",
            "related:\n  - {title: NVD, url: \"https://nvd.nist.gov/\"}\n  - post: other\n",
            "cves: [CVE-2024-3400]\n",
            "draft: true\n",
            "image: /img.png\n",
            "aliases: [/old/]\n",
            "extra: {k: [1, 2]}\n",
            "---\n",
            "Body\n"
        ));
        let fm = &p.front_matter;
        assert_eq!(fm.title, Some(Text("A & B".into())));
        assert!(fm.date.unwrap().0.date_only);
        assert_eq!(fm.tldr.0, ["One line"]);
        assert_eq!(fm.tags.0, ["a", "b"]);
        assert_eq!(fm.related.0.len(), 2);
        assert_eq!(fm.related.0[1].post, Some(Text("other".into())));
        assert_eq!(fm.draft, Some(true));
        assert_eq!(p.body, "Body\n");
        assert_eq!(p.body_line, 20);
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn toml_front_matter_with_native_date() {
        let p = ok("+++\ntitle = \"T\"\ndate = 2024-05-14\ntags = [\"x\"]\n+++\nbody");
        assert_eq!(p.front_matter.date.unwrap().0.ymd(), "2024-05-14");
        assert_eq!(p.body, "body");
        let p = ok("+++\ntitle = \"T\"\ndate = 2024-05-14T08:00:00Z\n+++\n");
        assert!(!p.front_matter.date.unwrap().0.date_only);
    }

    #[test]
    fn crlf_and_empty_body() {
        let p = ok("---\r\ntitle: T\r\n---\r\n");
        assert_eq!(p.front_matter.title, Some(Text("T".into())));
        assert_eq!(p.body, "");
    }

    #[test]
    fn bad_date_has_its_line() {
        let d = err("---\ntitle: T\ndate: 2024-13-45\n---\n");
        assert_eq!(d.line, Some(3), "{d}");
        assert!(d.message.contains("2024-13-45"), "{d}");
    }

    #[test]
    fn wrong_type_has_its_line() {
        let d = err("---\ntitle: T\ntags: {a: 1}\n---\n");
        assert_eq!(d.line, Some(3), "{d}");
        let d = err("---\ntitle: T\ndraft: maybe\n---\n");
        assert_eq!(d.line, Some(3), "{d}");
    }

    #[test]
    fn syntax_error_has_its_line() {
        let d = err("---\ntitle: T\ntags: [a, b\n---\n");
        assert!(d.line.is_some(), "{d}");
    }

    #[test]
    fn unterminated_and_missing() {
        assert!(err("---\ntitle: T\n").message.contains("never closed"));
        assert!(err("title: T\n").message.contains("no front matter"));
        assert!(err("").message.contains("the file is empty"));
        assert!(err("\n \r\n").message.contains("the file is empty"));
    }

    #[test]
    fn old_mac_line_endings_are_named() {
        let d = err("---\rtitle: T\r---\rbody\r");
        assert!(d.message.contains("lone carriage return"), "{d}");
        assert_eq!(d.line, Some(1));
    }

    #[test]
    fn tab_indentation_is_named() {
        let d = err("---\ntitle: T\ntags:\n\t- a\n---\n");
        assert_eq!((d.line, d.column), (Some(4), Some(1)), "{d}");
        assert!(d.message.contains("a tab is used for indentation"), "{d}");
        assert!(
            d.help.as_deref().unwrap().contains("indent with spaces"),
            "{d}"
        );
    }

    #[test]
    fn control_character_is_located() {
        let d = err("---\ntitle: T\ndescription: \"a\u{1}b\"\n---\n");
        assert_eq!((d.line, d.column), (Some(3), Some(16)), "{d}");
        assert!(!d.message.contains("position"), "{d}");
        assert!(
            d.help.as_deref().unwrap().contains("control character"),
            "{d}"
        );
    }

    #[test]
    fn unclosed_quote_names_where_it_starts() {
        let d = err("---\ntitle: \"Unclosed\ndate: 2024-05-01\n---\nbody\n");
        assert_eq!(d.line, Some(4), "{d}");
        assert_eq!(
            d.message,
            "front matter: found unexpected end of stream, while scanning a quoted scalar that starts on line 2"
        );
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut fm = String::from("---\na: &a [x, x, x, x, x, x, x, x, x]\n");
        for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            fm.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let d = err(&format!("{fm}title: T\nextra: *i\n---\n"));
        assert!(d.message.contains("repetition limit exceeded"), "{d}");
        assert_eq!(d.line, Some(3), "{d}");
        assert!(d.help.as_deref().unwrap().contains("alias"), "{d}");
    }

    #[test]
    fn bad_merge_is_on_the_merge_line() {
        let d = err("---\ntitle: T\n<<: 5\n---\n");
        assert_eq!(d.line, Some(3), "{d}");
        assert!(d.help.as_deref().unwrap().contains("merges maps"), "{d}");
    }

    #[test]
    fn not_a_map() {
        let d = err("---\n- a\n- b\n---\n");
        assert!(d.message.contains("map"), "{d}");
    }

    #[test]
    fn unknown_field_warns() {
        let p = ok("---\ntilte: T\n---\n");
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, Some(2));
        assert!(p.warnings[0].help.as_deref().unwrap().contains("`title`"));
    }

    #[test]
    fn merge_keys_apply() {
        let p = ok("---\nbase: &b\n  title: T\n<<: *b\n---\n");
        assert_eq!(p.front_matter.title, Some(Text("T".into())));
    }

    #[test]
    fn empty_front_matter_is_empty() {
        let p = ok("---\n---\nbody");
        assert!(p.front_matter.title.is_none());
    }

    #[test]
    fn lone_carriage_returns_do_not_move_error_lines() {
        // Found by fuzzing: libyaml counts a lone `\r` as a line break, so this error was
        // reported on line 13 of a 7-line file.
        let text = "---\nxbase: &b\n  titl\r\r\r\r\r\r\re: T\n<<: *b\ntags: &t [--\nxbase:egories: *t\n---\n";
        let d = err(text);
        let lines = text.lines().count();
        assert!(d.line.is_some_and(|l| l >= 2 && l <= lines), "{d}");
        // The list is still open where the front matter ends, at the closing `---`.
        let d = err("---\ntitle: T\r\r\rtags: [a\n---\n");
        assert_eq!(d.line, Some(3), "{d}");
    }

    #[test]
    fn related_unknown_key_is_an_error() {
        let d = err("---\nrelated:\n  - {titel: x, url: y}\n---\n");
        assert!(d.message.contains("titel"), "{d}");
    }
}

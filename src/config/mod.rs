//! Stage 1: `site.toml` into a typed [`Config`].
//!
//! Every key has a default except `title` and `base_url` (SPEC). A syntax error or a value of
//! the wrong type is an error naming `site.toml`, the line, the column and the key; an
//! unknown key is a warning that suggests the closest known one.

pub mod data;
pub mod deploy;
pub mod headers;
pub mod images;
mod keys;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Severity, closest, line_col};
pub use crate::index::schedule::ExpiredMode;
use crate::support::fingerprint::{self, Builder, Fingerprint};
use data::DataConfig;
use deploy::{DeployConfig, SecurityTxtConfig};
use headers::HeadersConfig;
use images::ImagesConfig;

/// The file name of the configuration, at the site root.
pub const CONFIG_FILE: &str = "site.toml";

/// The site configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Config {
    pub title: String,
    /// Absolute http(s) URL of the site, without a trailing slash.
    pub base_url: String,
    pub description: String,
    pub language: String,
    pub theme: String,
    /// Posts per page on the home page and on term pages.
    pub posts_per_page: usize,
    /// Length of the "Latest from Blog" sidebar.
    pub latest_posts: usize,
    /// Number of posts in each feed.
    pub feed_limit: usize,
    /// Reading speed used for "N min read".
    pub words_per_minute: usize,
    /// Reading speed for CJK text, in characters a minute (each CJK character is a word).
    pub cjk_chars_per_minute: usize,
    /// How many automatically related posts each post shows ("Related coverage").
    pub related_posts: usize,
    /// Build the search index and the `/search/` page.
    pub search: bool,
    /// How much of each body search reads word by word: the first N words (CJK characters
    /// at the reading-time rate), or all of it. Ids and indicators are read from all of it.
    pub search_body_words: BodyWords,
    pub markdown: MarkdownConfig,
    /// `[headers]`: the `_headers` file with the Content-Security-Policy.
    pub headers: HeadersConfig,
    /// `[images]`: responsive images, social cards, favicons.
    pub images: ImagesConfig,
    /// `[deploy]`: host files, asset names, precompression.
    pub deploy: DeployConfig,
    /// `[security_txt]`: `/.well-known/security.txt`, when the section is there.
    pub security_txt: Option<SecurityTxtConfig>,
    /// `[data]`: threat-intelligence data files (CVE records, KEV, EPSS, ATT&CK).
    pub data: DataConfig,
    /// The ATT&CK technique ids the data knows (set after loading the data, not read from
    /// site.toml): ids in running text link to their page only when listed here. Part of
    /// the fingerprint, so pages are parsed again when the set changes.
    #[serde(skip_deserializing)]
    pub attack_ids: std::sync::Arc<std::collections::BTreeSet<String>>,
    /// `[editorial]`: what happens at an expired post's URL.
    pub editorial: EditorialConfig,
    /// Free-form, handed to templates as `site.extra`.
    pub extra: toml::Table,
}

/// `search_body_words`: a number of words, or `"all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyWords {
    /// The first this many words of each body (a lede: about a minute and a half of
    /// reading by default).
    First(usize),
    /// Every word of every body.
    All,
}

impl BodyWords {
    /// The default: the lede of a news story, its first paragraph or two, where it says
    /// what happened (title, TLDR, tags, ids and indicators are indexed whole besides). It
    /// keeps search and related coverage near a tenth of a cold build at 10,000 posts;
    /// whole bodies cost about 0.4 s more there (the notes on issue 12 have figures).
    pub const DEFAULT: usize = 150;
}

impl Default for BodyWords {
    fn default() -> Self {
        BodyWords::First(Self::DEFAULT)
    }
}

impl Serialize for BodyWords {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            BodyWords::First(n) => s.serialize_u64(*n as u64),
            BodyWords::All => s.serialize_str("all"),
        }
    }
}

impl<'de> Deserialize<'de> for BodyWords {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = BodyWords;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of words (such as 150) or \"all\"")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<BodyWords, E> {
                usize::try_from(n)
                    .map(BodyWords::First)
                    .map_err(|_| E::custom("too many words"))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<BodyWords, E> {
                u64::try_from(n)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
                    .and_then(|n| self.visit_u64(n))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BodyWords, E> {
                if v == "all" {
                    Ok(BodyWords::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `[markdown]` in site.toml.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct MarkdownConfig {
    /// A syntect theme name; code gets CSS classes and this theme's stylesheet is written.
    pub highlight_theme: String,
    /// Set to false to leave code blocks unhighlighted.
    pub highlight_code: bool,
    /// Raw HTML in Markdown is the author's (true, the default); false sanitises every
    /// body with ammonia, keeping what Markdown itself makes (highlighting, heading ids,
    /// footnotes, tables, task lists, CVE links).
    pub unsafe_html: bool,
}

/// `[editorial]` in site.toml.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EditorialConfig {
    /// `"absent"` (the default: the URL answers with the 404 page) or `"gone"` (a small
    /// "this post was withdrawn" page is written there).
    pub expired: ExpiredMode,
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        MarkdownConfig {
            highlight_theme: "base16-ocean.dark".into(),
            highlight_code: true,
            unsafe_html: true,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: String::new(),
            base_url: String::new(),
            description: String::new(),
            language: "en".into(),
            theme: "default".into(),
            posts_per_page: 10,
            latest_posts: 5,
            feed_limit: 20,
            words_per_minute: 200,
            cjk_chars_per_minute: 500,
            related_posts: 3,
            search: true,
            search_body_words: BodyWords::default(),
            markdown: MarkdownConfig::default(),
            headers: HeadersConfig::default(),
            images: ImagesConfig::default(),
            deploy: DeployConfig::default(),
            security_txt: None,
            data: DataConfig::default(),
            attack_ids: Default::default(),
            editorial: EditorialConfig::default(),
            extra: toml::Table::new(),
        }
    }
}

impl Config {
    /// A fingerprint of every parsed value: a changed setting makes warm builds re-parse
    /// and re-render what it affects (comments and formatting do not).
    pub fn fingerprint(&self) -> Fingerprint {
        // Serialising plain data into a Vec cannot fail; were it to, a fresh fingerprint
        // only makes the build cold.
        let bytes = rmp_serde::to_vec(self).unwrap_or_else(|_| vec![0xFF]);
        Builder::new("config")
            .fp(fingerprint::of_bytes(&bytes))
            .finish()
    }

    /// Reads `root/site.toml`. Returns the config and its warnings, or every error found.
    pub fn load(root: &Path) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
        let path = root.join(CONFIG_FILE);
        let text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                    let valid = std::str::from_utf8(valid).unwrap_or("");
                    let (line, col) = line_col(valid, valid.len());
                    return Err(vec![
                        Diagnostic::error(CONFIG_FILE, "the file is not valid UTF-8 text")
                            .at(line, col)
                            .with_help("save site.toml as UTF-8"),
                    ]);
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(vec![
                    Diagnostic::error(CONFIG_FILE, format!("no {CONFIG_FILE} in {}", root.display()))
                        .with_help(
                            "run sitrep in the site's folder, pass --root DIR, or create a site with `sitrep init DIR`",
                        ),
                ]);
            }
            Err(e) => return Err(vec![Diagnostic::io(Path::new(CONFIG_FILE), "read", &e)]),
        };
        Config::parse(&text)
    }

    /// Parses the text of a site.toml.
    pub fn parse(text: &str) -> Result<(Config, Vec<Diagnostic>), Vec<Diagnostic>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // One parse; serde_ignored reports every key no struct field took.
        let mut unknown = Vec::new();
        let config: Config = toml::Deserializer::parse(text)
            .and_then(|d| serde_ignored::deserialize(d, |path| unknown.push(path.to_string())))
            .map_err(|e| vec![toml_error(text, &e)])?;
        let warnings = unknown.iter().map(|path| unknown_key(text, path)).collect();
        let errors = config.validate(text);
        if errors.is_empty() {
            let mut config = config;
            if let Some(s) = config.security_txt.as_mut() {
                s.expires_line = table_key_line(text, "security_txt", "expires");
            }
            config.base_url = config.base_url.trim_end_matches('/').to_string();
            Ok((config, warnings))
        } else {
            Err(errors)
        }
    }

    fn validate(&self, text: &str) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        let err = |key: &str, message: String, help: &str| {
            Diagnostic::error(CONFIG_FILE, message)
                .at_opt(key_line(text, key))
                .with_help(help)
        };
        if self.title.trim().is_empty() {
            errors.push(err(
                "title",
                "`title` is required".into(),
                "add a line such as: title = \"Security Dispatch\"",
            ));
        }
        if self.base_url.trim().is_empty() {
            errors.push(err(
                "base_url",
                "`base_url` is required".into(),
                "add a line such as: base_url = \"https://news.example.com\"",
            ));
        } else if let Err(why) = check_base_url(&self.base_url) {
            errors.push(err(
                "base_url",
                format!("`base_url` = {:?} {why}", self.base_url),
                "use an absolute http(s) URL such as \"https://news.example.com\" or \"https://example.com/blog\"",
            ));
        }
        if self.posts_per_page == 0 {
            errors.push(err(
                "posts_per_page",
                "`posts_per_page` must be at least 1".into(),
                "set posts_per_page = 10, for example",
            ));
        }
        if self.words_per_minute == 0 {
            errors.push(err(
                "words_per_minute",
                "`words_per_minute` must be at least 1".into(),
                "remove it to use the default, 200",
            ));
        }
        if self.cjk_chars_per_minute == 0 {
            errors.push(err(
                "cjk_chars_per_minute",
                "`cjk_chars_per_minute` must be at least 1".into(),
                "remove it to use the default, 500",
            ));
        }
        if !is_simple_name(&self.theme) {
            errors.push(err(
                "theme",
                format!("`theme` = {:?} is not a folder name", self.theme),
                "name a folder under themes/, such as \"default\"",
            ));
        }
        let lang_ok = !self.language.is_empty()
            && self.language.len() <= 35
            && self
                .language
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !lang_ok {
            errors.push(err(
                "language",
                format!("`language` = {:?} is not a language tag", self.language),
                "use a BCP 47 tag such as \"en\", \"en-GB\" or \"ja\"",
            ));
        }
        for (key, message, help) in self.images.problems() {
            errors.push(
                Diagnostic::error(CONFIG_FILE, message)
                    .at_opt(table_key_line(text, "images", key))
                    .with_help(help),
            );
        }
        for (key, p) in self.headers.problems() {
            let line = table_key_line(text, "headers", &key)
                .or_else(|| table_key_line(text, "headers.extra", &key));
            errors.push(p.in_file(Severity::Error, CONFIG_FILE).at_opt(line));
        }
        if let Some(s) = &self.security_txt {
            for (key, p) in s.problems() {
                let line = table_key_line(text, "security_txt", key)
                    .or_else(|| section_line(text, "security_txt"));
                errors.push(p.in_file(Severity::Error, CONFIG_FILE).at_opt(line));
            }
        }
        errors
    }
}

/// The 1-based line of the header `[table]`.
fn section_line(text: &str, table: &str) -> Option<usize> {
    let header = format!("[{table}]");
    text.lines()
        .position(|l| l.split('#').next().unwrap_or("").trim() == header)
        .map(|i| i + 1)
}

/// Validates `--base-url` the same way as the key in site.toml.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("is not an absolute http:// or https:// URL")?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err("has no host name".into());
    }
    let allowed = |c: char| {
        c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/' | ':' | '%' | '[' | ']')
    };
    if let Some(c) = rest.chars().find(|&c| !allowed(c)) {
        return Err(format!("contains {c:?}, which a base URL cannot hold"));
    }
    if rest.contains("//") {
        return Err("contains an empty path segment (//)".into());
    }
    if rest.split('/').any(|seg| seg == "." || seg == "..") {
        return Err("contains a `.` or `..` path segment".into());
    }
    Ok(())
}

/// A single folder name: no separators, no `.`/`..`, nothing hidden.
pub fn is_simple_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn toml_error(text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim().to_string();
    let mut d = Diagnostic::error(CONFIG_FILE, message);
    if let Some(span) = e.span() {
        let (line, col) = line_col(text, span.start);
        d = d.at(line, col);
        if let Some(key) = key_on_line(text, line) {
            d.message = format!("`{key}`: {}", d.message);
        }
    }
    d.with_help("fix the value; see the site.toml section of README.md for each key and its type")
}

/// The key assigned on 1-based `line`, if the line is a `key = value` line.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = l.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

/// The 1-based line where `key = ...` is assigned, if it is.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

/// The 1-based line where `key` (bare or quoted) is assigned inside the table `[table]`.
fn table_key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let header = format!("[{table}]");
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            inside = l.split('#').next().unwrap_or("").trim() == header;
            continue;
        }
        if !inside {
            continue;
        }
        let Some((k, _)) = l.split_once('=') else {
            continue;
        };
        let k = k.trim();
        let k = k
            .strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .unwrap_or(k);
        if k == key {
            return Some(i + 1);
        }
    }
    None
}

/// The warning for an unknown key (`path` is dotted: `markdown.highlite`), with the
/// closest known key of its table.
fn unknown_key(text: &str, path: &str) -> Diagnostic {
    let (prefix, key) = match path.rsplit_once('.') {
        Some((table, key)) => (format!("{table}."), key),
        None => (String::new(), path),
    };
    let known: &[&str] = match prefix.as_str() {
        "" => keys::fields_of::<Config>(),
        "markdown." => keys::fields_of::<MarkdownConfig>(),
        "headers." => keys::fields_of::<HeadersConfig>(),
        "images." => keys::fields_of::<ImagesConfig>(),
        "deploy." => keys::fields_of::<DeployConfig>(),
        "security_txt." => keys::fields_of::<SecurityTxtConfig>(),
        "data." => keys::fields_of::<DataConfig>(),
        "editorial." => keys::fields_of::<EditorialConfig>(),
        _ => &[],
    };
    let help = match closest(key, known) {
        Some(k) => format!("did you mean `{prefix}{k}`? Custom values belong under [extra]"),
        None => "remove it; custom values belong under [extra]".to_string(),
    };
    Diagnostic::warning(CONFIG_FILE, format!("unknown key `{path}`"))
        .at_opt(key_line(text, key))
        .with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "title = \"T\"\nbase_url = \"https://example.com/\"\n";

    #[test]
    fn defaults_fill_everything_but_title_and_base_url() {
        let (c, warnings) = Config::parse(MINIMAL).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(c.base_url, "https://example.com");
        assert_eq!(c.posts_per_page, 10);
        assert_eq!(c.latest_posts, 5);
        assert_eq!(c.language, "en");
        assert_eq!(c.theme, "default");
        assert_eq!(c.markdown.highlight_theme, "base16-ocean.dark");
        assert!(c.markdown.unsafe_html);
    }

    #[test]
    fn unsafe_html_switch() {
        let (c, warnings) =
            Config::parse(&format!("{MINIMAL}[markdown]\nunsafe_html = false\n")).unwrap();
        assert!(!c.markdown.unsafe_html);
        assert!(warnings.is_empty(), "{warnings:?}");
        let errs =
            Config::parse(&format!("{MINIMAL}[markdown]\nunsafe_html = \"no\"\n")).unwrap_err();
        assert_eq!(errs[0].line, Some(4), "{}", errs[0]);
        assert!(errs[0].message.contains("unsafe_html"), "{}", errs[0]);
    }

    #[test]
    fn missing_required_keys_are_errors() {
        let errs = Config::parse("description = \"x\"\n").unwrap_err();
        let text: Vec<_> = errs.iter().map(|d| d.message.as_str()).collect();
        assert!(text.contains(&"`title` is required"), "{text:?}");
        assert!(text.contains(&"`base_url` is required"), "{text:?}");
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let errs = Config::parse(&format!("{MINIMAL}posts_per_page = \"ten\"\n")).unwrap_err();
        assert_eq!(errs[0].line, Some(3));
        assert!(
            errs[0].message.contains("posts_per_page"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn base_url_must_be_absolute_http() {
        for bad in [
            "example.com",
            "ftp://x.org",
            "https://",
            "javascript:alert(1)",
            "https://a b",
        ] {
            let text = format!("title = \"T\"\nbase_url = {bad:?}\n");
            let errs = Config::parse(&text).unwrap_err();
            assert_eq!(errs[0].line, Some(2), "{bad}");
        }
        assert!(check_base_url("http://127.0.0.1:1111").is_ok());
        assert!(check_base_url("https://example.com/blog").is_ok());
    }

    #[test]
    fn unknown_key_warns_with_suggestion() {
        let (_, warnings) = Config::parse(&format!("{MINIMAL}posts_per_pgae = 3\n")).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(3));
        assert!(
            warnings[0]
                .help
                .as_deref()
                .unwrap()
                .contains("posts_per_page")
        );
    }

    #[test]
    fn headers_default_on_and_can_be_switched_off() {
        let (c, _) = Config::parse(MINIMAL).unwrap();
        assert!(c.headers.enabled);
        assert_eq!(
            c.headers.content_security_policy,
            crate::config::headers::DEFAULT_CSP
        );
        let text = format!(
            "{MINIMAL}[headers]\nenabled = false\nframe_options = \"\"\n[headers.extra]\n\"X-Robots-Tag\" = \"noai\"\n"
        );
        let (c, warnings) = Config::parse(&text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(!c.headers.enabled);
        assert_eq!(c.headers.frame_options, "");
        assert_eq!(c.headers.extra["X-Robots-Tag"], "noai");
    }

    #[test]
    fn bad_headers_name_their_line() {
        let text = format!(
            "{MINIMAL}[markdown]\nhighlight_code = true\n[headers]\nreferrer_policy = \"a\\nb\"\n[headers.extra]\n\"Bad Name\" = \"x\"\n"
        );
        let errs = Config::parse(&text).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].line, Some(6));
        assert!(errs[0].message.contains("headers.referrer_policy"));
        assert_eq!(errs[1].line, Some(8));
        assert!(errs[1].message.contains("\"Bad Name\""));
    }

    #[test]
    fn unknown_headers_key_warns() {
        let text = format!("{MINIMAL}[headers]\ncontent_security_polcy = \"x\"\n");
        let (_, warnings) = Config::parse(&text).unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].line, Some(4));
        assert!(
            warnings[0]
                .message
                .contains("headers.content_security_polcy")
        );
        assert!(
            warnings[0]
                .help
                .as_deref()
                .unwrap()
                .contains("headers.content_security_policy")
        );
    }

    #[test]
    fn bad_theme_name_refused() {
        let errs = Config::parse(&format!("{MINIMAL}theme = \"../x\"\n")).unwrap_err();
        assert!(errs[0].message.contains("theme"));
    }
}

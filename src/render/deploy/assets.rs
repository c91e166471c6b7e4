//! Content-hashed names for theme assets, and the `asset_url` template function.
//!
//! With `[deploy] hash_assets` (the default), every static file a template is likely to
//! link (stylesheets, scripts, SVG icons, fonts) and the highlighting stylesheet get a
//! second copy named by their content: `style.css` is also written as
//! `style.3f9a0c1d2b4e5f60.css`. A changed file gets a new name, so hosts may cache these
//! copies for a year (`immutable`); the plain name stays for links that do not use
//! `asset_url`, and is revalidated like HTML.
//!
//! `{{ asset_url(path="style.css") }}` in a template gives the link to the hashed copy (or
//! to the file itself when hashing is off, or for files that are not hashed); a path that
//! is no static file of the site is an error naming the template's line.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Diagnostic;
use crate::render::theme::{FileSource, ThemeFiles};
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::{self, Urls};

/// Extensions of the files that get a hashed copy.
pub const HASHED_EXTENSIONS: &[&str] = &["css", "js", "mjs", "svg", "woff", "woff2"];

/// The length, in hex digits, of the hash in a hashed name.
pub const HASH_LEN: usize = 16;

/// The static files of a build and their links.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    /// Output path (`style.css`, `/`-separated) -> the hashed copy's output path.
    pub hashed: BTreeMap<String, String>,
    /// Output path -> the link `asset_url` gives for it.
    pub links: BTreeMap<String, String>,
}

/// Whether `rel` gets a hashed copy.
pub fn hashable(rel: &str) -> bool {
    Path::new(rel)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| HASHED_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `dir/name.ext` -> `dir/name.<hash>.ext`.
pub fn hashed_name(rel: &str, bytes: &[u8]) -> String {
    let hash = format!("{:032x}", fingerprint::of_bytes(bytes));
    let hash = &hash[..HASH_LEN];
    let (dir, file) = match rel.rfind('/') {
        Some(i) => (&rel[..=i], &rel[i + 1..]),
        None => ("", rel),
    };
    match file.rfind('.') {
        Some(i) if i > 0 => format!("{dir}{}.{hash}{}", &file[..i], &file[i..]),
        _ => format!("{dir}{file}.{hash}"),
    }
}

/// Whether an output path looks like a hashed copy (`name.<16 hex>.ext`).
pub fn is_hashed_name(rel: &str) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3 && {
        let h = parts[parts.len() - 2];
        h.len() == HASH_LEN && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }
}

impl Assets {
    /// The static files of `theme` (after the site's overrides) and the highlighting
    /// stylesheet, with hashed names when `hash` is on.
    pub fn new(
        theme: &ThemeFiles,
        syntax_css: Option<&str>,
        hash: bool,
        urls: &Urls,
    ) -> Result<Assets, Vec<Diagnostic>> {
        let mut assets = Assets::default();
        let mut errors = Vec::new();
        let mut add = |rel: String, bytes: Option<&[u8]>| {
            let target = match bytes {
                Some(b) if hash && hashable(&rel) => {
                    let h = hashed_name(&rel, b);
                    assets.hashed.insert(rel.clone(), h.clone());
                    h
                }
                _ => rel.clone(),
            };
            assets.links.insert(rel, urls.url(&target));
        };
        for (rel, (src, shown)) in &theme.statics {
            let rel_s = rel.to_string_lossy().replace('\\', "/");
            if !(hash && hashable(&rel_s)) {
                add(rel_s, None);
                continue;
            }
            match src {
                FileSource::Embedded(b) => add(rel_s, Some(b)),
                FileSource::Disk(path) => match std::fs::read(path) {
                    Ok(b) => add(rel_s, Some(&b)),
                    Err(e) => errors.push(Diagnostic::io(shown, "read", &e)),
                },
            }
        }
        if let Some(css) = syntax_css {
            add(urls::SYNTAX_CSS.to_string(), Some(css.as_bytes()));
        }
        if errors.is_empty() {
            Ok(assets)
        } else {
            Err(errors)
        }
    }

    /// The link `asset_url(path=…)` gives, if the site has that file.
    pub fn link(&self, path: &str) -> Option<&str> {
        let p = path.trim_start_matches('/');
        self.links.get(p).map(String::as_str)
    }

    /// The hashed copy of `rel`, if it has one.
    pub fn hashed_of(&self, rel: &str) -> Option<&str> {
        self.hashed.get(rel).map(String::as_str)
    }

    /// Covers every link: when it changes, pages that use `asset_url` change.
    pub fn fingerprint(&self) -> Fingerprint {
        self.links
            .iter()
            .fold(Builder::new("assets"), |b, (k, v)| b.str(k).str(v))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn hashed_names_keep_folder_and_extension() {
        let h = hashed_name("css/style.css", b"body{}");
        assert!(h.starts_with("css/style.") && h.ends_with(".css"), "{h}");
        assert_eq!(h.len(), "css/style..css".len() + HASH_LEN);
        assert!(is_hashed_name(&h));
        assert_ne!(h, hashed_name("css/style.css", b"body{ }"));
        assert_eq!(h, hashed_name("css/style.css", b"body{}"));
        assert!(!is_hashed_name("style.css"));
        assert!(!is_hashed_name("a.b.css"));
    }

    #[test]
    fn only_linkable_assets_are_hashed() {
        let mut theme = ThemeFiles::default();
        for (rel, bytes) in [
            ("style.css", &b"a{}"[..]),
            ("app.js", b"1"),
            ("photo.jpg", b"x"),
        ] {
            theme.statics.insert(
                PathBuf::from(rel),
                (FileSource::Embedded(bytes), PathBuf::from(rel)),
            );
        }
        let urls = Urls::new("https://e.x/blog");
        let a = Assets::new(&theme, Some(".hl{}"), true, &urls).unwrap();
        assert!(a.link("style.css").unwrap().starts_with("/blog/style."));
        assert!(is_hashed_name(a.link("/app.js").unwrap()));
        assert_eq!(a.link("photo.jpg"), Some("/blog/photo.jpg"));
        assert!(is_hashed_name(a.link("syntax.css").unwrap()));
        assert_eq!(a.link("nope.css"), None);
        let plain = Assets::new(&theme, None, false, &urls).unwrap();
        assert_eq!(plain.link("style.css"), Some("/blog/style.css"));
        assert!(plain.hashed.is_empty());
        assert_ne!(a.fingerprint(), plain.fingerprint());
    }
}

//! Every URL sitrep produces, in one place.
//!
//! A *route* is a page's path relative to the site root, without a leading slash: `""` for
//! the home page, `posts/<slug>/`, `tags/<term>/page/2/`, `rss.xml`. Routes that end in `/`
//! are written as `<route>index.html` (pretty URLs). [`Urls`] turns a route into a link
//! (`url`, root-relative, with the base URL's path) or a permalink (absolute).

use std::path::{Component, Path, PathBuf};

/// Folder of posts.
pub const POSTS: &str = "posts";
/// Feeds, sitemap and the other fixed files.
pub const RSS: &str = "rss.xml";
pub const ATOM: &str = "atom.xml";
pub const JSON_FEED: &str = "feed.json";
pub const SITEMAP: &str = "sitemap.xml";
pub const ROBOTS: &str = "robots.txt";
pub const NOT_FOUND: &str = "404.html";
/// Stylesheet of the code highlighting theme.
pub const SYNTAX_CSS: &str = "syntax.css";
/// The search page (when `search` is on and the theme has `search.html`).
pub const SEARCH: &str = "search/";

/// The home page, or its page `n` (1-based).
pub fn home(n: usize) -> String {
    if n <= 1 {
        String::new()
    } else {
        format!("page/{n}/")
    }
}

/// A post.
pub fn post(slug: &str) -> String {
    format!("{POSTS}/{slug}/")
}

/// A standalone page from its slugified path segments (`about`, `legal/privacy`).
pub fn page(segments: &[String]) -> String {
    let mut route = segments.join("/");
    route.push('/');
    route
}

/// The list of terms of a taxonomy (`tags/`, `categories/`, `cve/`).
pub fn taxonomy(name: &str) -> String {
    format!("{name}/")
}

/// A term's page `n` (1-based).
pub fn term(taxonomy: &str, slug: &str, n: usize) -> String {
    if n <= 1 {
        format!("{taxonomy}/{slug}/")
    } else {
        format!("{taxonomy}/{slug}/page/{n}/")
    }
}

/// The page `n` of a paginated listing whose first page is `first` (`""` or `tags/x/`).
pub fn paginated(first: &str, n: usize) -> String {
    if n <= 1 {
        first.to_string()
    } else {
        format!("{first}page/{n}/")
    }
}

/// The public record of a CVE.
pub fn cve_record(id: &str) -> String {
    format!("https://www.cve.org/CVERecord?id={id}")
}

/// The file a route is written to, relative to the output folder.
pub fn output_file(route: &str) -> PathBuf {
    if route.is_empty() || route.ends_with('/') {
        PathBuf::from(format!("{route}index.html"))
    } else {
        PathBuf::from(route)
    }
}

/// The route of an output file: [`output_file`] undone (`a/index.html` -> `a/`).
pub fn route_of_output(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    match s.strip_suffix("index.html") {
        Some(dir) if dir.is_empty() || dir.ends_with('/') => dir.to_string(),
        _ => s.into_owned(),
    }
}

/// Turns routes into links for one base URL.
#[derive(Debug, Clone)]
pub struct Urls {
    /// `https://example.com` or `https://example.com/blog`, no trailing slash.
    base_url: String,
    /// `""` or `/blog`: the path part of the base URL.
    base_path: String,
}

impl Urls {
    /// `base_url` must be absolute (checked by `config`).
    pub fn new(base_url: &str) -> Self {
        let base_url = base_url.trim_end_matches('/').to_string();
        let after_scheme = base_url.find("://").map_or(0, |i| i + 3);
        let base_path = base_url[after_scheme..]
            .find('/')
            .map_or(String::new(), |i| base_url[after_scheme + i..].to_string());
        Urls {
            base_url,
            base_path,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `""` or `/blog`.
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The root-relative link to a route: `/posts/x/`, `/blog/posts/x/`.
    pub fn url(&self, route: &str) -> String {
        let mut s = String::with_capacity(self.base_path.len() + route.len() + 8);
        s.push_str(&self.base_path);
        s.push('/');
        encode_path_into(route, &mut s);
        s
    }

    /// The absolute link to a route: `https://example.com/posts/x/`.
    pub fn permalink(&self, route: &str) -> String {
        let mut s = String::with_capacity(self.base_url.len() + route.len() + 8);
        s.push_str(&self.base_url);
        s.push('/');
        encode_path_into(route, &mut s);
        s
    }

    /// The origin (`https://example.com`), to make root-relative links absolute.
    pub fn origin(&self) -> &str {
        &self.base_url[..self.base_url.len() - self.base_path.len()]
    }

    /// Link prefix of CVE pages: `/cve/`.
    pub fn cve_prefix(&self) -> String {
        self.url(&taxonomy("cve"))
    }

    /// Makes a link from content absolute: root-relative links get the origin, others stay.
    pub fn absolutize(&self, link: &str) -> String {
        if link.starts_with('/') && !link.starts_with("//") {
            format!("{}{link}", self.origin())
        } else {
            link.to_string()
        }
    }
}

/// Percent-encodes a route: unreserved ASCII and `/` stay, everything else is `%XX`.
fn encode_path_into(route: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let safe = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/');
    let bytes = route.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A run of bytes kept as they are, copied whole. (They are ASCII: the run starts
        // and ends on character boundaries.)
        let start = i;
        while i < bytes.len() && safe(bytes[i]) {
            i += 1;
        }
        if i > start {
            out.push_str(&route[start..i]);
        }
        if let Some(&b) = bytes.get(i) {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
            i += 1;
        }
    }
}

/// Decodes `%XX` escapes into bytes; `None` for a `%` not followed by two hex digits.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Checks a path relative to the output folder: plain segments only.
pub fn checked_relative(rel: &str) -> Result<PathBuf, String> {
    if rel.is_empty() {
        return Err("is empty".into());
    }
    if rel.contains('\\') {
        return Err("contains a backslash".into());
    }
    if rel.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    let path = Path::new(rel);
    let mut out = PathBuf::new();
    let segments = rel.split('/').count();
    for (i, c) in rel.split('/').enumerate() {
        let last = i + 1 == segments;
        match c {
            "" if last && i > 0 => {}
            "" => return Err("has an empty path segment".into()),
            "." | ".." => return Err(format!("has a `{c}` path segment")),
            _ => out.push(c),
        }
    }
    if out.components().any(|c| !matches!(c, Component::Normal(_))) || path.is_absolute() {
        return Err("is not a plain relative path".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(home(1), "");
        assert_eq!(home(3), "page/3/");
        assert_eq!(post("x"), "posts/x/");
        assert_eq!(term("tags", "a-b", 1), "tags/a-b/");
        assert_eq!(term("tags", "a-b", 2), "tags/a-b/page/2/");
        assert_eq!(paginated("tags/a/", 2), "tags/a/page/2/");
        assert_eq!(paginated("", 2), "page/2/");
        assert_eq!(output_file(""), PathBuf::from("index.html"));
        assert_eq!(output_file("posts/x/"), PathBuf::from("posts/x/index.html"));
        assert_eq!(output_file("rss.xml"), PathBuf::from("rss.xml"));
    }

    #[test]
    fn links_with_and_without_sub_path() {
        let u = Urls::new("https://example.com/");
        assert_eq!(u.url(""), "/");
        assert_eq!(u.url("posts/x/"), "/posts/x/");
        assert_eq!(u.permalink("posts/x/"), "https://example.com/posts/x/");
        assert_eq!(u.origin(), "https://example.com");
        let u = Urls::new("https://example.com/blog");
        assert_eq!(u.url("posts/x/"), "/blog/posts/x/");
        assert_eq!(u.permalink(""), "https://example.com/blog/");
        assert_eq!(u.origin(), "https://example.com");
        assert_eq!(u.cve_prefix(), "/blog/cve/");
        assert_eq!(u.absolutize("/blog/a/"), "https://example.com/blog/a/");
        assert_eq!(u.absolutize("//cdn/x"), "//cdn/x");
    }

    #[test]
    fn percent_decoding_round_trips() {
        let u = Urls::new("https://example.com");
        let encoded = u.url("tags/日本 x/");
        assert_eq!(
            percent_decode(&encoded).unwrap(),
            "/tags/日本 x/".as_bytes()
        );
        assert_eq!(percent_decode("%2e%2E").unwrap(), b"..");
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%+1"), None);
        assert_eq!(percent_decode("%zz"), None);
    }

    #[test]
    fn paths_are_encoded_byte_by_byte() {
        // Against the rule written out a byte at a time, over every ASCII byte and
        // characters of two to four bytes, alone and between safe runs.
        let slow = |route: &str| {
            let mut s = String::new();
            for b in route.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                    s.push(b as char);
                } else {
                    s.push_str(&format!("%{b:02X}"));
                }
            }
            s
        };
        let mut routes: Vec<String> = (0u8..128).map(|b| format!("a{}z/", b as char)).collect();
        routes.extend(
            [
                "",
                "/",
                "é",
                "日本",
                "𝄞x",
                "x𝄞",
                "a b",
                "posts/ü-ß/",
                "%41",
                "..//..",
            ]
            .map(String::from),
        );
        for r in routes {
            let mut s = String::new();
            encode_path_into(&r, &mut s);
            assert_eq!(s, slow(&r), "{r:?}");
        }
    }

    #[test]
    fn non_ascii_is_percent_encoded() {
        let u = Urls::new("https://example.com");
        assert_eq!(u.url("tags/日本/"), "/tags/%E6%97%A5%E6%9C%AC/");
        assert_eq!(u.url("tags/a\"b/"), "/tags/a%22b/");
    }
}

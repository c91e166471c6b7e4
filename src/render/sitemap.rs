//! The other machine-read files, written in code like the feeds: the sitemap (split past
//! 50,000 URLs), robots.txt, and the redirect pages of aliases.

use std::fmt::Write as _;

use crate::support::escape::{self, xml as xml_escape};
use crate::urls::{self, Urls};

/// One `<url>` of the sitemap.
pub struct SitemapEntry {
    pub loc: String,
    pub lastmod: Option<String>,
}

/// The most URLs one sitemap file may list.
pub const SITEMAP_LIMIT: usize = 50_000;

/// `sitemap.xml`, split into `sitemap-N.xml` files under a sitemap index past 50,000 URLs.
/// Returns `(route, text)` pairs.
pub fn sitemaps(entries: &[SitemapEntry], urls: &Urls) -> Vec<(String, String)> {
    fn urlset(entries: &[SitemapEntry]) -> String {
        let mut x = String::with_capacity(entries.len() * 120 + 200);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for e in entries {
            let _ = write!(x, "<url><loc>{}</loc>", xml_escape(&e.loc));
            if let Some(m) = &e.lastmod {
                let _ = write!(x, "<lastmod>{m}</lastmod>");
            }
            x.push_str("</url>\n");
        }
        x.push_str("</urlset>\n");
        x
    }
    if entries.len() <= SITEMAP_LIMIT {
        return vec![(urls::SITEMAP.to_string(), urlset(entries))];
    }
    let mut files = Vec::new();
    let mut index = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (n, chunk) in entries.chunks(SITEMAP_LIMIT).enumerate() {
        let route = format!("sitemap-{}.xml", n + 1);
        let lastmod = chunk.iter().filter_map(|e| e.lastmod.as_deref()).max();
        let _ = write!(
            index,
            "<sitemap><loc>{}</loc>",
            xml_escape(&urls.permalink(&route))
        );
        if let Some(m) = lastmod {
            let _ = write!(index, "<lastmod>{m}</lastmod>");
        }
        index.push_str("</sitemap>\n");
        files.push((route, urlset(chunk)));
    }
    index.push_str("</sitemapindex>\n");
    files.insert(0, (urls::SITEMAP.to_string(), index));
    files
}

/// `robots.txt`, naming the sitemap.
pub fn robots(urls: &Urls) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}\n",
        urls.permalink(urls::SITEMAP)
    )
}

/// A redirect page: no script, a meta refresh plus a canonical link.
pub fn redirect_html(target: &str, language: &str) -> String {
    let t = escape::html(target);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<title>Redirecting to {t}</title>\n<link rel=\"canonical\" href=\"{t}\">\n<meta name=\"robots\" content=\"noindex\">\n<meta http-equiv=\"refresh\" content=\"0; url={t}\">\n</head>\n<body>\n<p>This page has moved to <a href=\"{t}\">{t}</a>.</p>\n</body>\n</html>\n",
        lang = escape::html(language)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemap_splits_past_the_limit() {
        let urls = Urls::new("https://e.x");
        let entries: Vec<SitemapEntry> = (0..SITEMAP_LIMIT + 1)
            .map(|i| SitemapEntry {
                loc: format!("https://e.x/{i}/"),
                lastmod: None,
            })
            .collect();
        let files = sitemaps(&entries, &urls);
        assert_eq!(files.len(), 3);
        assert!(files[0].1.contains("<sitemapindex"));
        assert!(files[0].1.contains("https://e.x/sitemap-2.xml"));
        assert_eq!(sitemaps(&entries[..3], &urls).len(), 1);
    }

    #[test]
    fn redirect_has_no_script_and_escapes() {
        let r = redirect_html("https://e.x/a\"><script>/", "en");
        assert!(!r.contains("<script>"));
        assert!(r.contains("rel=\"canonical\""));
        assert!(r.contains("http-equiv=\"refresh\""));
    }
}

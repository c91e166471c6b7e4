//! The feeds, written in code rather than templates so their escaping cannot be got wrong
//! by a theme: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

use std::fmt::Write as _;

use crate::content::Page;
use crate::support::escape::{self, xml as xml_escape};
use crate::urls::{self, Urls};

/// What every feed says about the site.
pub struct FeedSite<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub language: &'a str,
    pub urls: &'a Urls,
}

/// A post in a feed, with its body.
#[derive(Clone, Copy)]
pub struct FeedPost<'a> {
    pub page: &'a Page,
    pub html: &'a str,
}

/// The summary of a post in feeds: its TLDR, else its description.
pub fn summary(post: &Page) -> String {
    if post.tldr.is_empty() {
        post.description.clone()
    } else {
        post.tldr.join(" ")
    }
}

/// The post's HTML with links made absolute, for readers that show it outside the site.
pub fn absolute_html(post: &FeedPost<'_>, urls: &Urls) -> String {
    let permalink = urls.permalink(&post.page.route);
    let html = post.html;
    let mut out = String::with_capacity(html.len() + 256);
    let mut last = 0;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let attr_len = if rest.starts_with(" href=\"") {
            7
        } else if rest.starts_with(" src=\"") {
            6
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let value_start = i + attr_len;
        let Some(value_len) = html[value_start..].find('"') else {
            break;
        };
        let value = &html[value_start..value_start + value_len];
        out.push_str(&html[last..value_start]);
        out.push_str(&resolve(value, &permalink, urls));
        last = value_start + value_len;
        i = last;
    }
    out.push_str(&html[last..]);
    out
}

/// Resolves an (HTML-escaped) link found in a post against the post's permalink.
fn resolve(link: &str, permalink: &str, urls: &Urls) -> String {
    let has_scheme = link
        .find(':')
        .is_some_and(|c| !link[..c].contains(['/', '?', '#']));
    if has_scheme || link.starts_with("//") || link.is_empty() {
        link.to_string()
    } else if link.starts_with('/') {
        urls.absolutize(link)
    } else {
        format!("{permalink}{link}")
    }
}

fn updated_of(post: &Page) -> String {
    post.updated
        .or(post.date)
        .map(|d| d.rfc3339())
        .unwrap_or_default()
}

/// RSS 2.0 of `posts` (newest first).
pub fn rss(site: &FeedSite<'_>, posts: &[FeedPost<'_>]) -> String {
    let u = site.urls;
    let mut x = String::with_capacity(4096 + posts.len() * 12_000);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\">\n<channel>\n");
    let _ = writeln!(x, "<title>{}</title>", xml_escape(site.title));
    let _ = writeln!(x, "<link>{}</link>", xml_escape(&u.permalink("")));
    let _ = writeln!(
        x,
        "<description>{}</description>",
        // RSS descriptions are HTML to readers: plain text is escaped for HTML first.
        xml_escape(&escape::html(site.description))
    );
    let _ = writeln!(x, "<language>{}</language>", xml_escape(site.language));
    let _ = writeln!(x, "<generator>sitrep</generator>");
    let _ = writeln!(
        x,
        "<atom:link href=\"{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        xml_escape(&u.permalink(urls::RSS))
    );
    if let Some(newest) = posts
        .iter()
        .filter_map(|p| p.page.updated.or(p.page.date))
        .max()
    {
        let _ = writeln!(x, "<lastBuildDate>{}</lastBuildDate>", newest.rfc2822());
    }
    for fp in posts {
        let p = fp.page;
        let link = xml_escape(&u.permalink(&p.route));
        x.push_str("<item>\n");
        let _ = writeln!(x, "<title>{}</title>", xml_escape(&p.title));
        let _ = writeln!(x, "<link>{link}</link>");
        let _ = writeln!(x, "<guid isPermaLink=\"true\">{link}</guid>");
        if let Some(d) = p.date {
            let _ = writeln!(x, "<pubDate>{}</pubDate>", d.rfc2822());
        }
        for a in &p.authors {
            let _ = writeln!(
                x,
                "<dc:creator xmlns:dc=\"http://purl.org/dc/elements/1.1/\">{}</dc:creator>",
                xml_escape(a)
            );
        }
        for c in p
            .categories
            .iter()
            .chain(&p.tags)
            .chain(&p.cves)
            .chain(&p.attack)
        {
            let _ = writeln!(x, "<category>{}</category>", xml_escape(c));
        }
        let _ = writeln!(
            x,
            "<description>{}</description>",
            xml_escape(&escape::html(&summary(p)))
        );
        let _ = writeln!(
            x,
            "<content:encoded>{}</content:encoded>",
            xml_escape(&absolute_html(fp, u))
        );
        x.push_str("</item>\n");
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

/// Atom 1.0 of `posts` (newest first).
pub fn atom(site: &FeedSite<'_>, posts: &[FeedPost<'_>]) -> String {
    let u = site.urls;
    let mut x = String::with_capacity(4096 + posts.len() * 12_000);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        xml_escape(site.language)
    );
    let _ = writeln!(x, "<title type=\"text\">{}</title>", xml_escape(site.title));
    if !site.description.is_empty() {
        let _ = writeln!(
            x,
            "<subtitle type=\"text\">{}</subtitle>",
            xml_escape(site.description)
        );
    }
    let _ = writeln!(x, "<id>{}</id>", xml_escape(&u.permalink("")));
    let _ = writeln!(
        x,
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        xml_escape(&u.permalink(""))
    );
    let _ = writeln!(
        x,
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        xml_escape(&u.permalink(urls::ATOM))
    );
    let updated = posts
        .iter()
        .filter_map(|p| p.page.updated.or(p.page.date))
        .max()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_string(), |d| d.rfc3339());
    let _ = writeln!(x, "<updated>{updated}</updated>");
    x.push_str("<generator>sitrep</generator>\n");
    for fp in posts {
        let p = fp.page;
        let link = xml_escape(&u.permalink(&p.route));
        x.push_str("<entry>\n");
        let _ = writeln!(x, "<title type=\"text\">{}</title>", xml_escape(&p.title));
        let _ = writeln!(
            x,
            "<link rel=\"alternate\" type=\"text/html\" href=\"{link}\"/>"
        );
        let _ = writeln!(x, "<id>{link}</id>");
        if let Some(d) = p.date {
            let _ = writeln!(x, "<published>{}</published>", d.rfc3339());
        }
        let _ = writeln!(x, "<updated>{}</updated>", updated_of(p));
        if p.authors.is_empty() {
            let _ = writeln!(
                x,
                "<author><name>{}</name></author>",
                xml_escape(site.title)
            );
        }
        for a in &p.authors {
            let _ = writeln!(x, "<author><name>{}</name></author>", xml_escape(a));
        }
        for c in p
            .categories
            .iter()
            .chain(&p.tags)
            .chain(&p.cves)
            .chain(&p.attack)
        {
            let _ = writeln!(x, "<category term=\"{}\"/>", xml_escape(c));
        }
        let _ = writeln!(
            x,
            "<summary type=\"text\">{}</summary>",
            xml_escape(&summary(p))
        );
        let _ = writeln!(
            x,
            "<content type=\"html\">{}</content>",
            xml_escape(&absolute_html(fp, u))
        );
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

/// JSON Feed 1.1 of `posts` (newest first).
pub fn json_feed(site: &FeedSite<'_>, posts: &[FeedPost<'_>]) -> String {
    let u = site.urls;
    let items: Vec<serde_json::Value> = posts
        .iter()
        .map(|fp| {
            let p = fp.page;
            let mut item = serde_json::json!({
                "id": u.permalink(&p.route),
                "url": u.permalink(&p.route),
                "title": p.title,
                "summary": summary(p),
                "content_html": absolute_html(fp, u),
                "tags": p.categories.iter().chain(&p.tags).chain(&p.cves).chain(&p.attack).collect::<Vec<_>>(),
            });
            if let Some(d) = p.date {
                item["date_published"] = d.rfc3339().into();
            }
            if let Some(d) = p.updated {
                item["date_modified"] = d.rfc3339().into();
            }
            if !p.authors.is_empty() {
                item["authors"] = p
                    .authors
                    .iter()
                    .map(|a| serde_json::json!({ "name": a }))
                    .collect();
            }
            if let Some(img) = &p.image {
                item["image"] = u.absolutize(img).into();
            }
            item
        })
        .collect();
    let feed = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": site.title,
        "description": site.description,
        "language": site.language,
        "home_page_url": u.permalink(""),
        "feed_url": u.permalink(urls::JSON_FEED),
        "items": items,
    });
    let mut s = escape::json_for_html(&serde_json::to_string_pretty(&feed).unwrap_or_default());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::PageKind;
    use crate::support::date::Date;

    fn feed_post<'a>(p: &'a Page, html: &'a str) -> FeedPost<'a> {
        FeedPost { page: p, html }
    }

    fn post(title: &str, html: &str) -> Page {
        Page {
            kind: PageKind::Post,
            file: "content/posts/x.md".into(),
            route: "posts/x/".into(),
            slug: "x".into(),
            title: title.into(),
            date: Some(Date::parse("2024-05-14T08:30:00Z").unwrap()),
            updated: None,
            publish_at: None,
            expires: None,
            updates: Vec::new(),
            tldr: vec!["One <b>".into(), "Two".into()],
            description: String::new(),
            tags: vec!["a&b".into()],
            categories: vec![],
            authors: vec!["Ann".into()],
            related: vec![],
            cves: vec![],
            attack: vec![],
            draft: false,
            image: None,
            aliases: vec![],
            extra: serde_json::Value::Null,
            html: crate::content::Html::new(html.to_string()),
            word_count: 1,
            reading_time: 1,
            body_terms: Default::default(),
            headings: vec![],
            links: vec![],
            iocs: vec![],
            features: vec![],
            source_hash: 0,
        }
    }

    fn site(urls: &Urls) -> FeedSite<'_> {
        FeedSite {
            title: "S & S",
            description: "d",
            language: "en",
            urls,
        }
    }

    #[test]
    fn titles_escaped_in_every_feed() {
        let urls = Urls::new("https://e.x");
        let t = "<script>alert(1)</script> & \"quotes\"";
        let p = post(t, "<p>hi</p>");
        let rss = rss(&site(&urls), &[feed_post(&p, "<p>hi</p>")]);
        assert!(
            rss.contains(
                "<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</title>"
            ),
            "{rss}"
        );
        let atom = atom(&site(&urls), &[feed_post(&p, "<p>hi</p>")]);
        assert!(atom.contains("<title type=\"text\">&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;</title>"), "{atom}");
        let json = json_feed(&site(&urls), &[feed_post(&p, "<p>hi</p>")]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["items"][0]["title"], t);
        assert_eq!(v["items"][0]["summary"], "One <b> Two");
        assert_eq!(v["items"][0]["date_published"], "2024-05-14T08:30:00Z");
    }

    #[test]
    fn links_in_content_become_absolute() {
        let urls = Urls::new("https://e.x/blog");
        let p = post(
            "t",
            "<p><a href=\"/blog/cve/CVE-2024-1/\">c</a> <a href=\"#sec\">s</a> <img src=\"img.png\" alt=\"\"> <a href=\"https://o.org/\">o</a> <a href=\"mailto:a@b\">m</a></p>",
        );
        let body = p.html.get().unwrap().to_string();
        let html = absolute_html(&feed_post(&p, &body), &urls);
        assert!(
            html.contains("href=\"https://e.x/blog/cve/CVE-2024-1/\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://e.x/blog/posts/x/#sec\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"https://e.x/blog/posts/x/img.png\""),
            "{html}"
        );
        assert!(html.contains("href=\"https://o.org/\""), "{html}");
        assert!(html.contains("href=\"mailto:a@b\""), "{html}");
    }
}

//! What editorial time shows: the `updates` log of a post (on its page and at the top of
//! its feed entries), the "scheduled" mark of `--future` previews, and the page written
//! where an expired post was (`[editorial] expired = "gone"`).

use std::borrow::Cow;

use tera::Value;

use super::{Job, PageJob, Renderer, opt_str};
use crate::content::Page;
use crate::support::escape;
use crate::support::fingerprint::{self, Builder, Fingerprint};

impl Renderer<'_> {
    /// `scheduled`: when a `--future` preview goes live (RFC 3339), else none.
    pub(super) fn scheduled(&self, p: &Page) -> Value {
        if self.site.is_preview(p) {
            opt_str(p.publish_moment().map(|d| d.rfc3339()))
        } else {
            Value::none()
        }
    }

    /// Covers [`Renderer::scheduled`]: whether a page is a preview depends on the build's
    /// moment, not on its source.
    pub(super) fn scheduled_fp(&self, p: &Page) -> Fingerprint {
        fingerprint::of_bytes(self.scheduled(p).as_str().unwrap_or("").as_bytes())
    }

    /// The withdrawn pages at expired posts' URLs (`[editorial] expired = "gone"`).
    pub(super) fn plan_withdrawn(&self, latest_top_fp: Fingerprint) -> Vec<Job> {
        self.site
            .withdrawn
            .iter()
            .enumerate()
            .map(|(w, withdrawn)| {
                let fp = Builder::new("withdrawn")
                    .fp(self.global)
                    .num(self.templates.has(WITHDRAWN_TEMPLATE).into())
                    .fp(latest_top_fp)
                    .finish();
                Self::page_job(&withdrawn.route, fp, PageJob::Withdrawn(w))
            })
            .collect()
    }
}

/// The optional template of a withdrawn post's URL; without it, [`withdrawn_html`].
pub const WITHDRAWN_TEMPLATE: &str = "withdrawn.html";

/// `page.updates`: `[{date, datetime, date_only, note}]`, newest first; `note` is safe HTML.
pub fn updates_value(p: &Page) -> Value {
    updates_value_of(&p.updates)
}

/// [`updates_value`] of these notes.
pub(super) fn updates_value_of(updates: &[crate::content::editorial::UpdateNote]) -> Value {
    Value::from(
        updates
            .iter()
            .map(|u| {
                let mut m = tera::Map::with_capacity_and_hasher(4, Default::default());
                m.insert("date".into(), Value::from(u.date.ymd()));
                m.insert("datetime".into(), Value::from(u.date.rfc3339()));
                m.insert("date_only".into(), Value::from(u.date.date_only));
                m.insert("note".into(), Value::safe_string(&u.html));
                Value::from(m)
            })
            .collect::<Vec<_>>(),
    )
}

/// A post's HTML for feeds: its update notes, newest first, then its body.
pub fn feed_html<'a>(p: &Page, body: &'a str) -> Cow<'a, str> {
    if p.updates.is_empty() {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len() + 256 * p.updates.len());
    for u in &p.updates {
        out.push_str("<p><strong>Update, <time datetime=\"");
        out.push_str(&u.date.rfc3339());
        out.push_str("\">");
        out.push_str(&if u.date.date_only {
            u.date.ymd()
        } else {
            u.date.at.format("%Y-%m-%d %H:%M %:z").to_string()
        });
        out.push_str("</time>:</strong></p>\n");
        out.push_str(&u.html);
        out.push('\n');
    }
    out.push_str("<hr>\n");
    out.push_str(body);
    Cow::Owned(out)
}

/// The page at a withdrawn post's URL when the theme has no `withdrawn.html`: it says the
/// post was withdrawn and links home, and shows nothing of the post.
pub fn withdrawn_html(language: &str, site_title: &str, home: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Post withdrawn | {title}</title>\n<meta name=\"robots\" content=\"noindex\">\n</head>\n<body>\n<main>\n<h1>This post was withdrawn</h1>\n<p>It is no longer published. <a href=\"{home}\">Latest news from {title}</a>.</p>\n</main>\n</body>\n</html>\n",
        lang = escape::html(language),
        title = escape::html(site_title),
        home = escape::html(home),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_withdrawn_page_escapes_the_site() {
        let h = withdrawn_html("en\"", "<b>A & B</b>", "/blog/");
        assert!(!h.contains("<b>"));
        assert!(h.contains("&lt;b&gt;A &amp; B&lt;/b&gt;"));
        assert!(h.contains("lang=\"en&quot;\""));
        assert!(h.contains("noindex"));
    }
}

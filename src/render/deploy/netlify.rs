//! `_headers` and `_redirects`, the files Netlify and Cloudflare Pages read.
//!
//! `_headers` sends the security headers with every file (`/*`), and `Cache-Control` for
//! what sitrep knows: a year and `immutable` for the hashed copies of assets, revalidation
//! for the feeds. HTML is revalidated by both hosts by default (their default
//! `Cache-Control` is `public, max-age=0, must-revalidate`); a `/*` rule for it would be
//! joined with the asset rules on Cloudflare instead of replaced.
//!
//! `_redirects` answers every alias with a 301, and `…/page/1/` of every listing with a
//! 301 to the listing (one placeholder rule per taxonomy).

use super::{IMMUTABLE, REVALIDATE, Rules};
use crate::urls;

/// The redirects file.
pub const REDIRECTS: &str = "_redirects";

/// The text of `_headers`.
pub fn headers_file(rules: &Rules, feeds: &[String]) -> String {
    let mut out = String::from("/*\n");
    for (name, value) in &rules.headers {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    if !rules.immutable.is_empty() {
        out.push_str("\n# Named by their content: a changed file gets a new name.\n");
        for path in &rules.immutable {
            out.push_str(&format!("{path}\n  Cache-Control: {IMMUTABLE}\n"));
        }
    }
    if !feeds.is_empty() {
        out.push_str(
            "\n# Feeds change in place: ask every time. (HTML: the hosts' default, max-age=0, must-revalidate.)\n",
        );
        for path in feeds {
            out.push_str(&format!("{path}\n  Cache-Control: {REVALIDATE}\n"));
        }
    }
    out
}

/// The links of the feeds, for [`headers_file`].
pub fn feed_links(u: &urls::Urls) -> Vec<String> {
    [urls::RSS, urls::ATOM, urls::JSON_FEED]
        .iter()
        .map(|f| u.url(f))
        .collect()
}

/// The text of `_redirects`. `force` adds Netlify's `!`, so the redirect wins over the
/// alias's own redirect page.
pub fn redirects_file(rules: &Rules, force: bool) -> String {
    let status = if force { "301!" } else { "301" };
    let mut out = String::from("# Aliases: old addresses of posts and pages.\n");
    for r in &rules.redirects {
        out.push_str(&format!("{} {} {status}\n", r.from, r.to));
    }
    out.push_str("# Page 1 of a listing is the listing.\n");
    let root = rules.root();
    out.push_str(&format!("{root}page/1/ {root} {status}\n"));
    for tax in &rules.taxonomies {
        out.push_str(&format!(
            "{root}{tax}/:term/page/1/ {root}{tax}/:term/ {status}\n"
        ));
    }
    out
}

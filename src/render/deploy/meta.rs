//! For hosts without header control (GitHub Pages, GitLab Pages, a bucket behind a CDN):
//! the Content-Security-Policy and the referrer policy as `<meta>` tags in every page, and
//! `.nojekyll`.
//!
//! A `<meta>` CSP cannot carry `frame-ancestors`, `report-uri`, `report-to` or `sandbox`
//! (browsers ignore them there), so those directives are left out of the tag; on such hosts
//! the page can be framed, which docs/deploy.md says.

use crate::config::headers::HeadersConfig;
use crate::support::escape;

/// The file that tells GitHub Pages not to run Jekyll (which would drop `.well-known/`).
pub const NOJEKYLL: &str = ".nojekyll";

/// CSP directives a `<meta>` element cannot deliver.
pub const NOT_IN_META: &[&str] = &["frame-ancestors", "report-uri", "report-to", "sandbox"];

/// The policy without the directives a `<meta>` element cannot carry.
pub fn meta_csp(policy: &str) -> String {
    policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .filter(|d| {
            let name = d.split_whitespace().next().unwrap_or("");
            !NOT_IN_META.iter().any(|n| n.eq_ignore_ascii_case(name))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `<meta>` tags for the head of every page (escaped HTML); empty when there is nothing
/// to say. They belong before any stylesheet or script, right after `<meta charset>`.
pub fn tags(headers: &HeadersConfig) -> String {
    let mut out = String::new();
    let csp = meta_csp(&headers.content_security_policy);
    if !csp.is_empty() {
        out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"");
        escape::html_into(&csp, &mut out);
        out.push_str("\">\n");
    }
    let referrer = headers.referrer_policy.trim();
    if !referrer.is_empty() {
        out.push_str("<meta name=\"referrer\" content=\"");
        escape::html_into(referrer, &mut out);
        out.push_str("\">\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_csp_drops_what_meta_cannot_carry() {
        assert_eq!(
            meta_csp(crate::config::headers::DEFAULT_CSP),
            "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
        );
        assert_eq!(meta_csp("sandbox; report-uri /r; img-src *"), "img-src *");
    }

    #[test]
    fn tags_are_escaped() {
        let h = HeadersConfig {
            content_security_policy: "default-src 'self' \"><script>".into(),
            ..HeadersConfig::default()
        };
        let t = tags(&h);
        assert!(!t.contains("<script>"), "{t}");
        assert!(
            t.contains("default-src &#39;self&#39; &quot;&gt;&lt;script&gt;"),
            "{t}"
        );
        assert!(t.contains("<meta name=\"referrer\" content=\"strict-origin-when-cross-origin\">"));
        let none = HeadersConfig {
            content_security_policy: String::new(),
            referrer_policy: String::new(),
            ..HeadersConfig::default()
        };
        assert_eq!(tags(&none), "");
    }
}

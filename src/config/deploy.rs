//! `[deploy]` and `[security_txt]` in site.toml: which host files a build writes, how it
//! names and compresses files, and the site's `/.well-known/security.txt` (RFC 9116).
//!
//! The files themselves are made in `render::deploy`; this module only holds the settings
//! and checks their values. The checks of `security_txt.expires` against the time of the
//! build need that time, so they are a separate function ([`SecurityTxtConfig::expiry`])
//! that the build calls with the `now` its command passed down: a build never reads the
//! clock itself.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::Problem;

use crate::support::date::Date;

/// `[deploy]` in site.toml. Every switch that costs nothing is on by default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
pub struct DeployConfig {
    /// `_redirects` (Netlify, Cloudflare Pages): every alias as a 301.
    pub redirects: bool,
    /// Write `301!` instead of `301` in `_redirects`: Netlify serves an existing file (the
    /// alias's redirect page) before a redirect unless it is forced. Cloudflare Pages
    /// always redirects first and does not take the `!`.
    pub force_redirects: bool,
    /// The Content-Security-Policy and the referrer policy as `<meta>` tags in every page
    /// (`site.security_meta`), for hosts without header control (GitHub Pages, GitLab Pages).
    pub meta_tags: bool,
    /// `.nojekyll`, so GitHub Pages serves the folder as it is.
    pub nojekyll: bool,
    /// `.htaccess` for Apache: headers, redirects, caching, precompressed files, 404 page.
    pub htaccess: bool,
    /// `.gz` (and `.br`) beside every text file over 1 kB.
    pub precompress: bool,
    /// With `precompress`, also write `.br` files.
    pub brotli: bool,
    /// Theme stylesheets, scripts, icons and fonts get a copy named by their content
    /// (`style.3f9a0c1d2b4e5f60.css`), which hosts may cache for a year.
    pub hash_assets: bool,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            redirects: true,
            force_redirects: false,
            meta_tags: true,
            nojekyll: true,
            htaccess: false,
            precompress: false,
            brotli: true,
            hash_assets: true,
        }
    }
}

/// `[security_txt]` in site.toml: the fields of RFC 9116. `contact` and `expires` are
/// required; `Canonical` is made from the base URL.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct SecurityTxtConfig {
    /// `mailto:`, `tel:` or `https://` URIs, most preferred first.
    #[serde(deserialize_with = "one_or_many")]
    pub contact: Vec<String>,
    /// When the file goes stale: an RFC 3339 date-time (or a `YYYY-MM-DD` day, midnight UTC).
    pub expires: String,
    #[serde(deserialize_with = "one_or_many")]
    pub encryption: Vec<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub acknowledgments: Vec<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub policy: Vec<String>,
    #[serde(deserialize_with = "one_or_many")]
    pub hiring: Vec<String>,
    /// Language tags: `["en", "de"]` or `"en, de"`.
    #[serde(deserialize_with = "one_or_many")]
    pub preferred_languages: Vec<String>,
    /// The line of `expires` in site.toml, for messages (set by `Config::parse`).
    #[serde(skip)]
    pub expires_line: Option<usize>,
}

/// What a check of `expires` against the time of the build found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    Fine,
    /// Within 30 days: a warning.
    Soon(String),
    /// Past, or more than a year away: an error.
    Wrong(String, String),
}

const DAY: i64 = 24 * 60 * 60;

impl SecurityTxtConfig {
    /// `expires` as a date, when it parses.
    pub fn expires_at(&self) -> Option<Date> {
        Date::parse(&self.expires).ok()
    }

    /// What is wrong with the values, each with its key, without looking at the clock.
    pub fn problems(&self) -> Vec<(&'static str, Problem)> {
        let mut out = Vec::new();
        let mut push = |key: &'static str, message: String, help: String| {
            out.push((key, Problem::new(message, help)));
        };
        if self.contact.is_empty() {
            push(
                "contact",
                "`security_txt.contact` is required".to_string(),
                "add contact = \"mailto:security@example.com\" (or an https:// page, or tel:)"
                    .to_string(),
            );
        }
        if self.expires.trim().is_empty() {
            push(
                "expires",
                "`security_txt.expires` is required".to_string(),
                "add an RFC 3339 date less than a year ahead, such as expires = \"2027-01-31T00:00:00Z\"".to_string(),
            );
        } else if let Err(e) = Date::parse(&self.expires) {
            push(
                "expires",
                format!("`security_txt.expires`: {e}"),
                "write an RFC 3339 date-time such as \"2026-12-31T23:59:59Z\"".to_string(),
            );
        }
        let lists: [(&'static str, &[String], &[&str]); 5] = [
            ("contact", &self.contact, &["mailto:", "tel:", "https://"]),
            (
                "encryption",
                &self.encryption,
                &["https://", "dns:", "openpgp4fpr:"],
            ),
            ("acknowledgments", &self.acknowledgments, &["https://"]),
            ("policy", &self.policy, &["https://"]),
            ("hiring", &self.hiring, &["https://"]),
        ];
        for (key, values, schemes) in lists {
            for v in values {
                let v = v.trim();
                if v.chars().any(|c| c.is_control() || c.is_whitespace()) || v.is_empty() {
                    push(
                        key,
                        format!(
                            "`security_txt.{key}`: {v:?} is not a URI (it is empty or has spaces or line breaks)"
                        ),
                        "write one URI per entry, such as \"https://example.com/security\""
                            .to_string(),
                    );
                } else if !schemes
                    .iter()
                    .any(|s| v.len() > s.len() && v[..s.len()].eq_ignore_ascii_case(s))
                {
                    let hint = if key == "contact" && v.contains('@') && !v.contains(':') {
                        format!("write \"mailto:{v}\"")
                    } else {
                        format!(
                            "RFC 9116 wants a URI starting with {}",
                            schemes.join(" or ")
                        )
                    };
                    push(
                        key,
                        format!(
                            "`security_txt.{key}`: {v:?} does not start with {}",
                            schemes.join(", ")
                        ),
                        hint,
                    );
                }
            }
        }
        for lang in &self.preferred_languages {
            let ok = !lang.is_empty()
                && lang.len() <= 35
                && lang.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !ok {
                push(
                    "preferred_languages",
                    format!("`security_txt.preferred_languages`: {lang:?} is not a language tag"),
                    "use language tags such as [\"en\", \"de\"]".to_string(),
                );
            }
        }
        out
    }

    /// Checks `expires` against `now` (Unix seconds, the time of the build): an error when
    /// it is past or more than a year away, a warning within 30 days.
    pub fn expiry(&self, now: i64) -> Expiry {
        let Some(at) = self.expires_at() else {
            return Expiry::Fine;
        };
        let left = at.at.timestamp() - now;
        let shown = at.rfc3339();
        if left <= 0 {
            Expiry::Wrong(
                format!("`security_txt.expires` = {shown} has passed: security.txt is stale"),
                "set a new expires, less than a year ahead, and rebuild".into(),
            )
        } else if left > 366 * DAY {
            Expiry::Wrong(
                format!("`security_txt.expires` = {shown} is more than a year away"),
                "RFC 9116 asks for less than a year, so readers know the file is kept up to date; set an earlier date".into(),
            )
        } else if left <= 30 * DAY {
            Expiry::Soon(format!(
                "`security_txt.expires` = {shown} is {} days away",
                left / DAY
            ))
        } else {
            Expiry::Fine
        }
    }
}

/// A string, or a list of strings; a string with commas in `preferred_languages` is
/// split on them.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) if s.contains(',') => {
            s.split(',').map(|p| p.trim().to_string()).collect()
        }
        OneOrMany::One(s) => vec![s.trim().to_string()],
        OneOrMany::Many(v) => v.into_iter().map(|s| s.trim().to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt() -> SecurityTxtConfig {
        SecurityTxtConfig {
            contact: vec!["mailto:security@example.com".into()],
            expires: "2026-06-01T00:00:00Z".into(),
            ..Default::default()
        }
    }

    fn ts(s: &str) -> i64 {
        Date::parse(s).unwrap().at.timestamp()
    }

    #[test]
    fn valid_fields_have_no_problems() {
        let mut t = txt();
        t.encryption = vec!["openpgp4fpr:5f2de5521c63a801ab59ccb603d49de44b29100f".into()];
        t.policy = vec!["https://example.com/disclosure".into()];
        t.preferred_languages = vec!["en".into(), "de-AT".into()];
        assert_eq!(t.problems(), vec![]);
    }

    #[test]
    fn missing_and_malformed_fields_are_problems() {
        let t = SecurityTxtConfig::default();
        let keys: Vec<_> = t.problems().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["contact", "expires"]);
        let t = SecurityTxtConfig {
            contact: vec!["security@example.com".into(), "http://example.com/x".into()],
            expires: "next year".into(),
            policy: vec!["https://a b".into()],
            preferred_languages: vec!["en_US".into()],
            ..Default::default()
        };
        let p = t.problems();
        let keys: Vec<_> = p.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            [
                "expires",
                "contact",
                "contact",
                "policy",
                "preferred_languages"
            ]
        );
        assert_eq!(p[1].1.help, "write \"mailto:security@example.com\"");
    }

    #[test]
    fn expiry_against_the_build_time() {
        let t = txt();
        assert_eq!(t.expiry(ts("2026-01-01T00:00:00Z")), Expiry::Fine);
        assert!(matches!(
            t.expiry(ts("2026-05-20T00:00:00Z")),
            Expiry::Soon(m) if m.contains("12 days")
        ));
        assert!(matches!(
            t.expiry(ts("2026-06-01T00:00:00Z")),
            Expiry::Wrong(m, _) if m.contains("has passed")
        ));
        assert!(matches!(
            t.expiry(ts("2025-05-01T00:00:00Z")),
            Expiry::Wrong(m, _) if m.contains("more than a year")
        ));
    }
}

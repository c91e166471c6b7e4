//! The `_headers` file: HTTP response headers for static hosts that read it (Netlify,
//! Cloudflare Pages), from `[headers]` in site.toml.
//!
//! By default every page is sent with a strict Content-Security-Policy (`default-src
//! 'self'`: the default theme has no inline script or style) and the usual security
//! headers. Each header is a key of `[headers]`; an empty string leaves that header out,
//! `enabled = false` leaves the whole file out, and `[headers.extra]` adds others.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Problem;

/// The file written at the root of the output.
pub const FILE: &str = "_headers";

/// The Content-Security-Policy sent by default.
pub const DEFAULT_CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// `[headers]` in site.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct HeadersConfig {
    /// Write `_headers` at all.
    pub enabled: bool,
    pub content_security_policy: String,
    pub referrer_policy: String,
    pub permissions_policy: String,
    /// `X-Frame-Options`, for browsers that predate CSP `frame-ancestors`.
    pub frame_options: String,
    pub content_type_options: String,
    pub cross_origin_opener_policy: String,
    /// Empty by default: HSTS is a promise about the whole host, so a site opts in.
    pub strict_transport_security: String,
    /// Any other headers, name -> value.
    pub extra: BTreeMap<String, String>,
}

impl Default for HeadersConfig {
    fn default() -> Self {
        HeadersConfig {
            enabled: true,
            content_security_policy: DEFAULT_CSP.into(),
            referrer_policy: "strict-origin-when-cross-origin".into(),
            permissions_policy: "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
                .into(),
            frame_options: "DENY".into(),
            content_type_options: "nosniff".into(),
            cross_origin_opener_policy: "same-origin".into(),
            strict_transport_security: String::new(),
            extra: BTreeMap::new(),
        }
    }
}

/// The site.toml key of each built-in header and the header's name, in output order.
pub const KEYS: &[(&str, &str)] = &[
    ("content_security_policy", "Content-Security-Policy"),
    ("referrer_policy", "Referrer-Policy"),
    ("permissions_policy", "Permissions-Policy"),
    ("frame_options", "X-Frame-Options"),
    ("content_type_options", "X-Content-Type-Options"),
    ("cross_origin_opener_policy", "Cross-Origin-Opener-Policy"),
    ("strict_transport_security", "Strict-Transport-Security"),
];

/// A problem with one key of `[headers]`: the key (as written in site.toml), and what is
/// wrong with its value.
pub type KeyProblem = (String, Problem);

impl HeadersConfig {
    fn value_of(&self, key: &str) -> &str {
        match key {
            "content_security_policy" => &self.content_security_policy,
            "referrer_policy" => &self.referrer_policy,
            "permissions_policy" => &self.permissions_policy,
            "frame_options" => &self.frame_options,
            "content_type_options" => &self.content_type_options,
            "cross_origin_opener_policy" => &self.cross_origin_opener_policy,
            "strict_transport_security" => &self.strict_transport_security,
            _ => "",
        }
    }

    /// Every header to send, `(name, value)`, built-in ones first, then `extra` by name.
    /// Headers with an empty value are left out.
    pub fn headers(&self) -> Vec<(&str, &str)> {
        let builtin = KEYS.iter().map(|&(key, name)| (name, self.value_of(key)));
        let extra = self.extra.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        builtin
            .chain(extra)
            .map(|(n, v)| (n, v.trim()))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// What is wrong with the values, each with the key it is on.
    pub fn problems(&self) -> Vec<KeyProblem> {
        let mut out = Vec::new();
        let control = |value: &str| value.chars().any(char::is_control);
        let one_line = "write the header value on one line";
        for &(key, _) in KEYS {
            if control(self.value_of(key)) {
                out.push((
                    key.to_string(),
                    Problem::new(
                        format!("`headers.{key}` contains a line break or control character"),
                        one_line,
                    ),
                ));
            }
        }
        for (name, value) in &self.extra {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                out.push((
                    name.clone(),
                    Problem::new(
                        format!("`headers.extra`: {name:?} is not an HTTP header name"),
                        "use letters, digits and `-`, such as \"Cross-Origin-Resource-Policy\"",
                    ),
                ));
                continue;
            }
            if let Some((key, _)) = KEYS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)) {
                out.push((
                    name.clone(),
                    Problem::new(
                        format!("`headers.extra` sets {name}, which has its own key"),
                        format!("set `{key}` under [headers] instead"),
                    ),
                ));
                continue;
            }
            if control(value) {
                out.push((
                    name.clone(),
                    Problem::new(
                        format!(
                            "`headers.extra.{name}` contains a line break or control character"
                        ),
                        one_line,
                    ),
                ));
            }
        }
        out
    }

    /// The text of `_headers`, with `frame-src` in the Content-Security-Policy allowing
    /// `hosts` too (the hosts of embeds the site's pages use; none leaves the policy as it
    /// is). A policy without `frame-src` gets `frame-src 'self' HOSTS`, so frames it allowed
    /// through `default-src 'self'` stay allowed.
    pub fn file_with_frames(&self, hosts: &[&str]) -> String {
        if hosts.is_empty() || self.content_security_policy.trim().is_empty() {
            return self.file();
        }
        let mut directives: Vec<String> = self
            .content_security_policy
            .split(';')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .collect();
        let extra = hosts.join(" ");
        match directives
            .iter_mut()
            .find(|d| d.split_whitespace().next() == Some("frame-src"))
        {
            Some(d) if d.split_whitespace().any(|v| v == "'none'") => {
                *d = format!("frame-src {extra}");
            }
            Some(d) => {
                for h in hosts {
                    if !d.split_whitespace().any(|v| v == *h) {
                        d.push(' ');
                        d.push_str(h);
                    }
                }
            }
            None => directives.push(format!("frame-src 'self' {extra}")),
        }
        HeadersConfig {
            content_security_policy: directives.join("; "),
            ..self.clone()
        }
        .file()
    }

    /// The text of `_headers`: one rule for every path.
    pub fn file(&self) -> String {
        let mut out = String::from("/*\n");
        for (name, value) in self.headers() {
            out.push_str("  ");
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        }
        out
    }
}

/// A `tchar` of RFC 9110.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_has_strict_csp_and_security_headers() {
        let text = HeadersConfig::default().file();
        assert!(text.starts_with("/*\n"), "{text}");
        for line in [
            "  Content-Security-Policy: default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'\n",
            "  Referrer-Policy: strict-origin-when-cross-origin\n",
            "  Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=(), usb=()\n",
            "  X-Frame-Options: DENY\n",
            "  X-Content-Type-Options: nosniff\n",
            "  Cross-Origin-Opener-Policy: same-origin\n",
        ] {
            assert!(text.contains(line), "missing {line:?} in {text}");
        }
        assert!(!text.contains("unsafe-inline"), "{text}");
        assert!(
            !text.contains("Strict-Transport-Security"),
            "HSTS is opt-in: {text}"
        );
    }

    #[test]
    fn frame_src_only_for_hosts_in_use() {
        let c = HeadersConfig::default();
        assert_eq!(c.file_with_frames(&[]), c.file());
        let text = c.file_with_frames(&["https://www.youtube-nocookie.com"]);
        assert!(
            text.contains("  Content-Security-Policy: default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; frame-src 'self' https://www.youtube-nocookie.com\n"),
            "{text}"
        );
        let own = HeadersConfig {
            content_security_policy: "default-src 'self'; frame-src 'none'".into(),
            ..HeadersConfig::default()
        };
        assert!(
            own.file_with_frames(&["https://player.vimeo.com"])
                .contains("default-src 'self'; frame-src https://player.vimeo.com\n")
        );
        let listed = HeadersConfig {
            content_security_policy: "frame-src https://a.example".into(),
            ..HeadersConfig::default()
        };
        assert!(
            listed
                .file_with_frames(&["https://a.example", "https://b.example"])
                .contains("frame-src https://a.example https://b.example\n")
        );
        let off = HeadersConfig {
            content_security_policy: String::new(),
            ..HeadersConfig::default()
        };
        assert!(
            !off.file_with_frames(&["https://b.example"])
                .contains("frame-src")
        );
    }

    #[test]
    fn empty_values_are_left_out_and_extra_is_sorted() {
        let mut c = HeadersConfig {
            frame_options: String::new(),
            strict_transport_security: "max-age=63072000".into(),
            ..HeadersConfig::default()
        };
        c.extra.insert("X-Robots-Tag".into(), "noai".into());
        c.extra
            .insert("Cross-Origin-Resource-Policy".into(), "same-origin".into());
        c.extra.insert("X-Empty".into(), "  ".into());
        let names: Vec<&str> = c.headers().iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "Content-Security-Policy",
                "Referrer-Policy",
                "Permissions-Policy",
                "X-Content-Type-Options",
                "Cross-Origin-Opener-Policy",
                "Strict-Transport-Security",
                "Cross-Origin-Resource-Policy",
                "X-Robots-Tag",
            ]
        );
        assert!(c.problems().is_empty());
    }

    #[test]
    fn line_breaks_and_bad_names_are_problems() {
        let mut c = HeadersConfig {
            content_security_policy: "default-src 'self'\nX-Injected: yes".into(),
            ..HeadersConfig::default()
        };
        c.extra.insert("Bad Name".into(), "x".into());
        c.extra
            .insert("x-frame-options".into(), "SAMEORIGIN".into());
        c.extra.insert("X-Ok".into(), "a\r\nb".into());
        let problems = c.problems();
        let keys: Vec<&str> = problems.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "content_security_policy",
                "Bad Name",
                "X-Ok",
                "x-frame-options"
            ]
        );
        assert!(problems[0].1.message.contains("line break"));
        assert!(problems[1].1.message.contains("not an HTTP header name"));
        assert!(problems[2].1.message.contains("headers.extra.X-Ok"));
        assert!(problems[3].1.help.contains("frame_options"));
    }
}

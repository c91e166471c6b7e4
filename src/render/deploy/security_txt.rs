//! `/.well-known/security.txt` (RFC 9116) from `[security_txt]`.
//!
//! The fields come in the RFC's order; `Canonical` is the file's own address under the
//! base URL. Values were checked by `config::deploy` (URIs, no line breaks), so the file is
//! written as it is. Whether `expires` is still good is checked by the build against the
//! time its command passed down (`BuildOptions::now`).

use crate::config::deploy::SecurityTxtConfig;
use crate::urls::Urls;

/// Where the file goes.
pub const PATH: &str = ".well-known/security.txt";

/// The text of security.txt for a site titled `title`.
pub fn file(s: &SecurityTxtConfig, title: &str, urls: &Urls) -> String {
    let mut out = String::new();
    // A comment line cannot end early: line breaks in the title become spaces.
    let title: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    out.push_str(&format!(
        "# How to report a security problem to {title} (RFC 9116).\n"
    ));
    let mut field = |name: &str, values: &[String]| {
        for v in values {
            out.push_str(&format!("{name}: {}\n", v.trim()));
        }
    };
    field("Contact", &s.contact);
    let expires = s
        .expires_at()
        .map(|d| {
            d.at.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|| s.expires.clone());
    field("Expires", &[expires]);
    field("Encryption", &s.encryption);
    field("Acknowledgments", &s.acknowledgments);
    if !s.preferred_languages.is_empty() {
        field("Preferred-Languages", &[s.preferred_languages.join(", ")]);
    }
    field("Canonical", &[urls.permalink(PATH)]);
    field("Policy", &s.policy);
    field("Hiring", &s.hiring);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_in_rfc_order_with_canonical_from_base_url() {
        let s = SecurityTxtConfig {
            contact: vec![
                "mailto:security@example.com".into(),
                "https://example.com/report".into(),
            ],
            expires: "2026-12-31T23:59:59+01:00".into(),
            encryption: vec!["https://example.com/pgp.asc".into()],
            preferred_languages: vec!["en".into(), "de".into()],
            policy: vec!["https://example.com/policy".into()],
            ..Default::default()
        };
        let text = file(
            &s,
            "Dispatch\nContact: mailto:evil@x",
            &Urls::new("https://user.github.io/project"),
        );
        assert_eq!(
            text,
            "# How to report a security problem to Dispatch Contact: mailto:evil@x (RFC 9116).\n\
             Contact: mailto:security@example.com\n\
             Contact: https://example.com/report\n\
             Expires: 2026-12-31T22:59:59Z\n\
             Encryption: https://example.com/pgp.asc\n\
             Preferred-Languages: en, de\n\
             Canonical: https://user.github.io/project/.well-known/security.txt\n\
             Policy: https://example.com/policy\n"
        );
    }
}

//! Slugs, routes, URLs and path checks: never a panic, and the safety properties the rest
//! of sitrep relies on hold for any text.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use sitrep::config;
use sitrep::content::{alias_route, check_link};
use sitrep::support::escape;
use sitrep::output::checked_relative;
use sitrep::support::slug::{slug_from_file_stem, slugify, strip_date_prefix};
use sitrep::urls::{self, Urls};

/// A relative path of plain segments only.
fn assert_plain(p: &Path, from: &str) {
    assert!(p.is_relative(), "{from:?} -> {p:?}");
    assert!(
        p.components().all(|c| matches!(c, Component::Normal(_))),
        "{from:?} -> {p:?}"
    );
}

/// A link as emitted into HTML and XML: percent-encoded, nothing markup can see.
fn assert_encoded(url: &str) {
    assert!(
        !url.contains(['"', '\'', '<', '>', '&', ' ', '\\', '\n', '\r', '\t']),
        "{url:?}"
    );
}

fuzz_target!(|input: (&str, &str)| {
    let (a, b) = input;

    // Slugs: one safe path segment, or nothing.
    for s in [slugify(a), slug_from_file_stem(a)] {
        assert!(!s.contains(['/', '\\', '.']), "{a:?} -> {s:?}");
        assert!(!s.chars().any(char::is_control), "{a:?} -> {s:?}");
        assert!(
            !s.starts_with('-') && !s.ends_with('-') && !s.contains("--"),
            "{a:?} -> {s:?}"
        );
        if !s.is_empty() {
            assert_plain(&checked_relative(&s).expect("a slug is a path segment"), a);
            for route in [
                urls::post(&s),
                urls::term("tags", &s, 3),
                urls::page(&[s.clone(), s.clone()]),
            ] {
                assert_plain(&urls::output_file(&route), a);
                assert!(checked_relative(&route).is_ok(), "{route:?}");
            }
        }
    }
    assert!(a.ends_with(strip_date_prefix(a)));

    // Paths under the output folder.
    if let Ok(p) = checked_relative(a) {
        assert_plain(&p, a);
    }
    if let Ok(route) = alias_route(a) {
        assert!(
            !route.is_empty() && !route.starts_with('/'),
            "{a:?} -> {route:?}"
        );
        assert_plain(&urls::output_file(&route), a);
        assert!(
            checked_relative(route.trim_end_matches('/')).is_ok(),
            "{a:?} -> {route:?}"
        );
    }

    // Links from front matter: no scheme a browser would run.
    if check_link(a).is_ok() {
        let squeezed: String = a
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase();
        for bad in ["javascript:", "data:", "vbscript:", "file:"] {
            assert!(!squeezed.starts_with(bad), "{a:?} accepted");
        }
    }

    // URLs for a base URL that site.toml would accept.
    if config::check_base_url(b).is_ok() {
        let u = Urls::new(b);
        for route in [a, &slugify(a), ""] {
            let url = u.url(route);
            assert!(
                url.starts_with(u.base_path()) && url.contains('/'),
                "{url:?}"
            );
            assert_encoded(&url[u.base_path().len()..]);
            let permalink = u.permalink(route);
            assert!(permalink.starts_with(u.base_url()), "{permalink:?}");
        }
        let _ = (u.origin(), u.cve_prefix(), u.absolutize(a));
        let n = a.len() % 5;
        for route in [
            urls::home(n),
            urls::paginated(&urls::taxonomy(&slugify(a)), n),
            urls::term("cve", a, n),
            urls::output_file(a).to_string_lossy().into_owned(),
        ] {
            let _ = (u.url(&route), u.permalink(&route));
        }
        let _ = urls::cve_record(a);
    }
    let _ = config::is_simple_name(a);
    if config::is_simple_name(a) {
        assert_plain(Path::new(a), a);
    }

    // Escaping: nothing markup-significant survives.
    let h = escape::html(a);
    assert!(!h.contains(['<', '>', '"', '\'']), "{h:?}");
    let x = escape::xml(a);
    assert!(!x.contains(['<', '>', '"', '\'']), "{x:?}");
    let json = serde_json::to_string(a).expect("a string serialises");
    let j = escape::json_for_html(&json);
    assert!(!j.contains(['<', '>', '&', '\'']), "{j:?}");
    assert_eq!(serde_json::from_str::<String>(&j).expect("still JSON"), a);
});

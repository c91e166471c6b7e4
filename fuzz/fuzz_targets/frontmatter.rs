//! Front matter parsing (`frontmatter::parse`) and date parsing: never a panic, and a
//! diagnostic always points inside the file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sitrep::support::date::Date;
use sitrep::content::frontmatter::{self, KNOWN_FIELDS};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = text.lines().count().max(1);
    match frontmatter::parse(Path::new("content/posts/f.md"), text) {
        Ok(p) => {
            assert!(text.ends_with(p.body), "the body is the end of the file");
            assert!(p.body_line >= 2 && p.fm_line == 2);
            for k in KNOWN_FIELDS {
                if let Some(l) = p.line_of_key(k) {
                    assert!(l >= 2 && l <= lines, "line {l} of {lines}");
                }
            }
            let fm = &p.front_matter;
            for s in fm.tags.0.iter().chain(&fm.tldr.0).chain(&fm.aliases.0) {
                let _ = p.line_of(s);
            }
            for d in [fm.date, fm.updated].into_iter().flatten() {
                let _ = (d.0.ymd(), d.0.rfc3339(), d.0.rfc2822(), d.0.year());
            }
            for w in &p.warnings {
                let _ = w.to_string();
            }
        }
        Err(d) => {
            if let Some(l) = d.line {
                assert!(
                    l >= 1 && l <= lines + 1,
                    "error on line {l} of {lines}: {d}"
                );
            }
            let _ = d.to_string();
        }
    }
    // The first line on its own as a date.
    if let Some(first) = text.lines().next()
        && let Ok(d) = Date::parse(first)
    {
        let _ = (d.ymd(), d.rfc3339(), d.rfc2822(), d.year());
    }
});

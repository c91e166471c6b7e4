//! site.toml parsing (`Config::parse`): never a panic; an accepted config is usable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sitrep::config::{self, Config};
use sitrep::urls::Urls;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.lines().count().max(1);
    match Config::parse(text) {
        Ok((c, warnings)) => {
            assert!(config::check_base_url(&c.base_url).is_ok());
            assert!(config::is_simple_name(&c.theme));
            assert!(c.posts_per_page >= 1 && c.words_per_minute >= 1);
            let u = Urls::new(&c.base_url);
            let _ = (
                u.url("posts/x/"),
                u.permalink(""),
                u.origin(),
                u.cve_prefix(),
            );
            for w in warnings {
                let _ = w.to_string();
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for d in errors {
                if let Some(l) = d.line {
                    assert!(
                        l >= 1 && l <= lines + 1,
                        "error on line {l} of {lines}: {d}"
                    );
                }
                let _ = d.to_string();
            }
        }
    }
});

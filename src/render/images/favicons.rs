//! The favicon set and `site.webmanifest`, from the site's (or theme's) `favicon.svg`.
//!
//! Browsers that take SVG icons use `favicon.svg` itself; the PNGs are for the rest:
//! `favicon-32.png` (tabs), `apple-touch-icon.png` (180 px, iOS home screens) and
//! `icon-192.png` / `icon-512.png` (the manifest's, for Android and installed sites).

use std::path::{Path, PathBuf};

use super::write_atomic;
use crate::config::Config;
use crate::error::Diagnostic;
use crate::render::routes::Origin;
use crate::render::theme::{FileSource, ThemeFiles};
use crate::render::{Job, JobKind};
use crate::support::fingerprint::{self, Builder};

/// The source icon.
pub const SOURCE: &str = "favicon.svg";
pub const MANIFEST: &str = "site.webmanifest";
/// Output file and size of each PNG.
pub const SIZES: &[(&str, u32)] = &[
    ("favicon-32.png", 32),
    ("apple-touch-icon.png", 180),
    ("icon-192.png", 192),
    ("icon-512.png", 512),
];

/// Whether a build with this config and theme writes the favicon set.
pub fn enabled(config: &Config, theme: &ThemeFiles) -> bool {
    config.images.favicons && theme.statics.contains_key(Path::new(SOURCE))
}

/// Rasterises the icon at one size.
pub fn rasterise(svg: &[u8], size: u32) -> Result<Vec<u8>, String> {
    let tree = resvg::usvg::Tree::from_data(svg, &resvg::usvg::Options::default())
        .map_err(|e| format!("it is not a valid SVG file ({e})"))?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size, size).ok_or("an icon needs a size")?;
    let s = tree.size();
    let scale = (size as f32 / s.width()).min(size as f32 / s.height());
    let dx = (size as f32 - s.width() * scale) / 2.0;
    let dy = (size as f32 - s.height() * scale) / 2.0;
    let t = resvg::tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, dx, dy);
    resvg::render(&tree, t, &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| e.to_string())
}

/// The PNG icons (from the cache, drawn when missing) and the manifest.
pub fn plan(config: &Config, theme: &ThemeFiles, dir: &Path) -> Result<Vec<Job>, Diagnostic> {
    if !enabled(config, theme) {
        return Ok(Vec::new());
    }
    let (src, shown) = &theme.statics[Path::new(SOURCE)];
    let bytes: Vec<u8> = match src {
        FileSource::Disk(p) => std::fs::read(p).map_err(|e| Diagnostic::io(shown, "read", &e))?,
        FileSource::Embedded(b) => b.to_vec(),
    };
    let hash = fingerprint::of_bytes(&bytes);
    let mut jobs = Vec::new();
    for &(name, size) in SIZES {
        if theme.statics.contains_key(Path::new(name)) {
            continue; // the site's own file wins
        }
        let key = Builder::new("favicon")
            .num(super::FORMAT)
            .fp(hash)
            .num(size.into())
            .finish();
        let file: PathBuf = dir.join(format!("icon-{key:016x}.png"));
        if !file.is_file() {
            let png = rasterise(&bytes, size).map_err(|why| {
                Diagnostic::error(shown, format!("the favicon cannot be drawn: {why}"))
                    .with_help("fix the SVG, or set `images.favicons = false` in site.toml")
            })?;
            write_atomic(&file, &png)?;
        }
        jobs.push(Job {
            path: PathBuf::from(name),
            fingerprint: key,
            kind: JobKind::Copy(file),
            origin: Origin::Generated("the favicon set"),
        });
    }
    if !theme.statics.contains_key(Path::new(MANIFEST)) {
        let text = manifest(config);
        jobs.push(Job {
            path: PathBuf::from(MANIFEST),
            fingerprint: fingerprint::of_bytes(text.as_bytes()),
            kind: JobKind::Bytes(std::sync::Arc::new(text.into_bytes())),
            origin: Origin::Generated("the web app manifest"),
        });
    }
    Ok(jobs)
}

/// `site.webmanifest` (JSON; every string escaped by serde_json).
pub fn manifest(config: &Config) -> String {
    let start = crate::urls::Urls::new(&config.base_url).url("");
    let icon = |name: &str, size: u32| {
        serde_json::json!({
            "src": format!("{start}{name}"),
            "sizes": format!("{size}x{size}"),
            "type": "image/png",
        })
    };
    let short: String = config.title.chars().take(12).collect();
    let v = serde_json::json!({
        "name": config.title,
        "short_name": short,
        "description": config.description,
        "lang": config.language,
        "start_url": start,
        "display": "standalone",
        "background_color": "#0d1321",
        "theme_color": "#0d1321",
        "icons": [
            icon("icon-192.png", 192),
            icon("icon-512.png", 512),
            {"src": format!("{start}favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    });
    // `<`, `>`, `&` and `'` as \u escapes, like the JSON feed: still the same JSON, and no
    // title can read as markup to anything that sniffs the file.
    let mut s = crate::support::escape::json_for_html(
        &serde_json::to_string_pretty(&v).unwrap_or_default(),
    );
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rasterises_at_each_size() {
        let svg = crate::render::theme::DEFAULT_THEME
            .get_file("static/favicon.svg")
            .unwrap()
            .contents();
        for &(_, size) in SIZES {
            let png = rasterise(svg, size).unwrap();
            let img = image::load_from_memory(&png).unwrap();
            assert_eq!((img.width(), img.height()), (size, size));
        }
    }

    #[test]
    fn manifest_escapes_the_title() {
        let c = Config {
            title: "A \"quoted\" </script> title".into(),
            base_url: "https://example.com/blog".into(),
            ..Config::default()
        };
        let m: serde_json::Value = serde_json::from_str(&manifest(&c)).unwrap();
        assert_eq!(m["name"], c.title.as_str());
        assert_eq!(m["start_url"], "/blog/");
    }
}

//! Local images in bodies: which they are, how big they are (from their headers, without
//! decoding), and the `<img>` tags that show them with `width`, `height`, lazy loading and
//! a `srcset` of resized variants.
//!
//! The Markdown stage renders `<img src alt>` as CommonMark says and records every image
//! with its line ([`crate::content::BodyLink`]); this module is the hook after it. The
//! rewrite runs when a page is rendered, not when it is parsed: a page's cached body stays
//! valid when only an image beside it changed, and the page's fingerprint covers the images
//! it shows ([`crate::render::images`]).

use crate::check::{LinkTarget, resolve_link};
use crate::urls::Urls;

/// What a header probe says of an image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// The size as shown: upright, after the EXIF orientation.
    pub width: u32,
    pub height: u32,
    pub format: Format,
    /// The EXIF orientation of a JPEG, 1 (upright, also without EXIF) to 8; from 5 on, the
    /// stored pixels are turned a quarter and `width` and `height` are the stored ones
    /// swapped.
    pub orientation: u8,
}

/// Image formats sitrep tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Gif,
    Svg,
    /// Any other format browsers show (AVIF, BMP, ICO...): sized, never resized.
    Other,
}

impl Format {
    /// Raster formats sitrep decodes and resizes.
    pub fn resizable(self) -> bool {
        matches!(self, Format::Png | Format::Jpeg | Format::Webp)
    }
}

/// The site path (relative to the output folder, no leading `/`) of a local image written
/// on the page at `route`; `None` for images on other hosts and `data:` URLs.
pub fn site_path(dest: &str, route: &str, urls: &Urls) -> Option<String> {
    let d = dest.trim();
    if d.is_empty() || d.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("data:")) {
        return None;
    }
    match resolve_link(d, route, urls) {
        LinkTarget::Internal { path, .. } if !path.is_empty() && !path.ends_with('/') => Some(path),
        _ => None,
    }
}

/// Reads an image's size from its first bytes. SVG sizes come from the root element's
/// `width`/`height`, else its `viewBox`.
pub fn probe(bytes: &[u8]) -> Result<Probe, String> {
    let t = match imagesize::image_type(bytes) {
        Ok(t) => t,
        Err(_) if looks_like_svg(bytes) => return probe_svg(bytes),
        Err(_) => {
            return Err(
                "it is not an image sitrep knows (PNG, JPEG, WebP, GIF, SVG, AVIF)".to_string(),
            );
        }
    };
    let format = match t {
        imagesize::ImageType::Png => Format::Png,
        imagesize::ImageType::Jpeg => Format::Jpeg,
        imagesize::ImageType::Webp => Format::Webp,
        imagesize::ImageType::Gif => Format::Gif,
        _ => Format::Other,
    };
    let size = imagesize::blob_size(bytes)
        .map_err(|e| format!("its header cannot be read ({e}): the file is damaged"))?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 || width > u32::MAX as u64 || height > u32::MAX as u64 {
        return Err(format!(
            "its header gives an impossible size, {width} x {height}"
        ));
    }
    let orientation = match format {
        Format::Jpeg => jpeg_orientation(bytes).unwrap_or(1),
        _ => 1,
    };
    let (width, height) = if orientation >= 5 {
        (height, width)
    } else {
        (width, height)
    };
    Ok(Probe {
        width: width as u32,
        height: height as u32,
        format,
        orientation,
    })
}

/// The EXIF orientation (1 to 8) of a JPEG, from its APP1 `Exif` segment before the image
/// data; `None` without one.
pub fn jpeg_orientation(bytes: &[u8]) -> Option<u8> {
    let mut i = 2; // after SOI
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        // Start of scan, end of image: no EXIF before the pixels.
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        let seg = bytes.get(i + 4..i + 2 + len)?;
        if marker == 0xE1 && seg.starts_with(b"Exif\0\0") {
            return image::metadata::Orientation::from_exif_chunk(&seg[6..]).map(|o| o.to_exif());
        }
        i += 2 + len;
    }
    None
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let head = String::from_utf8_lossy(head);
    head.contains("<svg")
}

fn probe_svg(bytes: &[u8]) -> Result<Probe, String> {
    let opts = resvg::usvg::Options::default();
    let tree = resvg::usvg::Tree::from_data(bytes, &opts)
        .map_err(|e| format!("it is not a valid SVG file ({e})"))?;
    let size = tree.size();
    let (w, h) = (size.width().round(), size.height().round());
    if !(1.0..=1e6).contains(&w) || !(1.0..=1e6).contains(&h) {
        return Err(format!("its size, {w} x {h}, is not one a page can show"));
    }
    Ok(Probe {
        width: w as u32,
        height: h as u32,
        format: Format::Svg,
        orientation: 1,
    })
}

/// How one image is shown: the attributes the rewrite adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The image's destination as written in Markdown.
    pub dest: String,
    pub width: u32,
    pub height: u32,
    /// `(url, width)` of each resized WebP variant, narrowest first (empty: none).
    pub srcset: Vec<(String, u32)>,
    /// The same of the AVIF variants (`images.formats` with `"avif"`): the image becomes a
    /// `<picture>` with an AVIF `<source>`.
    pub avif: Vec<(String, u32)>,
}

/// Adds `width`, `height`, `loading="lazy"`, `decoding="async"` and (with variants)
/// `srcset` and `sizes` to each `<img>` of `html` whose `src` is one of `shown`. The first
/// image of the body is loaded at once (it is usually above the fold). Attributes an author
/// wrote in raw HTML are kept, not doubled.
pub fn rewrite(html: &str, shown: &[Shown], column_width: u32) -> String {
    rewrite_each(html, shown, |tag, s, first| {
        with_attrs(tag, s, first, column_width)
    })
}

/// Adds only `width` and `height` to each `<img>` of `html` whose `src` is one of `shown`:
/// for feeds, whose readers reserve the space but load images their own way (no `srcset`,
/// no lazy loading, no `<picture>`).
pub fn rewrite_sizes(html: &str, shown: &[Shown]) -> String {
    rewrite_each(html, shown, |tag, s, _| {
        let plain = Shown {
            srcset: Vec::new(),
            avif: Vec::new(),
            ..s.clone()
        };
        // "First" keeps loading and decoding out.
        img_with_attrs(tag, &plain, true, 0)
    })
}

fn rewrite_each(
    html: &str,
    shown: &[Shown],
    tag_for: impl Fn(&str, &Shown, bool) -> String,
) -> String {
    let mut out = String::with_capacity(html.len() + shown.len() * 160);
    let mut rest = html;
    let mut first = true;
    while let Some(i) = find_img(rest) {
        out.push_str(&rest[..i]);
        let tag_start = &rest[i..];
        let Some(end) = tag_end(tag_start) else {
            break;
        };
        let tag = &tag_start[..end];
        let is_first = std::mem::replace(&mut first, false);
        match attr(tag, "src").and_then(|src| find_shown(&src, shown)) {
            Some(s) => out.push_str(&tag_for(tag, s, is_first)),
            None => out.push_str(tag),
        }
        rest = &tag_start[end..];
    }
    out.push_str(rest);
    out
}

fn find_img(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = s[from..].find('<') {
        let at = from + i;
        if bytes.len() >= at + 5
            && bytes[at + 1..at + 4].eq_ignore_ascii_case(b"img")
            && matches!(bytes[at + 4], b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>')
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Length of the tag at the start of `s` (through its `>`), quotes respected.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The value of attribute `name` in a tag, entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let bytes = tag.as_bytes();
    let mut i = 4; // after "<img"
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
            && !bytes[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let key = &tag[start..i];
        if key.is_empty() {
            return None;
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let vstart = i + 1;
                let vend = tag[vstart..]
                    .find(q as char)
                    .map_or(tag.len(), |e| vstart + e);
                value = &tag[vstart..vend];
                i = vend + 1;
            } else {
                let vstart = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                value = &tag[vstart..i];
            }
        }
        if key.eq_ignore_ascii_case(name) {
            return Some(unescape(value));
        }
    }
    None
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Percent-decoded, so `a%20b.png` and `a b.png` are one image.
fn normal(s: &str) -> String {
    crate::urls::percent_decode(s.trim())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| s.trim().to_string())
}

fn find_shown<'a>(src: &str, shown: &'a [Shown]) -> Option<&'a Shown> {
    let src = normal(src);
    shown.iter().find(|s| normal(&s.dest) == src)
}

fn srcset_value(set: &[(String, u32)]) -> String {
    set.iter()
        .map(|(url, w)| format!("{url} {w}w"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sizes_value(column_width: u32) -> String {
    format!("(max-width: {column_width}px) 100vw, {column_width}px")
}

/// The tag with its attributes, inside a `<picture>` with an AVIF `<source>` first when
/// the image has AVIF variants and the author wrote no `srcset`.
fn with_attrs(tag: &str, s: &Shown, first: bool, column_width: u32) -> String {
    let img = img_with_attrs(tag, s, first, column_width);
    if s.avif.is_empty() || attr(tag, "srcset").is_some() {
        return img;
    }
    format!(
        "<picture><source type=\"image/avif\" srcset=\"{}\" sizes=\"{}\">{img}</picture>",
        crate::support::escape::html(&srcset_value(&s.avif)),
        crate::support::escape::html(&sizes_value(column_width)),
    )
}

fn img_with_attrs(tag: &str, s: &Shown, first: bool, column_width: u32) -> String {
    let body = tag.trim_end_matches('>');
    let (body, close) = match body.strip_suffix('/') {
        Some(b) => (b.trim_end(), " />"),
        None => (body.trim_end(), ">"),
    };
    let mut t = body.to_string();
    let mut add = |name: &str, value: &str| {
        if attr(tag, name).is_none() {
            t.push_str(&format!(
                " {name}=\"{}\"",
                crate::support::escape::html(value)
            ));
        }
    };
    // An author's own width or height wins; then the other must not be guessed.
    if attr(tag, "width").is_none() && attr(tag, "height").is_none() {
        add("width", &s.width.to_string());
        add("height", &s.height.to_string());
    }
    if !first {
        add("loading", "lazy");
        add("decoding", "async");
    }
    if !s.srcset.is_empty() && attr(tag, "srcset").is_none() {
        add("srcset", &srcset_value(&s.srcset));
        add("sizes", &sizes_value(column_width));
    }
    t.push_str(close);
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(dest: &str, srcset: Vec<(String, u32)>) -> Shown {
        Shown {
            dest: dest.into(),
            width: 1600,
            height: 900,
            srcset,
            avif: Vec::new(),
        }
    }

    #[test]
    fn feeds_get_sizes_only() {
        let mut s = shown("a.png", vec![("/a-480w.webp".into(), 480)]);
        s.avif = vec![("/a-480w.avif".into(), 480)];
        let out = rewrite_sizes(
            "<p><img src=\"x.png\"><img src=\"a.png\" alt=\"A\" /></p>",
            &[s],
        );
        assert_eq!(
            out,
            "<p><img src=\"x.png\"><img src=\"a.png\" alt=\"A\" width=\"1600\" height=\"900\" /></p>"
        );
    }

    #[test]
    fn avif_variants_make_a_picture_with_the_avif_source_first() {
        let mut s = shown(
            "a.png",
            vec![("/a-480w.webp".into(), 480), ("/a-960w.webp".into(), 960)],
        );
        s.avif = vec![("/a-480w.avif".into(), 480), ("/a-960w.avif".into(), 960)];
        let out = rewrite(
            "<p>x</p><p><img src=\"a.png\" alt=\"A\" /></p>",
            &[s.clone()],
            760,
        );
        assert_eq!(
            out,
            "<p>x</p><p><picture><source type=\"image/avif\" srcset=\"/a-480w.avif 480w, /a-960w.avif 960w\" sizes=\"(max-width: 760px) 100vw, 760px\">\
             <img src=\"a.png\" alt=\"A\" width=\"1600\" height=\"900\" srcset=\"/a-480w.webp 480w, /a-960w.webp 960w\" sizes=\"(max-width: 760px) 100vw, 760px\" /></picture></p>"
        );
        // AVIF only: the `<img>` is the original alone.
        s.srcset.clear();
        let out = rewrite("<img src=\"a.png\">", &[s.clone()], 760);
        assert_eq!(
            out,
            "<picture><source type=\"image/avif\" srcset=\"/a-480w.avif 480w, /a-960w.avif 960w\" sizes=\"(max-width: 760px) 100vw, 760px\"><img src=\"a.png\" width=\"1600\" height=\"900\"></picture>"
        );
        // An author's own srcset: no picture either.
        let out = rewrite("<img src=\"a.png\" srcset=\"mine.png 2x\">", &[s], 760);
        assert!(!out.contains("picture"), "{out}");
    }

    #[test]
    fn rewrites_images_first_eager_rest_lazy() {
        let html = "<p><img src=\"a.png\" alt=\"A\" /></p><p><img src=\"/b%20c.png\" alt=\"x&quot;\" title=\"t\" /></p>";
        let s = vec![
            shown("a.png", vec![("a-480w.webp".into(), 480)]),
            shown("/b c.png", vec![]),
        ];
        let out = rewrite(html, &s, 760);
        assert_eq!(
            out,
            "<p><img src=\"a.png\" alt=\"A\" width=\"1600\" height=\"900\" srcset=\"a-480w.webp 480w\" sizes=\"(max-width: 760px) 100vw, 760px\" /></p>\
             <p><img src=\"/b%20c.png\" alt=\"x&quot;\" title=\"t\" width=\"1600\" height=\"900\" loading=\"lazy\" decoding=\"async\" /></p>"
        );
    }

    #[test]
    fn keeps_authors_attributes_and_unknown_images() {
        let html = "<img src='a.png' width=10 loading=eager><img src=\"other.png\">";
        let out = rewrite(html, &[shown("a.png", vec![])], 760);
        assert_eq!(
            out,
            "<img src='a.png' width=10 loading=eager><img src=\"other.png\">"
        );
        let html = "<img src=\"x.png\" alt=\"a > b\"><img src=\"a.png\">";
        let out = rewrite(html, &[shown("a.png", vec![])], 760);
        assert!(out.ends_with("<img src=\"a.png\" width=\"1600\" height=\"900\" loading=\"lazy\" decoding=\"async\">"), "{out}");
        assert!(out.starts_with("<img src=\"x.png\" alt=\"a > b\">"));
    }

    #[test]
    fn jpeg_exif_orientation_swaps_the_size() {
        let read = |n: &str| {
            std::fs::read(format!(
                "{}/tests/fixtures/images/{n}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let turned = read("exif-orientation-6.jpg");
        assert_eq!(jpeg_orientation(&turned), Some(6));
        let p = probe(&turned).unwrap();
        assert_eq!((p.width, p.height, p.orientation), (1800, 1200, 6));
        let upright = read("exif-orientation-1.jpg");
        assert_eq!(jpeg_orientation(&upright), Some(1));
        assert_eq!(probe(&upright).unwrap().width, 1800);
        // No EXIF at all, and a file cut inside its segments: upright.
        assert_eq!(jpeg_orientation(&read("photo.jpg")), None);
        assert_eq!(jpeg_orientation(&turned[..40]), None);
    }

    #[test]
    fn probes_headers() {
        assert!(probe(b"not an image at all").is_err());
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>"#;
        assert_eq!(
            probe(svg).unwrap(),
            Probe {
                width: 40,
                height: 20,
                format: Format::Svg,
                orientation: 1,
            }
        );
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 16"></svg>"#;
        assert_eq!(probe(svg).unwrap().width, 32);
    }

    #[test]
    fn site_paths() {
        let urls = Urls::new("https://example.com");
        assert_eq!(
            site_path("shot.png", "posts/x/", &urls).as_deref(),
            Some("posts/x/shot.png")
        );
        assert_eq!(
            site_path("/img/a.png", "posts/x/", &urls).as_deref(),
            Some("img/a.png")
        );
        assert_eq!(
            site_path("https://cdn.example.org/a.png", "posts/x/", &urls),
            None
        );
        assert_eq!(
            site_path("data:image/png;base64,AA", "posts/x/", &urls),
            None
        );
    }
}

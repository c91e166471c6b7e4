//! Responsive images, the image cache, social cards and favicons, on small real sites
//! built with real image files (`tests/fixtures/images/`, made with ImageMagick; the broken
//! ones are real files truncated or with their headers edited).

use crate::common::{self, TestSite, post, snapshot};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/images/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// No cards: most tests here are about body images.
const NO_CARDS: &str = "[images]\nsocial_cards = false\n";

fn site_with(images: &[(&str, &str)], body: &str, settings: &str) -> TestSite {
    let s = TestSite::new();
    s.write("site.toml", &format!("{}{settings}", common::SITE_TOML));
    for (at, fixture_name) in images {
        s.write_bytes(at, &fixture(fixture_name));
    }
    s.write(
        "content/posts/shots/index.md",
        &post("Shots", "2024-03-01", "", body),
    );
    s
}

/// The `<img>` tags of a page, in order.
fn imgs(html: &str) -> Vec<String> {
    html.match_indices("<img ")
        .map(|(i, _)| {
            let end = html[i..].find('>').unwrap();
            html[i..=i + end].to_string()
        })
        .filter(|t| !t.contains("brand-mark"))
        .collect()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..i + tag[i..].find('"')?].to_string())
}

fn timings_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|l| l.starts_with("images:"))
        .unwrap_or("")
}

#[test]
fn sizes_lazy_loading_and_srcset_without_upscaling() {
    let s = site_with(
        &[
            ("content/posts/shots/wide.png", "wide.png"),
            ("content/posts/shots/photo.jpg", "photo.jpg"),
            ("static/img/big.webp", "big.webp"),
            ("content/posts/shots/small.png", "small.png"),
            ("content/posts/shots/anim.gif", "anim.gif"),
            ("static/img/diagram.svg", "diagram.svg"),
        ],
        "![Wide](wide.png)\n\n![Photo](photo.jpg)\n\n![Big](/img/big.webp)\n\n![Small](small.png)\n\n![Anim](anim.gif)\n\n![Diagram](/img/diagram.svg)\n\n![Remote](https://cdn.example.org/x.png)\n",
        NO_CARDS,
    );
    s.build(&[]).ok();
    let html = s.read("posts/shots/index.html");
    let tags = imgs(&html);
    assert_eq!(tags.len(), 7, "{tags:#?}");
    let size = |t: &str| (attr(t, "width"), attr(t, "height"));
    let some = |w: u32, h: u32| (Some(w.to_string()), Some(h.to_string()));
    assert_eq!(size(&tags[0]), some(1600, 900));
    assert_eq!(size(&tags[1]), some(1200, 800));
    assert_eq!(size(&tags[2]), some(2000, 1000));
    assert_eq!(size(&tags[3]), some(400, 300));
    assert_eq!(size(&tags[4]), some(300, 200));
    assert_eq!(size(&tags[5]), some(640, 360));
    assert_eq!(size(&tags[6]), (None, None), "remote images are left alone");
    // The first image loads at once; the rest lazily.
    assert_eq!(attr(&tags[0], "loading"), None);
    for t in &tags[1..6] {
        assert_eq!(attr(t, "loading").as_deref(), Some("lazy"), "{t}");
        assert_eq!(attr(t, "decoding").as_deref(), Some("async"), "{t}");
    }
    // Variants: only below the original's width, only for raster images wider than the
    // column (760 px by default).
    assert_eq!(
        attr(&tags[0], "srcset").as_deref(),
        Some(
            "/posts/shots/wide-480w.webp 480w, /posts/shots/wide-960w.webp 960w, /posts/shots/wide-1440w.webp 1440w"
        )
    );
    assert_eq!(
        attr(&tags[1], "srcset").as_deref(),
        Some("/posts/shots/photo-480w.webp 480w, /posts/shots/photo-960w.webp 960w")
    );
    assert_eq!(
        attr(&tags[2], "srcset").as_deref(),
        Some("/img/big-480w.webp 480w, /img/big-960w.webp 960w, /img/big-1440w.webp 1440w")
    );
    assert_eq!(
        attr(&tags[0], "sizes").as_deref(),
        Some("(max-width: 760px) 100vw, 760px")
    );
    for t in &tags[3..] {
        assert_eq!(attr(t, "srcset"), None, "{t}");
    }
    // The originals stay as the fallback; each variant is a real WebP of its width.
    assert_eq!(attr(&tags[0], "src").as_deref(), Some("wide.png"));
    for (file, w, h) in [
        ("posts/shots/wide-480w.webp", 480, 270),
        ("posts/shots/wide-1440w.webp", 1440, 810),
        ("posts/shots/photo-960w.webp", 960, 640),
        ("img/big-1440w.webp", 1440, 720),
    ] {
        let bytes = std::fs::read(s.public().join(file)).unwrap();
        assert_eq!(&bytes[8..12], b"WEBP", "{file}");
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (w, h), "{file}");
    }
    assert!(!s.exists("posts/shots/photo-1440w.webp"), "never upscaled");
    assert!(!s.exists("posts/shots/small-480w.webp"));
    assert!(!s.exists("posts/shots/anim-480w.webp"));
    // GIF and SVG are copied untouched.
    assert_eq!(
        std::fs::read(s.public().join("posts/shots/anim.gif")).unwrap(),
        fixture("anim.gif")
    );
    assert_eq!(
        std::fs::read(s.public().join("img/diagram.svg")).unwrap(),
        fixture("diagram.svg")
    );
}

#[test]
fn warm_build_decodes_nothing_and_equals_cold() {
    let s = site_with(
        &[
            ("content/posts/shots/wide.png", "wide.png"),
            ("content/posts/shots/small.png", "small.png"),
        ],
        "![Wide](wide.png)\n\n![Small](small.png)\n",
        "",
    );
    let first = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&first.stderr),
        "images: 2 read, 2 decoded, 1 social cards drawn"
    );
    // Warm: nothing read (the probe cache knows each file by its length and mtime),
    // decoded or drawn; the same bytes as a cold build.
    let warm = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&warm.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn"
    );
    // Even with the output gone, the image cache serves every variant and card.
    std::fs::remove_dir_all(s.public()).unwrap();
    let again = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&again.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn"
    );
    let kept = snapshot(&s.public());
    s.build(&["--no-cache", "--output", "cold"]).ok();
    let cold = snapshot(&s.root().join("cold"));
    assert_eq!(
        kept.keys().collect::<Vec<_>>(),
        cold.keys().collect::<Vec<_>>()
    );
    for (k, v) in &kept {
        assert!(
            v == &cold[k],
            "{k} differs between the cached and the cold build"
        );
    }
    // A touched but identical image is read and hashed again, but not decoded: its
    // variants are keyed by its content. Then the next build trusts the new mtime.
    // Its new mtime is set in the past, so that it is older than the probe cache the
    // next build saves (one modified in the cache's own clock tick is never trusted).
    s.write_bytes("content/posts/shots/small.png", &fixture("small.png"));
    std::fs::File::options()
        .write(true)
        .open(s.root().join("content/posts/shots/small.png"))
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000))
        .unwrap();
    let touched = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&touched.stderr),
        "images: 1 read, 0 decoded, 0 social cards drawn"
    );
    assert_eq!(snapshot(&s.public()), kept, "a touch changes no output");
    let warm = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&warm.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn"
    );
    // A changed image is decoded again, and only it.
    s.write_bytes("content/posts/shots/wide.png", &fixture("big.webp"));
    let changed = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&changed.stderr),
        "images: 1 read, 1 decoded, 0 social cards drawn"
    );
    assert!(
        s.read("posts/shots/index.html")
            .contains("width=\"2000\" height=\"1000\"")
    );
}

#[test]
fn unused_variants_leave_the_output_and_the_cache() {
    let s = site_with(
        &[("content/posts/shots/wide.png", "wide.png")],
        "![Wide](wide.png)\n",
        NO_CARDS,
    );
    s.build(&[]).ok();
    assert!(s.exists("posts/shots/wide-960w.webp"));
    let cache = s.root().join(".sitrep-cache/images");
    let webps = || {
        std::fs::read_dir(&cache)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "webp"))
            .count()
    };
    assert_eq!(webps(), 3);
    s.write(
        "content/posts/shots/index.md",
        &post("Shots", "2024-03-01", "", "No image now."),
    );
    s.build(&[]).ok();
    assert!(
        !s.exists("posts/shots/wide-960w.webp"),
        "stale variant removed"
    );
    assert!(!s.exists("posts/shots/wide-480w.webp"));
    assert!(
        s.exists("posts/shots/wide.png"),
        "the file beside the post is still copied"
    );
    assert_eq!(webps(), 0, "stale cache entries removed");
}

#[test]
fn missing_image_is_an_error_naming_post_and_line() {
    let s = site_with(&[], "Intro.\n\n![Gone](gone.png)\n", NO_CARDS);
    let err = s.build(&[]).failed();
    assert!(err.contains("content/posts/shots/index.md:8"), "{err}");
    assert!(err.contains("\"gone.png\" not found"), "{err}");
    assert!(err.contains("/posts/shots/gone.png"), "{err}");
}

#[test]
fn missing_front_matter_image_is_an_error() {
    let s = TestSite::new();
    s.write("site.toml", &format!("{}{NO_CARDS}", common::SITE_TOML));
    s.write(
        "content/posts/a.md",
        &post("A", "2024-03-01", "image: /img/cover.png\n", "Body."),
    );
    let err = s.build(&[]).failed();
    assert!(err.contains("content/posts/a.md:4"), "{err}");
    assert!(
        err.contains("`image` \"/img/cover.png\" not found"),
        "{err}"
    );
}

#[test]
fn front_matter_image_gets_its_size_in_open_graph() {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    s.write_bytes("static/img/cover.png", &fixture("wide.png"));
    s.write(
        "content/posts/a.md",
        &post("A", "2024-03-01", "image: /img/cover.png\n", "Body."),
    );
    s.build(&[]).ok();
    let html = s.read("posts/a/index.html");
    assert!(
        html.contains(
            "<meta property=\"og:image\" content=\"https://news.example.com/img/cover.png\">"
        ),
        "{html}"
    );
    assert!(html.contains("<meta property=\"og:image:width\" content=\"1600\">"));
    assert!(html.contains("<meta property=\"og:image:height\" content=\"900\">"));
    assert!(
        !s.exists("posts/a/card.png"),
        "a post with its own image gets no card"
    );
}

/// Each broken file fails the build with the post, the line and what is wrong, and leaves
/// the old output alone.
#[test]
fn corrupt_images_fail_the_build() {
    for (name, expect) in [
        ("truncated.png", "cannot be decoded"),
        ("lying.jpg", "cannot be decoded"),
        (
            "bomb.png",
            "30000 x 30000 pixels, more than `images.max_pixels`",
        ),
    ] {
        let s = site_with(&[], "Fine.\n", NO_CARDS);
        s.build(&[]).ok();
        let before = snapshot(&s.public());
        let ext = name.rsplit('.').next().unwrap();
        s.write_bytes(&format!("content/posts/shots/shot.{ext}"), &fixture(name));
        s.write(
            "content/posts/shots/index.md",
            &post(
                "Shots",
                "2024-03-01",
                "",
                &format!("Text.\n\n![Shot](shot.{ext})\n"),
            ),
        );
        let err = s.build(&[]).failed();
        assert!(
            err.contains("content/posts/shots/index.md:8"),
            "{name}: {err}"
        );
        assert!(err.contains(expect), "{name}: {err}");
        assert_eq!(
            snapshot(&s.public()),
            before,
            "{name}: the old output is untouched"
        );
    }
}

#[test]
fn small_corrupt_image_is_found_too() {
    // Narrower than the column: no variants, but it is still decoded once to check it.
    let s = site_with(&[], "x", NO_CARDS);
    let mut bytes = fixture("small.png");
    bytes.truncate(bytes.len() - 40);
    s.write_bytes("content/posts/shots/small.png", &bytes);
    s.write(
        "content/posts/shots/index.md",
        &post("Shots", "2024-03-01", "", "![S](small.png)\n"),
    );
    let err = s.build(&[]).failed();
    assert!(err.contains("cannot be decoded"), "{err}");
    // The probe cache knows its size and hash now, but never that it decodes: the next
    // build still fails on it.
    let again = s.build(&[]).failed();
    assert_eq!(again, err);
}

#[test]
fn social_cards_for_recent_posts_and_metadata() {
    let s = TestSite::new();
    s.write(
        "site.toml",
        &format!("{}[images]\ncard_posts = 2\n", common::SITE_TOML),
    );
    for i in 1..=3 {
        s.write(
            &format!("content/posts/p{i}.md"),
            &post(
                &format!("Post number {i}"),
                &format!("2024-01-0{i}"),
                "categories: [Ransomware]\n",
                "Body.",
            ),
        );
    }
    let r = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&r.stderr),
        "images: 0 read, 0 decoded, 2 social cards drawn"
    );
    assert!(s.exists("posts/p3/card.png") && s.exists("posts/p2/card.png"));
    assert!(
        !s.exists("posts/p1/card.png"),
        "only the newest card_posts posts"
    );
    let png = std::fs::read(s.public().join("posts/p3/card.png")).unwrap();
    assert!(png.len() < 100_000, "a card is {} bytes", png.len());
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!((img.width(), img.height()), (1200, 630));
    let html = s.read("posts/p3/index.html");
    for needle in [
        "<meta property=\"og:image\" content=\"https://news.example.com/posts/p3/card.png\">",
        "<meta property=\"og:image:width\" content=\"1200\">",
        "<meta property=\"og:image:height\" content=\"630\">",
        "<meta property=\"og:image:alt\" content=\"Post number 3\">",
        "<meta name=\"twitter:card\" content=\"summary_large_image\">",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
    let old = s.read("posts/p1/index.html");
    assert!(old.contains("<meta name=\"twitter:card\" content=\"summary\">"));
    // "all" draws the rest; false draws none.
    s.write(
        "site.toml",
        &format!("{}[images]\nsocial_cards = \"all\"\n", common::SITE_TOML),
    );
    let r = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&r.stderr),
        "images: 0 read, 0 decoded, 1 social cards drawn"
    );
    assert!(s.exists("posts/p1/card.png"));
    s.write("site.toml", &format!("{}{NO_CARDS}", common::SITE_TOML));
    s.build(&[]).ok();
    assert!(!s.exists("posts/p3/card.png"));
}

#[test]
fn the_site_overrides_the_card_template() {
    let s = TestSite::new();
    s.write("site.toml", common::SITE_TOML);
    s.write(
        "templates/social-card.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1200\" height=\"630\"><rect width=\"1200\" height=\"630\" fill=\"#00ff00\"/></svg>",
    );
    s.write(
        "content/posts/a.md",
        &post("A <script>", "2024-03-01", "", "Body."),
    );
    s.build(&[]).ok();
    let img = image::load_from_memory(&std::fs::read(s.public().join("posts/a/card.png")).unwrap())
        .unwrap()
        .to_rgb8();
    assert_eq!(img.get_pixel(600, 300).0, [0, 255, 0]);
}

#[test]
fn favicons_and_manifest_from_the_svg() {
    let s = TestSite::new();
    s.write("site.toml", &format!("{}{NO_CARDS}", common::SITE_TOML));
    s.write("content/posts/a.md", &post("A", "2024-03-01", "", "Body."));
    s.build(&[]).ok();
    for (file, size) in [
        ("favicon-32.png", 32),
        ("apple-touch-icon.png", 180),
        ("icon-192.png", 192),
        ("icon-512.png", 512),
    ] {
        let img = image::load_from_memory(&std::fs::read(s.public().join(file)).unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (size, size), "{file}");
    }
    let m: serde_json::Value = serde_json::from_str(&s.read("site.webmanifest")).unwrap();
    assert_eq!(m["name"], "Test Dispatch");
    assert_eq!(m["icons"][1]["src"], "/icon-512.png");
    let html = s.read("index.html");
    assert!(html.contains("<link rel=\"manifest\" href=\"/site.webmanifest\">"));
    assert!(html.contains("<link rel=\"apple-touch-icon\" href=\"/apple-touch-icon.png\">"));
    s.write(
        "site.toml",
        &format!(
            "{}[images]\nsocial_cards = false\nfavicons = false\n",
            common::SITE_TOML
        ),
    );
    s.build(&[]).ok();
    assert!(!s.exists("site.webmanifest") && !s.exists("icon-192.png"));
    assert!(!s.read("index.html").contains("rel=\"manifest\""));
}

/// The top-level boxes of an ISOBMFF (AVIF) file: (type, payload).
fn isobmff_boxes(b: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= b.len() {
        let size = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        assert!(size >= 8 && i + size <= b.len(), "a damaged box at {i}");
        out.push((
            String::from_utf8_lossy(&b[i + 4..i + 8]).into_owned(),
            &b[i + 8..i + size],
        ));
        i += size;
    }
    out
}

/// The width and height of an AVIF file, from its `ispe` property.
fn avif_size(b: &[u8]) -> (u32, u32) {
    let at = b
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("an ispe box");
    let p = &b[at + 8..]; // the type, then version and flags
    (
        u32::from_be_bytes(p[0..4].try_into().unwrap()),
        u32::from_be_bytes(p[4..8].try_into().unwrap()),
    )
}

#[test]
fn avif_variants_in_a_picture_before_webp() {
    let s = site_with(
        &[
            ("content/posts/shots/wide.png", "wide.png"),
            ("content/posts/shots/small.png", "small.png"),
        ],
        "![Small](small.png)\n\n![Wide](wide.png)\n",
        "[images]\nsocial_cards = false\nformats = [\"webp\", \"avif\"]\nwidths = [480, 960]\n",
    );
    s.build(&[]).ok();
    let html = s.read("posts/shots/index.html");
    assert!(
        html.contains(
            "<picture><source type=\"image/avif\" srcset=\"/posts/shots/wide-480w.avif 480w, /posts/shots/wide-960w.avif 960w\" sizes=\"(max-width: 760px) 100vw, 760px\">\
             <img src=\"wide.png\" alt=\"Wide\" width=\"1600\" height=\"900\" loading=\"lazy\" decoding=\"async\" srcset=\"/posts/shots/wide-480w.webp 480w, /posts/shots/wide-960w.webp 960w\" sizes=\"(max-width: 760px) 100vw, 760px\" /></picture>"
        ),
        "{html}"
    );
    // An image without variants is no picture.
    assert!(
        html.contains(
            "<p><img src=\"small.png\" alt=\"Small\" width=\"400\" height=\"300\" /></p>"
        ),
        "{html}"
    );
    for (w, h) in [(480, 270), (960, 540)] {
        let bytes = std::fs::read(s.public().join(format!("posts/shots/wide-{w}w.avif"))).unwrap();
        let top = isobmff_boxes(&bytes);
        assert_eq!(top[0].0, "ftyp");
        assert_eq!(&top[0].1[..4], b"avif", "the major brand");
        assert!(top.iter().any(|(t, _)| t == "mdat"), "{top:?}");
        assert_eq!(avif_size(&bytes), (w, h));
        assert!(s.exists(&format!("posts/shots/wide-{w}w.webp")));
    }
    // Warm: nothing read or decoded; AVIF off again: the AVIF files leave the output.
    let warm = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&warm.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn"
    );
    s.write(
        "site.toml",
        &format!(
            "{}[images]\nsocial_cards = false\nwidths = [480, 960]\n",
            common::SITE_TOML
        ),
    );
    let webp_only = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&webp_only.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn",
        "the WebP variants were made already"
    );
    assert!(!s.exists("posts/shots/wide-480w.avif"));
    assert!(!s.read("posts/shots/index.html").contains("<picture>"));
}

#[test]
fn an_unknown_variant_format_is_an_error_naming_the_key() {
    let s = site_with(
        &[("content/posts/shots/wide.png", "wide.png")],
        "![Wide](wide.png)\n",
        NO_CARDS,
    );
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    s.write(
        "site.toml",
        &format!(
            "{}[images]\nformats = [\"webp\", \"jxl\"]\n",
            common::SITE_TOML
        ),
    );
    let err = common::fails(&s, &before);
    assert!(err.contains("site.toml:"), "{err}");
    assert!(
        err.contains("`images.formats` lists \"jxl\", which sitrep cannot write"),
        "{err}"
    );
    assert!(err.contains("list \"webp\", \"avif\" or both"), "{err}");
}

#[test]
fn exif_orientation_is_applied_to_sizes_and_variants() {
    let s = site_with(
        &[
            ("content/posts/shots/upright.jpg", "exif-orientation-1.jpg"),
            ("content/posts/shots/turned.jpg", "exif-orientation-6.jpg"),
        ],
        "![Upright](upright.jpg)\n\n![Turned](turned.jpg)\n",
        NO_CARDS,
    );
    // The file itself is stored 1200 x 1800 with orientation 6.
    let raw = image::load_from_memory(&fixture("exif-orientation-6.jpg")).unwrap();
    assert_eq!((raw.width(), raw.height()), (1200, 1800));
    s.build(&[]).ok();
    let tags = imgs(&s.read("posts/shots/index.html"));
    // Shown as browsers show it: upright, 1800 x 1200.
    for t in &tags {
        assert_eq!(attr(t, "width").as_deref(), Some("1800"), "{t}");
        assert_eq!(attr(t, "height").as_deref(), Some("1200"), "{t}");
    }
    assert_eq!(
        attr(&tags[1], "srcset").as_deref(),
        Some(
            "/posts/shots/turned-480w.webp 480w, /posts/shots/turned-960w.webp 960w, /posts/shots/turned-1440w.webp 1440w"
        )
    );
    // The variant is the upright photo: the same picture as the upright file's variant
    // (turned the wrong way, it would differ in nearly every pixel).
    let variant = |name: &str| {
        let b = std::fs::read(s.public().join(format!("posts/shots/{name}-480w.webp"))).unwrap();
        image::load_from_memory(&b).unwrap().to_luma8()
    };
    let (up, turned) = (variant("upright"), variant("turned"));
    assert_eq!((turned.width(), turned.height()), (480, 320));
    assert_eq!(up.dimensions(), turned.dimensions());
    let diff = |a: &image::GrayImage, b: &image::GrayImage| {
        a.pixels()
            .zip(b.pixels())
            .map(|(p, q)| (i32::from(p[0]) - i32::from(q[0])).unsigned_abs() as u64)
            .sum::<u64>()
            / u64::from(a.width() * a.height())
    };
    let upside_down = image::imageops::rotate180(&up);
    assert!(
        diff(&up, &turned) * 4 < diff(&upside_down, &turned),
        "same picture: {} per pixel, turned half a turn: {}",
        diff(&up, &turned),
        diff(&upside_down, &turned)
    );
    // A warm build knows the upright size without reading the file.
    let warm = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&warm.stderr),
        "images: 0 read, 0 decoded, 0 social cards drawn"
    );
}

#[test]
fn feeds_give_images_their_size_only() {
    let s = site_with(
        &[("content/posts/shots/wide.png", "wide.png")],
        "Intro.\n\n![Wide](wide.png)\n",
        "[images]\nsocial_cards = false\nformats = [\"webp\", \"avif\"]\nwidths = [480]\n",
    );
    s.build(&[]).ok();
    let img = "<img src=\"https://news.example.com/posts/shots/wide.png\" alt=\"Wide\" width=\"1600\" height=\"900\" />";
    let json: serde_json::Value = serde_json::from_str(&s.read("feed.json")).unwrap();
    assert!(
        json["items"][0]["content_html"]
            .as_str()
            .unwrap()
            .contains(img),
        "{json}"
    );
    let escaped = img
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    for feed in ["rss.xml", "atom.xml"] {
        let text = s.read(feed);
        assert!(text.contains(&escaped), "{feed}: {text}");
        for absent in ["srcset", "loading", "picture"] {
            assert!(!text.contains(absent), "{feed} has {absent}");
        }
    }
}

fn intel_fixture(rel: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/intel/{rel}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The colour of one pixel of a post's card.
fn card_pixel(s: &TestSite, slug: &str, x: u32, y: u32) -> [u8; 3] {
    let png = std::fs::read(s.public().join(format!("posts/{slug}/card.png"))).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1200, 630));
    img.get_pixel(x, y).0
}

#[test]
fn cards_show_the_worst_cves_severity_band_from_the_data() {
    let s = TestSite::new();
    for r in [
        "2024/6xxx/CVE-2024-6387.json",
        "2024/3xxx/CVE-2024-3400.json",
    ] {
        s.write_bytes(
            &format!("data/cve/{r}"),
            &intel_fixture(&format!("cve/{r}")),
        );
    }
    s.write_bytes("data/kev.json", &intel_fixture("kev.json"));
    let posts = [
        ("ssh", "cves: [CVE-2024-6387]\n"),
        ("panos", "cves: [CVE-2024-6387, CVE-2024-3400]\n"),
        ("plain", ""),
        ("unknown", "cves: [CVE-2099-0001]\n"),
    ];
    for (slug, fm) in posts {
        s.write(
            &format!("content/posts/{slug}.md"),
            &post(&format!("Post {slug}"), "2024-07-02", fm, "Body."),
        );
    }
    let first = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&first.stderr),
        "images: 0 read, 0 decoded, 4 social cards drawn"
    );
    // The band across the bottom: HIGH 8.1 is orange; CVE-2024-3400 (CVSS 10.0, in KEV)
    // is the worst of the second post's; no data, no band: the dark background (the
    // theme's `--mast` in its dark scheme).
    let (high, critical, dark_bg) = ([0xd9, 0x48, 0x0f], [0xb3, 0x12, 0x1a], [0x08, 0x0b, 0x12]);
    assert_eq!(card_pixel(&s, "ssh", 600, 622), high);
    assert_eq!(card_pixel(&s, "panos", 600, 622), critical);
    assert_eq!(card_pixel(&s, "plain", 600, 622), dark_bg);
    assert_eq!(card_pixel(&s, "unknown", 600, 622), dark_bg);
    // The key of a card covers its band: without the record, the first post's card is
    // drawn again, without a band; the others are not drawn again.
    std::fs::remove_file(s.root().join("data/cve/2024/6xxx/CVE-2024-6387.json")).unwrap();
    let changed = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&changed.stderr),
        "images: 0 read, 0 decoded, 1 social cards drawn"
    );
    assert_eq!(card_pixel(&s, "ssh", 600, 622), dark_bg);
    assert_eq!(card_pixel(&s, "panos", 600, 622), critical);
    // The light palette: every card again, on the theme's light background.
    s.write(
        "site.toml",
        &format!("{}[images]\ncard_theme = \"light\"\n", common::SITE_TOML),
    );
    let light = s.build(&["--timings"]).ok();
    assert_eq!(
        timings_line(&light.stderr),
        "images: 0 read, 0 decoded, 4 social cards drawn"
    );
    assert_eq!(card_pixel(&s, "plain", 1150, 40), [0xff, 0xff, 0xff]);
    assert_eq!(card_pixel(&s, "panos", 600, 622), critical);
    // Warm equals cold, bands and all.
    let kept = snapshot(&s.public());
    s.build(&["--no-cache", "--output", "cold"]).ok();
    assert_eq!(snapshot(&s.root().join("cold")), kept);
}

#[test]
fn a_bad_card_theme_is_an_error_naming_the_key() {
    let s = TestSite::new();
    s.write("content/posts/a.md", &post("A", "2024-03-01", "", "Body."));
    s.build(&[]).ok();
    let before = snapshot(&s.public());
    s.write(
        "site.toml",
        &format!("{}[images]\ncard_theme = \"sepia\"\n", common::SITE_TOML),
    );
    let err = common::fails(&s, &before);
    assert!(err.contains("site.toml:"), "{err}");
    assert!(err.contains("card_theme"), "{err}");
    assert!(err.contains("dark") && err.contains("light"), "{err}");
}

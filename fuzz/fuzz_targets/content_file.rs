//! One content file through everything `content` does with it: front matter, field checks
//! (slugs, aliases, related links, image, CVE ids), Markdown, line numbers of links and
//! warnings, description; then the site index (taxonomies, route clashes). Never a panic,
//! and every route and alias stays inside the output folder.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sitrep::config::Config;
use sitrep::content::{Content, RelatedRef, check_link, parse_content_file};
use sitrep::content::highlight::Highlighter;
use sitrep::index;
use sitrep::output::checked_relative;
use sitrep::urls::{self, Urls};

static HL: LazyLock<Highlighter> = LazyLock::new(Highlighter::new);
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::parse("title = \"T\"\nbase_url = \"https://example.com/blog\"\nposts_per_page = 2\n")
        .expect("a valid config")
        .0
});
const RELS: [&str; 4] = [
    "posts/2024-05-01-a-post.md",
    "posts/b/index.md",
    "about.md",
    "legal/index.md",
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, bytes)) = data.split_first() else {
        return;
    };
    let rel = Path::new(RELS[(flags & 3) as usize]);
    let urls = Urls::new(&CONFIG.base_url);
    let lines = bytes.split(|&b| b == b'\n').count();
    let r = parse_content_file(rel, bytes, &CONFIG, &HL, &urls.cve_prefix(), flags & 4 != 0);
    for d in r.errors.iter().chain(&r.warnings) {
        if let Some(l) = d.line {
            assert!(l >= 1 && l <= lines, "line {l} of {lines}: {d}");
        }
        let _ = d.to_string();
    }
    let Some(page) = r.page else {
        return;
    };
    assert!(r.errors.is_empty());
    if !page.route.is_empty() {
        assert!(checked_relative(&page.route).is_ok(), "{:?}", page.route);
    }
    for a in &page.aliases {
        assert!(checked_relative(a.trim_end_matches('/')).is_ok(), "{a:?}");
        let _ = urls::output_file(a);
    }
    if let Some(img) = &page.image {
        assert!(check_link(img).is_ok(), "{img:?}");
    }
    for rel in &page.related {
        if let RelatedRef::External { url, .. } = rel {
            assert!(check_link(url).is_ok(), "{url:?}");
        }
    }
    for l in &page.links {
        assert!(
            l.line >= 1 && l.line <= lines,
            "link on line {} of {lines}",
            l.line
        );
    }
    let mut content = Content::default();
    let mut twin = (*page).clone();
    twin.file = Path::new("content/posts/twin.md").to_path_buf();
    let twin = std::sync::Arc::new(twin);
    match page.kind {
        sitrep::content::PageKind::Post => content.posts.extend([page, twin]),
        sitrep::content::PageKind::Page => content.pages.extend([page, twin]),
    }
    // Two pages with one route: the route table must refuse them, not panic.
    let Ok(site) = index::index(content, &urls, Default::default()) else {
        return;
    };
    let jobs = site
        .posts
        .iter()
        .enumerate()
        .map(|(i, p)| (p, sitrep::render::Origin::Post(i)))
        .chain(
            site.pages
                .iter()
                .enumerate()
                .map(|(j, p)| (p, sitrep::render::Origin::Page(j))),
        )
        .map(|(p, origin)| sitrep::render::Job {
            path: sitrep::urls::output_file(&p.route),
            fingerprint: Default::default(),
            kind: sitrep::render::JobKind::Bytes(Default::default()),
            origin,
        })
        .collect();
    assert!(sitrep::render::routes::claim_all(jobs, &site).is_err());
});

//! Starting points an author asks for: a new post (`sitrep new`) and a new site
//! (`sitrep init`). Both only ever create files; neither overwrites one.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use include_dir::Dir;

use crate::config::CONFIG_FILE;
use crate::error::Diagnostic;
use crate::render::theme::{DEFAULT_THEME, DEFAULT_THEME_NAME};
use crate::support::slug::{slug_from_file_stem, slugify};

/// Quotes text as a YAML double-quoted scalar, which reads back as exactly `text`.
pub fn yaml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // YAML 1.1 line breaks, and every other control character, escaped by number.
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of a new post: front matter with the title, the date, two empty TLDR bullets
/// (empty bullets are left out of the page until they are filled in) and the tags.
pub fn post_text(title: &str, date: &str, tags: &[String]) -> String {
    let tags: Vec<String> = tags.iter().map(|t| yaml_string(t)).collect();
    format!(
        "---\n\
         title: {}\n\
         date: {date}\n\
         tldr:\n  - \"\"\n  - \"\"\n\
         tags: [{}]\n\
         ---\n\n\
         Write the post here, in Markdown. Fill in the two TLDR bullets above: they are the\n\
         summary shown at the top of the post and in listings.\n",
        yaml_string(title),
        tags.join(", ")
    )
}

/// Splits `--tags a, b,,c` into clean, distinct terms.
pub fn split_tags(tags: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// Writes `content/posts/<slug>.md` for a new post dated `date` (YYYY-MM-DD); returns its
/// path relative to `root`. Refuses to overwrite, and refuses a title with no slug.
pub fn new_post(
    root: &Path,
    title: &str,
    tags: &[String],
    date: &str,
) -> Result<PathBuf, Diagnostic> {
    if !root.join(CONFIG_FILE).is_file() {
        return Err(Diagnostic::error(
            root.join(CONFIG_FILE),
            "there is no site here: site.toml is missing",
        )
        .with_help("run `sitrep new` in the site's folder, pass --root DIR, or create a site with `sitrep init DIR`"));
    }
    let title = title.trim();
    let slug = slugify(title);
    if slug.is_empty() {
        return Err(Diagnostic::error(
            "content/posts",
            format!("the title {title:?} has no letters or digits, so it gives no file name"),
        )
        .with_help("give the post a title with letters or digits, such as \"Patch Tuesday\""));
    }
    for (i, t) in tags.iter().enumerate() {
        if slugify(t).is_empty() {
            return Err(Diagnostic::error(
                "--tags",
                format!(
                    "tag {} ({t:?}) has no letters or digits, so it cannot have a page",
                    i + 1
                ),
            )
            .with_help(
                "use tags with letters or digits, separated by commas: --tags ransomware,patch",
            ));
        }
    }
    let rel = PathBuf::from("content/posts").join(format!("{slug}.md"));
    if let Some(existing) = post_with_slug(root, &slug) {
        return Err(already(&existing));
    }
    let path = root.join(&rel);
    let dir = root.join("content/posts");
    fs::create_dir_all(&dir).map_err(|e| Diagnostic::io(&dir, "create", &e))?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => already(&rel),
            _ => Diagnostic::io(&rel, "create", &e),
        })?;
    file.write_all(post_text(title, date, tags).as_bytes())
        .map_err(|e| Diagnostic::io(&rel, "write", &e))?;
    Ok(rel)
}

/// A post file or bundle whose name gives `slug` (`x.md`, `2024-05-01-x.md`, `x/index.md`).
fn post_with_slug(root: &Path, slug: &str) -> Option<PathBuf> {
    let posts = Path::new("content/posts");
    let mut names: Vec<_> = fs::read_dir(root.join(posts))
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.into_iter().find_map(|name| {
        let path = root.join(posts).join(&name);
        if path.is_dir() && path.join("index.md").is_file() {
            (slug_from_file_stem(&name) == slug).then(|| posts.join(&name).join("index.md"))
        } else {
            let stem = name.strip_suffix(".md")?;
            (slug_from_file_stem(stem) == slug).then(|| posts.join(&name))
        }
    })
}

fn already(rel: &Path) -> Diagnostic {
    Diagnostic::error(
        rel,
        "a post with this slug already exists; it was left as it was",
    )
    .with_help("choose another title, or edit the existing post")
}

/// The site.toml of a new site.
pub const SITE_TOML: &str = r#"# The configuration of this sitrep site. Only `title` and `base_url` are required;
# every other key shows its default value.

# The site's name: in the header, the page titles and the feeds.
title = "My Security Blog"
# The address the site will be published at. Feeds, the sitemap and canonical links use it.
# (`sitrep serve` uses its own local address instead.)
base_url = "https://example.com"
description = "Security news, briefly"
language = "en"
# A folder under themes/. `sitrep init` wrote the default theme there for you to change.
theme = "default"

posts_per_page = 10      # the home page and tag pages paginate by this
latest_posts = 5         # length of the "Latest from Blog" sidebar
feed_limit = 20          # posts in rss.xml, atom.xml and feed.json
words_per_minute = 200   # for "3 min read"
cjk_chars_per_minute = 500  # the same for Chinese, Japanese and Korean, a character each
related_posts = 3        # "Related coverage" under each post (0: none)
search = true            # the /search/ page and its index in search/
search_body_words = 150  # body words search reads, from the start ("all": every word)

[markdown]
highlight_theme = "base16-ocean.dark"   # any syntect theme; code gets CSS classes
highlight_code = true

[images]
responsive = true        # width, height, lazy loading and a WebP srcset for local images
widths = [480, 960, 1440]  # WebP variants of images wider than the content column
quality = 80             # WebP quality, 1-100
column_width = 760       # the theme's content column, in CSS pixels
formats = ["webp"]       # add "avif" for AVIF variants too (smaller, slower to make)
max_pixels = 50000000    # larger images are refused instead of decoded
social_cards = "recent"  # a 1200x630 card per post without `image`: "recent", "all" or false
card_posts = 50          # with "recent": how many of the newest posts get one
card_theme = "dark"      # the theme's palette for cards: "dark" or "light"
favicons = true          # PNG icons and site.webmanifest from favicon.svg
[editorial]
# A post with `expires:` in the past is taken down. "absent": its URL answers with the
# 404 page; "gone": a small "this post was withdrawn" page is written there.
expired = "absent"

# Files for the host the site is published on; see docs/deploy.md in sitrep's repository.
[deploy]
redirects = true         # _redirects (Netlify, Cloudflare Pages): every alias as a 301
force_redirects = false  # true on Netlify: `301!`, so the redirect wins over the alias page
meta_tags = true         # the CSP and referrer policy as <meta> tags (GitHub and GitLab Pages)
nojekyll = true          # .nojekyll, so GitHub Pages serves the folder as it is
htaccess = false         # .htaccess for Apache
precompress = false      # .gz and .br beside text files over 1 kB (nginx, Caddy, Apache)
brotli = true            # with precompress: the .br files too
hash_assets = true       # theme CSS/JS/SVG get content-hashed copies, cacheable for a year

# /.well-known/security.txt (RFC 9116): how to report a security problem to you.
# Uncomment, fill in, and renew `expires` before it passes (the build fails after that).
# [security_txt]
# contact = "mailto:security@example.com"
# expires = "2027-01-31T00:00:00Z"     # less than a year ahead
# policy = "https://example.com/disclosure-policy"
# preferred_languages = "en"
[data]
# Threat-intelligence data, each file optional (`sitrep data sync` downloads them):
# CVE JSON 5 records, the CISA KEV catalog, FIRST EPSS scores, MITRE ATT&CK (STIX).
cve_dir = "data/cve"
kev = "data/kev.json"
epss = "data/epss.csv"
attack = "data/attack/enterprise-attack.json"
strict = true            # false: a bad record is left out with a warning

[extra]                  # free-form, handed to templates as site.extra
"#;

/// The `.gitignore` of a new site.
pub const GITIGNORE: &str = "# Built by `sitrep build`; not a source.\n/public/\n# Left by a build that was killed.\n/.public.sitrep-staging-*\n";

/// The example post of a new site, for `date` (YYYY-MM-DD).
pub fn example_post(date: &str) -> String {
    format!(
        r#"---
title: "Welcome to your new site"
date: {date}
tldr:
  - This post was written by `sitrep init`; edit it or delete it.
  - Write a new post with `sitrep new "Title"`, preview with `sitrep serve`.
tags: [sitrep]
categories: [Meta]
---

Posts live in `content/posts/`, one Markdown file each, with front matter at the top:
a title, a date, two or three TLDR bullets, tags and categories, CVE ids such as
CVE-2024-3400 (they link to their own page), and related links.

## Writing

Preview the site while you write:

```sh
sitrep serve
```

Every save rebuilds the site and reloads the page in the browser. When you are done,
`sitrep check` looks for broken links (like a typo in [this one](#publishing)) and
`sitrep build` writes the site into `public/`.

## Publishing

Set `base_url` in `site.toml` to the address the site will have, run `sitrep build`, and
copy `public/` to any static host.
"#
    )
}

/// Creates a new site in `dir`: site.toml, the default theme in `themes/default/`, one
/// example post dated `date` and a `.gitignore`. `dir` must be new or empty.
/// Returns the files written, relative to `dir`.
pub fn init_site(dir: &Path, date: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err(
                Diagnostic::error(dir, "this path exists and is not a folder")
                    .with_help("choose a new folder name for the site"),
            );
        }
        let mut entries = fs::read_dir(dir).map_err(|e| Diagnostic::io(dir, "read", &e))?;
        if entries.next().is_some() {
            return Err(Diagnostic::error(
                dir,
                "the folder is not empty; sitrep init only writes into a new or empty folder",
            )
            .with_help(
                "choose a new folder name, such as `sitrep init my-site`, or empty this one",
            ));
        }
    }
    fs::create_dir_all(dir).map_err(|e| Diagnostic::io(dir, "create", &e))?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (PathBuf::from(CONFIG_FILE), SITE_TOML.as_bytes().to_vec()),
        (PathBuf::from(".gitignore"), GITIGNORE.as_bytes().to_vec()),
        (
            PathBuf::from("content/posts/welcome.md"),
            example_post(date).into_bytes(),
        ),
    ];
    let theme_dir = PathBuf::from("themes").join(DEFAULT_THEME_NAME);
    theme_files(&DEFAULT_THEME, &theme_dir, &mut files);
    for (rel, bytes) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Diagnostic::io(parent, "create", &e))?;
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Diagnostic::io(&path, "create", &e))?;
        f.write_all(bytes)
            .map_err(|e| Diagnostic::io(&path, "write", &e))?;
    }
    Ok(files.into_iter().map(|(rel, _)| rel).collect())
}

fn theme_files(dir: &'static Dir<'static>, under: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for f in dir.files() {
        out.push((under.join(f.path()), f.contents().to_vec()));
    }
    for d in dir.dirs() {
        theme_files(d, under, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_strings_round_trip() {
        for title in [
            "Plain",
            "Quotes \"inside\" and 'single'",
            "Colon: then # hash",
            "- starts like a list",
            "back\\slash",
            "yes",
            "null",
            "2024-05-01",
            "tab\tand\nnewline",
            "bell\u{7} and line sep\u{2028}",
            "日本語のタイトル",
            "@at `tick` | pipe > gt { brace } [ bracket ] % & * !",
        ] {
            let yaml = format!("title: {}\n", yaml_string(title));
            let back: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
            assert_eq!(back["title"].as_str(), Some(title), "{yaml}");
        }
    }

    #[test]
    fn tags_split_and_dedupe() {
        assert_eq!(split_tags(" a, b,,a ,c d"), ["a", "b", "c d"]);
        assert!(split_tags(" , ").is_empty());
    }
}

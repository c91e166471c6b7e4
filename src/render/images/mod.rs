//! Images the build makes: resized variants of the images in bodies, social cards and the
//! favicon set, all planned as [`Job`]s like every other output.
//!
//! [`prepare`] runs between indexing and rendering. It finds each page's local images
//! ([`crate::content::images`]), probes their sizes from their headers, and makes what is
//! missing from the image cache, in parallel: WebP variants of raster images wider than the
//! content column, social cards, favicon PNGs. The cache (`.sitrep-cache/images/`, or a
//! temporary folder with `--no-cache`) is keyed by a hash of the source's bytes and every
//! setting that changes the result, so a warm build with no new image decodes nothing;
//! entries no build used are removed. The variants are then copied into the output like
//! any static file; one that is no longer used is left out of the plan, and so removed
//! from the output.

pub mod card_style;
pub mod cards;
pub mod favicons;
pub mod probes;
pub mod variants;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::config::Config;
use crate::config::images::{ImagesConfig, VariantFormat};
use crate::content::Page;
use crate::content::images::{self as content_images, Probe, Shown};
use crate::error::Diagnostic;
use crate::index::Site;
use crate::render::routes::Origin;
use crate::render::templates::Templates;
use crate::render::theme::{FileSource, ThemeFiles};
use crate::render::{Job, JobKind};
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::Urls;

/// The image cache folder, inside the build cache.
pub const CACHE_SUBDIR: &str = "images";
/// Bumped when the variants' or cards' bytes would change for the same inputs.
const FORMAT: u64 = 3;

/// What a page shows of images: its body's images and its social image.
#[derive(Debug, Default, Clone)]
pub struct PageImages {
    pub shown: Vec<Shown>,
    /// The social preview: absolute URL, width, height (its own `image`, or its card).
    pub social: Option<Social>,
    pub fingerprint: Fingerprint,
}

/// A page's social preview image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Social {
    pub url: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub alt: String,
}

/// Everything [`prepare`] made.
#[derive(Debug, Default)]
pub struct Images {
    /// By page file.
    pages: HashMap<PathBuf, PageImages>,
    /// Variants, cards, favicons and the manifest.
    pub jobs: Vec<Job>,
    /// The column width, for `sizes`.
    column_width: u32,
    responsive: bool,
    /// How many images were decoded, cards drawn and favicons rasterised (0 on a warm
    /// build with nothing new).
    pub decoded: usize,
    pub cards_drawn: usize,
    /// How many source image files were read (0 on a warm build with no new or touched
    /// image: the probe cache gives their hash and size from `stat` alone).
    pub read: usize,
    /// Images that pages show but the site lacks, each an error naming the page and line:
    /// a build fails on them; `check` reports them beside the broken links.
    pub missing: Vec<Diagnostic>,
    /// Keeps a `--no-cache` build's folder alive until the outputs are written.
    _tmp: Option<tempfile::TempDir>,
}

impl Images {
    /// A page's images (none for a page without any).
    pub fn of(&self, page: &Page) -> Option<&PageImages> {
        self.pages.get(&page.file)
    }

    /// Covers everything [`Images::body`] and the social image add to `page`.
    pub fn fingerprint(&self, page: &Page) -> Fingerprint {
        self.of(page).map_or(0, |p| p.fingerprint)
    }

    /// A feed's copy of the body of `page`: its images with `width` and `height` only
    /// (`None`: the body as it is).
    pub fn feed_body(&self, page: &Page, html: &str) -> Option<String> {
        match self.of(page) {
            Some(p) if self.responsive && !p.shown.is_empty() => {
                Some(content_images::rewrite_sizes(html, &p.shown))
            }
            _ => None,
        }
    }

    /// The body of `page` with its images' attributes added.
    pub fn body(&self, page: &Page, html: &str) -> String {
        match self.of(page) {
            Some(p) if self.responsive && !p.shown.is_empty() => {
                content_images::rewrite(html, &p.shown, self.column_width)
            }
            _ => html.to_string(),
        }
    }
}

/// Where a site path's bytes come from: a file beside a page, or a static file.
#[derive(Debug, Clone)]
enum Source {
    Disk(PathBuf),
    Embedded(&'static [u8]),
}

impl Source {
    fn read(&self) -> std::io::Result<std::borrow::Cow<'static, [u8]>> {
        match self {
            Source::Disk(p) => std::fs::read(p).map(std::borrow::Cow::Owned),
            Source::Embedded(b) => Ok(std::borrow::Cow::Borrowed(b)),
        }
    }
}

/// One use of an image: which page, which line, as written.
#[derive(Debug, Clone)]
struct Use {
    page: PathBuf,
    line: Option<usize>,
    dest: String,
}

/// What is known of one source image after probing.
#[derive(Debug, Clone)]
struct Known {
    probe: Probe,
    hash: Fingerprint,
    widths: Vec<u32>,
}

/// Finds, probes and processes every image the site shows; plans their outputs.
/// `cache_dir`: the image cache; `None` for a temporary one (`--no-cache`).
pub fn prepare(
    config: &Config,
    urls: &Urls,
    theme: &ThemeFiles,
    templates: &Templates,
    site: &Site,
    intel: &crate::intel::Intel,
    cache_dir: Option<PathBuf>,
) -> Result<(Images, Vec<Diagnostic>), Vec<Diagnostic>> {
    let settings = &config.images;
    let (dir, tmp) = cache_folder(cache_dir)?;
    let tmp_is_none = tmp.is_none();
    let mut images = Images {
        column_width: settings.column_width,
        responsive: settings.responsive,
        _tmp: tmp,
        ..Images::default()
    };
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    let pages: Vec<&Page> = site.posts.iter().chain(&site.pages).map(|p| &**p).collect();
    let any_local = pages
        .iter()
        .any(|p| p.links.iter().any(|l| l.is_image) || p.image.as_deref().is_some_and(is_local));
    if any_local {
        let files = site_files(theme, site);
        let uses = find_uses(&pages, &files, urls, &mut images.missing);
        let probes = probes::Probes::load(&dir);
        let known = probe_all(
            &uses,
            &files,
            settings,
            &dir,
            &probes,
            &mut images.decoded,
            &mut errors,
        );
        images.read = probes.reads.load(std::sync::atomic::Ordering::Relaxed);
        if tmp_is_none {
            probes.save(&dir);
        }
        images.jobs.extend(variant_jobs(&known, settings, &dir));
        images.jobs.sort_by(|a, b| a.path.cmp(&b.path));
        let formats = settings.variant_formats();
        for p in &pages {
            if let Some(shown) = page_images(p, &known, &formats, urls) {
                images.pages.insert(p.file.clone(), shown);
            }
        }
    }

    if errors.is_empty() {
        let (card_warnings, card_errors) = add_cards(
            config,
            urls,
            theme,
            templates,
            site,
            intel,
            &dir,
            &mut images,
        );
        warnings.extend(card_warnings);
        errors.extend(card_errors);
        match favicons::plan(config, theme, &dir) {
            Ok(jobs) => images.jobs.extend(jobs),
            Err(d) => errors.push(d),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if images._tmp.is_none() {
        prune(&dir, &images.jobs);
    }
    Ok((images, warnings))
}

/// The image cache folder: `cache_dir`, or a temporary folder kept alive by the second
/// value.
fn cache_folder(
    cache_dir: Option<PathBuf>,
) -> Result<(PathBuf, Option<tempfile::TempDir>), Vec<Diagnostic>> {
    Ok(match cache_dir {
        Some(d) => (d, None),
        None => {
            let t = tempfile::tempdir().map_err(|e| {
                vec![Diagnostic::io(
                    Path::new("(temporary folder)"),
                    "create",
                    &e,
                )]
            })?;
            (t.path().to_path_buf(), Some(t))
        }
    })
}

/// Every site path a file is served from: static files, then files beside pages (which
/// win, as in the plan).
fn site_files(theme: &ThemeFiles, site: &Site) -> HashMap<String, Source> {
    let mut files: HashMap<String, Source> = HashMap::new();
    for (rel, (src, _)) in &theme.statics {
        let s = match src {
            FileSource::Disk(p) => Source::Disk(p.clone()),
            FileSource::Embedded(b) => Source::Embedded(b),
        };
        files.insert(slashed(rel), s);
    }
    for a in &site.assets {
        files.insert(slashed(&a.dest), Source::Disk(a.source.clone()));
    }
    files
}

/// The uses of each local image the pages show, by site path; an error in `missing` for
/// each image the site lacks.
fn find_uses(
    pages: &[&Page],
    files: &HashMap<String, Source>,
    urls: &Urls,
    missing: &mut Vec<Diagnostic>,
) -> BTreeMap<String, Vec<Use>> {
    let mut uses: BTreeMap<String, Vec<Use>> = BTreeMap::new();
    for p in pages {
        let mut wanted: Vec<(String, Option<usize>)> = p
            .links
            .iter()
            .filter(|l| l.is_image)
            .map(|l| (l.dest.clone(), Some(l.line)))
            .collect();
        if let Some(img) = p.image.as_deref().filter(|i| is_local(i)) {
            wanted.push((img.to_string(), None));
        }
        for (dest, line) in wanted {
            let Some(path) = content_images::site_path(&dest, &p.route, urls) else {
                continue;
            };
            if !files.contains_key(&path) {
                let what = if line.is_some() { "image" } else { "`image`" };
                missing.push(
                    Diagnostic::error(&p.file, format!("{what} {dest:?} not found: the site has no file /{path}"))
                        .at_opt(line.or_else(|| front_matter_line(&p.file, "image")))
                        .with_help("put the file beside the post (content/posts/<slug>/index.md with its images in that folder) or in static/, or fix the path"),
                );
                continue;
            }
            uses.entry(path).or_default().push(Use {
                page: p.file.clone(),
                line,
                dest,
            });
        }
    }
    uses
}

/// Probes each image once, in parallel, decoding only what the cache lacks; counts the
/// images decoded in `decoded`.
fn probe_all<'a>(
    uses: &'a BTreeMap<String, Vec<Use>>,
    files: &HashMap<String, Source>,
    settings: &ImagesConfig,
    dir: &Path,
    probes: &probes::Probes,
    decoded: &mut usize,
    errors: &mut Vec<Diagnostic>,
) -> HashMap<&'a str, Known> {
    let paths: Vec<(&String, &Vec<Use>)> = uses.iter().collect();
    let results: Vec<Result<(Known, bool), Diagnostic>> = paths
        .par_iter()
        .map(|(path, used)| {
            let src = &files[*path];
            match cached(src, settings, dir, probes) {
                Some(k) => Ok((k, false)),
                None => process(path, src, &used[0], settings, dir, probes),
            }
        })
        .collect();
    let mut known: HashMap<&str, Known> = HashMap::new();
    for ((path, _), r) in paths.iter().zip(results) {
        match r {
            Ok((k, was_decoded)) => {
                *decoded += usize::from(was_decoded);
                known.insert(path.as_str(), k);
            }
            Err(d) => errors.push(d),
        }
    }
    known
}

/// A job per resized variant, copied from the cache.
fn variant_jobs(known: &HashMap<&str, Known>, settings: &ImagesConfig, dir: &Path) -> Vec<Job> {
    let mut jobs = Vec::new();
    let mut planned: BTreeSet<String> = BTreeSet::new();
    let formats = settings.variant_formats();
    for (path, k) in known {
        for &w in &k.widths {
            for &f in &formats {
                let out = variant_path(path, w, f);
                if planned.insert(out.clone()) {
                    let key = variant_key(k.hash, w, f, settings);
                    jobs.push(Job {
                        path: PathBuf::from(&out),
                        fingerprint: key,
                        kind: JobKind::Copy(dir.join(variant_file(key, f))),
                        origin: Origin::Generated("a resized variant of an image"),
                    });
                }
            }
        }
    }
    jobs
}

/// What `p` shows of the known images, or `None` when it shows none and has no social
/// image of known size.
fn page_images(
    p: &Page,
    known: &HashMap<&str, Known>,
    formats: &[VariantFormat],
    urls: &Urls,
) -> Option<PageImages> {
    let mut shown = Vec::new();
    let mut fp = Builder::new("page-images");
    for l in p.links.iter().filter(|l| l.is_image) {
        let Some(path) = content_images::site_path(&l.dest, &p.route, urls) else {
            continue;
        };
        let Some(k) = known.get(path.as_str()) else {
            continue;
        };
        let set = |f: VariantFormat| -> Vec<(String, u32)> {
            if !formats.contains(&f) {
                return Vec::new();
            }
            k.widths
                .iter()
                .map(|&w| (urls.url(&variant_path(&path, w, f)), w))
                .collect()
        };
        let (srcset, avif) = (set(VariantFormat::Webp), set(VariantFormat::Avif));
        fp = fp
            .str(&l.dest)
            .fp(k.hash)
            .num(k.probe.width.into())
            .num(k.probe.height.into());
        for (u, w) in srcset.iter().chain(&avif) {
            fp = fp.str(u).num((*w).into());
        }
        shown.push(Shown {
            dest: l.dest.clone(),
            width: k.probe.width,
            height: k.probe.height,
            srcset,
            avif,
        });
    }
    let social = p.image.as_deref().map(|img| {
        let size = content_images::site_path(img, &p.route, urls)
            .and_then(|path| known.get(path.as_str()))
            .map(|k| (k.probe.width, k.probe.height));
        Social {
            url: urls.absolutize(img),
            width: size.map(|s| s.0),
            height: size.map(|s| s.1),
            alt: p.title.clone(),
        }
    });
    if shown.is_empty() && social.as_ref().is_none_or(|s| s.width.is_none()) {
        return None;
    }
    if let Some(s) = &social {
        fp = fp.str(&s.url).num(s.width.unwrap_or(0).into());
    }
    Some(PageImages {
        shown,
        social,
        fingerprint: fp.finish(),
    })
}

/// Plans the social cards into `images`; returns their warnings and errors.
#[allow(clippy::too_many_arguments)]
fn add_cards(
    config: &Config,
    urls: &Urls,
    theme: &ThemeFiles,
    templates: &Templates,
    site: &Site,
    intel: &crate::intel::Intel,
    dir: &Path,
    images: &mut Images,
) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
    let (card_jobs, card_pages, drawn, card_warnings, card_errors) =
        cards::plan(config, urls, theme, templates, site, intel, dir);
    images.cards_drawn = drawn;
    images.jobs.extend(card_jobs);
    for (file, social) in card_pages {
        let e = images.pages.entry(file).or_default();
        e.fingerprint = Builder::new("card")
            .fp(e.fingerprint)
            .str(&social.url)
            .finish();
        e.social = Some(social);
    }
    (card_warnings, card_errors)
}

fn is_local(dest: &str) -> bool {
    let d = dest.trim();
    !(d.starts_with("//")
        || d.contains("://")
        || d.starts_with("data:")
        || d.starts_with("mailto:"))
}

fn slashed(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The line of `key:` in a content file's front matter (for errors about `image`).
fn front_matter_line(file: &Path, key: &str) -> Option<usize> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .take(200)
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with([':', '=']))
        })
        .map(|i| i + 1)
}

/// `posts/x/shot.png` at 480 px: `posts/x/shot-480w.webp` (or `.avif`).
pub fn variant_path(path: &str, width: u32, format: VariantFormat) -> String {
    let stem = match path.rfind('.') {
        Some(dot) if dot > path.rfind('/').map_or(0, |s| s + 1) => &path[..dot],
        _ => path,
    };
    format!("{stem}-{width}w.{}", format.ext())
}

fn variant_key(
    hash: Fingerprint,
    width: u32,
    format: VariantFormat,
    settings: &ImagesConfig,
) -> Fingerprint {
    let b = Builder::new("variant")
        .num(FORMAT)
        .fp(hash)
        .num(width.into());
    match format {
        VariantFormat::Webp => b,
        VariantFormat::Avif => b.str("avif").num(variants::AVIF_SPEED.into()),
    }
    .num(settings.quality_of(format).into())
    .finish()
}

/// Where the image cache keeps the variant of the image `hash` at `width` in `format`.
fn cached_variant(
    dir: &Path,
    hash: Fingerprint,
    width: u32,
    format: VariantFormat,
    settings: &ImagesConfig,
) -> PathBuf {
    dir.join(variant_file(
        variant_key(hash, width, format, settings),
        format,
    ))
}

fn variant_file(key: Fingerprint, format: VariantFormat) -> String {
    format!("{key:016x}.{}", format.ext())
}

/// The marker that an image without variants decoded cleanly (so a warm build need not
/// decode it again to know).
fn checked_file(hash: Fingerprint, max_pixels: u64) -> String {
    let key = Builder::new("checked")
        .num(FORMAT)
        .fp(hash)
        .num(max_pixels)
        .finish();
    format!("{key:016x}.ok")
}

/// What is known of an image on disk whose length and mtime the probe cache holds, when
/// the image cache has everything made of it: nothing is read. `None`: [`process`] it.
fn cached(
    src: &Source,
    settings: &ImagesConfig,
    dir: &Path,
    probes: &probes::Probes,
) -> Option<Known> {
    let Source::Disk(file) = src else {
        return None;
    };
    let entry = probes.get(file, probes::Stamp::of(file)?)?;
    let (probe, hash) = (entry.probe, entry.hash);
    if !probe.format.resizable() {
        return Some(Known {
            probe,
            hash,
            widths: Vec::new(),
        });
    }
    if (probe.width as u64) * (probe.height as u64) > settings.max_pixels {
        return None;
    }
    let widths = settings.variant_widths(probe.width);
    let complete = if widths.is_empty() {
        dir.join(checked_file(hash, settings.max_pixels)).is_file()
    } else {
        missing_widths(hash, &widths, settings, dir).is_empty()
    };
    complete.then_some(Known {
        probe,
        hash,
        widths,
    })
}

/// The widths of which a variant in some format is not in the cache.
fn missing_widths(
    hash: Fingerprint,
    widths: &[u32],
    settings: &ImagesConfig,
    dir: &Path,
) -> Vec<u32> {
    let formats = settings.variant_formats();
    widths
        .iter()
        .copied()
        .filter(|&w| {
            formats
                .iter()
                .any(|&f| !cached_variant(dir, hash, w, f, settings).is_file())
        })
        .collect()
}

/// Probes one image and makes what the cache lacks. Returns what is known of it and
/// whether it was decoded.
fn process(
    path: &str,
    src: &Source,
    first: &Use,
    settings: &crate::config::images::ImagesConfig,
    dir: &Path,
    probes: &probes::Probes,
) -> Result<(Known, bool), Diagnostic> {
    let fail = |why: String| {
        Diagnostic::error(
            &first.page,
            format!("image {:?} (/{path}): {why}", first.dest),
        )
        .at_opt(
            first
                .line
                .or_else(|| front_matter_line(&first.page, "image")),
        )
        .with_help("replace the file with a valid PNG, JPEG, WebP, GIF or SVG image")
    };
    // Stamped before reading: a change made while reading shows at the next build.
    let stamp = match src {
        Source::Disk(file) => probes::Stamp::of(file).map(|s| (file, s)),
        Source::Embedded(_) => None,
    };
    let bytes = src
        .read()
        .map_err(|e| fail(format!("it cannot be read ({e})")))?;
    if stamp.is_some() {
        probes.count_read();
    }
    let probe = content_images::probe(&bytes).map_err(fail)?;
    let hash = fingerprint::of_bytes(&bytes);
    if let Some((file, stamp)) = stamp {
        probes.put(file, probes::Entry { stamp, hash, probe });
    }
    if !probe.format.resizable() {
        return Ok((
            Known {
                probe,
                hash,
                widths: Vec::new(),
            },
            false,
        ));
    }
    if (probe.width as u64) * (probe.height as u64) > settings.max_pixels {
        return Err(fail(variants::too_large(
            probe.width,
            probe.height,
            settings.max_pixels,
        ))
        .with_help("resize the image, or raise `images.max_pixels` in site.toml"));
    }
    let widths = settings.variant_widths(probe.width);
    let missing = missing_widths(hash, &widths, settings, dir);
    let checked = dir.join(checked_file(hash, settings.max_pixels));
    if missing.is_empty() && (!widths.is_empty() || checked.is_file()) {
        return Ok((
            Known {
                probe,
                hash,
                widths,
            },
            false,
        ));
    }
    let mut img = variants::decode(&bytes, settings.max_pixels).map_err(fail)?;
    // Turned upright as its EXIF says: the variants are shown without it.
    if let Some(o) = image::metadata::Orientation::from_exif(probe.orientation) {
        img.apply_orientation(o);
    }
    if (img.width(), img.height()) != (probe.width, probe.height) {
        return Err(fail(format!(
            "its header says {} x {} but it decodes to {} x {}",
            probe.width,
            probe.height,
            img.width(),
            img.height()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Diagnostic::io(dir, "create", &e))?;
    let formats: Vec<(VariantFormat, u8)> = settings
        .variant_formats()
        .into_iter()
        .map(|f| (f, settings.quality_of(f)))
        .collect();
    for (w, f, bytes) in variants::variants(&img, &missing, &formats) {
        write_atomic(&cached_variant(dir, hash, w, f, settings), &bytes)?;
    }
    if widths.is_empty() {
        write_atomic(&checked, b"")?;
    }
    Ok((
        Known {
            probe,
            hash,
            widths,
        },
        true,
    ))
}

/// Writes a cache file whole or not at all.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Diagnostic::io(dir, "create", &e))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| Diagnostic::io(dir, "write in", &e))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| Diagnostic::io(path, "write", &e))?;
    // Outputs are copied from here with their mode: readable by the web server.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(|e| Diagnostic::io(path, "write", &e))?;
    }
    tmp.persist(path)
        .map_err(|e| Diagnostic::io(path, "write", &e.error))?;
    Ok(())
}

/// Removes cache entries this build did not use (markers of images still shown stay).
fn prune(dir: &Path, jobs: &[Job]) {
    let used: BTreeSet<PathBuf> = jobs
        .iter()
        .filter_map(|j| match &j.kind {
            JobKind::Copy(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let is_ours = p
            .extension()
            .is_some_and(|x| x == "webp" || x == "avif" || x == "png");
        if is_ours && !used.contains(&p) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_paths() {
        assert_eq!(
            variant_path("posts/x/shot.png", 480, VariantFormat::Webp),
            "posts/x/shot-480w.webp"
        );
        assert_eq!(
            variant_path("img/a.b/noext", 960, VariantFormat::Webp),
            "img/a.b/noext-960w.webp"
        );
    }
}

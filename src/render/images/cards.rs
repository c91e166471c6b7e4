//! Social cards: a 1200 x 630 PNG for each post without its own `image`.
//!
//! The card is the template `social-card.svg` (the theme's, or the site's own in
//! `templates/`), rendered with Tera and drawn by resvg. sitrep lays out the title before
//! the template sees it: words are measured glyph by glyph in the fonts that will draw
//! them, wrapped into the title box, and the size shrinks until every line fits; a title
//! too long even at the smallest size ends in `…` after its last whole word. The bundled
//! font is Inter (SIL Open Font License, `fonts/OFL.txt`); characters it lacks (CJK, Arabic,
//! Hebrew...) are drawn with a font from the site's `static/fonts/` or the system's, and
//! where no font has them the post gets no card and a warning, not boxes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use resvg::usvg::fontdb;
use tera::{Context, Value};

use super::card_style::{self, Palette, Severity};
use super::{Social, write_atomic};
use crate::config::Config;
use crate::config::images::{CardTheme, SocialCards};
use crate::content::Page;
use crate::error::Diagnostic;
use crate::index::Site;
use crate::intel::Intel;
use crate::render::Job;
use crate::render::JobKind;
use crate::render::routes::Origin;
use crate::render::templates::Templates;
use crate::render::theme::{FileSource, ThemeFiles};
use crate::support::fingerprint::{self, Builder, Fingerprint};
use crate::urls::Urls;

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;
/// The card template.
pub const TEMPLATE: &str = "social-card.svg";
/// The file name of a post's card, in its folder.
pub const FILE: &str = "card.png";

static INTER_BOLD: &[u8] = include_bytes!("fonts/Inter-Bold.otf");
static INTER_REGULAR: &[u8] = include_bytes!("fonts/Inter-Regular.otf");

/// Where the title may go, in card pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TitleBox {
    pub x: f32,
    pub y: f32,
    pub width: f32,
    pub height: f32,
}

pub const TITLE_BOX: TitleBox = TitleBox {
    x: 80.0,
    y: 140.0,
    width: 1040.0,
    height: 370.0,
};

const MAX_SIZE: f32 = 76.0;
const MIN_SIZE: f32 = 30.0;
const LINE_HEIGHT: f32 = 1.18;
/// Inter's ascender and descender, in ems (a line's ink stays within them).
const ASCENT: f32 = 0.97;
const DESCENT: f32 = 0.3;
/// Measured widths leave this much of the box free for kerning and shaping.
const SLACK: f32 = 0.96;

/// A font file's bytes, shared with fontdb.
type FontData = Arc<dyn AsRef<[u8]> + Send + Sync>;

/// Fonts that draw cards, in fallback order, with their family names.
pub struct Fonts {
    data: Vec<(String, FontData)>,
    db: Arc<fontdb::Database>,
    fingerprint: Fingerprint,
}

impl Fonts {
    /// Inter, then the site's `static/fonts/*.{ttf,otf,ttc}`, then `extra` font files
    /// (the system's, when the title needs them).
    pub fn new(site_fonts: &[PathBuf]) -> Fonts {
        let mut db = fontdb::Database::new();
        let mut data: Vec<(String, FontData)> = Vec::new();
        let mut fp = Builder::new("fonts");
        for (i, bytes) in [INTER_BOLD, INTER_REGULAR].into_iter().enumerate() {
            db.load_font_source(fontdb::Source::Binary(Arc::new(bytes)));
            if i == 0 {
                data.push(("Inter".into(), Arc::new(bytes)));
            }
        }
        for path in site_fonts {
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            let Ok(face) = ttf_parser::Face::parse(&bytes, 0) else {
                continue;
            };
            let Some(family) = family_name(&face) else {
                continue;
            };
            fp = fp.str(&family).fp(fingerprint::of_bytes(&bytes));
            let shared: Arc<Vec<u8>> = Arc::new(bytes);
            db.load_font_source(fontdb::Source::Binary(shared.clone()));
            data.push((family, shared));
        }
        Fonts {
            data,
            db: Arc::new(db),
            fingerprint: fp.finish(),
        }
    }

    /// The CSS `font-family` list of every font, in order.
    pub fn family_list(&self) -> String {
        let mut names: Vec<String> = Vec::new();
        for (n, _) in &self.data {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
        names
            .iter()
            .map(|n| format!("'{}'", n.replace('\'', "")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Advance widths (at size 1) of each char of `text`; `Err(c)` for a char no font has.
    fn advances(&self, text: &str) -> Result<Vec<f32>, char> {
        let faces: Vec<ttf_parser::Face<'_>> = self
            .data
            .iter()
            .filter_map(|(_, d)| ttf_parser::Face::parse((**d).as_ref(), 0).ok())
            .collect();
        text.chars()
            .map(|c| {
                for f in &faces {
                    if let Some(g) = f.glyph_index(c) {
                        let adv = f32::from(f.glyph_hor_advance(g).unwrap_or(0));
                        return Ok(adv / f32::from(f.units_per_em()));
                    }
                }
                if c.is_whitespace() || c.is_control() || is_invisible(c) {
                    Ok(0.0)
                } else {
                    Err(c)
                }
            })
            .collect()
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}')
}

fn family_name(face: &ttf_parser::Face<'_>) -> Option<String> {
    face.names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
        .find_map(|n| n.to_string())
}

/// One line of a laid-out title.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Measured width in card pixels.
    pub width: f32,
    /// Baseline.
    pub y: f32,
}

/// A title laid out in the title box.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub size: f32,
    pub lines: Vec<Line>,
    /// Whether words were left out (and `…` ends the last line).
    pub shortened: bool,
}

/// A unit the wrapper never splits: a word, or one CJK character.
struct Token {
    text: String,
    space_before: bool,
    /// Width at size 1.
    width: f32,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF |
        0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

fn tokens(title: &str, fonts: &Fonts) -> Result<(Vec<Token>, f32), char> {
    let mut out: Vec<Token> = Vec::new();
    let mut space = false;
    let mut word = String::new();
    let flush = |word: &mut String, space: &mut bool, out: &mut Vec<Token>| {
        if !word.is_empty() {
            out.push(Token {
                text: std::mem::take(word),
                space_before: std::mem::replace(space, false),
                width: 0.0,
            });
        }
    };
    for c in title.chars() {
        if c.is_whitespace() {
            flush(&mut word, &mut space, &mut out);
            space = !out.is_empty();
        } else if is_cjk(c) {
            flush(&mut word, &mut space, &mut out);
            word.push(c);
            flush(&mut word, &mut space, &mut out);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut space, &mut out);
    for t in &mut out {
        t.width = fonts.advances(&t.text)?.iter().sum();
    }
    let space_w = fonts.advances(" ")?.first().copied().unwrap_or(0.25);
    Ok((out, space_w))
}

/// Lays out `title` in `bx`: the largest size (from 76 px down to 30 px) at which every
/// word fits on a line and every line in the box. `Err(c)`: no font has the char `c`.
pub fn layout(title: &str, fonts: &Fonts, bx: TitleBox) -> Result<Layout, char> {
    layout_at_most(title, fonts, bx, MAX_SIZE)
}

/// [`layout`] starting at `max_size`.
pub fn layout_at_most(
    title: &str,
    fonts: &Fonts,
    bx: TitleBox,
    max_size: f32,
) -> Result<Layout, char> {
    let (toks, space_w) = tokens(title, fonts)?;
    let room = bx.width * SLACK;
    let mut size = max_size.clamp(MIN_SIZE, MAX_SIZE);
    loop {
        // The first line takes ascent + descent, each further line LINE_HEIGHT.
        let room_lines = (bx.height / size - ASCENT - DESCENT) / LINE_HEIGHT;
        let max_lines = (room_lines.max(0.0).floor() as usize + 1).max(1);
        let lines = wrap(&toks, space_w, size, room);
        let fits = lines.as_ref().is_some_and(|l| l.len() <= max_lines);
        if fits || size <= MIN_SIZE {
            let (lines, shortened) = match lines {
                Some(l) if l.len() <= max_lines => (l, false),
                _ => (shorten(&toks, space_w, size, room, max_lines, fonts), true),
            };
            let ascent = size * ASCENT;
            let lines = lines
                .into_iter()
                .enumerate()
                .map(|(i, (text, w))| Line {
                    text,
                    width: w,
                    y: bx.y + ascent + i as f32 * size * LINE_HEIGHT,
                })
                .collect();
            return Ok(Layout {
                size,
                lines,
                shortened,
            });
        }
        size -= 2.0;
    }
}

/// Greedy wrap; `None` when a token alone is wider than the room.
fn wrap(toks: &[Token], space_w: f32, size: f32, room: f32) -> Option<Vec<(String, f32)>> {
    let mut lines: Vec<(String, f32)> = Vec::new();
    let mut cur = String::new();
    let mut w = 0.0f32;
    for t in toks {
        let tw = t.width * size;
        if tw > room {
            return None;
        }
        let gap = if t.space_before && !cur.is_empty() {
            space_w * size
        } else {
            0.0
        };
        if !cur.is_empty() && w + gap + tw > room {
            lines.push((std::mem::take(&mut cur), w));
            w = 0.0;
        } else if gap > 0.0 {
            cur.push(' ');
            w += gap;
        }
        cur.push_str(&t.text);
        w += tw;
    }
    if !cur.is_empty() {
        lines.push((cur, w));
    }
    Some(lines)
}

/// At the smallest size: as many whole words as fit in `max_lines`, then `…`.
fn shorten(
    toks: &[Token],
    space_w: f32,
    size: f32,
    room: f32,
    max_lines: usize,
    fonts: &Fonts,
) -> Vec<(String, f32)> {
    let ell = fonts
        .advances("…")
        .ok()
        .and_then(|v| v.first().copied())
        .unwrap_or(0.8)
        * size;
    // Words wider than a line on their own are left out whole.
    let fitting: Vec<&Token> = toks
        .iter()
        .filter(|t| t.width * size + ell <= room)
        .collect();
    let mut n = fitting.len();
    while n > 0 {
        let part: Vec<Token> = fitting[..n]
            .iter()
            .map(|t| Token {
                text: t.text.clone(),
                space_before: t.space_before,
                width: t.width,
            })
            .collect();
        if let Some(mut lines) = wrap(&part, space_w, size, room)
            && lines.len() <= max_lines
            && let Some(last) = lines.last_mut()
            && last.1 + ell <= room
        {
            last.0.push('…');
            last.1 += ell;
            return lines;
        }
        n -= 1;
    }
    vec![("…".into(), ell)]
}

/// What one card shows, and in which colours.
#[derive(Debug, Clone)]
pub struct CardText<'a> {
    pub site_title: &'a str,
    pub title: &'a str,
    pub date: String,
    pub category: Option<&'a str>,
    /// The band of the post's worst CVE, when the data knows one.
    pub severity: Option<Severity>,
    pub theme: CardTheme,
    pub palette: &'a Palette,
}

/// Renders the card template to SVG text with the laid-out title.
pub fn svg(
    templates: &Templates,
    fonts: &Fonts,
    text: &CardText<'_>,
    layout: &Layout,
) -> Result<String, Diagnostic> {
    let mut ctx = Context::new();
    ctx.insert("site_title", &fit_line(text.site_title, fonts, 34.0, 900.0));
    ctx.insert("title", text.title);
    ctx.insert("title_size", &layout.size);
    let lines: Vec<Value> = layout
        .lines
        .iter()
        .map(|l| {
            let mut m = tera::Map::new();
            m.insert("x".into(), Value::from(TITLE_BOX.x));
            m.insert("y".into(), Value::from((l.y * 10.0).round() / 10.0));
            m.insert("text".into(), Value::from(l.text.as_str()));
            m.insert("width".into(), Value::from((l.width * 10.0).round() / 10.0));
            Value::from(m)
        })
        .collect();
    ctx.insert_value("title_lines", Value::from(lines));
    ctx.insert(
        "title_box",
        &[TITLE_BOX.x, TITLE_BOX.y, TITLE_BOX.width, TITLE_BOX.height],
    );
    ctx.insert("date", &text.date);
    ctx.insert(
        "category",
        &text.category.map(|c| fit_line(c, fonts, 30.0, 600.0)),
    );
    ctx.insert("font_family", &fonts.family_list());
    ctx.insert("card_theme", text.theme.name());
    ctx.insert("colours", text.palette);
    ctx.insert("band_colour", &text.palette.accent);
    ctx.insert("severity", &text.severity);
    let mut out = Vec::new();
    templates.render_to(TEMPLATE, &ctx, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// `text` cut after its last whole word (with `…`) to fit `room` px at `size`.
fn fit_line(text: &str, fonts: &Fonts, size: f32, room: f32) -> String {
    let bx = TitleBox {
        x: 0.0,
        y: 0.0,
        width: room / SLACK,
        height: size * LINE_HEIGHT,
    };
    let Ok((toks, space_w)) = tokens(text, fonts) else {
        return text.to_string();
    };
    match wrap(&toks, space_w, size, room) {
        Some(l) if l.len() <= 1 => text.to_string(),
        _ => shorten(&toks, space_w, size, bx.width * SLACK, 1, fonts)
            .into_iter()
            .next()
            .map(|l| l.0)
            .unwrap_or_default(),
    }
}

/// What the cards of a site share: the palette and the data on CVEs.
struct Style<'a> {
    config: &'a Config,
    palette: Palette,
    intel: &'a Intel,
}

fn card_text<'a>(style: &'a Style<'_>, p: &'a Page) -> CardText<'a> {
    CardText {
        site_title: &style.config.title,
        title: &p.title,
        date: p.date.map(|d| d.ymd()).unwrap_or_default(),
        category: p.categories.first().map(String::as_str),
        severity: card_style::severity(&p.cves, style.intel),
        theme: style.config.images.card_theme,
        palette: &style.palette,
    }
}

/// The theme's stylesheet (`style.css`, the site's own when it has one), for its colours.
fn stylesheet(theme: &ThemeFiles) -> Option<String> {
    let (src, _) = theme.statics.get(Path::new("style.css"))?;
    match src {
        FileSource::Disk(p) => std::fs::read_to_string(p).ok(),
        FileSource::Embedded(b) => std::str::from_utf8(b).ok().map(str::to_string),
    }
}

/// Draws a parsed card as a PNG.
pub fn raster(tree: &resvg::usvg::Tree) -> Result<Vec<u8>, String> {
    let size = tree.size().to_int_size();
    let mut pixmap =
        resvg::tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("the card has no size")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        tree,
        resvg::tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    opaque_png(&pixmap)
}

/// Whether drawn bounds stay in the title box (the first line's ascent may reach above
/// the box by the font's line gap; nothing may pass its right or bottom edge).
pub fn inside(b: resvg::usvg::Rect, bx: TitleBox, size: f32) -> bool {
    b.left() >= bx.x - 8.0
        && b.right() <= bx.x + bx.width
        && b.top() >= bx.y - size * 0.3
        && b.bottom() <= bx.y + bx.height
}

/// Lays out and renders the card, checking the title's bounds in resvg's own layout of the
/// SVG: where shaping made a line wider than measured (ligatures, contextual forms of
/// Arabic, a fallback font's spaces), the title is laid out again smaller until it fits.
pub fn fit(
    templates: &Templates,
    fonts: &Fonts,
    text: &CardText<'_>,
    first: Layout,
) -> Result<(Layout, String, resvg::usvg::Tree), String> {
    let mut layout = first;
    loop {
        let svg = svg(templates, fonts, text, &layout).map_err(|d| d.message)?;
        let tree = parse(&svg, fonts)?;
        let ok = title_bounds(&tree).is_none_or(|b| inside(b, TITLE_BOX, layout.size));
        if ok || layout.size <= MIN_SIZE {
            return Ok((layout, svg, tree));
        }
        layout = layout_at_most(text.title, fonts, TITLE_BOX, layout.size - 2.0)
            .map_err(|c| format!("no font has {c:?}"))?;
    }
}

/// Parses a card's SVG, laying out its text in `fonts` (no pixels drawn).
pub fn parse(svg: &str, fonts: &Fonts) -> Result<resvg::usvg::Tree, String> {
    let opts = resvg::usvg::Options {
        fontdb: fonts.db.clone(),
        font_family: "Inter".into(),
        ..Default::default()
    };
    resvg::usvg::Tree::from_str(svg, &opts).map_err(|e| e.to_string())
}

/// The title's drawn bounds, from resvg's own layout.
pub fn title_bounds(tree: &resvg::usvg::Tree) -> Option<resvg::usvg::Rect> {
    tree.node_by_id("title").map(|n| n.abs_bounding_box())
}

/// Font files the site provides for cards: `static/fonts/*.{ttf,otf,ttc}`.
fn site_fonts(theme: &ThemeFiles) -> Vec<PathBuf> {
    theme
        .statics
        .iter()
        .filter(|(rel, _)| rel.starts_with("fonts"))
        .filter(|(rel, _)| {
            rel.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "ttf" | "otf" | "ttc"))
        })
        .filter_map(|(_, (src, _))| match src {
            FileSource::Disk(p) => Some(p.clone()),
            FileSource::Embedded(_) => None,
        })
        .collect()
}

/// Font files of the system that cover `c`, first found first (for titles in scripts
/// Inter lacks, when the site brings no font for them).
fn system_fonts_for(c: char) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in [
        "/usr/share/fonts",
        "/usr/local/share/fonts",
        "/Library/Fonts",
        "/System/Library/Fonts",
    ] {
        for e in walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            let p = e.path();
            let ok = p
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x.to_ascii_lowercase().as_str(), "ttf" | "otf"));
            if !ok {
                continue;
            }
            let Ok(bytes) = std::fs::read(p) else {
                continue;
            };
            if ttf_parser::Face::parse(&bytes, 0).is_ok_and(|f| f.glyph_index(c).is_some()) {
                found.push(p.to_path_buf());
                if found.len() >= 2 {
                    return found;
                }
            }
        }
    }
    found
}

/// Plans the cards of the posts that get one; draws those the cache lacks, in parallel.
/// Returns the jobs, each post's social image, how many cards were drawn, warnings and
/// errors.
#[allow(clippy::type_complexity)]
pub fn plan(
    config: &Config,
    urls: &Urls,
    theme: &ThemeFiles,
    templates: &Templates,
    site: &Site,
    intel: &Intel,
    dir: &Path,
) -> (
    Vec<Job>,
    Vec<(PathBuf, Social)>,
    usize,
    Vec<Diagnostic>,
    Vec<Diagnostic>,
) {
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let s = &config.images;
    if s.social_cards == SocialCards::Off || !templates.has(TEMPLATE) {
        return (Vec::new(), Vec::new(), 0, warnings, errors);
    }
    let posts = card_posts(config, site);
    if posts.is_empty() {
        return (Vec::new(), Vec::new(), 0, warnings, errors);
    }
    let fonts = title_fonts(theme, &posts);
    let style = Style {
        config,
        palette: Palette::from_css(stylesheet(theme).as_deref(), s.card_theme),
        intel,
    };
    let laid = lay_out(&style, templates, &fonts, &posts);
    let count = draw_missing(&style, templates, &fonts, &laid, dir, &mut errors);
    let (jobs, social) = card_jobs(urls, site, dir, laid, &mut warnings, &mut errors);
    (jobs, social, count, warnings, errors)
}

/// Each post laid out, with the key of its card, or why it gets none.
type Laid<'a> = Vec<(&'a Page, Result<(Layout, Fingerprint), Diagnostic>)>;

/// The posts that get a card: those without an `image`, up to the limit.
fn card_posts<'a>(config: &Config, site: &'a Site) -> Vec<&'a Page> {
    let s = &config.images;
    let limit = match s.social_cards {
        SocialCards::All => usize::MAX,
        _ => s.card_posts,
    };
    // A route two posts share is already an error of the route table: their cards would
    // only repeat it.
    let mut routes: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for p in &site.posts {
        *routes.entry(p.route.to_lowercase()).or_default() += 1;
    }
    site.posts
        .iter()
        .filter(|p| p.image.is_none() && routes[&p.route.to_lowercase()] == 1)
        .take(limit)
        .map(|p| &**p)
        .collect()
}

/// The site's fonts, and system fonts for characters of titles they lack.
fn title_fonts(theme: &ThemeFiles, posts: &[&Page]) -> Fonts {
    let mut font_files = site_fonts(theme);
    let mut fonts = Fonts::new(&font_files);
    // A title in a script no font has: look for a system font once per missing char.
    let mut tried: Vec<char> = Vec::new();
    for p in posts {
        while let Err(c) = fonts.advances(&p.title) {
            if tried.contains(&c) {
                break;
            }
            tried.push(c);
            let more = system_fonts_for(c);
            if more.is_empty() {
                break;
            }
            font_files.extend(more);
            fonts = Fonts::new(&font_files);
        }
    }
    fonts
}

/// Lays out each post's title, in parallel, and keys its card.
fn lay_out<'a>(
    style: &Style<'_>,
    templates: &Templates,
    fonts: &Fonts,
    posts: &[&'a Page],
) -> Laid<'a> {
    posts
        .par_iter()
        .map(|p| {
            let r = match layout(&p.title, fonts, TITLE_BOX) {
                Err(c) => Err(Diagnostic::warning(
                    &p.file,
                    format!("no font has the character {c:?} of the title: the post gets no social card"),
                )
                .with_help("put a font that covers it (for CJK, Noto Sans CJK) in static/fonts/, or give the post an `image`")),
                Ok(l) => {
                    // The key covers the first layout's SVG: what is finally drawn is a
                    // function of it and of the fonts.
                    svg(templates, fonts, &card_text(style, p), &l).map(|svg| {
                        let key = Builder::new("card")
                            .num(super::FORMAT)
                            .fp(fonts.fingerprint)
                            .str(&svg)
                            .finish();
                        (l, key)
                    })
                }
            };
            (*p, r)
        })
        .collect()
}

/// Draws the cards the cache lacks, in parallel; returns how many were drawn.
fn draw_missing(
    style: &Style<'_>,
    templates: &Templates,
    fonts: &Fonts,
    laid: &Laid<'_>,
    dir: &Path,
    errors: &mut Vec<Diagnostic>,
) -> usize {
    let drawn: Vec<Result<bool, Diagnostic>> = laid
        .par_iter()
        .filter_map(|(p, r)| r.as_ref().ok().map(|ok| (p, ok)))
        .map(|(p, (layout, key))| {
            let file = dir.join(card_file(*key));
            if file.is_file() {
                return Ok(false);
            }
            let text = card_text(style, p);
            let png = fit(templates, fonts, &text, layout.clone())
                .and_then(|(_, _, tree)| raster(&tree))
                .map_err(|e| {
                    Diagnostic::error(
                        TEMPLATE,
                        format!(
                            "the social card of {} cannot be drawn: {e}",
                            p.file.display()
                        ),
                    )
                    .with_help("fix templates/social-card.svg: it must be an SVG document")
                })?;
            write_atomic(&file, &png)?;
            Ok(true)
        })
        .collect();
    let mut count = 0;
    for d in drawn {
        match d {
            Ok(n) => count += usize::from(n),
            Err(e) => errors.push(e),
        }
    }
    count
}

/// A job per card and each post's social image; the diagnostics of posts without one.
fn card_jobs(
    urls: &Urls,
    site: &Site,
    dir: &Path,
    laid: Laid<'_>,
    warnings: &mut Vec<Diagnostic>,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<Job>, Vec<(PathBuf, Social)>) {
    let mut jobs = Vec::new();
    let mut social = Vec::new();
    for (p, r) in laid {
        match r {
            Ok((_, key)) => {
                let route = format!("{}{FILE}", p.route);
                let i = site
                    .posts
                    .iter()
                    .position(|q| q.file == p.file)
                    .unwrap_or(0);
                jobs.push(Job {
                    path: PathBuf::from(&route),
                    fingerprint: key,
                    kind: JobKind::Copy(dir.join(card_file(key))),
                    origin: Origin::Post(i),
                });
                social.push((
                    p.file.clone(),
                    Social {
                        url: urls.permalink(&route),
                        width: Some(WIDTH),
                        height: Some(HEIGHT),
                        alt: p.title.clone(),
                    },
                ));
            }
            Err(d) if d.is_error() => errors.push(d),
            Err(d) => warnings.push(d),
        }
    }
    (jobs, social)
}

fn card_file(key: Fingerprint) -> String {
    format!("card-{key:016x}.png")
}

/// An opaque pixmap as an RGB PNG at the best compression (a card must stay under 100 kB).
pub fn opaque_png(pixmap: &resvg::tiny_skia::Pixmap) -> Result<Vec<u8>, String> {
    use image::ImageEncoder;
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        // Measured on a card: 34 kB in 16 ms; adaptive filtering took twice as long for
        // 10% less, the fast mode 1 ms for 89 kB (too near the 100 kB budget).
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::NoFilter,
    )
    .write_image(
        &rgb,
        pixmap.width(),
        pixmap.height(),
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_titles_shrink_and_wrap_without_overflow() {
        let fonts = Fonts::new(&[]);
        let short = layout("Patch now", &fonts, TITLE_BOX).unwrap();
        assert_eq!(short.size, MAX_SIZE);
        assert_eq!(short.lines.len(), 1);
        let long = "Attackers chain an authentication bypass with a command injection in a widely deployed VPN appliance to gain root on thousands of devices";
        let l = layout(long, &fonts, TITLE_BOX).unwrap();
        assert!(l.size < MAX_SIZE);
        assert!(!l.shortened);
        for line in &l.lines {
            assert!(line.width <= TITLE_BOX.width, "{line:?}");
        }
        let joined: Vec<String> = l.lines.iter().map(|x| x.text.clone()).collect();
        assert_eq!(joined.join(" "), long, "no word is cut or lost");
    }

    #[test]
    fn no_glyph_is_reported() {
        let fonts = Fonts::new(&[]);
        assert_eq!(
            layout("\u{10FFFD}", &fonts, TITLE_BOX).unwrap_err(),
            '\u{10FFFD}'
        );
    }
}

//! `[images]` in site.toml: responsive images, social cards and the favicon set.

use serde::{Deserialize, Serialize};

/// Which posts get a generated social card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SocialCards {
    /// None at all (`social_cards = false` or `"none"`).
    Off,
    /// The newest `card_posts` posts without their own `image` (the default, `"recent"`).
    Recent,
    /// Every post without its own `image` (`"all"`; about 20 ms of work per new card).
    All,
}

impl<'de> Deserialize<'de> for SocialCards {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bool(bool),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Bool(false) => Ok(SocialCards::Off),
            Raw::Bool(true) => Ok(SocialCards::Recent),
            Raw::Text(t) => match t.as_str() {
                "none" | "off" => Ok(SocialCards::Off),
                "recent" => Ok(SocialCards::Recent),
                "all" => Ok(SocialCards::All),
                other => Err(serde::de::Error::custom(format!(
                    "`social_cards` = {other:?}: use \"recent\", \"all\" or false"
                ))),
            },
        }
    }
}

/// The colours of the social cards: the theme's dark or light palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardTheme {
    #[default]
    Dark,
    Light,
}

impl CardTheme {
    pub fn name(self) -> &'static str {
        match self {
            CardTheme::Dark => "dark",
            CardTheme::Light => "light",
        }
    }
}

/// A format resized variants are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VariantFormat {
    Avif,
    Webp,
}

impl VariantFormat {
    pub fn from_name(name: &str) -> Option<VariantFormat> {
        match name {
            "webp" => Some(VariantFormat::Webp),
            "avif" => Some(VariantFormat::Avif),
            _ => None,
        }
    }

    /// The file extension, also the name in `images.formats`.
    pub fn ext(self) -> &'static str {
        match self {
            VariantFormat::Webp => "webp",
            VariantFormat::Avif => "avif",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            VariantFormat::Webp => "image/webp",
            VariantFormat::Avif => "image/avif",
        }
    }
}

/// `[images]` in site.toml.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ImagesConfig {
    /// Rewrite local images in bodies: width, height, lazy loading, srcset. False leaves
    /// `<img>` as Markdown wrote it (missing images are still errors).
    pub responsive: bool,
    /// Widths (px) of the WebP variants of raster images wider than `column_width`;
    /// none is wider than its original.
    pub widths: Vec<u32>,
    /// WebP quality, 1 to 100.
    pub quality: u8,
    /// Width (CSS px) of the theme's content column: wider raster images get variants, and
    /// the `sizes` attribute says the image is shown at most this wide.
    pub column_width: u32,
    /// Formats of the variants, each of `"webp"` and `"avif"` (opt-in: AVIF files are
    /// smaller, but take several times as long to encode). With AVIF, an image with
    /// variants is a `<picture>` whose AVIF `<source>` comes first.
    pub formats: Vec<String>,
    /// AVIF quality, 1 to 100 (AVIF at 60 looks like WebP at 80, at a smaller size).
    pub avif_quality: u8,
    /// The most pixels (width x height) sitrep decodes in one image; a larger image is an
    /// error rather than gigabytes of memory.
    pub max_pixels: u64,
    pub social_cards: SocialCards,
    /// With `social_cards = "recent"`: how many of the newest posts get a card.
    pub card_posts: usize,
    /// `"dark"` (the default) or `"light"`: which of the theme's palettes cards are drawn in.
    pub card_theme: CardTheme,
    /// Render the favicon PNGs and `site.webmanifest` from `favicon.svg`.
    pub favicons: bool,
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            responsive: true,
            widths: vec![480, 960, 1440],
            quality: 80,
            column_width: 760,
            formats: vec!["webp".into()],
            avif_quality: 60,
            max_pixels: 50_000_000,
            social_cards: SocialCards::Recent,
            card_posts: 50,
            card_theme: CardTheme::Dark,
            favicons: true,
        }
    }
}

impl ImagesConfig {
    /// Each problem as (key, message, help).
    pub fn problems(&self) -> Vec<(&'static str, String, &'static str)> {
        let mut out = Vec::new();
        if self.widths.is_empty() || self.widths.iter().any(|&w| w == 0 || w > 8192) {
            out.push((
                "widths",
                format!(
                    "`images.widths` = {:?} must list widths from 1 to 8192",
                    self.widths
                ),
                "use the default, [480, 960, 1440], or widths of your own",
            ));
        }
        if !(1..=100).contains(&self.quality) {
            out.push((
                "quality",
                format!("`images.quality` = {} is not from 1 to 100", self.quality),
                "use 80, the default, or a value from 1 to 100",
            ));
        }
        if self.column_width == 0 {
            out.push((
                "column_width",
                "`images.column_width` must be at least 1".into(),
                "set it to the width of the theme's content column in CSS pixels",
            ));
        }
        for f in &self.formats {
            if VariantFormat::from_name(f).is_none() {
                out.push((
                    "formats",
                    format!("`images.formats` lists {f:?}, which sitrep cannot write"),
                    "list \"webp\", \"avif\" or both: [\"webp\", \"avif\"]",
                ));
            }
        }
        if self.formats.is_empty() {
            out.push((
                "formats",
                "`images.formats` is empty: resized variants need a format".into(),
                "use [\"webp\"] (the default), [\"webp\", \"avif\"], or set `images.widths` to what you need",
            ));
        }
        if !(1..=100).contains(&self.avif_quality) {
            out.push((
                "avif_quality",
                format!(
                    "`images.avif_quality` = {} is not from 1 to 100",
                    self.avif_quality
                ),
                "use 60, the default, or a value from 1 to 100",
            ));
        }
        if self.max_pixels == 0 {
            out.push((
                "max_pixels",
                "`images.max_pixels` must be at least 1".into(),
                "remove it to use the default, 50,000,000",
            ));
        }
        out
    }

    /// The formats of the variants, each once, AVIF first (the order of `<source>`s).
    pub fn variant_formats(&self) -> Vec<VariantFormat> {
        [VariantFormat::Avif, VariantFormat::Webp]
            .into_iter()
            .filter(|f| {
                self.formats
                    .iter()
                    .any(|n| VariantFormat::from_name(n) == Some(*f))
            })
            .collect()
    }

    /// The quality setting of `format`.
    pub fn quality_of(&self, format: VariantFormat) -> u8 {
        match format {
            VariantFormat::Webp => self.quality,
            VariantFormat::Avif => self.avif_quality,
        }
    }

    /// The variant widths an image `width` pixels wide gets: none unless it is wider than
    /// the column, and never one wider than the image.
    pub fn variant_widths(&self, width: u32) -> Vec<u32> {
        if width <= self.column_width {
            return Vec::new();
        }
        let mut w: Vec<u32> = self.widths.iter().copied().filter(|&v| v < width).collect();
        w.sort_unstable();
        w.dedup();
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_upscaled_and_only_past_the_column() {
        let c = ImagesConfig::default();
        assert_eq!(c.variant_widths(700), Vec::<u32>::new());
        assert_eq!(c.variant_widths(1000), vec![480, 960]);
        assert_eq!(c.variant_widths(960), vec![480]);
        assert_eq!(c.variant_widths(4000), vec![480, 960, 1440]);
    }

    #[test]
    fn formats_are_checked_and_avif_comes_first() {
        let mut c = ImagesConfig::default();
        assert_eq!(c.variant_formats(), vec![VariantFormat::Webp]);
        c.formats = vec!["webp".into(), "avif".into(), "webp".into()];
        assert!(c.problems().is_empty());
        assert_eq!(
            c.variant_formats(),
            vec![VariantFormat::Avif, VariantFormat::Webp]
        );
        c.formats = vec!["jxl".into()];
        let p = c.problems();
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].1,
            "`images.formats` lists \"jxl\", which sitrep cannot write"
        );
        c.formats = Vec::new();
        assert_eq!(c.problems()[0].0, "formats");
        c.formats = vec!["avif".into()];
        c.avif_quality = 0;
        assert_eq!(c.problems()[0].0, "avif_quality");
    }
}

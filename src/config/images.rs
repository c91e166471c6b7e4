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
    /// Formats of the variants: only `"webp"` for now.
    pub formats: Vec<String>,
    /// The most pixels (width x height) sitrep decodes in one image; a larger image is an
    /// error rather than gigabytes of memory.
    pub max_pixels: u64,
    pub social_cards: SocialCards,
    /// With `social_cards = "recent"`: how many of the newest posts get a card.
    pub card_posts: usize,
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
            max_pixels: 50_000_000,
            social_cards: SocialCards::Recent,
            card_posts: 50,
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
            if f != "webp" {
                out.push((
                    "formats",
                    format!("`images.formats` lists {f:?}, which sitrep cannot write"),
                    "use [\"webp\"]; AVIF is not supported yet",
                ));
            }
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
}

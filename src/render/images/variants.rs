//! Decoding (within a pixel limit), Lanczos3 resizing and lossy WebP encoding.
//!
//! WebP: `image`'s own encoder writes lossless WebP only, which for screenshots and photos
//! is often larger than the PNG it replaces; the `webp` crate wraps libwebp's lossy encoder
//! (the reference implementation, deterministic for the same pixels and quality).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, imageops::FilterType};

/// Decodes an image, refusing one of more than `max_pixels` pixels before allocating its
/// buffer (an image bomb of 30,000 x 30,000 is refused by its header, not by running out of
/// memory; `Limits` bounds what the decoder itself allocates too).
pub fn decode(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, String> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return decode_jpeg(bytes, max_pixels);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("it cannot be read ({e})"))?;
    let mut limits = Limits::default();
    // 8 bytes a pixel covers 16-bit RGBA; the rest is the decoders' own tables.
    limits.max_alloc = Some(max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let decoder = reader
        .into_decoder()
        .map_err(|e| format!("it cannot be decoded ({e})"))?;
    let (w, h) = decoder.dimensions();
    if (w as u64) * (h as u64) > max_pixels {
        return Err(too_large(w, h, max_pixels));
    }
    DynamicImage::from_decoder(decoder).map_err(|e| match e {
        image::ImageError::Limits(_) => too_large(w, h, max_pixels),
        e => format!("it cannot be decoded ({e}): the file is damaged or not what its header says"),
    })
}

/// JPEG in zune-jpeg's strict mode: `image` decodes JPEG leniently, drawing grey where
/// the data ends early (a truncated file, or a header that claims more pixels than the
/// file holds), which would publish a damaged picture without a word.
fn decode_jpeg(bytes: &[u8], max_pixels: u64) -> Result<DynamicImage, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default()
        .set_strict_mode(true)
        .jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut d = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    d.decode_headers()
        .map_err(|e| format!("it cannot be decoded ({e:?}): the file is damaged"))?;
    let (w, h) = d.dimensions().ok_or("it has no size")?;
    let (w, h) = (w as u32, h as u32);
    if (w as u64) * (h as u64) > max_pixels {
        return Err(too_large(w, h, max_pixels));
    }
    let pixels = d.decode().map_err(|e| {
        format!("it cannot be decoded ({e:?}): the file is damaged or not what its header says")
    })?;
    image::RgbImage::from_raw(w, h, pixels)
        .map(DynamicImage::ImageRgb8)
        .ok_or_else(|| {
            "it cannot be decoded: the file is damaged or not what its header says".into()
        })
}

pub fn too_large(w: u32, h: u32, max_pixels: u64) -> String {
    format!(
        "it is {w} x {h} pixels, more than `images.max_pixels` ({max_pixels}) allows sitrep to decode"
    )
}

/// The height of a `width`-wide variant of a `w` x `h` image.
pub fn scaled_height(w: u32, h: u32, width: u32) -> u32 {
    ((h as u64 * width as u64 + w as u64 / 2) / w as u64).max(1) as u32
}

/// Resizes `img` to each of `widths` (narrowest first, each narrower than the image) and
/// encodes each as WebP at `quality`. Each step resizes from the next wider result, so a
/// large original is filtered once at full size.
pub fn variants(img: &DynamicImage, widths: &[u32], quality: u8) -> Vec<(u32, Vec<u8>)> {
    let (w, h) = (img.width(), img.height());
    let alpha = img.color().has_alpha();
    let mut out = Vec::with_capacity(widths.len());
    let mut from: Option<DynamicImage> = None;
    for &vw in widths.iter().rev() {
        let vh = scaled_height(w, h, vw);
        let src = from.as_ref().unwrap_or(img);
        let small = src.resize_exact(vw, vh, FilterType::Lanczos3);
        out.push((vw, encode_webp(&small, alpha, quality)));
        from = Some(small);
    }
    out.reverse();
    out
}

/// Lossy WebP of an image.
pub fn encode_webp(img: &DynamicImage, alpha: bool, quality: u8) -> Vec<u8> {
    let q = f32::from(quality.clamp(1, 100));
    if alpha {
        let rgba = img.to_rgba8();
        webp::Encoder::from_rgba(&rgba, rgba.width(), rgba.height())
            .encode(q)
            .to_vec()
    } else {
        let rgb = img.to_rgb8();
        webp::Encoder::from_rgb(&rgb, rgb.width(), rgb.height())
            .encode(q)
            .to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn resizes_to_each_width_keeping_the_ratio() {
        let img = decode(&png(1000, 500), 1_000_000).unwrap();
        let v = variants(&img, &[480, 960], 80);
        assert_eq!(v.len(), 2);
        for (w, bytes) in &v {
            let back = image::load_from_memory(bytes).unwrap();
            assert_eq!((back.width(), back.height()), (*w, w / 2));
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(&bytes[8..12], b"WEBP");
        }
    }

    #[test]
    fn pixel_limit_refuses_before_decoding() {
        let e = decode(&png(100, 100), 9_999).unwrap_err();
        assert!(e.contains("100 x 100"), "{e}");
        let bytes = png(50, 50);
        let e = decode(&bytes[..bytes.len() / 2], 1_000_000).unwrap_err();
        assert!(e.contains("damaged"), "{e}");
    }
}

//! Decoding (within a pixel limit), Lanczos3 resizing and lossy WebP encoding.
//!
//! WebP: `image`'s own encoder writes lossless WebP only, which for screenshots and photos
//! is often larger than the PNG it replaces; the `webp` crate wraps libwebp's lossy encoder
//! (the reference implementation, deterministic for the same pixels and quality).

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, imageops::FilterType};

use crate::config::images::VariantFormat;

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
/// encodes each in every one of `formats` (with its quality). Each step resizes from the
/// next wider result, so a large original is filtered once at full size, and each width is
/// resized once for all formats. Narrowest first, in the order of `formats` for one width.
pub fn variants(
    img: &DynamicImage,
    widths: &[u32],
    formats: &[(VariantFormat, u8)],
) -> Vec<(u32, VariantFormat, Vec<u8>)> {
    let (w, h) = (img.width(), img.height());
    let alpha = img.color().has_alpha();
    let mut out = Vec::with_capacity(widths.len() * formats.len());
    let mut from: Option<DynamicImage> = None;
    for &vw in widths.iter().rev() {
        let vh = scaled_height(w, h, vw);
        let src = from.as_ref().unwrap_or(img);
        let small = src.resize_exact(vw, vh, FilterType::Lanczos3);
        for &(f, q) in formats.iter().rev() {
            let bytes = match f {
                VariantFormat::Webp => encode_webp(&small, alpha, q),
                VariantFormat::Avif => encode_avif(&small, alpha, q),
            };
            out.push((vw, f, bytes));
        }
        from = Some(small);
    }
    out.reverse();
    out
}

/// rav1e's speed for AVIF variants: 1 (slowest, smallest) to 10, the fastest. Measured on
/// 50 screenshots and photos (85 variants): at 10, AVIF took about 0.8 s of CPU per image
/// beside WebP's 0.12 s, for files 29% smaller than the WebP ones; at 8, 2.3 s for 38%.
pub const AVIF_SPEED: u8 = 10;

/// AVIF (AV1 still image, 8-bit 4:4:4) of an image, by ravif/rav1e: deterministic for the
/// same pixels and settings.
pub fn encode_avif(img: &DynamicImage, alpha: bool, quality: u8) -> Vec<u8> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let enc = image::codecs::avif::AvifEncoder::new_with_speed_quality(
        &mut out,
        AVIF_SPEED,
        quality.clamp(1, 100),
    )
    // Images are encoded in parallel already: one thread each.
    .with_num_threads(Some(1));
    let r = if alpha {
        let rgba = img.to_rgba8();
        enc.write_image(
            &rgba,
            rgba.width(),
            rgba.height(),
            image::ExtendedColorType::Rgba8,
        )
    } else {
        let rgb = img.to_rgb8();
        enc.write_image(
            &rgb,
            rgb.width(),
            rgb.height(),
            image::ExtendedColorType::Rgb8,
        )
    };
    // The only failures are of dimensions and buffer sizes, which are right by construction.
    r.expect("AVIF encoding of a well-formed buffer");
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
        let v = variants(&img, &[480, 960], &[(VariantFormat::Webp, 80)]);
        assert_eq!(v.len(), 2);
        for (w, _, bytes) in &v {
            let back = image::load_from_memory(bytes).unwrap();
            assert_eq!((back.width(), back.height()), (*w, w / 2));
            assert_eq!(&bytes[..4], b"RIFF");
            assert_eq!(&bytes[8..12], b"WEBP");
        }
    }

    /// The boxes of an ISOBMFF file at its top level: (type, payload).
    fn boxes(b: &[u8]) -> Vec<(String, &[u8])> {
        let mut out = Vec::new();
        let mut i = 0;
        while i + 8 <= b.len() {
            let size = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
            assert!(size >= 8 && i + size <= b.len(), "box at {i}");
            out.push((
                String::from_utf8_lossy(&b[i + 4..i + 8]).into_owned(),
                &b[i + 8..i + size],
            ));
            i += size;
        }
        out
    }

    /// The `ispe` (image spatial extent) of an AVIF: its width and height.
    fn ispe(b: &[u8]) -> (u32, u32) {
        let at = b
            .windows(4)
            .position(|w| w == b"ispe")
            .expect("an ispe box");
        let p = &b[at + 4 + 4..]; // type, then version and flags
        (
            u32::from_be_bytes(p[0..4].try_into().unwrap()),
            u32::from_be_bytes(p[4..8].try_into().unwrap()),
        )
    }

    #[test]
    fn avif_variants_are_real_avif_files_of_their_width() {
        // Small: rav1e in a debug build takes seconds for a large image.
        let img = decode(&png(400, 200), 1_000_000).unwrap();
        let v = variants(
            &img,
            &[96, 192],
            &[(VariantFormat::Avif, 60), (VariantFormat::Webp, 80)],
        );
        let kinds: Vec<(u32, VariantFormat)> = v.iter().map(|(w, f, _)| (*w, *f)).collect();
        assert_eq!(
            kinds,
            vec![
                (96, VariantFormat::Avif),
                (96, VariantFormat::Webp),
                (192, VariantFormat::Avif),
                (192, VariantFormat::Webp)
            ]
        );
        for (w, f, bytes) in &v {
            if *f != VariantFormat::Avif {
                continue;
            }
            let top = boxes(bytes);
            assert_eq!(top[0].0, "ftyp");
            assert_eq!(&top[0].1[..4], b"avif", "major brand");
            assert!(top.iter().any(|(t, _)| t == "meta") && top.iter().any(|(t, _)| t == "mdat"));
            assert_eq!(ispe(bytes), (*w, w / 2));
        }
        // Deterministic: the same pixels make the same bytes.
        let again = variants(
            &img,
            &[96, 192],
            &[(VariantFormat::Avif, 60), (VariantFormat::Webp, 80)],
        );
        assert!(again == v, "AVIF encoding is not deterministic");
        // With alpha, too.
        let rgba = DynamicImage::ImageRgba8(image::RgbaImage::from_fn(64, 32, |x, _| {
            image::Rgba([200, 10, 10, (x * 4) as u8])
        }));
        let a = encode_avif(&rgba, true, 60);
        assert_eq!(ispe(&a), (64, 32));
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

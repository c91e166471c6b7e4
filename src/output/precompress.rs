//! Precompressed files (`[deploy] precompress = true`): a `.gz` (and a `.br`) beside every
//! text file over 1 kB, for servers that send them as they are (nginx `gzip_static`, Caddy
//! `precompressed`, the `.htaccess` rules) instead of compressing on every request.
//!
//! Both are reproducible: gzip at level 9 with no file name and a modification time of 0,
//! brotli at quality 6; the same bytes always compress to the same bytes. They are made
//! in the build's parallel write step, right after the file they belong to, and recorded in
//! the output manifest with a fingerprint derived from that file's, so a warm build makes
//! them again exactly when it writes their file again.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::support::fingerprint::{Builder, Fingerprint};

/// Files this size or smaller are not worth compressing.
pub const MIN_SIZE: usize = 1024;

/// Extensions of the text files that are compressed.
pub const TEXT_EXTENSIONS: &[&str] = &[
    "html",
    "htm",
    "css",
    "js",
    "mjs",
    "json",
    "xml",
    "txt",
    "svg",
    "map",
    "webmanifest",
];

/// Which precompressed files to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precompress {
    pub gzip: bool,
    pub brotli: bool,
}

impl Precompress {
    /// From `[deploy]`: `None` when precompression is off.
    pub fn of(precompress: bool, brotli: bool) -> Option<Precompress> {
        precompress.then_some(Precompress { gzip: true, brotli })
    }

    /// The fingerprint a file gets when it is written with these settings: turning
    /// precompression on or off changes every file's, so a warm build rewrites them all.
    pub fn fingerprint(self, fp: Fingerprint) -> Fingerprint {
        Builder::new("precompress")
            .num(self.gzip.into())
            .num(self.brotli.into())
            .fp(fp)
            .finish()
    }

    /// The compressed copies of the file `rel` with these bytes, each with its path and
    /// its fingerprint (derived from the file's `fp`): none for small or non-text files.
    pub fn companions(
        self,
        rel: &Path,
        bytes: &[u8],
        fp: Fingerprint,
    ) -> Vec<(PathBuf, Vec<u8>, Fingerprint)> {
        if bytes.len() <= MIN_SIZE || !is_text(rel) {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2);
        if self.gzip {
            out.push((with_suffix(rel, "gz"), gzip(bytes), companion_fp("gz", fp)));
        }
        if self.brotli {
            out.push((
                with_suffix(rel, "br"),
                brotli(bytes),
                companion_fp("br", fp),
            ));
        }
        out
    }
}

fn companion_fp(codec: &str, fp: Fingerprint) -> Fingerprint {
    Builder::new("compressed").str(codec).fp(fp).finish()
}

/// Whether `rel` is a text file that gets compressed copies.
pub fn is_text(rel: &Path) -> bool {
    rel.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEXT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `a/b.html` -> `a/b.html.gz`.
pub fn with_suffix(rel: &Path, suffix: &str) -> PathBuf {
    let mut s = rel.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// The file a compressed copy belongs to (`a.html.gz` -> `a.html`), if `rel` is one.
pub fn companion_of(rel: &Path) -> Option<PathBuf> {
    let ext = rel.extension()?.to_str()?;
    if !matches!(ext, "gz" | "br") {
        return None;
    }
    let parent = rel.with_extension("");
    is_text(&parent).then_some(parent)
}

/// gzip, level 9, no file name, modification time 0: reproducible.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(
            Vec::with_capacity(bytes.len() / 3),
            flate2::Compression::best(),
        );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The brotli quality. 11 makes files some 10 to 15% smaller than 5 or 6 but is more than
/// ten times slower: on the 10,000-post benchmark site (35,000 files, 480 MB) a cold build
/// with quality 11 had not finished after 300 CPU-seconds; with 6 (and gzip) it takes
/// about 35, against 3.5 without precompression.
pub const BROTLI_QUALITY: i32 = 6;

/// brotli at [`BROTLI_QUALITY`], a 4 MiB window: reproducible.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: 22,
        size_hint: bytes.len(),
        ..Default::default()
    };
    let mut input = bytes;
    // Reading from a slice and writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Vec<u8> {
        (0..400)
            .map(|i| format!("<p>line {i} of a page</p>\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn gzip_and_brotli_round_trip_and_are_reproducible() {
        let text = sample();
        let gz = gzip(&text);
        assert_eq!(gz, gzip(&text));
        assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
        assert_eq!(&gz[4..8], &[0, 0, 0, 0], "mtime 0");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        let br = brotli(&text);
        assert_eq!(br, brotli(&text));
        let mut back = Vec::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text);
        assert!(br.len() < text.len() / 5 && gz.len() < text.len() / 5);
    }

    #[test]
    fn only_text_files_over_1_kb() {
        let p = Precompress {
            gzip: true,
            brotli: true,
        };
        let big = sample();
        let c = p.companions(Path::new("posts/x/index.html"), &big, 7);
        let paths: Vec<_> = c.iter().map(|(p, ..)| p.clone()).collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("posts/x/index.html.gz"),
                PathBuf::from("posts/x/index.html.br")
            ]
        );
        assert_ne!(c[0].2, c[1].2);
        assert!(
            p.companions(Path::new("a.html"), &big[..MIN_SIZE], 7)
                .is_empty()
        );
        assert!(p.companions(Path::new("photo.png"), &big, 7).is_empty());
        let gz_only = Precompress {
            gzip: true,
            brotli: false,
        };
        assert_eq!(gz_only.companions(Path::new("a.css"), &big, 7).len(), 1);
        assert_eq!(
            companion_of(Path::new("a/index.html.br")),
            Some(PathBuf::from("a/index.html"))
        );
        assert_eq!(companion_of(Path::new("archive.tar.gz")), None);
        assert_eq!(companion_of(Path::new("a.html")), None);
    }
}

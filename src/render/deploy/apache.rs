//! `.htaccess` for Apache (`[deploy] htaccess = true`): the headers, redirects, caching,
//! precompressed files and the 404 page, for the folder the site is served from.
//!
//! It needs `AllowOverride All` (or `FileInfo Indexes`) there and mod_headers, mod_rewrite
//! and mod_mime. Redirects go through mod_rewrite, whose patterns in `.htaccess` are
//! relative to the folder, so the base path is only in `RewriteBase` and the targets.

use super::{IMMUTABLE, REVALIDATE, Rules, assets, quoted, regex_escape};
use crate::error::Diagnostic;

/// The file.
pub const FILE: &str = ".htaccess";

/// The text of `.htaccess`, and warnings about what it leaves out.
pub fn file(rules: &Rules) -> (String, Vec<Diagnostic>) {
    let (redirects, warnings) = rules.server_redirects(FILE);
    let base = &rules.base_path;
    let mut o = String::new();
    o.push_str(&format!(
        "# Apache settings for {host}, made by sitrep {v} ([deploy] htaccess).\n\
         # Needs AllowOverride All for this folder, and mod_headers, mod_rewrite and mod_mime.\n",
        host = rules.host,
        v = env!("CARGO_PKG_VERSION")
    ));
    o.push_str("DirectoryIndex index.html\nAddDefaultCharset utf-8\n");
    o.push_str("AddCharset utf-8 .css .js .mjs .json .xml .txt .svg\n");
    o.push_str(&format!("ErrorDocument 404 {}\n", rules.not_found));
    o.push_str("\n<IfModule mod_headers.c>\n");
    for (name, value) in &rules.headers {
        // `%` starts a format in Header values.
        let v = value.replace('%', "%%");
        o.push_str(&format!("    Header always set {name} {}\n", quoted(&v)));
    }
    o.push_str(&format!(
        "    Header always set Cache-Control {}\n",
        quoted(REVALIDATE)
    ));
    o.push_str("    # Named by their content: cached for a year.\n");
    o.push_str(&format!(
        "    <FilesMatch \"\\.[0-9a-f]{{{}}}\\.({})(\\.gz|\\.br)?$\">\n",
        assets::HASH_LEN,
        assets::HASHED_EXTENSIONS.join("|")
    ));
    o.push_str(&format!(
        "        Header always set Cache-Control {}\n",
        quoted(IMMUTABLE)
    ));
    o.push_str("    </FilesMatch>\n");
    if rules.gzip {
        o.push_str("    Header merge Vary Accept-Encoding\n");
    }
    o.push_str("</IfModule>\n");
    o.push_str("\n<IfModule mod_rewrite.c>\n    RewriteEngine On\n");
    o.push_str(&format!("    RewriteBase {}\n", rules.root()));
    if !redirects.is_empty() {
        o.push_str("    # Aliases: old addresses of posts and pages.\n");
    }
    for r in redirects {
        let rel = r.from_decoded[base.len()..].trim_start_matches('/');
        o.push_str(&format!(
            "    RewriteRule ^{}$ {} [R=301,NE,L]\n",
            regex_escape(rel),
            // `%N` would be a back-reference; the target is already percent-encoded.
            r.to.replace('%', "\\%")
        ));
    }
    o.push_str("    # Page 1 of a listing is the listing.\n");
    o.push_str(&format!(
        "    RewriteRule ^((?:{})/[^/]+/)?page/1/$ {}$1 [R=301,NE,L]\n",
        rules.taxonomies.join("|"),
        rules.root()
    ));
    let codecs: Vec<(&str, &str)> = [("br", rules.brotli), ("gzip", rules.gzip)]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(c, _)| (c, if c == "br" { "br" } else { "gz" }))
        .collect();
    if !codecs.is_empty() {
        o.push_str(
            "    # Precompressed files ([deploy] precompress), to browsers that take them.\n",
        );
    }
    for (codec, ext) in &codecs {
        o.push_str(&format!(
            "    RewriteCond %{{HTTP:Accept-Encoding}} \\b{codec}\\b\n    RewriteCond %{{REQUEST_FILENAME}} -d\n    RewriteCond %{{REQUEST_FILENAME}}/index.html.{ext} -f\n    RewriteRule ^(.*/)?$ $1index.html.{ext} [E=no-gzip:1,E=no-brotli:1,L]\n"
        ));
        o.push_str(&format!(
            "    RewriteCond %{{HTTP:Accept-Encoding}} \\b{codec}\\b\n    RewriteCond %{{REQUEST_FILENAME}} -f\n    RewriteCond %{{REQUEST_FILENAME}}.{ext} -f\n    RewriteRule ^(.+)$ $1.{ext} [E=no-gzip:1,E=no-brotli:1,L]\n"
        ));
    }
    o.push_str("</IfModule>\n");
    if !codecs.is_empty() {
        o.push_str("\n<IfModule mod_mime.c>\n    RemoveType .gz .br\n");
        for (codec, ext) in &codecs {
            o.push_str(&format!("    AddEncoding {codec} .{ext}\n"));
        }
        o.push_str("</IfModule>\n");
    }
    (o, warnings)
}

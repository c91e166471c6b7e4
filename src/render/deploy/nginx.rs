//! `sitrep deploy-config nginx`: a server block that serves the output folder with the
//! site's headers, redirects, caching, precompressed files and 404 page, under the base
//! URL's path.
//!
//! nginx forgets a server's `add_header` lines in any location that has its own, so every
//! location repeats the security headers. `absolute_redirect off` keeps redirects on the
//! host the reader asked for.

use std::path::Path;

use super::{IMMUTABLE, REVALIDATE, Redirect, Rules, quoted};
use crate::error::Diagnostic;

/// Where the server listens and what it answers to.
#[derive(Debug, Clone)]
pub struct Listen {
    /// `80`, `127.0.0.1:8080`…
    pub listen: String,
    pub server_name: String,
}

/// The server block, and warnings about what it leaves out.
pub fn server_block(rules: &Rules, root: &Path, at: &Listen) -> (String, Vec<Diagnostic>) {
    let mut warnings = Vec::new();
    let headers = kept_headers(rules, &mut warnings);
    let (redirects, w) = rules.server_redirects("nginx");
    warnings.extend(w);
    let root_dir = format!("{}/", root.display().to_string().trim_end_matches('/'));
    let mut o = String::new();
    server_settings(&mut o, rules, at, &root_dir);
    redirect_locations(&mut o, &headers, &redirects);
    first_page_location(&mut o, rules, &headers);
    immutable_locations(&mut o, rules, &headers, &root_dir);
    site_location(&mut o, rules, &headers, &root_dir);
    (o, warnings)
}

/// The site's headers as `add_header` lines, leaving out (with a warning) those nginx
/// cannot send.
fn kept_headers(rules: &Rules, warnings: &mut Vec<Diagnostic>) -> Vec<String> {
    rules
        .headers
        .iter()
        .filter(|(name, value)| {
            // nginx reads `$` in a value as a variable, with no escape for it.
            let ok = !value.contains('$');
            if !ok {
                warnings.push(
                    Diagnostic::warning(
                        "nginx",
                        format!(
                            "the header {name} is left out: nginx cannot send a `$` in a value"
                        ),
                    )
                    .with_help("set it in nginx by hand (with a variable that holds `$`)"),
                );
            }
            ok
        })
        .map(|(n, v)| format!("add_header {n} {} always;", quoted(v)))
        .collect()
}

/// The comment on top, and the server's own directives before its locations.
fn server_settings(o: &mut String, rules: &Rules, at: &Listen, root_dir: &str) {
    o.push_str(&format!(
        "# nginx server block for {host}, made by sitrep {v} (sitrep deploy-config nginx).\n\
         # Put it in the http block (Debian: a file in /etc/nginx/sites-enabled/); the http block\n\
         # must include mime.types, as Debian's nginx.conf does.\n",
        host = rules.host,
        v = env!("CARGO_PKG_VERSION")
    ));
    o.push_str("server {\n");
    o.push_str(&format!("    listen {};\n", at.listen));
    o.push_str(&format!("    server_name {};\n", at.server_name));
    o.push_str("    server_tokens off;\n    absolute_redirect off;\n");
    o.push_str("    charset utf-8;\n    charset_types text/css text/plain text/xml application/javascript application/json application/rss+xml application/atom+xml image/svg+xml;\n");
    o.push_str("    index index.html;\n");
    if rules.gzip {
        o.push_str("    # The .gz files sitrep writes beside text files ([deploy] precompress).\n");
        o.push_str("    gzip_static on;\n    gzip_vary on;\n");
    }
    if rules.brotli {
        o.push_str("    # And the .br files: needs the brotli module (Debian: libnginx-mod-http-brotli-static).\n");
        o.push_str("    # brotli_static on;\n");
    }
    o.push_str(&format!(
        "    error_page 404 {};\n",
        quoted(&rules.not_found)
    ));
    if rules.base_path.is_empty() {
        o.push_str(&format!("    root {};\n", quoted(root_dir)));
    }
}

/// The headers every location repeats, and its `Cache-Control`.
fn head(o: &mut String, headers: &[String], cache: &str) {
    for h in headers {
        o.push_str(&format!("        {h}\n"));
    }
    o.push_str(&format!(
        "        add_header Cache-Control {} always;\n",
        quoted(cache)
    ));
}

/// A location per alias, redirecting to where the post or page is now.
fn redirect_locations(o: &mut String, headers: &[String], redirects: &[&Redirect]) {
    if !redirects.is_empty() {
        o.push_str("\n    # Aliases: old addresses of posts and pages.\n");
    }
    for r in redirects {
        o.push_str(&format!("    location = {} {{\n", quoted(&r.from_decoded)));
        head(o, headers, REVALIDATE);
        o.push_str(&format!("        return 301 {};\n    }}\n", quoted(&r.to)));
    }
}

/// Page 1 of a listing redirects to the listing.
fn first_page_location(o: &mut String, rules: &Rules, headers: &[String]) {
    let base = &rules.base_path;
    o.push_str("\n    # Page 1 of a listing is the listing.\n");
    o.push_str(&format!(
        "    location ~ {} {{\n",
        quoted(&rules.first_page_regex())
    ));
    head(o, headers, REVALIDATE);
    o.push_str(&format!(
        "        return 301 {};\n    }}\n",
        quoted(&format!("{base}/$1"))
    ));
}

/// A location per file named by its content, cached for a year.
fn immutable_locations(o: &mut String, rules: &Rules, headers: &[String], root_dir: &str) {
    let base = &rules.base_path;
    if !rules.immutable.is_empty() {
        o.push_str("\n    # Named by their content: cached for a year.\n");
    }
    for link in &rules.immutable {
        let rel = link[base.len()..].trim_start_matches('/');
        o.push_str(&format!("    location = {} {{\n", quoted(link)));
        o.push_str(&format!(
            "        alias {};\n",
            quoted(&format!("{root_dir}{rel}"))
        ));
        head(o, headers, IMMUTABLE);
        o.push_str("    }\n");
    }
}

/// Everything else, under the base path, and the end of the server block.
fn site_location(o: &mut String, rules: &Rules, headers: &[String], root_dir: &str) {
    let base = &rules.base_path;
    o.push_str("\n    # Everything else (HTML, feeds): revalidated on every visit.\n");
    if base.is_empty() {
        o.push_str("    location / {\n");
    } else {
        o.push_str(&format!("    location = {} {{\n", quoted(base)));
        head(o, headers, REVALIDATE);
        o.push_str(&format!(
            "        return 301 {};\n    }}\n",
            quoted(&rules.root())
        ));
        o.push_str(&format!("    location {} {{\n", quoted(&rules.root())));
        o.push_str(&format!("        alias {};\n", quoted(root_dir)));
    }
    head(o, headers, REVALIDATE);
    o.push_str("    }\n}\n");
}

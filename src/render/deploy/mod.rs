//! Deploying anywhere: the host files a build writes and the server configurations
//! `sitrep deploy-config` prints, all from one description of what the site needs
//! ([`Rules`]): its security headers, its redirects, which files never change, its 404 page,
//! its base path and whether files come precompressed.
//!
//! | host | what sitrep makes | module |
//! | --- | --- | --- |
//! | Netlify, Cloudflare Pages | `_headers` (with caching), `_redirects` | [`netlify`] |
//! | GitHub Pages, GitLab Pages | `<meta>` CSP and referrer in every page, `.nojekyll` | [`meta`] |
//! | Apache | `.htaccess` | [`apache`] |
//! | nginx, Caddy | a server block, printed by `sitrep deploy-config` | [`nginx`], [`caddy`] |
//! | all | `/.well-known/security.txt` (RFC 9116) | [`security_txt`] |
//! | all | content-hashed theme assets | [`assets`] |

pub mod apache;
pub mod assets;
pub mod caddy;
pub mod meta;
pub mod netlify;
pub mod nginx;
pub mod security_txt;

use super::generated::bytes_job;
use super::{Job, Renderer};
use crate::config::Config;
use crate::error::Diagnostic;
use crate::index::{Site, TaxonomyKind};
use crate::urls::{self, Urls};
use assets::Assets;

/// `Cache-Control` of files whose name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else (HTML, feeds, plain-named files): ask every time.
pub const REVALIDATE: &str = "no-cache";

/// One permanent redirect: from a path to a path, both with the base path, percent-encoded
/// as browsers send them; and the decoded `from`, which servers match on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub from: String,
    pub from_decoded: String,
    pub to: String,
}

/// What any host must do to serve the site as sitrep means it.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `""` or `/blog`.
    pub base_path: String,
    /// The host name of the base URL.
    pub host: String,
    /// Security headers for every response, `(name, value)`.
    pub headers: Vec<(String, String)>,
    /// Alias redirects, in a stable order.
    pub redirects: Vec<Redirect>,
    /// Links of the hashed copies of assets (with the base path), sorted.
    pub immutable: Vec<String>,
    /// The taxonomies whose term pages redirect `…/page/1/` to the term (`tags`…).
    pub taxonomies: Vec<&'static str>,
    /// The link of the 404 page.
    pub not_found: String,
    /// `.gz` files beside text files.
    pub gzip: bool,
    /// `.br` files beside text files.
    pub brotli: bool,
}

impl Rules {
    pub fn new(site: &Site, config: &Config, urls: &Urls, assets: &Assets) -> Rules {
        // `frame-src` for the players of the embeds the site's pages use.
        let with_frames = config
            .headers
            .with_frames(&super::ioc_exports::frame_hosts(site));
        let headers = if config.headers.enabled {
            with_frames
                .headers()
                .into_iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        } else {
            Vec::new()
        };
        let mut redirects = Vec::new();
        for p in site.posts.iter().chain(&site.pages) {
            for a in &p.aliases {
                redirects.push(Redirect {
                    from: urls.url(a),
                    from_decoded: format!("{}/{a}", urls.base_path()),
                    to: urls.url(&p.route),
                });
            }
        }
        let mut immutable: Vec<String> = assets.hashed.values().map(|h| urls.url(h)).collect();
        immutable.sort();
        let after_scheme = urls.base_url().split_once("://").map_or("", |(_, r)| r);
        let host = after_scheme.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(']') {
                h
            } else {
                host
            }
        });
        Rules {
            base_path: urls.base_path().to_string(),
            host: host.to_string(),
            headers,
            redirects,
            immutable,
            taxonomies: TaxonomyKind::ALL.iter().map(|k| k.name()).collect(),
            not_found: urls.url(urls::NOT_FOUND),
            gzip: config.deploy.precompress,
            brotli: config.deploy.precompress && config.deploy.brotli,
        }
    }

    /// Redirects whose decoded path a server configuration can hold as it is: letters,
    /// digits and `-._~/!*+,=@:`. The others are left to the alias's redirect page, each
    /// with a warning (`what` names the file being made).
    pub fn server_redirects(&self, what: &str) -> (Vec<&Redirect>, Vec<Diagnostic>) {
        let mut ok = Vec::new();
        let mut warnings = Vec::new();
        for r in &self.redirects {
            if r.from_decoded.chars().all(safe_path_char) {
                ok.push(r);
            } else {
                warnings.push(
                    Diagnostic::warning(
                        what,
                        format!(
                            "the alias {:?} has characters a server configuration cannot match safely; it is left to its redirect page",
                            r.from_decoded
                        ),
                    )
                    .with_help("use letters, digits and -._~ in aliases"),
                );
            }
        }
        (ok, warnings)
    }

    /// The regular expression of the `page/1/` listings (home and every term), with one
    /// group: what comes between the base path and `page/1/`.
    pub fn first_page_regex(&self) -> String {
        format!(
            "^{}/((?:{})/[^/]+/)?page/1/$",
            regex_escape(&self.base_path),
            self.taxonomies.join("|")
        )
    }

    /// `/` or `/blog/`.
    pub fn root(&self) -> String {
        format!("{}/", self.base_path)
    }
}

impl Renderer<'_> {
    /// What any host must do to serve this site (see [`Rules`]).
    pub fn deploy_rules(&self) -> Rules {
        Rules::new(self.site, self.config, self.urls, self.templates.assets())
    }

    /// The host files of `[deploy]` and `/.well-known/security.txt`.
    pub(super) fn plan_deploy(&self) -> Vec<Job> {
        let d = &self.config.deploy;
        let mut jobs = Vec::new();
        let rules = self.deploy_rules();
        if d.redirects {
            // A site's own static/_redirects replaces it (routes::SITE_FILE_REPLACES).
            jobs.push(bytes_job(
                netlify::REDIRECTS,
                netlify::redirects_file(&rules, d.force_redirects),
                "the generated _redirects",
            ));
        }
        if d.nojekyll {
            jobs.push(bytes_job(
                meta::NOJEKYLL,
                String::new(),
                "the generated .nojekyll",
            ));
        }
        if d.htaccess {
            jobs.push(bytes_job(
                apache::FILE,
                apache::file(&rules).0,
                "the generated .htaccess",
            ));
        }
        if let Some(s) = &self.config.security_txt {
            jobs.push(bytes_job(
                security_txt::PATH,
                security_txt::file(s, &self.config.title, self.urls),
                "the generated security.txt",
            ));
        }
        jobs
    }

    /// Warnings about what the host files leave to the alias pages (aliases a server
    /// configuration cannot match safely), for the build's report.
    pub fn deploy_warnings(&self) -> Vec<Diagnostic> {
        if self.config.deploy.htaccess {
            self.deploy_rules().server_redirects(apache::FILE).1
        } else {
            Vec::new()
        }
    }
}

/// A character a redirect path may have in a server configuration.
pub fn safe_path_char(c: char) -> bool {
    c.is_alphanumeric() || "-._~/!*+,=@:".contains(c)
}

/// Escapes regular expression metacharacters.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value in double quotes for nginx, Apache and Caddy: `"` and `\` escaped. Header values
/// and paths never hold line breaks (config checks them).
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_regex_escaping() {
        assert_eq!(quoted(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(regex_escape("/my.blog"), r"/my\.blog");
        assert!(safe_path_char('日'));
        assert!(!safe_path_char('"'));
        assert!(!safe_path_char(' '));
        assert!(!safe_path_char('$'));
        assert!(!safe_path_char('{'));
    }
}

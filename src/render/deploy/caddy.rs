//! `sitrep deploy-config caddy`: a Caddyfile site block that serves the output folder with
//! the site's headers, redirects, caching, precompressed files and 404 page, under the base
//! URL's path.

use std::path::Path;

use super::{IMMUTABLE, REVALIDATE, Rules, quoted};
use crate::error::Diagnostic;

/// The site block for `address` (`news.example.com`, or `http://127.0.0.1:8080`), and
/// warnings about what it leaves out.
pub fn site_block(rules: &Rules, root: &Path, address: &str) -> (String, Vec<Diagnostic>) {
    let mut warnings = Vec::new();
    let headers: Vec<String> = rules
        .headers
        .iter()
        .filter(|(name, value)| {
            // Caddy reads `{…}` in a value as a placeholder.
            let ok = !value.contains(['{', '}']);
            if !ok {
                warnings.push(
                    Diagnostic::warning(
                        "caddy",
                        format!("the header {name} is left out: Caddy reads braces in a value as a placeholder"),
                    )
                    .with_help("set it in the Caddyfile by hand"),
                );
            }
            ok
        })
        .map(|(n, v)| format!("{n} {}", quoted(v)))
        .collect();
    let (redirects, w) = rules.server_redirects("caddy");
    warnings.extend(w);
    let base = &rules.base_path;
    let mut o = String::new();
    o.push_str(&format!(
        "# Caddyfile site block for {host}, made by sitrep {v} (sitrep deploy-config caddy).\n",
        host = rules.host,
        v = env!("CARGO_PKG_VERSION")
    ));
    o.push_str(&format!("{address} {{\n"));
    o.push_str(&format!(
        "\troot * {}\n",
        quoted(&root.display().to_string())
    ));
    let header_block = |o: &mut String, indent: &str| {
        o.push_str(&format!("{indent}header {{\n"));
        for h in &headers {
            o.push_str(&format!("{indent}\t{h}\n"));
        }
        o.push_str(&format!("{indent}\t-Server\n{indent}}}\n"));
    };
    header_block(&mut o, "\t");
    if rules.immutable.is_empty() {
        o.push_str(&format!("\theader Cache-Control {}\n", quoted(REVALIDATE)));
    } else {
        let list: Vec<String> = rules.immutable.iter().map(|p| quoted(p)).collect();
        o.push_str(
            "\t# Named by their content: cached for a year. Everything else is revalidated.\n",
        );
        o.push_str(&format!("\t@hashed path {}\n", list.join(" ")));
        o.push_str(&format!(
            "\theader @hashed Cache-Control {}\n",
            quoted(IMMUTABLE)
        ));
        o.push_str(&format!("\t@other not path {}\n", list.join(" ")));
        o.push_str(&format!(
            "\theader @other Cache-Control {}\n",
            quoted(REVALIDATE)
        ));
    }
    if !redirects.is_empty() {
        o.push_str("\t# Aliases: old addresses of posts and pages.\n");
    }
    for r in redirects {
        o.push_str(&format!(
            "\tredir {} {} permanent\n",
            quoted(&r.from_decoded),
            quoted(&r.to)
        ));
    }
    o.push_str("\t# Page 1 of a listing is the listing.\n");
    o.push_str(&format!(
        "\t@first_page path_regexp first_page {}\n",
        quoted(&rules.first_page_regex())
    ));
    o.push_str(&format!(
        "\tredir @first_page {} permanent\n",
        quoted(&format!("{base}/{{re.first_page.1}}"))
    ));
    let server = if rules.gzip && rules.brotli {
        "file_server {\n\t\t\tprecompressed br gzip\n\t\t}"
    } else if rules.gzip {
        "file_server {\n\t\t\tprecompressed gzip\n\t\t}"
    } else {
        "file_server"
    };
    if base.is_empty() {
        o.push_str(&format!("\thandle {{\n\t\t{server}\n\t}}\n"));
    } else {
        o.push_str(&format!(
            "\tredir {} {} permanent\n",
            quoted(base),
            quoted(&rules.root())
        ));
        o.push_str(&format!(
            "\thandle_path {} {{\n\t\t{server}\n\t}}\n",
            quoted(&format!("{base}/*"))
        ));
    }
    o.push_str("\thandle_errors {\n");
    header_block(&mut o, "\t\t");
    o.push_str(&format!(
        "\t\theader Cache-Control {}\n",
        quoted(REVALIDATE)
    ));
    o.push_str("\t\t@404 expression `{err.status_code} == 404`\n");
    o.push_str("\t\thandle @404 {\n\t\t\trewrite * /404.html\n\t\t\tfile_server\n\t\t}\n");
    o.push_str("\t\trespond \"{err.status_code} {err.status_text}\"\n");
    o.push_str("\t}\n}\n");
    (o, warnings)
}

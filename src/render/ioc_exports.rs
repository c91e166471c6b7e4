//! Machine-readable indicators of compromise, and what pages and `_headers` need from a
//! page's shortcodes.
//!
//! Each post or page with IOCs gets, beside its `index.html`: `iocs.csv`, `iocs.json` and
//! `iocs.stix.json` (a STIX 2.1 bundle: one `indicator` per observable, one `vulnerability`
//! per CVE id). The site gets `/iocs.json` with every post's IOCs, when any post has some.
//! Every value is the real (refanged) indicator; every file is made from the pages alone
//! (dates from the post's date, ids from the values: never the clock), so builds stay
//! byte-identical.

use serde_json::{Value as Json, json};
use tera::Value;

use crate::config::Config;
use crate::content::ioc::{self, Ioc, IocKind};
use crate::content::shortcodes::{self, FEATURE_VIMEO, FEATURE_YOUTUBE};
use crate::content::{Page, PageKind};
use crate::index::Site;
use crate::render::routes::Origin;
use crate::urls::Urls;

/// The files beside a page with IOCs.
pub const CSV: &str = "iocs.csv";
pub const JSON: &str = "iocs.json";
pub const STIX: &str = "iocs.stix.json";
/// The site-wide list.
pub const SITE_JSON: &str = "iocs.json";

/// `(output path, bytes, who claims it)` of every IOC export of the site.
pub fn files(site: &Site, config: &Config, urls: &Urls) -> Vec<(String, String, Origin)> {
    let mut out = Vec::new();
    let mut all = Vec::new();
    let posts = site
        .posts
        .iter()
        .enumerate()
        .map(|(i, p)| (p, Origin::Post(i)));
    let pages = site
        .pages
        .iter()
        .enumerate()
        .map(|(j, p)| (p, Origin::Page(j)));
    for (p, origin) in posts.chain(pages) {
        if p.iocs.is_empty() {
            continue;
        }
        out.push((format!("{}{CSV}", p.route), csv(&p.iocs), origin.clone()));
        out.push((
            format!("{}{JSON}", p.route),
            page_json(p, urls),
            origin.clone(),
        ));
        out.push((
            format!("{}{STIX}", p.route),
            stix_bundle(p, config, urls),
            origin,
        ));
        if p.kind == PageKind::Post {
            all.push(json!({
                "title": p.title,
                "url": urls.permalink(&p.route),
                "date": p.date.map(|d| d.rfc3339()),
                "iocs": p.iocs.iter().map(ioc_json).collect::<Vec<_>>(),
            }));
        }
    }
    if !all.is_empty() {
        let doc = json!({
            "version": 1,
            "title": format!("Indicators of compromise: {}", config.title),
            "home_page_url": urls.permalink(""),
            "posts": all,
        });
        out.push((
            SITE_JSON.to_string(),
            pretty(&doc),
            Origin::Generated("the site's list of indicators of compromise"),
        ));
    }
    out
}

fn pretty(v: &Json) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn ioc_json(i: &Ioc) -> Json {
    json!({"type": i.kind.name(), "value": i.value, "note": i.note})
}

fn page_json(p: &Page, urls: &Urls) -> String {
    pretty(&json!({
        "version": 1,
        "post": {
            "title": p.title,
            "url": urls.permalink(&p.route),
            "date": p.date.map(|d| d.rfc3339()),
        },
        "iocs": p.iocs.iter().map(ioc_json).collect::<Vec<_>>(),
    }))
}

/// RFC 4180 CSV: `type,value,note`. A text cell that a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`; indicator values
/// cannot start so, except file names and notes.
pub fn csv(iocs: &[Ioc]) -> String {
    fn cell(s: &str, out: &mut String) {
        let guarded;
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            guarded = format!("'{s}");
            guarded.as_str()
        } else {
            s
        };
        if s.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(s);
        }
    }
    let mut out = String::from("type,value,note\r\n");
    for i in iocs {
        cell(i.kind.name(), &mut out);
        out.push(',');
        cell(&i.value, &mut out);
        out.push(',');
        cell(&i.note, &mut out);
        out.push_str("\r\n");
    }
    out
}

/// A STIX 2.1 timestamp (UTC, milliseconds).
fn stix_time(d: Option<crate::support::date::Date>) -> String {
    let at = d.map_or_else(
        || chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        |d| d.at.with_timezone(&chrono::Utc),
    );
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The STIX 2.1 bundle of a page's IOCs.
pub fn stix_bundle(p: &Page, config: &Config, urls: &Urls) -> String {
    let created = stix_time(p.date);
    let modified = stix_time(p.updated.filter(|u| Some(*u) >= p.date).or(p.date));
    let permalink = urls.permalink(&p.route);
    let reference =
        json!([{"source_name": config.title, "url": permalink, "description": p.title}]);
    let mut objects = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for i in &p.iocs {
        if !seen.insert((i.kind, i.value.clone())) {
            continue;
        }
        match ioc::stix_pattern(i.kind, &i.value) {
            Some(pattern) => {
                let id = ioc::uuid_v5(&ioc::STIX_NAMESPACE, &pattern);
                let mut o = json!({
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": format!("indicator--{id}"),
                    "created": created,
                    "modified": modified,
                    "name": format!("{}: {}", i.kind.label(), i.value),
                    "indicator_types": ["malicious-activity"],
                    "pattern": pattern,
                    "pattern_type": "stix",
                    "pattern_version": "2.1",
                    "valid_from": created,
                    "external_references": reference,
                });
                if !i.note.is_empty() {
                    o["description"] = Json::from(i.note.as_str());
                }
                objects.push(o);
            }
            None if i.kind == IocKind::Cve => {
                let id = ioc::uuid_v5(&ioc::STIX_NAMESPACE, &format!("vulnerability:{}", i.value));
                objects.push(json!({
                    "type": "vulnerability",
                    "spec_version": "2.1",
                    "id": format!("vulnerability--{id}"),
                    "created": created,
                    "modified": modified,
                    "name": i.value,
                    "external_references": [{"source_name": "cve", "external_id": i.value}],
                }));
            }
            None => {}
        }
    }
    let bundle_id = ioc::uuid_v5(&ioc::STIX_NAMESPACE, &format!("bundle:{permalink}"));
    pretty(&json!({
        "type": "bundle",
        "id": format!("bundle--{bundle_id}"),
        "objects": objects,
    }))
}

/// What a page's template gets besides the usual fields: `iocs` (every indicator),
/// `ioc_table` (those from front matter, which no `{% ioc() %}` block shows),
/// `ioc_exports` (`{csv, json, stix}` links, none without IOCs) and `features`.
pub fn page_values(p: &Page, urls: &Urls, m: &mut tera::Map) {
    let iocs: Vec<Value> = p.iocs.iter().map(shortcodes::ioc_value).collect();
    let table: Vec<Value> = p
        .iocs
        .iter()
        .filter(|i| !i.in_body)
        .map(shortcodes::ioc_value)
        .collect();
    let exports = if p.iocs.is_empty() {
        Value::none()
    } else {
        let mut e = tera::Map::default();
        for (k, f) in [("csv", CSV), ("json", JSON), ("stix", STIX)] {
            e.insert(k.into(), Value::from(urls.url(&format!("{}{f}", p.route))));
        }
        Value::from(e)
    };
    m.insert("iocs".into(), Value::from(iocs));
    m.insert("ioc_table".into(), Value::from(table));
    m.insert("ioc_exports".into(), exports);
    m.insert(
        "features".into(),
        Value::from(
            p.features
                .iter()
                .map(|f| Value::from(f.as_str()))
                .collect::<Vec<_>>(),
        ),
    );
}

/// The hosts `frame-src` must allow: those of the embeds some page uses.
pub fn frame_hosts(site: &Site) -> Vec<&'static str> {
    let uses = |f: &str| {
        site.posts
            .iter()
            .chain(&site.pages)
            .any(|p| p.features.iter().any(|x| x == f))
    };
    let mut hosts = Vec::new();
    if uses(FEATURE_YOUTUBE) {
        hosts.push(shortcodes::YOUTUBE_FRAME_HOST);
    }
    if uses(FEATURE_VIMEO) {
        hosts.push(shortcodes::VIMEO_FRAME_HOST);
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ioc(kind: IocKind, value: &str, note: &str) -> Ioc {
        Ioc {
            kind,
            value: value.into(),
            note: note.into(),
            in_body: false,
        }
    }

    #[test]
    fn csv_quotes_and_guards_formulas() {
        let text = csv(&[
            ioc(IocKind::Ipv4, "203.0.113.7", "C2, \"primary\""),
            ioc(IocKind::File, "=cmd|' /C calc'!A0.exe", "=HYPERLINK(\"x\")"),
        ]);
        assert_eq!(
            text,
            "type,value,note\r\nipv4,203.0.113.7,\"C2, \"\"primary\"\"\"\r\nfile,'=cmd|' /C calc'!A0.exe,\"'=HYPERLINK(\"\"x\"\")\"\r\n"
        );
    }

    #[test]
    fn stix_times_are_utc_milliseconds() {
        let d = crate::support::date::Date::parse("2024-04-15T09:45:00+02:00").unwrap();
        assert_eq!(stix_time(Some(d)), "2024-04-15T07:45:00.000Z");
        let d = crate::support::date::Date::parse("2024-04-15").unwrap();
        assert_eq!(stix_time(Some(d)), "2024-04-15T00:00:00.000Z");
    }
}

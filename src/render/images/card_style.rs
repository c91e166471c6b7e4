//! What a social card is drawn in and with besides its text: the theme's colours (dark or
//! light, `images.card_theme`) and the severity band of the post's worst CVE.
//!
//! Colours come from the custom properties of the theme's `style.css` (the site's own when
//! it overrides it): the light palette from the `:root` rules outside any `@media`, the
//! dark one from `:root` inside `@media (prefers-color-scheme: dark)`, falling back to the
//! light one and then to the default theme's values. Only plain colour values are taken
//! (`#hex`, `rgb()`/`hsl()`, a name); anything else keeps the default.

use std::collections::HashMap;

use serde::Serialize;

use crate::config::images::CardTheme;
use crate::intel::Intel;

/// The colours a card template gets, as `colours.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Palette {
    /// The background.
    pub bg: String,
    /// Panels on the background (the logo's tile).
    pub surface: String,
    /// Text: site name, logo strokes.
    pub fg: String,
    /// The title.
    pub title: String,
    /// Date and category.
    pub muted: String,
    /// The accent bar and the logo's pulse.
    pub accent: String,
}

/// `(palette field, custom properties in order of preference, default)`: the dark card
/// uses the theme's masthead colours, which are dark in both schemes.
const DARK: [(&str, &[&str], &str); 6] = [
    ("bg", &["mast"], "#0d1321"),
    ("surface", &["mast-2"], "#161f33"),
    ("fg", &["mast-fg"], "#f5f7fa"),
    ("title", &["mast-fg"], "#ffffff"),
    ("muted", &["mast-muted"], "#b9c2d0"),
    ("accent", &["accent"], "#ff6b6b"),
];
const LIGHT: [(&str, &[&str], &str); 6] = [
    ("bg", &["bg"], "#ffffff"),
    ("surface", &["surface-2", "surface"], "#e9edf1"),
    ("fg", &["fg"], "#15181d"),
    ("title", &["fg-strong", "fg"], "#0a0c10"),
    ("muted", &["muted"], "#555d69"),
    ("accent", &["accent"], "#b4161b"),
];

impl Palette {
    /// The palette of `theme` from a theme's stylesheet (`None`: the defaults).
    pub fn from_css(css: Option<&str>, theme: CardTheme) -> Palette {
        let (light, dark) = css.map(custom_properties).unwrap_or_default();
        let table = match theme {
            CardTheme::Dark => &DARK,
            CardTheme::Light => &LIGHT,
        };
        let pick = |i: usize| -> String {
            let (_, names, default) = table[i];
            for n in names {
                let v = match theme {
                    // The dark scheme's value, else the one both schemes share (the
                    // masthead is dark in both).
                    CardTheme::Dark => dark.get(*n).or_else(|| light.get(*n)),
                    CardTheme::Light => light.get(*n),
                };
                if let Some(v) = v.filter(|v| is_colour(v)) {
                    return v.clone();
                }
            }
            default.to_string()
        };
        Palette {
            bg: pick(0),
            surface: pick(1),
            fg: pick(2),
            title: pick(3),
            muted: pick(4),
            accent: pick(5),
        }
    }
}

/// A value that is a colour and nothing else.
fn is_colour(v: &str) -> bool {
    let v = v.trim();
    if let Some(hex) = v.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    for f in ["rgb(", "rgba(", "hsl(", "hsla("] {
        if let Some(inner) = v.strip_prefix(f).and_then(|r| r.strip_suffix(')')) {
            return inner
                .chars()
                .all(|c| c.is_ascii_digit() || " .,%/-".contains(c));
        }
    }
    !v.is_empty() && v.len() <= 20 && v.chars().all(|c| c.is_ascii_lowercase())
}

/// The custom properties (`--name: value`, name without `--`) of `:root` rules: those
/// outside `@media`, and those inside `@media (prefers-color-scheme: dark)`.
pub fn custom_properties(css: &str) -> (HashMap<String, String>, HashMap<String, String>) {
    let css = strip_comments(css);
    let mut light = HashMap::new();
    let mut dark = HashMap::new();
    for (prelude, body) in rules(&css) {
        let p = prelude.trim();
        if p.starts_with("@media") {
            let cond: String = p.chars().filter(|c| !c.is_whitespace()).collect();
            if cond.contains("prefers-color-scheme:dark") {
                for (inner, decls) in rules(body) {
                    if selects_root(inner) {
                        declarations(decls, &mut dark);
                    }
                }
            }
        } else if !p.starts_with('@') && selects_root(p) {
            declarations(body, &mut light);
        }
    }
    (light, dark)
}

fn selects_root(selector: &str) -> bool {
    selector.split(',').any(|s| s.trim() == ":root")
}

fn strip_comments(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("/*") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("*/") {
            Some(j) => rest = &rest[i + 2 + j + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// The top-level rules of `css`: (prelude, body between the braces).
fn rules(css: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = css.as_bytes();
    while let Some(open) = css[i..].find('{').map(|o| i + o) {
        let mut depth = 0usize;
        let mut close = None;
        for (j, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { break };
        // A statement like `@import x;` before the rule is not part of its prelude.
        let prelude = &css[i..open];
        let prelude = prelude.rsplit(';').next().unwrap_or(prelude);
        out.push((prelude, &css[open + 1..close]));
        i = close + 1;
    }
    out
}

fn declarations(body: &str, into: &mut HashMap<String, String>) {
    for d in body.split(';') {
        if let Some((k, v)) = d.split_once(':')
            && let Some(name) = k.trim().strip_prefix("--")
        {
            into.insert(name.to_string(), v.trim().to_string());
        }
    }
}

/// The severity band of a card: the worst of the post's CVEs the data knows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Severity {
    /// The CVE it is of.
    pub cve: String,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `NONE`; empty when only KEV knows it.
    pub label: String,
    /// The CVSS base score, one decimal (`9.8`); empty without one.
    pub score: String,
    /// Whether any of the post's CVEs is in CISA's KEV catalog.
    pub exploited: bool,
    /// What the band says: `CRITICAL 9.8 · Exploited`.
    pub text: String,
    /// The band's colour and its text's.
    pub colour: String,
    pub text_colour: String,
}

/// The band of a post naming `cves`, or `None` when no data file knows any of their
/// severity or exploitation.
pub fn severity(cves: &[String], intel: &Intel) -> Option<Severity> {
    let known: Vec<&String> = cves
        .iter()
        .filter(|id| {
            intel.cves.get(*id).is_some_and(|f| {
                f.kev.is_some() || f.record.as_ref().is_some_and(|r| r.cvss.is_some())
            })
        })
        .collect();
    // The worst: the highest score, then KEV, then EPSS; the first written on a tie.
    let worst = known
        .iter()
        .rev()
        .max_by_key(|id| intel.rank(id))
        .copied()?;
    let exploited = known.iter().any(|id| intel.cves[*id].kev.is_some());
    let cvss = intel.cves[worst]
        .record
        .as_ref()
        .and_then(|r| r.cvss.as_ref());
    let (label, score) = match cvss {
        Some(c) => (c.severity.to_ascii_uppercase(), format!("{:.1}", c.score)),
        None => (String::new(), String::new()),
    };
    let mut parts: Vec<String> = Vec::new();
    if !label.is_empty() {
        parts.push(format!("{label} {score}"));
    }
    if exploited {
        parts.push(if parts.is_empty() {
            "Known exploited".into()
        } else {
            "Exploited".into()
        });
    }
    let (colour, text_colour) = match label.as_str() {
        "CRITICAL" => ("#b3121a", "#ffffff"),
        "HIGH" => ("#d9480f", "#ffffff"),
        "MEDIUM" => ("#f2b705", "#1a1a1a"),
        "LOW" => ("#2b8a3e", "#ffffff"),
        "" => ("#b3121a", "#ffffff"),
        _ => ("#5c6370", "#ffffff"),
    };
    Some(Severity {
        cve: worst.clone(),
        label,
        score,
        exploited,
        text: parts.join(" · "),
        colour: colour.into(),
        text_colour: text_colour.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSS: &str = "/* x */ @import url(a.css);\n:root {\n  --bg: #fff; --fg: #111;\n  --accent: #b4161b;\n  --mast: #0d1321; --mast-fg: #f5f7fa;\n  --muted: url(evil);\n}\n\
        body { color: var(--fg); }\n\
        @media (prefers-color-scheme: dark) {\n  :root { --bg: #000; --accent: #ff6b6b; }\n  body { --x: 1 }\n}\n\
        @media print { :root { --bg: #abc; } }\n";

    #[test]
    fn palettes_come_from_the_stylesheet() {
        let (light, dark) = custom_properties(CSS);
        assert_eq!(light["bg"], "#fff");
        assert_eq!(light["accent"], "#b4161b");
        assert_eq!(dark["bg"], "#000");
        assert_eq!(dark.get("x"), None);
        let l = Palette::from_css(Some(CSS), CardTheme::Light);
        assert_eq!(
            (l.bg.as_str(), l.fg.as_str(), l.title.as_str()),
            ("#fff", "#111", "#111")
        );
        assert_eq!(l.accent, "#b4161b");
        assert_eq!(
            l.muted, "#555d69",
            "a value that is no colour keeps the default"
        );
        let d = Palette::from_css(Some(CSS), CardTheme::Dark);
        assert_eq!((d.bg.as_str(), d.fg.as_str()), ("#0d1321", "#f5f7fa"));
        assert_eq!(d.accent, "#ff6b6b", "the dark scheme's accent");
        assert_eq!(Palette::from_css(None, CardTheme::Dark).bg, "#0d1321");
    }

    fn facts(score: Option<f64>, kev: bool) -> crate::intel::CveFacts {
        use crate::intel::cve5::{CveRecord, Cvss};
        use crate::intel::kev::KevEntry;
        crate::intel::CveFacts {
            record: Some(CveRecord {
                id: String::new(),
                state: "PUBLISHED".into(),
                title: None,
                description: None,
                cvss: score.map(|s| Cvss {
                    version: "3.1".into(),
                    score: s,
                    severity: crate::intel::cve5::severity_of(s).into(),
                    vector: String::new(),
                    source: "CNA".into(),
                }),
                cwes: Vec::new(),
                affected: Vec::new(),
                published: None,
                updated: None,
                rejected_reason: None,
                assigner: None,
            }),
            kev: kev.then(|| KevEntry {
                vendor: "V".into(),
                product: "P".into(),
                name: "N".into(),
                date_added: "2024-04-12".into(),
                due_date: None,
                ransomware: "Unknown".into(),
                required_action: "Patch".into(),
            }),
            epss: None,
        }
    }

    #[test]
    fn the_band_is_the_worst_cve_and_says_exploited() {
        let mut intel = Intel::default();
        intel
            .cves
            .insert("CVE-2024-1".into(), facts(Some(7.5), true));
        intel
            .cves
            .insert("CVE-2024-2".into(), facts(Some(9.8), false));
        intel.cves.insert("CVE-2024-3".into(), facts(None, false));
        intel.cves.insert("CVE-2024-4".into(), facts(None, true));
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let b = severity(&ids(&["CVE-2024-1", "CVE-2024-2", "CVE-2099-9"]), &intel).unwrap();
        assert_eq!(b.text, "CRITICAL 9.8 · Exploited");
        assert_eq!(
            (b.cve.as_str(), b.label.as_str(), b.score.as_str()),
            ("CVE-2024-2", "CRITICAL", "9.8")
        );
        assert!(b.exploited);
        let b = severity(&ids(&["CVE-2024-1"]), &intel).unwrap();
        assert_eq!(b.text, "HIGH 7.5 · Exploited");
        assert_eq!(b.colour, "#d9480f");
        let b = severity(&ids(&["CVE-2024-2"]), &intel).unwrap();
        assert_eq!(b.text, "CRITICAL 9.8");
        let b = severity(&ids(&["CVE-2024-4"]), &intel).unwrap();
        assert_eq!(b.text, "Known exploited");
        // A record without a score, an unknown CVE, no CVEs: no band.
        assert_eq!(severity(&ids(&["CVE-2024-3", "CVE-2099-9"]), &intel), None);
        assert_eq!(severity(&[], &intel), None);
    }

    #[test]
    fn only_colours_are_taken() {
        for ok in [
            "#fff",
            "#0d1321",
            "#0d132180",
            "rgb(1, 2, 3)",
            "hsl(10 20% 30% / 50%)",
            "red",
        ] {
            assert!(is_colour(ok), "{ok}");
        }
        for bad in [
            "#ggg",
            "url(x)",
            "red;fill:x",
            "\"/><script>",
            "var(--x)",
            "#12345",
        ] {
            assert!(!is_colour(bad), "{bad}");
        }
    }
}

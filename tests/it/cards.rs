//! Social card layout: 1,000 generated titles (short, long, one huge word, accented,
//! Greek and Cyrillic, CJK, Hebrew and Arabic) laid out in the title box, each checked
//! against the box from resvg's own layout of the card (the text's drawn bounds), not by
//! eye. Titles no font can draw are refused (a warning in a build), never drawn as boxes.

use std::path::PathBuf;

use sitrep::config::images::CardTheme;
use sitrep::render::images::card_style::{Palette, Severity};
use sitrep::render::images::cards::{self, CardText, Fonts, TITLE_BOX};
use sitrep::render::templates::Templates;

/// A small deterministic generator (no clock, no randomness between runs).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const LATIN: &[&str] = &[
    "Patch",
    "now",
    "zero-day",
    "exploited",
    "in",
    "the",
    "wild",
    "ransomware",
    "gang",
    "claims",
    "attack",
    "on",
    "hospital",
    "CISA",
    "adds",
    "flaws",
    "to",
    "KEV",
    "catalogue",
    "authentication",
    "bypass",
    "remote",
    "code",
    "execution",
    "VPN",
    "appliances",
    "Microsoft",
    "Exchange",
    "OpenSSH",
    "regreSSHion",
    "CVE-2024-3400",
    "supply-chain",
    "backdoor",
    "xz-utils",
    "Ivanti",
    "Fortinet",
    "FortiManager",
    "critical",
    "advisory",
];
const UNICODE: &[&str] = &[
    "Sécurité",
    "vulnérabilité",
    "Überwachung",
    "Angriff",
    "Ελλάδα",
    "κυβερνοεπίθεση",
    "уязвимость",
    "атака",
    "żółć",
    "Ångström",
    "naïve",
    "façade",
    "—",
    "“quoted”",
    "&",
    "<b>",
];
const CJK: &[&str] = &[
    "情報",
    "セキュリティ",
    "脆弱性",
    "攻撃",
    "사이버",
    "보안",
    "漏洞",
    "勒索软件",
];
const RTL: &[&str] = &["אבטחה", "מתקפה", "פגיעות", "هجوم", "أمن", "ثغرة", "الفدية"];

fn title(rng: &mut Lcg, i: usize) -> String {
    let words = match i % 10 {
        0 => 1,
        1 => 2 + rng.next(3),
        2 => 25 + rng.next(30), // far too long for the box at any size
        _ => 4 + rng.next(14),
    };
    let pool: &[&str] = match i % 7 {
        0..=2 => LATIN,
        3 => UNICODE,
        4 => CJK,
        5 => RTL,
        _ => LATIN,
    };
    let mut out: Vec<String> = (0..words)
        .map(|_| pool[rng.next(pool.len())].to_string())
        .collect();
    if i % 13 == 0 {
        out.push("Pneumonoultramicroscopicsilicovolcanoconiosis-Supercalifragilisticexpialidocious-CVE-2024-12345-advisory".into());
    }
    if i % 4 == 3 {
        out.push(LATIN[rng.next(LATIN.len())].into()); // mixed scripts
    }
    let sep = if pool == CJK && i % 2 == 0 { "" } else { " " };
    out.join(sep)
}

fn templates() -> Templates {
    let empty = tempfile::tempdir().unwrap();
    let theme = sitrep::render::theme::load(empty.path(), "default").unwrap();
    Templates::new(&theme.templates, "https://example.com").unwrap()
}

/// Fonts for the test: Inter always; DejaVu Sans when the system has it (it covers Hebrew
/// and Arabic). No CJK font, so CJK titles must be refused.
fn fonts() -> (Fonts, bool) {
    let dejavu = PathBuf::from("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf");
    if dejavu.is_file() {
        (Fonts::new(&[dejavu]), true)
    } else {
        (Fonts::new(&[]), false)
    }
}

/// A band as the data of a critical, exploited CVE makes it.
fn band() -> Severity {
    Severity {
        cve: "CVE-2024-3400".into(),
        label: "CRITICAL".into(),
        score: "10.0".into(),
        exploited: true,
        text: "CRITICAL 10.0 · Exploited".into(),
        colour: "#b3121a".into(),
        text_colour: "#ffffff".into(),
    }
}

#[test]
fn a_thousand_titles_never_overflow_the_title_box_dark() {
    thousand_titles(CardTheme::Dark);
}

#[test]
fn a_thousand_titles_never_overflow_the_title_box_light() {
    thousand_titles(CardTheme::Light);
}

/// Every other card has a severity band: the title box is the same with or without it.
fn thousand_titles(theme: CardTheme) {
    let palette = Palette::from_css(None, theme);
    let (fonts, rtl_font) = fonts();
    let templates = templates();
    let mut rng = Lcg(20_241_130);
    let (mut drawn, mut refused, mut shortened, mut rtl_drawn, mut refitted) = (0, 0, 0, 0, 0);
    for i in 0..1000 {
        let t = title(&mut rng, i);
        let has_cjk = t.chars().any(|c| {
            ('\u{3040}'..='\u{9FFF}').contains(&c) || ('\u{AC00}'..='\u{D7AF}').contains(&c)
        });
        let has_rtl = t.chars().any(|c| ('\u{0590}'..='\u{06FF}').contains(&c));
        let layout = match cards::layout(&t, &fonts, TITLE_BOX) {
            Ok(l) => l,
            Err(c) => {
                assert!(
                    has_cjk || (has_rtl && !rtl_font),
                    "{t:?}: refused for {c:?}"
                );
                refused += 1;
                continue;
            }
        };
        assert!(!has_cjk, "{t:?}: no font here has CJK, yet it was laid out");
        rtl_drawn += usize::from(has_rtl);
        // From the layout: every line inside the box, lines inside its height.
        assert!(!layout.lines.is_empty());
        for line in &layout.lines {
            assert!(line.width <= TITLE_BOX.width, "{t:?}: {line:?}");
        }
        let last = layout.lines.last().unwrap();
        assert!(
            last.y + layout.size * 0.3 <= TITLE_BOX.y + TITLE_BOX.height,
            "{t:?}: {layout:?}"
        );
        // No word is cut: the lines are the title's words, in order (with `…` when
        // words had to be left out at the smallest size).
        let words: Vec<&str> = t.split_whitespace().collect();
        let shown: String = layout
            .lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if layout.shortened {
            shortened += 1;
            let kept = shown.trim_end_matches('…');
            for w in kept.split_whitespace() {
                assert!(
                    words.contains(&w) || t.contains(w),
                    "{t:?}: {w:?} is not a whole word"
                );
            }
        } else {
            assert_eq!(
                shown.split_whitespace().collect::<String>(),
                words.concat(),
                "{t:?}"
            );
        }
        // From resvg's layout of the real card: the drawn title stays in the box.
        let text = CardText {
            site_title: "Security Dispatch",
            title: &t,
            date: "2024-11-30".into(),
            category: Some("Vulnerabilities"),
            severity: (i % 2 == 0).then(band),
            theme,
            palette: &palette,
        };
        let (fitted, svg, tree) = cards::fit(&templates, &fonts, &text, layout.clone()).unwrap();
        assert!(svg.contains(&format!("fill=\"{}\"", palette.bg)), "{svg}");
        assert_eq!(svg.contains("CRITICAL 10.0 · Exploited"), i % 2 == 0);
        if let Some(band) = tree.node_by_id("severity") {
            assert!(band.abs_bounding_box().top() >= TITLE_BOX.y + TITLE_BOX.height);
        }
        let b = cards::title_bounds(&tree).expect("the title is drawn");
        assert!(
            cards::inside(b, TITLE_BOX, fitted.size),
            "{t:?} at {} px overflows: {b:?}",
            fitted.size
        );
        // The independent check: the box's edges.
        assert!(
            b.right() <= TITLE_BOX.x + TITLE_BOX.width
                && b.bottom() <= TITLE_BOX.y + TITLE_BOX.height
        );
        refitted += usize::from(fitted.size < layout.size);
        drawn += 1;
    }
    assert_eq!(drawn + refused, 1000);
    eprintln!(
        "{drawn} drawn, {refused} refused, {shortened} shortened, {refitted} laid out again smaller after resvg's layout"
    );
    assert!(
        refused >= 100,
        "CJK titles are refused without a CJK font: {refused}"
    );
    assert!(shortened > 0 && shortened < 200, "{shortened}");
    if rtl_font {
        assert!(rtl_drawn > 50, "{rtl_drawn}");
    }
}

#[test]
fn a_cjk_title_without_a_cjk_font_is_a_warning_and_no_card() {
    let s = tempfile::tempdir().unwrap();
    let root = s.path();
    std::fs::write(
        root.join("site.toml"),
        "title = \"T\"\nbase_url = \"https://example.com\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("content/posts")).unwrap();
    // A private-use character: no font anywhere has it, system fonts included.
    std::fs::write(
        root.join("content/posts/a.md"),
        "---\ntitle: \"\u{F0000}\u{F0001} advisory\"\ndate: 2024-01-01\n---\nBody.\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sitrep"))
        .args(["build"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("content/posts/a.md"), "{stderr}");
    assert!(stderr.contains("no font has the character"), "{stderr}");
    assert!(!root.join("public/posts/a/card.png").exists());
    let html = std::fs::read_to_string(root.join("public/posts/a/index.html")).unwrap();
    assert!(!html.contains("og:image"));
}

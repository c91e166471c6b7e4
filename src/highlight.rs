//! Code highlighting with syntect, into CSS classes (never inline styles).
//!
//! The syntax set is syntect's prebuilt binary dump, deserialised at most once per
//! [`Highlighter`] and only when the first code block with a known language asks for it.
//! Keep one `Highlighter` for the life of the process (`serve` reuses it across rebuilds).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::{SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// Class prefix of highlighted tokens: `<span class="hl-keyword">`.
pub const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// Code larger than this is not highlighted (it stays readable, as plain text).
pub const MAX_BYTES: usize = 256 * 1024;
/// Code with more lines than this is not highlighted.
pub const MAX_LINES: usize = 5_000;
/// Code with a line longer than this is not highlighted: regex-based grammars can take
/// quadratic time on one long line (a 4,000-byte line of `1e1e…` takes 0.4 s in Java's
/// grammar, 2,000 bytes a quarter of that).
pub const MAX_LINE_BYTES: usize = 2_048;
/// Highlighting one code block stops after this long, and the block is shown as plain
/// text. Within the bounds above some grammars still take minutes on crafted code (64
/// such Java lines took 47 s); ordinary code needs milliseconds, so only such code is
/// affected, and only it can make the output depend on the machine's speed.
pub const MAX_BLOCK_TIME: Duration = Duration::from_secs(2);

/// Highlights code blocks; cheap to create, loads syntaxes on first use.
#[derive(Default)]
pub struct Highlighter {
    syntaxes: OnceLock<SyntaxSet>,
}

/// What happened to one code block.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Highlighted HTML (the inside of `<code>`).
    Html(String),
    /// The language is unknown (or none was given): render as plain text.
    Plain,
    /// Too large to highlight safely; the reason, for a warning.
    TooLarge(String),
}

impl Highlighter {
    pub fn new() -> Self {
        Self::default()
    }

    fn syntaxes(&self) -> &SyntaxSet {
        self.syntaxes.get_or_init(SyntaxSet::load_defaults_newlines)
    }

    fn find(&self, lang: &str) -> Option<&SyntaxReference> {
        let lang = match lang.to_ascii_lowercase().as_str() {
            "" | "text" | "plain" | "plaintext" | "txt" | "none" => return None,
            "shell" | "console" | "zsh" | "shell-session" => "bash".to_string(),
            "golang" => "go".to_string(),
            "jsonc" | "json5" => "json".to_string(),
            "yml" => "yaml".to_string(),
            "py" | "python3" => "python".to_string(),
            other => other.to_string(),
        };
        let ss = self.syntaxes();
        ss.find_syntax_by_token(&lang)
    }

    /// Highlights `code` written in `lang` (a fence's info string, first word), for at most
    /// [`MAX_BLOCK_TIME`].
    pub fn highlight(&self, lang: &str, code: &str) -> Outcome {
        self.highlight_for(lang, code, MAX_BLOCK_TIME)
    }

    /// Highlights `code` unless that takes longer than `budget`.
    pub fn highlight_for(&self, lang: &str, code: &str, budget: Duration) -> Outcome {
        if lang.is_empty() {
            return Outcome::Plain;
        }
        if code.len() > MAX_BYTES {
            return Outcome::TooLarge(format!(
                "{} KiB of code (the limit is {} KiB)",
                code.len() / 1024,
                MAX_BYTES / 1024
            ));
        }
        let lines = code.lines().count();
        if lines > MAX_LINES {
            return Outcome::TooLarge(format!("{lines} lines (the limit is {MAX_LINES})"));
        }
        if let Some(long) = code
            .lines()
            .map(str::len)
            .max()
            .filter(|&l| l > MAX_LINE_BYTES)
        {
            return Outcome::TooLarge(format!(
                "a line of {long} bytes (the limit is {MAX_LINE_BYTES})"
            ));
        }
        let Some(syntax) = self.find(lang) else {
            return Outcome::Plain;
        };
        let ss = self.syntaxes();
        let start = Instant::now();
        let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, ss, CLASS_STYLE);
        for line in LinesWithEndings::from(code) {
            if start.elapsed() > budget {
                return Outcome::TooLarge(format!(
                    "highlighting it took longer than {:.1} s",
                    budget.as_secs_f64()
                ));
            }
            if generator
                .parse_html_for_line_which_includes_newline(line)
                .is_err()
            {
                return Outcome::Plain;
            }
        }
        Outcome::Html(generator.finalize())
    }
}

/// The names of syntect's bundled themes, for `highlight_theme`.
pub fn theme_names() -> Vec<String> {
    let mut names: Vec<String> = ThemeSet::load_defaults().themes.into_keys().collect();
    names.sort();
    names
}

/// The stylesheet for the bundled theme `name`, or `None` if there is no such theme.
pub fn theme_css(name: &str) -> Option<String> {
    let themes = ThemeSet::load_defaults();
    let theme = themes.themes.get(name)?;
    css_for_theme_with_class_style(theme, CLASS_STYLE).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_language_gets_classes_not_styles() {
        let h = Highlighter::new();
        let Outcome::Html(html) = h.highlight("rust", "fn main() { let x = \"<b>\"; }\n") else {
            panic!("not highlighted");
        };
        assert!(html.contains("class=\"hl-"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn aliases_and_unknown() {
        let h = Highlighter::new();
        assert!(matches!(h.highlight("sh", "echo hi\n"), Outcome::Html(_)));
        assert!(matches!(h.highlight("yml", "a: 1\n"), Outcome::Html(_)));
        assert_eq!(h.highlight("no-such-lang", "x\n"), Outcome::Plain);
        assert_eq!(h.highlight("", "x\n"), Outcome::Plain);
    }

    #[test]
    fn large_code_is_not_highlighted() {
        let h = Highlighter::new();
        let many = "x = 1\n".repeat(MAX_LINES + 1);
        assert!(matches!(h.highlight("python", &many), Outcome::TooLarge(_)));
        let long = format!("x = '{}'\n", "a".repeat(MAX_LINE_BYTES));
        assert!(matches!(h.highlight("python", &long), Outcome::TooLarge(_)));
    }

    #[test]
    fn slow_code_stops_at_its_time_budget() {
        let h = Highlighter::new();
        // Regex-heavy for Java's grammar: about 0.1 s a line in a release build.
        let code = format!("{}\n", "1e".repeat(MAX_LINE_BYTES / 2 - 1)).repeat(60);
        let start = Instant::now();
        let outcome = h.highlight_for("java", &code, Duration::from_millis(200));
        assert!(
            matches!(&outcome, Outcome::TooLarge(why) if why.contains("took longer than 0.2 s")),
            "{outcome:?}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            start.elapsed()
        );
        // Ordinary code is nowhere near it.
        let ordinary = "fn main() { println!(\"{}\", 1 + 2); }\n".repeat(1_000);
        assert!(matches!(h.highlight("rust", &ordinary), Outcome::Html(_)));
    }

    #[test]
    fn theme_css_for_default_theme() {
        let css = theme_css("base16-ocean.dark").unwrap();
        assert!(css.contains(".hl-"), "{}", &css[..200.min(css.len())]);
        assert!(theme_css("nope").is_none());
        assert!(theme_names().contains(&"InspiredGitHub".to_string()));
    }
}

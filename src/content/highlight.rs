//! Code highlighting with syntect, into CSS classes (never inline styles).
//!
//! The syntax set is syntect's prebuilt binary dump, deserialised at most once per
//! [`Highlighter`] and only when the first code block with a known language asks for it.
//! Keep one `Highlighter` for the life of the process (`serve` reuses it across rebuilds).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, css_for_theme_with_class_style, line_tokens_to_classed_spans};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};
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

/// Where highlighting reads the time from, to keep to its budgets.
///
/// Builds use the machine's monotonic clock. Tests use a counted clock, which moves on by a
/// fixed step at every reading: the budgets are then tested by counting, the same on a
/// machine ten times faster or slower.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The machine's monotonic clock.
    #[default]
    Wall,
    /// Every reading is `step` later than the one before.
    Counted(Duration),
}

/// A running clock of one [`Session`].
enum Running {
    Wall(Instant),
    Counted { step: Duration, readings: u32 },
}

impl Running {
    fn new(clock: Clock) -> Self {
        match clock {
            Clock::Wall => Running::Wall(Instant::now()),
            Clock::Counted(step) => Running::Counted { step, readings: 0 },
        }
    }

    /// Time since the session began.
    fn now(&mut self) -> Duration {
        match self {
            Running::Wall(origin) => origin.elapsed(),
            Running::Counted { step, readings } => {
                *readings = readings.saturating_add(1);
                step.saturating_mul(*readings)
            }
        }
    }
}

/// Most lines remembered by the line memo (about 30 MB at most).
const MEMO_LIMIT: usize = 100_000;

/// Highlights code blocks; cheap to create, loads syntaxes on first use. Shared by all
/// threads; each thread highlights through its own [`Session`].
#[derive(Default)]
pub struct Highlighter {
    syntaxes: OnceLock<SyntaxSet>,
    themes: OnceLock<ThemeSet>,
    clock: Clock,
}

/// One thread's highlighting, with its memo of lines already highlighted.
pub struct Session<'a> {
    hl: &'a Highlighter,
    memo: LineMemo,
    clock: Running,
}

/// What highlighting one line produced, and the state it left behind.
struct LineResult {
    html: String,
    open_spans: isize,
    parse: ParseState,
    scopes: ScopeStack,
}

/// One remembered line: the grammar, the parser and scope state at its start, the result.
type MemoEntry = (usize, ParseState, ScopeStack, Rc<LineResult>);

/// Highlighting a line is a pure function of the grammar, the parser and scope state at
/// the start of the line, and the line's text; code repeats lines (`fi`, `}`, imports,
/// shebangs), so results are remembered. The output is the same with or without it.
#[derive(Default)]
struct LineMemo {
    /// Line text -> (grammar, state at the start, result).
    lines: HashMap<String, Vec<MemoEntry>>,
    entries: usize,
}

impl LineMemo {
    fn get(
        &self,
        grammar: usize,
        parse: &ParseState,
        scopes: &ScopeStack,
        line: &str,
    ) -> Option<Rc<LineResult>> {
        self.lines
            .get(line)?
            .iter()
            .find(|(g, p, s, _)| *g == grammar && p == parse && s == scopes)
            .map(|(.., r)| Rc::clone(r))
    }

    fn put(
        &mut self,
        grammar: usize,
        parse: ParseState,
        scopes: ScopeStack,
        line: &str,
        result: Rc<LineResult>,
    ) {
        if self.entries >= MEMO_LIMIT {
            return;
        }
        self.entries += 1;
        self.lines
            .entry(line.to_string())
            .or_default()
            .push((grammar, parse, scopes, result));
    }
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

    /// A highlighter that reads the time from `clock` (tests use [`Clock::Counted`]).
    pub fn with_clock(clock: Clock) -> Self {
        Highlighter {
            clock,
            ..Self::default()
        }
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

    /// The stylesheet for the bundled theme `name`, or `None` if there is no such theme.
    pub fn theme_css(&self, name: &str) -> Option<String> {
        let themes = self.themes.get_or_init(ThemeSet::load_defaults);
        css_for_theme_with_class_style(themes.themes.get(name)?, CLASS_STYLE).ok()
    }

    /// The names of syntect's bundled themes, for `highlight_theme`.
    pub fn theme_names(&self) -> Vec<String> {
        let themes = self.themes.get_or_init(ThemeSet::load_defaults);
        let mut names: Vec<String> = themes.themes.keys().cloned().collect();
        names.sort();
        names
    }

    /// A session for one thread.
    pub fn session(&self) -> Session<'_> {
        Session {
            hl: self,
            memo: LineMemo::default(),
            clock: Running::new(self.clock),
        }
    }

    /// Highlights one block in a session of its own (no memo shared with other blocks).
    pub fn highlight(&self, lang: &str, code: &str) -> Outcome {
        self.session().highlight(lang, code)
    }

    /// [`Session::highlight_for`] in a session of its own.
    pub fn highlight_for(&self, lang: &str, code: &str, budget: Duration) -> Outcome {
        self.session().highlight_for(lang, code, budget)
    }
}

impl Session<'_> {
    /// Time since this session began, on the highlighter's [`Clock`].
    pub fn now(&mut self) -> Duration {
        self.clock.now()
    }

    /// Highlights `code` written in `lang` (a fence's info string, first word), for at most
    /// [`MAX_BLOCK_TIME`].
    pub fn highlight(&mut self, lang: &str, code: &str) -> Outcome {
        self.highlight_for(lang, code, MAX_BLOCK_TIME)
    }

    /// Highlights `code` unless that takes longer than `budget`.
    pub fn highlight_for(&mut self, lang: &str, code: &str, budget: Duration) -> Outcome {
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
        let Some(syntax) = self.hl.find(lang) else {
            return Outcome::Plain;
        };
        self.highlight_lines(syntax, code, budget)
    }

    /// What syntect's `ClassedHTMLGenerator` does, one line at a time through the memo,
    /// giving up after `budget`.
    fn highlight_lines(
        &mut self,
        syntax: &SyntaxReference,
        code: &str,
        budget: Duration,
    ) -> Outcome {
        let start = self.now();
        let ss = self.hl.syntaxes();
        let grammar = syntax as *const SyntaxReference as usize;
        let mut parse = ParseState::new(syntax);
        let mut scopes = ScopeStack::new();
        let mut open_spans = 0isize;
        let mut html = String::with_capacity(code.len() * 4);
        for line in LinesWithEndings::from(code) {
            if self.now().saturating_sub(start) > budget {
                return Outcome::TooLarge(format!(
                    "highlighting it took longer than {:.1} s",
                    budget.as_secs_f64()
                ));
            }
            let cached = self.memo.get(grammar, &parse, &scopes, line);
            let result = match cached {
                Some(r) => r,
                None => {
                    let (start_parse, start_scopes) = (parse.clone(), scopes.clone());
                    let mut p = parse.clone();
                    let mut sc = scopes.clone();
                    let Ok(ops) = p.parse_line(line, ss) else {
                        return Outcome::Plain;
                    };
                    let Ok((line_html, delta)) =
                        line_tokens_to_classed_spans(line, &ops, CLASS_STYLE, &mut sc)
                    else {
                        return Outcome::Plain;
                    };
                    let r = Rc::new(LineResult {
                        html: line_html,
                        open_spans: delta,
                        parse: p,
                        scopes: sc,
                    });
                    self.memo
                        .put(grammar, start_parse, start_scopes, line, Rc::clone(&r));
                    r
                }
            };
            html.push_str(&result.html);
            open_spans += result.open_spans;
            parse.clone_from(&result.parse);
            scopes.clone_from(&result.scopes);
        }
        for _ in 0..open_spans.max(0) {
            html.push_str("</span>");
        }
        Outcome::Html(html)
    }
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

    /// Regex-heavy for Java's grammar: about 0.1 s a line in a release build.
    fn slow_java(lines: usize) -> String {
        format!("{}\n", "1e".repeat(MAX_LINE_BYTES / 2 - 1)).repeat(lines)
    }

    #[test]
    fn time_budget_is_kept_by_the_clock_not_the_machine() {
        // A counted clock: every reading is one millisecond on, however fast the machine.
        let h = Highlighter::with_clock(Clock::Counted(Duration::from_millis(1)));
        let code = slow_java(60);
        let outcome = h.highlight_for("java", &code, Duration::from_nanos(1));
        assert!(
            matches!(&outcome, Outcome::TooLarge(why) if why.contains("took longer than 0.0 s")),
            "{outcome:?}"
        );
        // 60 lines read the clock 62 times: 62 ms, within an hour.
        assert!(matches!(
            h.highlight_for("java", &code, Duration::from_secs(3600)),
            Outcome::Html(_)
        ));
        // The budget is checked before each line: 10 ms lets a few lines through, not all.
        let mut session = h.session();
        let outcome = session.highlight_for("java", &slow_java(3), Duration::from_millis(10));
        assert!(matches!(outcome, Outcome::Html(_)), "{outcome:?}");
        let outcome = session.highlight_for("java", &slow_java(30), Duration::from_millis(10));
        assert!(
            matches!(&outcome, Outcome::TooLarge(why) if why.contains("took longer than 0.0 s")),
            "{outcome:?}"
        );
    }

    #[test]
    fn wall_clock_with_an_hour_highlights_slow_code() {
        let h = Highlighter::new();
        assert!(matches!(
            h.highlight_for("java", &slow_java(3), Duration::from_secs(3600)),
            Outcome::Html(_)
        ));
        // Ordinary code is nowhere near the default budget.
        let ordinary = "fn main() { println!(\"{}\", 1 + 2); }\n".repeat(1_000);
        assert!(matches!(h.highlight("rust", &ordinary), Outcome::Html(_)));
    }

    #[test]
    fn theme_css_for_default_theme() {
        let h = Highlighter::new();
        let css = h.theme_css("base16-ocean.dark").unwrap();
        assert!(css.contains(".hl-"), "{}", &css[..200.min(css.len())]);
        assert!(h.theme_css("nope").is_none());
        assert!(h.theme_names().contains(&"InspiredGitHub".to_string()));
    }
}

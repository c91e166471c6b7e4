//! Diagnostics: every problem a user can cause, located in a file.
//!
//! A [`Diagnostic`] names the file (relative to the site root where possible), the line and
//! column where they are known, says what is wrong and, in `help`, how to fix it. A build
//! collects all the diagnostics it can before giving up, so one run reports every broken
//! post, not only the first; [`BuildError`] carries them out to the command layer.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    /// The build fails.
    Error,
    /// The build goes on; the user should look.
    Warning,
}

/// Where a problem comes from.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Origin {
    /// A file, as the user would type it (relative to the site root).
    File(PathBuf),
    /// A command-line flag (`--base-url`).
    Flag(String),
    /// The site as a whole, no one file.
    Site,
}

/// A problem found by a layer that does not know which file it is in (a Markdown body, a
/// header value): what is wrong and how to fix it. The caller places it in a file as a
/// [`Diagnostic`] with [`Problem::in_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub help: String,
}

impl Problem {
    pub fn new(message: impl Into<String>, help: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            help: help.into(),
        }
    }

    /// This problem as an error (or warning) of `file`.
    pub fn in_file(&self, severity: Severity, file: impl Into<PathBuf>) -> Diagnostic {
        Diagnostic {
            severity,
            ..Diagnostic::error(file, self.message.clone())
        }
        .with_help(self.help.clone())
    }
}

/// One problem, located as precisely as sitrep knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file (or flag, or the whole site) the problem is in.
    pub origin: Origin,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known (only with a line).
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error in `file`.
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            origin: Origin::File(file.into()),
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }

    /// A warning in `file`.
    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    /// An error in the value of the command-line flag `flag` (`--base-url`).
    pub fn flag(flag: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            origin: Origin::Flag(flag.to_string()),
            ..Diagnostic::error("", message)
        }
    }

    /// An error of the site as a whole, in no one file.
    pub fn site(message: impl Into<String>) -> Self {
        Diagnostic {
            origin: Origin::Site,
            ..Diagnostic::error("", message)
        }
    }

    /// The file the problem is in, if it is in a file.
    pub fn file(&self) -> Option<&Path> {
        match &self.origin {
            Origin::File(f) => Some(f),
            _ => None,
        }
    }

    /// An I/O failure on `path` while doing `action` ("read", "write", ...).
    pub fn io(path: &Path, action: &str, err: &std::io::Error) -> Self {
        let help = match err.kind() {
            std::io::ErrorKind::PermissionDenied => {
                "check the permissions of the file and of the folders above it"
            }
            std::io::ErrorKind::NotFound => "check that the path exists",
            std::io::ErrorKind::StorageFull => "free some disk space and build again",
            std::io::ErrorKind::ReadOnlyFilesystem => "build into a writable folder (--output)",
            _ => "check the file and the disk, then build again",
        };
        Diagnostic::error(path, format!("could not {action} this path: {err}")).with_help(help)
    }

    /// Sets the 1-based line.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the 1-based line and column.
    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Sets the line if one is known.
    pub fn at_opt(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    /// Adds how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.origin {
            Origin::File(file) => {
                write!(f, "{label}: {}", file.display())?;
                if let Some(line) = self.line {
                    write!(f, ":{line}")?;
                    if let Some(col) = self.column {
                        write!(f, ":{col}")?;
                    }
                }
            }
            Origin::Flag(flag) => write!(f, "{label}: {flag}")?,
            Origin::Site => write!(f, "{label}")?,
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            for (i, line) in help.lines().enumerate() {
                if i == 0 {
                    write!(f, "\n  help: {line}")?;
                } else {
                    write!(f, "\n        {line}")?;
                }
            }
        }
        Ok(())
    }
}

/// A failed build: one or more errors (and the warnings seen before it failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub diagnostics: Vec<Diagnostic>,
}

impl BuildError {
    pub fn new(diagnostics: Vec<Diagnostic>) -> Self {
        BuildError { diagnostics }
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl From<Diagnostic> for BuildError {
    fn from(d: Diagnostic) -> Self {
        BuildError::new(vec![d])
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// Collects diagnostics from the stages of a build.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Fails with every diagnostic so far if any of them is an error.
    pub fn check(&mut self) -> Result<(), BuildError> {
        if self.has_errors() {
            Err(BuildError::new(self.take()))
        } else {
            Ok(())
        }
    }

    /// The diagnostics so far, sorted by file and line so the output is stable.
    pub fn take(&mut self) -> Vec<Diagnostic> {
        let mut items = std::mem::take(&mut self.items);
        items.sort_by(|a, b| {
            (a.severity, &a.origin, a.line, a.column, &a.message)
                .cmp(&(b.severity, &b.origin, b.line, b.column, &b.message))
        });
        items.dedup();
        items
    }
}

/// The 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_file_line_column_and_help() {
        let d = Diagnostic::error("content/posts/a.md", "bad date")
            .at(3, 7)
            .with_help("write YYYY-MM-DD");
        assert_eq!(
            d.to_string(),
            "error: content/posts/a.md:3:7: bad date\n  help: write YYYY-MM-DD"
        );
    }

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 4));
        assert_eq!(line_col(text, 100), (3, 2));
    }

    #[test]
    fn closest_suggests_typos_only() {
        let fields = ["title", "date", "tags", "tldr"];
        assert_eq!(closest("tilte", &fields), Some("title"));
        assert_eq!(closest("tag", &fields), Some("tags"));
        assert_eq!(closest("completely_else", &fields), None);
    }

    #[test]
    fn diagnostics_sort_and_fail_on_errors() {
        let mut ds = Diagnostics::default();
        ds.push(Diagnostic::warning("b.md", "w"));
        assert!(ds.check().is_ok());
        ds.push(Diagnostic::error("z.md", "e2"));
        ds.push(Diagnostic::error("a.md", "e1"));
        let err = ds.check().unwrap_err();
        let files: Vec<_> = err.diagnostics.iter().map(|d| d.origin.clone()).collect();
        let file = |f: &str| Origin::File(PathBuf::from(f));
        assert_eq!(files, [file("a.md"), file("z.md"), file("b.md")]);
    }
}

//! One module per command. Messages go to stderr (diagnostics) and stdout (results).

pub mod build;
pub mod check;
pub mod data;
pub mod init;
pub mod new;
pub mod serve;

use std::process::ExitCode;

use sitrep::Diagnostic;

/// Prints diagnostics, one block each, to stderr.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

/// Prints one error and fails.
pub fn fail(d: &Diagnostic) -> ExitCode {
    eprintln!("{d}");
    ExitCode::FAILURE
}

/// "1 error" / "3 errors".
pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Today's date, YYYY-MM-DD, in local time.
pub fn today() -> String {
    chrono::Local::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

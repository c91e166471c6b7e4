//! One module per command. Messages go to stderr (diagnostics) and stdout (results).

pub mod build;
pub mod check;
pub mod data;
pub mod deploy_config;
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

/// The moment to build for, read once here and handed to the build: `--now` (RFC 3339 or
/// YYYY-MM-DD), else `SOURCE_DATE_EPOCH` (seconds since 1970, as reproducible-builds
/// tooling sets it), else the clock.
pub fn now(arg: Option<&str>) -> Result<chrono::DateTime<chrono::Utc>, Diagnostic> {
    moment(
        arg,
        std::env::var("SOURCE_DATE_EPOCH").ok().as_deref(),
        chrono::Utc::now,
    )
}

fn moment(
    arg: Option<&str>,
    epoch: Option<&str>,
    clock: impl FnOnce() -> chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, Diagnostic> {
    if let Some(a) = arg {
        return sitrep::support::date::Date::parse(a)
            .map(|d| d.at.with_timezone(&chrono::Utc))
            .map_err(|why| {
                Diagnostic::flag("--now", why).with_help(
                    "give the moment as RFC 3339, such as --now 2027-03-01T09:00:00Z, or as YYYY-MM-DD",
                )
            });
    }
    match epoch.map(str::trim) {
        Some(e) if !e.is_empty() => e
            .parse::<i64>()
            .ok()
            .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
            .ok_or_else(|| {
                Diagnostic::flag(
                    "SOURCE_DATE_EPOCH",
                    format!("{e:?} is not a number of seconds since 1970-01-01"),
                )
                .with_help("set it to an integer such as 1793523600, or unset it to use the clock")
            }),
        _ => Ok(clock()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> chrono::DateTime<chrono::Utc> {
        panic!("the clock was read")
    }

    #[test]
    fn now_comes_from_the_flag_then_the_epoch_then_the_clock() {
        let flag = moment(Some("2027-03-01T10:00:00+01:00"), Some("5"), never).unwrap();
        assert_eq!(flag.to_rfc3339(), "2027-03-01T09:00:00+00:00");
        let epoch = moment(None, Some("1793523600"), never).unwrap();
        assert_eq!(epoch.to_rfc3339(), "2026-11-01T09:00:00+00:00");
        let clock = chrono::DateTime::from_timestamp(7, 0).unwrap();
        assert_eq!(moment(None, None, || clock).unwrap(), clock);
        assert_eq!(moment(None, Some(""), || clock).unwrap(), clock);
        let bad = moment(Some("tomorrow"), None, never).unwrap_err();
        assert!(bad.to_string().contains("--now"), "{bad}");
        let bad = moment(None, Some("soon"), never).unwrap_err();
        assert!(bad.message.contains("\"soon\""), "{bad}");
    }
}

//! `sitrep check`.

use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::BuildOptions;
use sitrep::content::highlight::Highlighter;

use super::{count, print_diagnostics};

#[derive(clap::Args)]
pub struct Args {
    /// The site's folder, the one with site.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// Include posts marked `draft: true` (links to drafts are broken without it).
    #[arg(long)]
    drafts: bool,
    /// Check the site as it is at this moment (RFC 3339); default: SOURCE_DATE_EPOCH, else now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Include scheduled posts, as `build --future` does.
    #[arg(long)]
    future: bool,
}

pub fn run(args: Args) -> ExitCode {
    let now = match super::now(args.now.as_deref()) {
        Ok(now) => now,
        Err(d) => return super::fail(&d),
    };
    let opts = BuildOptions {
        root: args.root,
        drafts: args.drafts,
        now: Some(now),
        future: args.future,
        ..BuildOptions::default()
    };
    match sitrep::check::check(&opts, &Highlighter::new()) {
        Ok(report) => {
            print_diagnostics(&report.warnings);
            print_diagnostics(&report.problems);
            for line in report.editorial_lines() {
                println!("{line}");
            }
            println!("{}", report.summary());
            if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            print_diagnostics(&err.diagnostics);
            eprintln!(
                "check failed: the site does not build ({}); nothing was written",
                count(err.errors().count(), "error")
            );
            ExitCode::FAILURE
        }
    }
}

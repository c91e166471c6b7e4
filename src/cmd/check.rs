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
}

pub fn run(args: Args) -> ExitCode {
    let opts = BuildOptions {
        root: args.root,
        drafts: args.drafts,
        now: Some(super::now()),
        ..BuildOptions::default()
    };
    match sitrep::check::check(&opts, &Highlighter::new()) {
        Ok(report) => {
            print_diagnostics(&report.warnings);
            print_diagnostics(&report.problems);
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

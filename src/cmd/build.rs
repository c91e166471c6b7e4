//! `sitrep build`.

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
    /// Where to write the site; replaced as a whole when the build succeeds.
    /// Defaults to DIR/public.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Include posts marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Use this base URL instead of site.toml's base_url (absolute http or https).
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Print how long each stage of the build took.
    #[arg(long)]
    timings: bool,
    /// Build cold: do not read or write the build cache (.sitrep-cache/).
    #[arg(long)]
    no_cache: bool,
    /// Build the site as it is at this moment (RFC 3339, such as 2027-03-01T09:00:00Z):
    /// later posts are scheduled, expired ones go. Default: SOURCE_DATE_EPOCH, else now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Include scheduled posts (dated after now), marked as scheduled: for previews only.
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
        output: args.output,
        drafts: args.drafts,
        base_url: args.base_url,
        no_cache: args.no_cache,
        now: Some(now),
        future: args.future,
    };
    match sitrep::build(&opts, &Highlighter::new()) {
        Ok(report) => {
            print_diagnostics(&report.warnings);
            if args.timings {
                eprintln!("{}", report.timings.report());
                eprintln!(
                    "images: {} read, {} decoded, {} social cards drawn",
                    report.images_read, report.images_decoded, report.cards_drawn
                );
            }
            println!("{}", report.summary());
            if let Some(line) = report.editorial() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            print_diagnostics(&err.diagnostics);
            eprintln!(
                "build failed with {}; the output folder {} was left as it was",
                count(err.errors().count(), "error"),
                opts.output_dir().display()
            );
            ExitCode::FAILURE
        }
    }
}

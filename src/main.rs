//! The `sitrep` command line.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sitrep::highlight::Highlighter;
use sitrep::{BuildOptions, Diagnostic};

/// mimalloc: a build allocates and frees many small strings on every thread; it cut the
/// instructions spent in the allocator by about half against glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A static site generator for security news blogs.
#[derive(Parser)]
#[command(name = "sitrep", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into its output folder (public/ by default).
    Build {
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
    },
}

fn print_diagnostics(diags: &[Diagnostic]) {
    for d in diags {
        eprintln!("{d}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Build {
            root,
            output,
            drafts,
            base_url,
            timings,
            no_cache,
        } => {
            let opts = BuildOptions {
                root,
                output,
                drafts,
                base_url,
                no_cache,
            };
            let hl = Highlighter::new();
            match sitrep::build(&opts, &hl) {
                Ok(report) => {
                    print_diagnostics(&report.warnings);
                    if timings {
                        eprintln!("{}", report.timings.report());
                    }
                    println!("{}", report.summary());
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    print_diagnostics(&err.diagnostics);
                    let n = err.errors().count();
                    eprintln!(
                        "build failed with {n} error{}; the output folder {} was left as it was",
                        if n == 1 { "" } else { "s" },
                        opts.output_dir().display()
                    );
                    ExitCode::FAILURE
                }
            }
        }
    }
}

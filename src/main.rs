//! The `sitrep` command line: one module per command in `cmd/`, each with its flags and a
//! `run` that turns the library's result into messages and an exit status.

#![forbid(unsafe_code)]

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: a build allocates and frees many small strings on every thread; it cut the
/// instructions spent in the allocator by about half against glibc's malloc. Built with
/// `no_thp`: with transparent huge pages its arenas held 2 MiB pages the build touched
/// only in part (peak memory 3.75 GiB at 100,000 posts, 3.42 GiB without, for 4-5% more
/// CPU time: the 100,000-post memory budget had the smaller margin).
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
    Build(cmd::build::Args),
    /// Build, serve on this computer, rebuild on every save and reload open browser tabs.
    Serve(cmd::serve::Args),
    /// Write a new post, content/posts/<slug>.md, with its front matter filled in.
    New(cmd::new::Args),
    /// Create a new site (site.toml, the default theme, an example post) in a new folder.
    Init(cmd::init::Args),
    /// Everything `build` checks, plus internal links, anchors and images; writes nothing.
    Check(cmd::check::Args),
    /// Print a server configuration for the site: nginx or Caddy.
    DeployConfig(cmd::deploy_config::Args),
    /// Threat-intelligence data: `data sync` downloads it into data/.
    Data(cmd::data::Args),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Build(args) => cmd::build::run(args),
        Command::Serve(args) => cmd::serve::run(args),
        Command::New(args) => cmd::new::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::DeployConfig(args) => cmd::deploy_config::run(args),
        Command::Data(args) => cmd::data::run(args),
    }
}

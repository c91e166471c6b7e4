//! `sitrep deploy-config nginx|caddy`: prints a server configuration for the site, made
//! from the same rules as the host files a build writes (headers, redirects, caching,
//! precompressed files, the 404 page, the base URL's path).

use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::BuildOptions;
use sitrep::content::highlight::Highlighter;
use sitrep::render::deploy::{caddy, nginx};

use super::{count, print_diagnostics};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Server {
    Nginx,
    Caddy,
}

#[derive(clap::Args)]
pub struct Args {
    /// The server to configure.
    server: Server,
    /// The site's folder, the one with site.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// The folder the server serves: where `sitrep build` writes (DIR/public by default).
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Use this base URL instead of site.toml's base_url.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Where the server listens: nginx's `listen` (default 80); for Caddy, the site
    /// address becomes http://ADDRESS (default: the base URL's host, with automatic HTTPS).
    #[arg(long, value_name = "ADDRESS")]
    listen: Option<String>,
    /// The moment to configure for, as `build --now` (the posts published then, and the
    /// security.txt checks). Default: SOURCE_DATE_EPOCH, else now.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let now = match super::now(args.now.as_deref()) {
        Ok(now) => now,
        Err(d) => return super::fail(&d),
    };
    let opts = BuildOptions {
        root: args.root,
        output: args.output,
        base_url: args.base_url,
        now: Some(now),
        ..BuildOptions::default()
    };
    let loaded = match sitrep::build::load(&opts, &Highlighter::new()) {
        Ok(l) => l,
        Err(err) => {
            print_diagnostics(&err.diagnostics);
            eprintln!(
                "deploy-config failed with {}",
                count(err.errors().count(), "error")
            );
            return ExitCode::FAILURE;
        }
    };
    print_diagnostics(&loaded.warnings);
    let rules = loaded.renderer().deploy_rules();
    let out = opts.output_dir();
    let root = std::path::absolute(&out).unwrap_or(out);
    let (text, warnings) = match args.server {
        Server::Nginx => nginx::server_block(
            &rules,
            &root,
            &nginx::Listen {
                listen: args.listen.unwrap_or_else(|| "80".into()),
                server_name: rules.host.clone(),
            },
        ),
        Server::Caddy => {
            let address = args
                .listen
                .map_or_else(|| rules.host.clone(), |l| format!("http://{l}"));
            caddy::site_block(&rules, &root, &address)
        }
    };
    print_diagnostics(&warnings);
    print!("{text}");
    ExitCode::SUCCESS
}

//! `sitrep serve`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::serve::{ServeOptions, Server};

use super::fail;

#[derive(clap::Args)]
pub struct Args {
    /// The site's folder, the one with site.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    /// The address to listen on. Anything but a loopback address (127.0.0.1, ::1) makes
    /// the site reachable from the network.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The port to listen on; 0 picks a free one (the address is printed).
    #[arg(long, default_value_t = 1111)]
    port: u16,
    /// Include posts marked `draft: true`.
    #[arg(long)]
    drafts: bool,
    /// Where to build the served site; replaced on every rebuild. Defaults to a new
    /// temporary folder, removed when serve stops with Ctrl-C. Never the site's public/
    /// unless you say so.
    #[arg(long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Serve the site as it is at this moment (RFC 3339); default: SOURCE_DATE_EPOCH, else
    /// the moment serve starts.
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
    /// Show scheduled posts (dated after now), marked "Scheduled" on their pages.
    #[arg(long)]
    future: bool,
}

pub fn run(args: Args) -> ExitCode {
    let now = match super::now(args.now.as_deref()) {
        Ok(now) => now,
        Err(d) => return fail(&d),
    };
    let opts = ServeOptions {
        root: args.root,
        bind: args.bind,
        port: args.port,
        drafts: args.drafts,
        output: args.output,
        now: Some(now),
        future: args.future,
    };
    let server = match Server::bind(&opts) {
        Ok(s) => s,
        Err(d) => return fail(&d),
    };
    if let Some(warning) = sitrep::serve::network_warning(server.addr()) {
        eprintln!("{warning}");
    }
    match server.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(d) => fail(&d),
    }
}

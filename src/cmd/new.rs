//! `sitrep new`.

use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::scaffold;

use super::{fail, today};

#[derive(clap::Args)]
pub struct Args {
    /// The post's title; its slug names the file: content/posts/<slug>.md.
    title: String,
    /// Tags, separated by commas: --tags ransomware,patch-tuesday
    #[arg(long, value_name = "A,B")]
    tags: Option<String>,
    /// The site's folder, the one with site.toml.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let tags = scaffold::split_tags(args.tags.as_deref().unwrap_or(""));
    match scaffold::new_post(&args.root, &args.title, &tags, &today()) {
        Ok(rel) => {
            println!("wrote {}", args.root.join(rel).display());
            ExitCode::SUCCESS
        }
        Err(d) => fail(&d),
    }
}

//! `sitrep init`.

use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::scaffold;

use super::{fail, today};

#[derive(clap::Args)]
pub struct Args {
    /// The folder to create the site in; it must not exist yet, or be empty.
    dir: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    match scaffold::init_site(&args.dir, &today()) {
        Ok(files) => {
            println!(
                "created a new site in {} ({} files)",
                args.dir.display(),
                files.len()
            );
            println!(
                "next: cd {} && sitrep serve   (then edit site.toml and content/posts/welcome.md)",
                args.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(d) => fail(&d),
    }
}

//! `sitrep init`.

use std::path::PathBuf;
use std::process::ExitCode;

use sitrep::ci::{self, Ci};
use sitrep::scaffold;

use super::{fail, today};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CiArg {
    /// GitHub Actions, publishing to GitHub Pages (.github/workflows/sitrep.yml).
    Github,
    /// GitLab CI, publishing to GitLab Pages (.gitlab-ci.yml).
    Gitlab,
}

#[derive(clap::Args)]
pub struct Args {
    /// The folder to create the site in; it must not exist yet, or be empty. With --ci, an
    /// existing site's folder gets only the workflow.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Also write a CI workflow that builds the site and publishes it on Pages.
    #[arg(long, value_name = "HOST")]
    ci: Option<CiArg>,
}

pub fn run(args: Args) -> ExitCode {
    let ci = args.ci.map(|c| match c {
        CiArg::Github => Ci::Github,
        CiArg::Gitlab => Ci::Gitlab,
    });
    // An existing site: only the workflow.
    if let Some(ci) = ci
        && args.dir.join(sitrep::config::CONFIG_FILE).is_file()
    {
        return match ci::write_workflow(&args.dir, ci) {
            Ok(rel) => {
                println!("wrote {}", args.dir.join(rel).display());
                ExitCode::SUCCESS
            }
            Err(d) => fail(&d),
        };
    }
    match scaffold::init_site(&args.dir, &today()) {
        Ok(files) => {
            let mut n = files.len();
            if let Some(ci) = ci {
                match ci::write_workflow(&args.dir, ci) {
                    Ok(_) => n += 1,
                    Err(d) => return fail(&d),
                }
            }
            println!("created a new site in {} ({n} files)", args.dir.display(),);
            println!(
                "next: cd {} && sitrep serve   (then edit site.toml and content/posts/welcome.md)",
                args.dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(d) => fail(&d),
    }
}

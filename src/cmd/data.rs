//! `sitrep data sync`: download the threat-intelligence data files into `data/`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use sitrep::config::Config;
use sitrep::content::highlight::Highlighter;
use sitrep::intel::sync::{self, Outcome};
use sitrep::urls::Urls;

#[derive(ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: DataCommand,
}

#[derive(Subcommand)]
enum DataCommand {
    /// Download the KEV catalog, the EPSS scores, the CVE records the site mentions and
    /// (with --attack or [data] attack_url) the ATT&CK bundle into data/.
    Sync(SyncArgs),
}

#[derive(ClapArgs)]
struct SyncArgs {
    /// The site's folder (where site.toml is).
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Also download the ATT&CK bundle (about 45 MB).
    #[arg(long)]
    attack: bool,
    /// Seconds each download may take.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Attempts after a network error or a server error.
    #[arg(long, default_value_t = 2)]
    retries: u32,
    /// Count CVEs of drafts too.
    #[arg(long)]
    drafts: bool,
}

pub fn run(args: Args) -> ExitCode {
    match args.command {
        DataCommand::Sync(a) => run_sync(a),
    }
}

fn run_sync(a: SyncArgs) -> ExitCode {
    let (config, warnings) = match Config::load(&a.root) {
        Ok(c) => c,
        Err(errors) => {
            super::print_diagnostics(&errors);
            return ExitCode::FAILURE;
        }
    };
    super::print_diagnostics(&warnings);
    // The CVEs the site mentions, from its content (front matter and text).
    let hl = Highlighter::new();
    let urls = Urls::new(&config.base_url);
    let content = match sitrep::content::load(
        &a.root,
        &config,
        &hl,
        a.drafts,
        &urls.cve_prefix(),
        None,
        None,
    ) {
        Ok(c) => c,
        Err(errors) => {
            super::print_diagnostics(&errors);
            eprintln!(
                "the site's content has errors: fix them so sync knows which CVEs it mentions"
            );
            return ExitCode::FAILURE;
        }
    };
    let cves: BTreeSet<String> = content
        .posts
        .iter()
        .chain(&content.pages)
        .flat_map(|p| p.cves.iter().cloned())
        .collect();
    let opts = sync::Options {
        timeout: Duration::from_secs(a.timeout.max(1)),
        retries: a.retries,
        attack: a.attack,
        ..sync::Options::default()
    };
    // On a terminal, each download's bytes are redrawn on one line; in a log, each
    // source gets a plain line when it starts and when it is complete.
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let (mut step, mut total, mut shown_percent) = (0, 0, u64::MAX);
    let reports = sync::sync(&a.root, &config.data, &cves, &opts, &mut |p| {
        if let sync::Progress::Start {
            step: i, total: n, ..
        } = p
        {
            (step, total, shown_percent) = (i, n, u64::MAX);
        }
        if tty
            && let sync::Progress::Bytes {
                got, total: size, ..
            } = p
        {
            // Redraw when the percentage (or, without a size, each MB) moves on.
            let mark = size
                .filter(|t| *t > 0)
                .map_or(got / 1_000_000, |t| got * 100 / t);
            if mark == shown_percent {
                return;
            }
            shown_percent = mark;
        }
        let Some(text) = sync::progress_text(&p, step, total, tty) else {
            return;
        };
        match (tty, &p) {
            (true, sync::Progress::Done { .. }) => eprintln!("\r\x1b[K{text}"),
            (true, _) => eprint!("\r\x1b[K{text}"),
            (false, _) => eprintln!("{text}"),
        }
    });
    if tty {
        eprint!("\r\x1b[K");
    }
    let mut failed = 0;
    for r in &reports {
        match &r.outcome {
            Outcome::New(d) => println!("new       {} ({d})", r.file.display()),
            Outcome::Updated(d) => println!("updated   {} ({d})", r.file.display()),
            Outcome::Unchanged => println!("unchanged {}", r.file.display()),
            Outcome::Failed(d) => {
                failed += 1;
                eprintln!("{d}");
            }
        }
    }
    let changed = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::New(_) | Outcome::Updated(_)))
        .count();
    println!(
        "{} changed, {} unchanged, {} failed",
        super::count(changed, "file"),
        reports
            .iter()
            .filter(|r| r.outcome == Outcome::Unchanged)
            .count(),
        failed
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

//! `sitrep data sync`: downloads the data files a build reads. Each source is fetched with
//! a timeout and retries, checked with the same parser the build uses, and only then
//! written, atomically (a temporary file in the same folder, renamed over the old one).
//! A source that fails leaves its old file in place and is reported with why; the others
//! go on. Builds never download anything: this command is the only network access.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::data::DataConfig;
use crate::error::Diagnostic;
use crate::support::fingerprint;

use super::{attack, cve5, epss, kev};

/// How to download.
#[derive(Debug, Clone)]
pub struct Options {
    /// For each request, from connecting to the last byte.
    pub timeout: Duration,
    /// Further attempts after a network error or a 5xx answer.
    pub retries: u32,
    /// Wait before the first retry (doubled for each further one).
    pub backoff: Duration,
    /// Download the ATT&CK bundle too (also when `attack_url` is set).
    pub attack: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Duration::from_secs(60),
            retries: 2,
            backoff: Duration::from_secs(2),
            attack: false,
        }
    }
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written where there was no file; the detail says what it holds.
    New(String),
    /// Written over a different old file.
    Updated(String),
    /// Downloaded, and the same bytes as the file there.
    Unchanged,
    /// Not written; the old file (if any) is left as it was.
    Failed(Diagnostic),
}

/// One source's result.
#[derive(Debug, Clone)]
pub struct Report {
    /// `KEV catalog`, `EPSS scores`, `CVE-2024-3400`, `ATT&CK`.
    pub name: String,
    /// The file, relative to the site root.
    pub file: PathBuf,
    pub outcome: Outcome,
}

/// A blocking HTTP client with a timeout and the platform's certificate store.
fn agent(timeout: Duration) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::PlatformVerifier)
        .build();
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .tls_config(tls)
        .user_agent(concat!(
            "sitrep/",
            env!("CARGO_PKG_VERSION"),
            " (data sync)"
        ))
        .build()
        .into()
}

/// The most a data file may be (the ATT&CK bundle is about 45 MB).
const MAX_BYTES: u64 = 512 * 1024 * 1024;

/// What `sync` tells its caller as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress<'a> {
    /// Source `step` of `total` starts.
    Start {
        step: usize,
        total: usize,
        name: &'a str,
    },
    /// `got` bytes of the source's body have arrived, of `total` when the server said
    /// (Content-Length).
    Bytes {
        name: &'a str,
        got: u64,
        total: Option<u64>,
    },
    /// The source's body is complete: `bytes` long.
    Done { name: &'a str, bytes: u64 },
}

/// A size as people read it: `512 B`, `12.5 kB`, `1.3 MB` (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

/// The text of a progress event: `(line, final)`. On a terminal (`tty`), a byte count
/// as `12.5 kB / 1.3 MB (1%)`, to be redrawn in place; elsewhere only the start and end
/// of each source, one plain line each. `None`: nothing to show.
pub fn progress_text(p: &Progress, step: usize, total: usize, tty: bool) -> Option<String> {
    match p {
        Progress::Start { name, .. } => Some(format!("[{step}/{total}] {name}")),
        Progress::Bytes {
            name,
            got,
            total: size,
        } if tty => Some(match size {
            Some(t) if *t > 0 => format!(
                "[{step}/{total}] {name}  {} / {} ({}%)",
                human_bytes(*got),
                human_bytes(*t),
                got.saturating_mul(100) / t
            ),
            _ => format!("[{step}/{total}] {name}  {}", human_bytes(*got)),
        }),
        Progress::Bytes { .. } => None,
        Progress::Done { name, bytes } => Some(format!(
            "[{step}/{total}] {name}: {} downloaded",
            human_bytes(*bytes)
        )),
    }
}

/// Reads `body` to the end, at most `MAX_BYTES`, telling `on_bytes` how far it got.
fn read_body(
    body: &mut ureq::Body,
    on_bytes: &mut dyn FnMut(u64, Option<u64>),
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let total = body.content_length();
    let mut reader = body.with_config().limit(MAX_BYTES).reader();
    let mut out = Vec::with_capacity(total.unwrap_or(0).min(MAX_BYTES) as usize);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = reader.read(&mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
        on_bytes(out.len() as u64, total);
    }
}

/// GETs `url`: the body, or why not. Retries network errors and 5xx answers.
fn fetch(
    agent: &ureq::Agent,
    url: &str,
    opts: &Options,
    on_bytes: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Vec<u8>, String> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!("{url:?} is not an http(s) URL"));
    }
    let mut wait = opts.backoff;
    let mut attempt = 0;
    loop {
        let result = match agent.get(url).call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                if status == 200 {
                    read_body(resp.body_mut(), on_bytes)
                        .map_err(|e| (true, format!("the download broke off: {e}")))
                } else {
                    Err((
                        status >= 500,
                        format!("the server answered {status} for {url}"),
                    ))
                }
            }
            Err(e) => Err((true, format!("{url}: {e}"))),
        };
        match result {
            Ok(body) => return Ok(body),
            Err((retry, why)) if !retry || attempt >= opts.retries => {
                let tries = attempt + 1;
                return Err(if tries > 1 {
                    format!("{why} (after {tries} attempts)")
                } else {
                    why
                });
            }
            Err(_) => {
                attempt += 1;
                std::thread::sleep(wait);
                wait *= 2;
            }
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Downloads one source, checks it with `check` (which says what it holds), writes it.
/// Where the downloads go and how they are made.
struct Run<'r> {
    root: &'r Path,
    agent: ureq::Agent,
    opts: &'r Options,
}

fn one(
    run: &Run,
    name: &str,
    rel: &Path,
    url: &str,
    progress: &mut dyn FnMut(Progress),
    check: impl FnOnce(&[u8]) -> Result<(Vec<u8>, String), String>,
) -> Report {
    let (root, agent, opts) = (run.root, &run.agent, run.opts);
    let report = |outcome| Report {
        name: name.to_string(),
        file: rel.to_path_buf(),
        outcome,
    };
    let fail = |why: String| {
        report(Outcome::Failed(
            Diagnostic::error(rel, format!("{name}: {why}; the old file is left as it was"))
                .with_help("check the URL under [data] in site.toml and the network, then run `sitrep data sync` again"),
        ))
    };
    let mut on_bytes =
        |got: u64, total: Option<u64>| progress(Progress::Bytes { name, got, total });
    let body = match fetch(agent, url, opts, &mut on_bytes) {
        Ok(b) => b,
        Err(why) => return fail(why),
    };
    progress(Progress::Done {
        name,
        bytes: body.len() as u64,
    });
    let (bytes, detail) = match check(&body) {
        Ok(x) => x,
        Err(why) => return fail(format!("the download is not usable: {why}")),
    };
    let path = root.join(rel);
    let old = std::fs::read(&path).ok();
    if old.as_deref().map(fingerprint::of_bytes) == Some(fingerprint::of_bytes(&bytes)) {
        return report(Outcome::Unchanged);
    }
    if let Err(e) = write_atomic(&path, &bytes) {
        return report(Outcome::Failed(Diagnostic::io(rel, "write", &e)));
    }
    report(if old.is_some() {
        Outcome::Updated(detail)
    } else {
        Outcome::New(detail)
    })
}

fn problem_text(p: &super::DataProblem) -> String {
    match p.line {
        Some(l) => format!("line {l}: {}", p.message),
        None => p.message.clone(),
    }
}

/// Checks a downloaded KEV catalog (the CSV edition when `csv`); says its version, date
/// and number of entries.
fn check_kev(b: &[u8], csv: bool) -> Result<(Vec<u8>, String), String> {
    let text = std::str::from_utf8(b).map_err(|_| "not UTF-8 text".to_string())?;
    if csv {
        let (catalog, _) = kev::parse_csv(text, &BTreeSet::new(), &mut Vec::new())
            .map_err(|p| problem_text(&p))?;
        return Ok((
            b.to_vec(),
            format!("CSV edition, entries added up to {}", catalog.released),
        ));
    }
    let (catalog, _) =
        kev::parse(text, &BTreeSet::new(), &mut Vec::new()).map_err(|p| problem_text(&p))?;
    let n = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["vulnerabilities"].as_array().map(Vec::len))
        .unwrap_or(0);
    Ok((
        b.to_vec(),
        format!(
            "catalog {} of {}, {n} entries",
            catalog.version, catalog.released
        ),
    ))
}

/// Checks downloaded EPSS scores; returns them as they are stored (compressed when
/// `keep_gz`, else plain) and says their model, date and number of lines.
fn check_epss(b: &[u8], keep_gz: bool) -> Result<(Vec<u8>, String), String> {
    let plain = super::decompressed(b).map_err(|e| format!("cannot decompress: {e}"))?;
    let mut problems = Vec::new();
    let (meta, _) =
        epss::parse(&plain[..], &BTreeSet::new(), &mut problems).map_err(|p| problem_text(&p))?;
    let rows = plain.iter().filter(|&&c| c == b'\n').count();
    let detail = format!(
        "model {}, scores of {}, {rows} lines",
        meta.model_version.as_deref().unwrap_or("unknown"),
        meta.score_date.as_deref().unwrap_or("unknown date")
    );
    // Stored as the configured name says: compressed for `.gz`, else plain.
    let bytes = if keep_gz && b.starts_with(&[0x1f, 0x8b]) {
        b.to_vec()
    } else if keep_gz {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &plain).map_err(|e| e.to_string())?;
        gz.finish().map_err(|e| e.to_string())?
    } else {
        plain.into_owned()
    };
    Ok((bytes, detail))
}

/// The URL of CVE `id`'s record and its file, relative to the site root.
fn cve_source(data: &DataConfig, id: &str) -> (String, PathBuf) {
    let mut parts = id.split('-').skip(1);
    let (year, num) = (parts.next().unwrap_or(""), parts.next().unwrap_or("0"));
    let bucket = format!("{}xxx", num.parse::<u64>().unwrap_or(0) / 1000);
    let url = data
        .cve_url
        .replace("{year}", year)
        .replace("{bucket}", &bucket)
        .replace("{id}", id);
    let rel = Path::new(&data.cve_dir)
        .join(year)
        .join(&bucket)
        .join(format!("{id}.json"));
    (url, rel)
}

/// Checks a downloaded CVE record of `id`; says whether it is rejected or its CVSS score.
fn check_cve(b: &[u8], id: &str) -> Result<(Vec<u8>, String), String> {
    let text = std::str::from_utf8(b).map_err(|_| "not UTF-8 text".to_string())?;
    let r = cve5::parse(text, id).map_err(|p| problem_text(&p))?;
    let detail = match (&r.cvss, r.state.as_str()) {
        (_, "REJECTED") => "rejected".to_string(),
        (Some(c), _) => format!("CVSS {} {}", c.version, c.score),
        (None, _) => "no CVSS score".to_string(),
    };
    Ok((b.to_vec(), detail))
}

/// Checks a downloaded ATT&CK bundle; says how many techniques it holds.
fn check_attack(b: &[u8]) -> Result<(Vec<u8>, String), String> {
    let t = attack::parse(b, &mut Vec::new()).map_err(|p| problem_text(&p))?;
    Ok((b.to_vec(), format!("{} techniques", t.len())))
}

/// Downloads every source into the site's data files: the KEV catalog, the EPSS scores,
/// the record of each CVE in `cves`, and the ATT&CK bundle when asked or configured.
/// `progress` hears of each source as it starts, of the bytes as they arrive, and of
/// each complete download.
pub fn sync(
    root: &Path,
    data: &DataConfig,
    cves: &BTreeSet<String>,
    opts: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Vec<Report> {
    let run = Run {
        root,
        agent: agent(opts.timeout),
        opts,
    };
    let want_attack = opts.attack || !data.attack_url.is_empty();
    let total = 2 + cves.len() + usize::from(want_attack);
    let mut step = 0;
    let mut reports = Vec::new();

    step += 1;
    progress(Progress::Start {
        step,
        total,
        name: "KEV catalog",
    });
    reports.push(one(
        &run,
        "KEV catalog",
        Path::new(&data.kev),
        &data.kev_url,
        progress,
        |b| check_kev(b, data.kev.to_ascii_lowercase().ends_with(".csv")),
    ));

    step += 1;
    progress(Progress::Start {
        step,
        total,
        name: "EPSS scores",
    });
    let epss_rel = PathBuf::from(&data.epss);
    let keep_gz = data.epss.ends_with(".gz");
    reports.push(one(
        &run,
        "EPSS scores",
        &epss_rel,
        &data.epss_url,
        progress,
        |b| check_epss(b, keep_gz),
    ));

    for id in cves {
        step += 1;
        progress(Progress::Start {
            step,
            total,
            name: id,
        });
        let (url, rel) = cve_source(data, id);
        reports.push(one(&run, id, &rel, &url, progress, |b| check_cve(b, id)));
    }

    if want_attack {
        step += 1;
        progress(Progress::Start {
            step,
            total,
            name: "ATT&CK",
        });
        let url = if data.attack_url.is_empty() {
            "https://raw.githubusercontent.com/mitre/cti/master/enterprise-attack/enterprise-attack.json"
        } else {
            &data.attack_url
        };
        reports.push(one(
            &run,
            "ATT&CK",
            Path::new(&data.attack),
            url,
            progress,
            check_attack,
        ));
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_for_terminals_and_logs() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(12_500), "12.5 kB");
        assert_eq!(human_bytes(1_257_565), "1.3 MB");
        let bytes = Progress::Bytes {
            name: "KEV catalog",
            got: 65_536,
            total: Some(1_257_565),
        };
        assert_eq!(
            progress_text(&bytes, 1, 5, true).as_deref(),
            Some("[1/5] KEV catalog  65.5 kB / 1.3 MB (5%)")
        );
        assert_eq!(progress_text(&bytes, 1, 5, false), None);
        let unknown = Progress::Bytes {
            name: "EPSS scores",
            got: 2_000_000,
            total: None,
        };
        assert_eq!(
            progress_text(&unknown, 2, 5, true).as_deref(),
            Some("[2/5] EPSS scores  2.0 MB")
        );
        let done = Progress::Done {
            name: "KEV catalog",
            bytes: 1_257_565,
        };
        assert_eq!(
            progress_text(&done, 1, 5, false).as_deref(),
            Some("[1/5] KEV catalog: 1.3 MB downloaded")
        );
    }
}

//! Threat intelligence from local data files: CVE JSON 5 records, the CISA KEV catalog,
//! FIRST EPSS scores and MITRE ATT&CK (STIX), read from the site's `data/` folder (paths
//! under `[data]` in site.toml). Builds never touch the network; `sitrep data sync`
//! ([`sync`]) refreshes the files.
//!
//! Only the CVEs and techniques the site mentions are kept. Every data file is optional:
//! with none, the site builds exactly as without this module. Bad data is an error naming
//! the file and the line or record; with `data.strict = false` a bad record is left out
//! with a warning instead. KEV and EPSS extracts and the ATT&CK table are kept in the
//! build cache keyed on the files' hashes, so a warm build with unchanged data does not
//! parse them again.

pub mod attack;
pub mod cve5;
pub mod epss;
pub mod kev;
pub mod scan;
pub mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::data::DataConfig;
use crate::error::Diagnostic;
use crate::output::cache::CACHE_DIR;
use crate::support::fingerprint::{self, Builder, Fingerprint};

pub use attack::Technique;
pub use cve5::CveRecord;
pub use epss::{Epss, EpssMeta};
pub use kev::{KevCatalog, KevEntry};

/// Something wrong in a data file, before it is tied to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataProblem {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl DataProblem {
    pub fn msg(message: impl Into<String>) -> DataProblem {
        DataProblem {
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn json(e: serde_json::Error) -> DataProblem {
        let (line, column) = (e.line(), e.column());
        let message = match e.classify() {
            serde_json::error::Category::Eof => {
                "the file ends in the middle of the JSON (truncated?)".to_string()
            }
            _ => e.to_string(),
        };
        DataProblem {
            message,
            line: (line > 0).then_some(line),
            column: (column > 0).then_some(column),
        }
    }

    pub fn at(mut self, line: Option<usize>) -> DataProblem {
        if line.is_some() {
            self.line = line;
        }
        self
    }

    fn diagnostic(&self, file: &Path, strict: bool, help: &str) -> Diagnostic {
        let d = if strict {
            Diagnostic::error(file, self.message.clone())
        } else {
            Diagnostic::warning(file, format!("{} (left out)", self.message))
        };
        let d = match (self.line, self.column) {
            (Some(l), Some(c)) => d.at(l, c),
            (Some(l), None) => d.at_line(l),
            _ => d,
        };
        d.with_help(help)
    }
}

/// `YYYY-MM-DD` from a date or date-time as the data writes it.
pub fn ymd(s: &str) -> Option<String> {
    let d = s.get(..10)?;
    let b = d.as_bytes();
    let ok = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    let month: u32 = d[5..7].parse().ok()?;
    let day: u32 = d[8..10].parse().ok()?;
    (ok && (1..=12).contains(&month) && (1..=31).contains(&day)).then(|| d.to_string())
}

/// The 1-based line of the first occurrence of `needle` in `text`.
pub fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.find(needle)
        .map(|at| text[..at].bytes().filter(|&b| b == b'\n').count() + 1)
}

/// Everything the site shows of one CVE.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CveFacts {
    pub record: Option<CveRecord>,
    pub kev: Option<KevEntry>,
    pub epss: Option<Epss>,
}

/// The compact marker of a CVE wherever it is named (chips, cards, "Latest from Blog"):
/// its CVSS severity and whether it is on the KEV list ([`Intel::cve_marker`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// `critical`, `high`, `medium`, `low` or `none`; `None` without a CVSS score.
    pub severity: Option<String>,
    /// The CVSS base score, with the severity.
    pub score: Option<f64>,
    /// On CISA's KEV catalog.
    pub exploited: bool,
}

impl Marker {
    /// The severity as a label: `Critical`.
    pub fn severity_label(&self) -> Option<String> {
        self.severity.as_deref().map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
    }

    /// The score as shown: `9.8`.
    pub fn score_text(&self) -> Option<String> {
        self.score.map(|s| format!("{s:.1}"))
    }
}

/// Threat intelligence on what the site mentions.
#[derive(Debug, Clone, Default)]
pub struct Intel {
    /// Facts on each mentioned CVE that any data file knows.
    pub cves: BTreeMap<String, CveFacts>,
    /// The mentioned techniques the ATT&CK data knows (and the parents and replacements
    /// their pages name).
    pub techniques: BTreeMap<String, Technique>,
    pub kev_catalog: Option<KevCatalog>,
    pub epss_meta: Option<EpssMeta>,
    /// Whether an ATT&CK bundle was read.
    pub has_attack: bool,
    /// Whether any CVE has a record ([`Intel::has_records`], worked out once).
    any_record: std::sync::OnceLock<bool>,
}

/// The ATT&CK table: every technique of the bundle, for linking ids in text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AttackTable {
    pub techniques: BTreeMap<String, Technique>,
}

/// The path of a data file under the site root.
fn data_path(root: &Path, rel: &str) -> PathBuf {
    root.join(rel)
}

/// Reads `path` if it exists: `Ok(None)` when it does not.
fn read_optional(path: &Path, shown: &Path) -> Result<Option<Vec<u8>>, Diagnostic> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Diagnostic::io(shown, "read", &e)),
    }
}

/// Whether the data cache may be read and written (`check` reads it and writes nothing;
/// `--no-cache` does neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheMode {
    pub read: bool,
    pub write: bool,
}

/// A small cache of parsed data, one file per kind, under `.sitrep-cache/`.
struct DiskCache {
    dir: Option<PathBuf>,
    write: bool,
}

impl DiskCache {
    /// Whether anything is read from or written to the cache (records are hashed and
    /// kept for it).
    fn kept(&self) -> bool {
        self.dir.is_some()
    }

    /// The key `make` gives, when there is a cache to key (else 0: without a cache the
    /// data files are not hashed).
    fn key(&self, make: impl FnOnce() -> Fingerprint) -> Fingerprint {
        if self.kept() { make() } else { 0 }
    }

    fn get<T: for<'de> Deserialize<'de>>(&self, name: &str, key: Fingerprint) -> Option<T> {
        let bytes = std::fs::read(self.dir.as_ref()?.join(name)).ok()?;
        let (k, value): (Fingerprint, T) = rmp_serde::from_slice(&bytes).ok()?;
        (k == key).then_some(value)
    }

    fn put<T: Serialize>(&self, name: &str, key: Fingerprint, value: &T) {
        let Some(dir) = self.dir.as_ref().filter(|_| self.write) else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        if let Ok(bytes) = rmp_serde::to_vec(&(key, value)) {
            let tmp = dir.join(format!("{name}.tmp"));
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, dir.join(name));
            }
        }
    }
}

fn disk_cache(root: &Path, mode: CacheMode) -> DiskCache {
    DiskCache {
        dir: mode.read.then(|| root.join(CACHE_DIR).join("intel")),
        write: mode.write,
    }
}

const DATA_HELP: &str = "fix or replace the data file (`sitrep data sync` downloads fresh copies), or set `[data] strict = false` in site.toml to leave bad records out with a warning";

/// Loads the ATT&CK table (before content, so ids in text link only when known). `None`
/// when the site has no ATT&CK file. Returns the table and warnings, or errors.
#[allow(clippy::type_complexity)]
pub fn load_attack(
    root: &Path,
    data: &DataConfig,
    cache: CacheMode,
) -> Result<(Option<Arc<AttackTable>>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let shown = PathBuf::from(&data.attack);
    let Some(bytes) = read_optional(&data_path(root, &data.attack), &shown).map_err(|d| vec![d])?
    else {
        return Ok((None, Vec::new()));
    };
    let cache = disk_cache(root, cache);
    // Without a cache (`--no-cache`) there is no key to make: the 45 MB are not hashed.
    let key = cache.key(|| {
        Builder::new("attack-v1")
            .fp(fingerprint::of_bytes(&bytes))
            .num(data.strict.into())
            .finish()
    });
    if let Some((table, warnings)) =
        cache.get::<(AttackTable, Vec<(String, Option<usize>)>)>("attack.bin", key)
    {
        let warnings = warnings
            .into_iter()
            .map(|(m, l)| {
                DataProblem {
                    message: m,
                    line: l,
                    column: None,
                }
                .diagnostic(&shown, false, DATA_HELP)
            })
            .collect();
        return Ok((Some(Arc::new(table)), warnings));
    }
    let mut problems = Vec::new();
    let techniques = attack::parse(&bytes, &mut problems)
        .map_err(|p| vec![p.diagnostic(&shown, true, DATA_HELP)])?;
    if data.strict && !problems.is_empty() {
        return Err(problems
            .iter()
            .map(|p| p.diagnostic(&shown, true, DATA_HELP))
            .collect());
    }
    let table = AttackTable { techniques };
    let kept: Vec<(String, Option<usize>)> = problems
        .iter()
        .map(|p| (p.message.clone(), p.line))
        .collect();
    cache.put("attack.bin", key, &(&table, &kept));
    let warnings = problems
        .iter()
        .map(|p| p.diagnostic(&shown, false, DATA_HELP))
        .collect();
    Ok((Some(Arc::new(table)), warnings))
}

/// The EPSS file: the configured path, or the same plus `.gz` when that is missing.
fn epss_file(root: &Path, data: &DataConfig) -> (PathBuf, PathBuf) {
    let p = data_path(root, &data.epss);
    if !p.exists() && !data.epss.ends_with(".gz") {
        let gz = format!("{}.gz", data.epss);
        if data_path(root, &gz).exists() {
            return (data_path(root, &gz), PathBuf::from(gz));
        }
    }
    (p, PathBuf::from(&data.epss))
}

/// Whether a data file is CSV, by its name.
fn is_csv(shown: &Path) -> bool {
    shown
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// The KEV file: the configured path, or, when that is a missing `.json` file, the same
/// name with `.csv` (the catalog's CSV edition) when that exists.
fn kev_file(root: &Path, data: &DataConfig) -> (PathBuf, PathBuf) {
    let p = data_path(root, &data.kev);
    if !p.exists()
        && let Some(stem) = data.kev.strip_suffix(".json")
    {
        let csv = format!("{stem}.csv");
        if data_path(root, &csv).exists() {
            return (data_path(root, &csv), PathBuf::from(csv));
        }
    }
    (p, PathBuf::from(&data.kev))
}

/// The cache key of the parsed CVE records (each is checked by its own hash).
const RECORDS_KEY: Fingerprint = 0x5245_434f_5244_5331;

/// How reading one CVE record went.
enum RecordRead {
    /// No file for this CVE.
    Missing,
    Io(Diagnostic),
    /// The file as shown in messages, and what is wrong with it.
    Bad(PathBuf, DataProblem),
    Ok {
        hash: Fingerprint,
        record: Box<CveRecord>,
        /// false: the cache had it for these bytes.
        parsed: bool,
    },
}

/// Reads the record of `id` under `dir` (shown as `shown_dir`), from `old` when its bytes
/// did not change.
fn read_record(
    dir: &Path,
    shown_dir: &str,
    id: &str,
    old: &BTreeMap<String, (Fingerprint, CveRecord)>,
    cache: &DiskCache,
    top: Option<&std::collections::HashSet<std::ffi::OsString>>,
) -> RecordRead {
    for path in cve5::candidates(dir, id) {
        // A path whose first name under `dir` is not there is not tried (no failed open
        // per record for the layouts a folder does not use).
        if let Some(top) = top
            && let Ok(rel) = path.strip_prefix(dir)
            && rel
                .components()
                .next()
                .is_some_and(|c| !top.contains(c.as_os_str()))
        {
            continue;
        }
        let shown = Path::new(shown_dir).join(path.strip_prefix(dir).unwrap_or(&path));
        let bytes = match read_optional(&path, &shown) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(d) => return RecordRead::Io(d),
        };
        // Without a cache to read or write (`--no-cache`) the hash is not needed.
        let hash = cache.key(|| fingerprint::of_bytes(&bytes));
        if let Some((h, r)) = old.get(id)
            && *h == hash
        {
            return RecordRead::Ok {
                hash,
                record: Box::new(r.clone()),
                parsed: false,
            };
        }
        return match cve5::parse(&bytes, id) {
            Ok(record) => RecordRead::Ok {
                hash,
                record: Box::new(record),
                parsed: true,
            },
            Err(p) => RecordRead::Bad(shown, p),
        };
    }
    RecordRead::Missing
}

/// What KEV and EPSS give for the mentioned CVEs (the cached part).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Feeds {
    kev_catalog: Option<KevCatalog>,
    kev: BTreeMap<String, KevEntry>,
    epss_meta: Option<EpssMeta>,
    epss: BTreeMap<String, Epss>,
    /// (file, message, line) of problems left out (strict = false).
    warnings: Vec<(PathBuf, String, Option<usize>)>,
}

/// The problems found while loading, and whether they stop the build.
struct Problems {
    strict: bool,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl Problems {
    /// Adds the problems of a feed `shown`: errors when strict, else left in `f`'s
    /// warnings (which the cache keeps).
    fn feed(&mut self, problems: Vec<DataProblem>, shown: &Path, f: &mut Feeds) {
        for p in problems {
            if self.strict {
                self.errors.push(p.diagnostic(shown, true, DATA_HELP));
            } else {
                f.warnings.push((shown.to_path_buf(), p.message, p.line));
            }
        }
    }
}

/// Parses the KEV catalog `bytes` into `f`.
fn parse_kev(
    bytes: &[u8],
    cves: &BTreeSet<String>,
    shown: &Path,
    f: &mut Feeds,
    pr: &mut Problems,
) {
    let mut problems = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    let parsed = if is_csv(shown) {
        kev::parse_csv(&text, cves, &mut problems)
    } else {
        kev::parse(&text, cves, &mut problems)
    };
    match parsed {
        Ok((catalog, entries)) => {
            f.kev_catalog = Some(catalog);
            f.kev = entries;
        }
        Err(p) => problems.push(p),
    }
    pr.feed(problems, shown, f);
}

/// Parses the EPSS scores `bytes` (plain or gzipped) into `f`.
fn parse_epss(
    bytes: &[u8],
    cves: &BTreeSet<String>,
    shown: &Path,
    f: &mut Feeds,
    pr: &mut Problems,
) {
    let mut problems = Vec::new();
    let result = match decompressed(bytes) {
        Ok(plain) => epss::parse(&plain, cves, &mut problems),
        Err(e) => Err(DataProblem::msg(format!(
            "cannot decompress the gzip file: {e}"
        ))),
    };
    match result {
        Ok((meta, rows)) => {
            f.epss_meta = Some(meta);
            f.epss = rows;
        }
        Err(p) => problems.push(p),
    }
    pr.feed(problems, shown, f);
}

/// KEV and EPSS, from the cache when the files and the mentioned CVEs are the same.
/// `Err` when a file cannot be read.
fn load_feeds(
    root: &Path,
    data: &DataConfig,
    cves: &BTreeSet<String>,
    cache: &DiskCache,
    pr: &mut Problems,
) -> Result<Feeds, ()> {
    let (kev_path, kev_shown) = kev_file(root, data);
    let kev_bytes = read_optional(&kev_path, &kev_shown);
    let (epss_path, epss_shown) = epss_file(root, data);
    let epss_bytes = read_optional(&epss_path, &epss_shown);
    let (kev_bytes, epss_bytes) = match (kev_bytes, epss_bytes) {
        (Ok(k), Ok(e)) => (k, e),
        (k, e) => {
            pr.errors.extend(k.err());
            pr.errors.extend(e.err());
            return Err(());
        }
    };
    let key = cache.key(|| {
        let mut key = Builder::new("feeds-v2")
            .num(pr.strict.into())
            .fp(kev_bytes.as_deref().map_or(0, fingerprint::of_bytes))
            .fp(epss_bytes.as_deref().map_or(0, fingerprint::of_bytes))
            .str(&epss_shown.to_string_lossy())
            .str(&kev_shown.to_string_lossy());
        for id in cves {
            key = key.str(id);
        }
        key.finish()
    });
    let any_feed = kev_bytes.is_some() || epss_bytes.is_some();
    if any_feed && let Some(f) = cache.get::<Feeds>("feeds.bin", key) {
        return Ok(f);
    }
    let mut f = Feeds::default();
    if let Some(bytes) = &kev_bytes {
        parse_kev(bytes, cves, &kev_shown, &mut f, pr);
    }
    if let Some(bytes) = &epss_bytes {
        parse_epss(bytes, cves, &epss_shown, &mut f, pr);
    }
    if pr.errors.is_empty() && any_feed {
        cache.put("feeds.bin", key, &f);
    }
    Ok(f)
}

/// The CVE records of `cves`, read in parallel; one whose bytes are unchanged since the
/// last build comes from the cache instead of being parsed again.
fn load_records(
    root: &Path,
    data: &DataConfig,
    cves: &BTreeSet<String>,
    cache: &DiskCache,
    pr: &mut Problems,
) -> BTreeMap<String, CveRecord> {
    let cve_dir = data_path(root, &data.cve_dir);
    let records: Vec<(String, RecordRead)> = if cve_dir.is_dir() {
        let old: BTreeMap<String, (Fingerprint, CveRecord)> =
            cache.get("records.bin", RECORDS_KEY).unwrap_or_default();
        let list: Vec<&String> = cves.iter().collect();
        let top: Option<std::collections::HashSet<std::ffi::OsString>> =
            // Not when the folder cannot be listed fully: then every path is tried.
            std::fs::read_dir(&cve_dir).ok().and_then(|entries| {
                entries
                    .map(|e| e.map(|e| e.file_name()))
                    .collect::<Result<_, _>>()
                    .ok()
            });
        list.par_iter()
            .map(|id| {
                (
                    (*id).clone(),
                    read_record(&cve_dir, &data.cve_dir, id, &old, cache, top.as_ref()),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut kept: BTreeMap<String, (Fingerprint, CveRecord)> = BTreeMap::new();
    let mut parsed_any = false;
    let mut by_id: BTreeMap<String, CveRecord> = BTreeMap::new();
    for (id, read) in records {
        match read {
            RecordRead::Missing => {}
            RecordRead::Io(d) => pr.errors.push(d),
            RecordRead::Ok {
                hash,
                record,
                parsed,
            } => {
                parsed_any |= parsed;
                if cache.kept() {
                    kept.insert(id.clone(), (hash, (*record).clone()));
                }
                by_id.insert(id, *record);
            }
            RecordRead::Bad(shown, p) if pr.strict => {
                pr.errors.push(p.diagnostic(&shown, true, DATA_HELP))
            }
            RecordRead::Bad(shown, p) => pr.warnings.push(p.diagnostic(&shown, false, DATA_HELP)),
        }
    }
    if pr.errors.is_empty() && parsed_any {
        cache.put("records.bin", RECORDS_KEY, &kept);
    }
    by_id
}

/// The techniques of `table` the site needs: the mentioned ones, their parents and
/// replacements.
fn needed_techniques(
    techniques: &BTreeSet<String>,
    table: &AttackTable,
) -> BTreeMap<String, Technique> {
    let mut found = BTreeMap::new();
    let mut want: Vec<&String> = techniques.iter().collect();
    while let Some(id) = want.pop() {
        if found.contains_key(id) {
            continue;
        }
        if let Some(t) = table.techniques.get(id) {
            found.insert(id.clone(), t.clone());
            want.extend(t.parent.iter());
            want.extend(t.replaced_by.iter());
        }
    }
    found
}

impl Intel {
    /// Loads the facts on `cves` and `techniques` (the ids the site mentions).
    pub fn load(
        root: &Path,
        data: &DataConfig,
        cves: &BTreeSet<String>,
        techniques: &BTreeSet<String>,
        attack: Option<&AttackTable>,
        cache: CacheMode,
    ) -> Result<(Intel, Vec<Diagnostic>), Vec<Diagnostic>> {
        let problems = || Problems {
            strict: data.strict,
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let cache = disk_cache(root, cache);
        // KEV and EPSS beside the CVE records (which are read in parallel themselves).
        let ((feeds, mut pr), (mut by_id, records_pr)) = rayon::join(
            || {
                let mut pr = problems();
                (load_feeds(root, data, cves, &cache, &mut pr), pr)
            },
            || {
                let mut pr = problems();
                (load_records(root, data, cves, &cache, &mut pr), pr)
            },
        );
        let Ok(feeds) = feeds else {
            return Err(pr.errors);
        };
        for (file, message, line) in &feeds.warnings {
            pr.warnings.push(
                DataProblem {
                    message: message.clone(),
                    line: *line,
                    column: None,
                }
                .diagnostic(file, false, DATA_HELP),
            );
        }

        let mut intel = Intel {
            kev_catalog: feeds.kev_catalog,
            epss_meta: feeds.epss_meta,
            has_attack: attack.is_some(),
            ..Intel::default()
        };
        pr.errors.extend(records_pr.errors);
        pr.warnings.extend(records_pr.warnings);
        for id in cves {
            let facts = CveFacts {
                kev: feeds.kev.get(id).cloned(),
                epss: feeds.epss.get(id).copied(),
                record: by_id.remove(id),
            };
            if facts != CveFacts::default() {
                intel.cves.insert(id.clone(), facts);
            }
        }
        if let Some(table) = attack {
            intel.techniques = needed_techniques(techniques, table);
        }
        let Problems {
            mut errors,
            warnings,
            ..
        } = pr;
        if errors.is_empty() {
            Ok((intel, warnings))
        } else {
            errors.extend(warnings);
            Err(errors)
        }
    }

    /// Whether any data file gave anything.
    pub fn is_empty(&self) -> bool {
        self.cves.is_empty()
            && self.techniques.is_empty()
            && self.kev_catalog.is_none()
            && self.epss_meta.is_none()
    }

    /// The fingerprint of what the site shows of CVE `id` (and the sources' dates).
    pub fn cve_fingerprint(&self, id: &str) -> Fingerprint {
        let facts = self.cves.get(id);
        // Every CVE page's data notice names the CVE records when any CVE has one.
        let bytes = rmp_serde::to_vec(&(
            facts,
            &self.kev_catalog,
            &self.epss_meta,
            self.has_records(),
        ))
        .unwrap_or_default();
        fingerprint::of_bytes(&bytes)
    }

    /// Whether any mentioned CVE has a CVE record.
    pub fn has_records(&self) -> bool {
        *self
            .any_record
            .get_or_init(|| self.cves.values().any(|f| f.record.is_some()))
    }

    /// The fingerprint of technique `id` as its page shows it.
    pub fn technique_fingerprint(&self, id: &str) -> Fingerprint {
        let t = self.techniques.get(id);
        let related: Vec<Option<&Technique>> = t
            .map(|t| {
                vec![
                    t.parent.as_ref().and_then(|p| self.techniques.get(p)),
                    t.replaced_by.as_ref().and_then(|p| self.techniques.get(p)),
                ]
            })
            .unwrap_or_default();
        fingerprint::of_bytes(&serde_json::to_vec(&(t, related)).unwrap_or_default())
    }

    /// The marker of CVE `id`: `None` when the data has neither a CVSS score nor a KEV
    /// entry for it.
    pub fn cve_marker(&self, id: &str) -> Option<Marker> {
        let f = self.cves.get(id)?;
        let cvss = f.record.as_ref().and_then(|r| r.cvss.as_ref());
        let m = Marker {
            severity: cvss.map(|c| c.severity.to_ascii_lowercase()),
            score: cvss.map(|c| c.score),
            exploited: f.kev.is_some(),
        };
        (m.severity.is_some() || m.exploited).then_some(m)
    }

    /// The most severe of `ids` that has a marker (ranked as the CVE index ranks: CVSS
    /// score, then KEV, then EPSS; the first of equals), with its marker.
    pub fn worst_marker<'i>(&self, ids: &'i [String]) -> Option<(&'i str, Marker)> {
        let mut best: Option<(&'i str, Marker, (i64, bool, i64))> = None;
        for id in ids {
            let Some(m) = self.cve_marker(id) else {
                continue;
            };
            let rank = self.rank(id);
            if best.as_ref().is_none_or(|b| rank > b.2) {
                best = Some((id, m, rank));
            }
        }
        best.map(|(id, m, _)| (id, m))
    }

    /// How bad, for sorting: CVSS score, then KEV, then EPSS (higher first).
    pub fn rank(&self, id: &str) -> (i64, bool, i64) {
        let f = self.cves.get(id);
        let score = f
            .and_then(|f| f.record.as_ref())
            .and_then(|r| r.cvss.as_ref())
            .map_or(-1, |c| (c.score * 10.0).round() as i64);
        let kev = f.is_some_and(|f| f.kev.is_some());
        let epss = f
            .and_then(|f| f.epss)
            .map_or(-1, |e| (e.score * 100_000.0).round() as i64);
        (score, kev, epss)
    }
}

/// The CVE and technique ids `posts` and `pages` name: what [`Intel::load`] reads. The
/// same before and after indexing (the CVE terms are the posts' ids), so the data can be
/// read while the site is indexed.
pub fn mentioned<'p>(
    posts: impl IntoIterator<Item = &'p std::sync::Arc<crate::content::Page>>,
    pages: impl IntoIterator<Item = &'p std::sync::Arc<crate::content::Page>>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut cves = BTreeSet::new();
    let mut techniques = BTreeSet::new();
    for p in posts {
        // A CVE term's slug is its id; an empty one makes no term.
        cves.extend(p.cves.iter().filter(|c| !c.is_empty()).cloned());
        techniques.extend(p.attack.iter().cloned());
    }
    // Standalone pages are in no taxonomy, but their `cve` cards show the facts too.
    for p in pages {
        cves.extend(p.cves.iter().cloned());
        techniques.extend(p.attack.iter().cloned());
    }
    (cves, techniques)
}

/// Warnings on posts naming techniques the data does not know, or revoked or deprecated
/// ones, in the site's order.
pub fn technique_warnings(
    config: &crate::config::Config,
    site: &crate::index::Site,
    attack: Option<&AttackTable>,
) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let Some(table) = attack else {
        return warnings;
    };
    for p in site.posts.iter().chain(&site.pages) {
        for id in &p.attack {
            match table.techniques.get(id) {
                None => warnings.push(
                    Diagnostic::warning(&p.file, format!("attack: {id} is not in the ATT&CK data ({})", config.data.attack))
                        .with_help("check the id; `sitrep data sync` refreshes the ATT&CK bundle"),
                ),
                Some(t) if t.revoked => warnings.push(
                    Diagnostic::warning(
                        &p.file,
                        match &t.replaced_by {
                            Some(new) => format!("{id} ({}) is revoked in ATT&CK: it is now {new}", t.name),
                            None => format!("{id} ({}) is revoked in ATT&CK", t.name),
                        },
                    )
                    .with_help("name the current technique; the page of the revoked id points to its replacement"),
                ),
                Some(t) if t.deprecated => warnings.push(
                    Diagnostic::warning(&p.file, format!("{id} ({}) is deprecated in ATT&CK", t.name))
                        .with_help("ATT&CK no longer maintains this technique; name a current one if there is"),
                ),
                Some(_) => {}
            }
        }
    }
    warnings
}

/// The intel of an indexed site: `loaded` ([`Intel::load`] of the ids [`mentioned`])
/// with the [`technique_warnings`] of `site` before its own warnings.
pub fn with_technique_warnings(
    loaded: Result<(Intel, Vec<Diagnostic>), Vec<Diagnostic>>,
    config: &crate::config::Config,
    site: &crate::index::Site,
    attack: Option<&AttackTable>,
) -> Result<(Intel, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (intel, more) = loaded?;
    let mut warnings = technique_warnings(config, site, attack);
    warnings.extend(more);
    Ok((intel, warnings))
}

/// A gzip file decompressed, or a plain file as it is (not copied).
pub fn decompressed(bytes: &[u8]) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
        Ok(std::borrow::Cow::Owned(out))
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel");
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::copy(fx.join("kev.json"), dir.path().join("data/kev.json")).unwrap();
        std::fs::copy(fx.join("epss.csv"), dir.path().join("data/epss.csv")).unwrap();
        dir
    }

    #[test]
    fn unchanged_data_comes_from_the_cache_without_parsing() {
        let dir = fixture_site();
        let data = DataConfig::default();
        let cves: BTreeSet<String> = ["CVE-2024-3400".to_string()].into();
        let rw = CacheMode {
            read: true,
            write: true,
        };
        let (first, _) = Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, rw).unwrap();
        assert_eq!(first.cves["CVE-2024-3400"].epss.unwrap().score, 0.94326);
        // Replace the cached extract (same key) with a marker value: a load that parsed the
        // files would not see it.
        let cache = disk_cache(dir.path(), rw);
        let bin = dir.path().join(CACHE_DIR).join("intel/feeds.bin");
        let (key, mut feeds): (Fingerprint, Feeds) =
            rmp_serde::from_slice(&std::fs::read(&bin).unwrap()).unwrap();
        feeds.epss.get_mut("CVE-2024-3400").unwrap().score = 0.5;
        cache.put("feeds.bin", key, &feeds);
        let (second, _) =
            Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, rw).unwrap();
        assert_eq!(second.cves["CVE-2024-3400"].epss.unwrap().score, 0.5);
        // A changed file, or another set of CVEs, is parsed again.
        let more: BTreeSet<String> =
            ["CVE-2024-3400".to_string(), "CVE-2024-6387".to_string()].into();
        let (third, _) = Intel::load(dir.path(), &data, &more, &BTreeSet::new(), None, rw).unwrap();
        assert_eq!(third.cves["CVE-2024-3400"].epss.unwrap().score, 0.94326);
        // Records: unchanged bytes come from the cache (a marker title shows it).
        let rec_dir = dir.path().join("data/cve/2024/3xxx");
        std::fs::create_dir_all(&rec_dir).unwrap();
        let fx = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/intel/cve/2024/3xxx/CVE-2024-3400.json");
        std::fs::copy(&fx, rec_dir.join("CVE-2024-3400.json")).unwrap();
        let (a, _) = Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, rw).unwrap();
        let title = a.cves["CVE-2024-3400"]
            .record
            .as_ref()
            .unwrap()
            .title
            .clone();
        assert!(title.unwrap().starts_with("PAN-OS"));
        let mut recs: BTreeMap<String, (Fingerprint, CveRecord)> =
            cache.get("records.bin", RECORDS_KEY).unwrap();
        recs.get_mut("CVE-2024-3400").unwrap().1.title = Some("from the cache".into());
        cache.put("records.bin", RECORDS_KEY, &recs);
        let (b, _) = Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, rw).unwrap();
        assert_eq!(
            b.cves["CVE-2024-3400"]
                .record
                .as_ref()
                .unwrap()
                .title
                .as_deref(),
            Some("from the cache")
        );
        // Changed bytes are parsed again.
        let text = std::fs::read_to_string(&fx)
            .unwrap()
            .replace("\"title\": \"PAN-OS:", "\"title\": \"Changed:");
        std::fs::write(rec_dir.join("CVE-2024-3400.json"), text).unwrap();
        let (c, _) = Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, rw).unwrap();
        assert!(
            c.cves["CVE-2024-3400"]
                .record
                .as_ref()
                .unwrap()
                .title
                .as_deref()
                .unwrap()
                .starts_with("Changed:")
        );

        // Read-only (check): nothing written.
        let dir = fixture_site();
        let ro = CacheMode {
            read: true,
            write: false,
        };
        Intel::load(dir.path(), &data, &cves, &BTreeSet::new(), None, ro).unwrap();
        assert!(!dir.path().join(CACHE_DIR).exists());
    }

    #[test]
    fn dates() {
        assert_eq!(
            ymd("2025-08-25T17:04:19.9796Z").as_deref(),
            Some("2025-08-25")
        );
        assert_eq!(ymd("2024-04-12").as_deref(), Some("2024-04-12"));
        assert_eq!(ymd("2024-13-12"), None);
        assert_eq!(ymd("yesterday"), None);
        assert_eq!(ymd("2024-4-12x"), None);
    }
}

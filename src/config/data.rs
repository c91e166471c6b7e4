//! `[data]` in site.toml: where the threat-intelligence data files are, how strictly they
//! are read, and where `sitrep data sync` fetches them from.

use serde::{Deserialize, Serialize};

/// `[data]` in site.toml. Every path is relative to the site root.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct DataConfig {
    /// CVE JSON 5 records: `<dir>/**/CVE-*.json` (cvelistV5's `<year>/<n>xxx/` layout,
    /// optionally under `cves/`, or flat).
    pub cve_dir: String,
    /// The CISA KEV catalog (JSON, as published).
    pub kev: String,
    /// FIRST EPSS scores (CSV, or gzip-compressed CSV when the name ends in `.gz`). When
    /// the file is missing, the same name plus `.gz` is tried.
    pub epss: String,
    /// MITRE ATT&CK Enterprise, the STIX 2.x bundle as published.
    pub attack: String,
    /// true: bad data fails the build; false: a bad record is left out with a warning.
    pub strict: bool,
    /// Where `sitrep data sync` downloads the KEV catalog.
    pub kev_url: String,
    /// Where `sitrep data sync` downloads the EPSS scores (gzip-compressed).
    pub epss_url: String,
    /// Where `sitrep data sync` downloads CVE records: `{year}`, `{bucket}` (e.g. `3xxx`)
    /// and `{id}` are replaced.
    pub cve_url: String,
    /// Where `sitrep data sync` downloads the ATT&CK bundle; empty: not downloaded.
    pub attack_url: String,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            cve_dir: "data/cve".into(),
            kev: "data/kev.json".into(),
            epss: "data/epss.csv".into(),
            attack: "data/attack/enterprise-attack.json".into(),
            strict: true,
            kev_url: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json".into(),
            epss_url: "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz".into(),
            cve_url: "https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/{year}/{bucket}/{id}.json".into(),
            attack_url: String::new(),
        }
    }
}

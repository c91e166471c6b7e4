//! CVE JSON 5.x records (CVEProject's cvelistV5): only the fields a CVE page shows are
//! read; serde skips the rest (affected version ranges, references, supportingMedia...).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{DataProblem, ymd};
use crate::content::markdown::is_cve_id;

/// What a CVE page shows from a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CveRecord {
    pub id: String,
    /// `PUBLISHED` or `REJECTED`.
    pub state: String,
    pub title: Option<String>,
    /// The English description, as text (never the record's HTML).
    pub description: Option<String>,
    pub cvss: Option<Cvss>,
    pub cwes: Vec<Cwe>,
    /// `(vendor, product)` from the CNA's `affected`, without repeats or `n/a`.
    pub affected: Vec<(String, String)>,
    pub published: Option<String>,
    pub updated: Option<String>,
    /// For a rejected record, why.
    pub rejected_reason: Option<String>,
    /// The CNA's short name (`palo_alto`).
    pub assigner: Option<String>,
}

/// A CVSS base score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    /// `4.0`, `3.1` or `3.0`.
    pub version: String,
    pub score: f64,
    /// `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` or `NONE`.
    pub severity: String,
    pub vector: String,
    /// Who scored it: `CNA` or `CISA-ADP`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cwe {
    pub id: String,
    pub name: Option<String>,
}

// ---- the record as published, only the fields used ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    data_type: Option<String>,
    cve_metadata: Metadata,
    containers: Containers,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    cve_id: String,
    state: String,
    assigner_short_name: Option<String>,
    date_published: Option<String>,
    date_updated: Option<String>,
}

#[derive(Deserialize)]
struct Containers {
    cna: Container,
    #[serde(default)]
    adp: Vec<Container>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Container {
    title: Option<String>,
    descriptions: Vec<LangValue>,
    rejected_reasons: Vec<LangValue>,
    metrics: Vec<Metric>,
    problem_types: Vec<ProblemType>,
    affected: Vec<Affected>,
    provider_metadata: Option<Provider>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Provider {
    short_name: Option<String>,
}

#[derive(Deserialize)]
struct LangValue {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metric {
    #[serde(rename = "cvssV4_0")]
    v40: Option<RawCvss>,
    #[serde(rename = "cvssV3_1")]
    v31: Option<RawCvss>,
    #[serde(rename = "cvssV3_0")]
    v30: Option<RawCvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvss {
    base_score: f64,
    base_severity: Option<String>,
    vector_string: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProblemType {
    descriptions: Vec<ProblemDescription>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ProblemDescription {
    cwe_id: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Affected {
    vendor: Option<String>,
    product: Option<String>,
    package_name: Option<String>,
}

/// Where the record of `id` may be under `dir`: flat, cvelistV5's `<year>/<n>xxx/`, or
/// that under `cves/`.
pub fn candidates(dir: &Path, id: &str) -> Vec<PathBuf> {
    let file = format!("{id}.json");
    let mut out = vec![dir.join(&file)];
    let mut parts = id.split('-').skip(1);
    if let (Some(year), Some(num)) = (parts.next(), parts.next())
        && let Ok(n) = num.parse::<u64>()
    {
        let bucket = format!("{}xxx", n / 1000);
        out.push(dir.join(year).join(&bucket).join(&file));
        out.push(dir.join("cves").join(year).join(&bucket).join(&file));
    }
    out
}

/// The English entry of a list, else the first.
fn english(list: &[LangValue]) -> Option<String> {
    list.iter()
        .find(|d| d.lang.to_ascii_lowercase().starts_with("en"))
        .or(list.first())
        .map(|d| d.value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Qualitative severity of a CVSS (3.x and 4.0) base score.
pub fn severity_of(score: f64) -> &'static str {
    if score >= 9.0 {
        "CRITICAL"
    } else if score >= 7.0 {
        "HIGH"
    } else if score >= 4.0 {
        "MEDIUM"
    } else if score > 0.0 {
        "LOW"
    } else {
        "NONE"
    }
}

fn pick_cvss(c: &Container, source: &str) -> Result<Option<Cvss>, String> {
    type Pick = fn(&Metric) -> Option<&RawCvss>;
    let versions: [(&str, Pick); 3] = [
        ("4.0", |m| m.v40.as_ref()),
        ("3.1", |m| m.v31.as_ref()),
        ("3.0", |m| m.v30.as_ref()),
    ];
    for (version, get) in versions {
        if let Some(raw) = c.metrics.iter().find_map(get) {
            if !(0.0..=10.0).contains(&raw.base_score) || !raw.base_score.is_finite() {
                return Err(format!(
                    "CVSS {version} baseScore {} is not between 0 and 10",
                    raw.base_score
                ));
            }
            let expected = severity_of(raw.base_score);
            let severity = match &raw.base_severity {
                Some(s) => {
                    let s = s.to_ascii_uppercase();
                    if !["CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"].contains(&s.as_str()) {
                        return Err(format!(
                            "CVSS {version} baseSeverity {s:?} is not a severity"
                        ));
                    }
                    s
                }
                None => expected.to_string(),
            };
            return Ok(Some(Cvss {
                version: version.into(),
                score: raw.base_score,
                severity,
                vector: raw.vector_string.clone(),
                source: source.into(),
            }));
        }
    }
    Ok(None)
}

/// Checks that `raw` is a CVE JSON 5 record of `id`; returns its state, upper-cased
/// (`PUBLISHED` or `REJECTED`).
fn check_header(raw: &Raw, id: &str) -> Result<String, DataProblem> {
    if raw.data_type.as_deref().is_some_and(|t| t != "CVE_RECORD") {
        return Err(DataProblem::msg(
            "dataType is not CVE_RECORD: not a CVE JSON 5 record",
        ));
    }
    let m = &raw.cve_metadata;
    if m.cve_id != id || !is_cve_id(&m.cve_id) {
        return Err(DataProblem::msg(format!(
            "the file is named for {id} but holds the record of {:?}",
            m.cve_id
        )));
    }
    let state = m.state.to_ascii_uppercase();
    if state != "PUBLISHED" && state != "REJECTED" {
        return Err(DataProblem::msg(format!(
            "cveMetadata.state {:?} is neither PUBLISHED nor REJECTED",
            m.state
        )));
    }
    Ok(state)
}

/// The CNA's CVSS score, or else the first CISA-ADP container's.
fn record_cvss(containers: &Containers) -> Result<Option<Cvss>, DataProblem> {
    let cvss = pick_cvss(&containers.cna, "CNA").map_err(DataProblem::msg)?;
    if cvss.is_some() {
        return Ok(cvss);
    }
    for adp in &containers.adp {
        let name = adp
            .provider_metadata
            .as_ref()
            .and_then(|p| p.short_name.as_deref())
            .unwrap_or("");
        if name == "CISA-ADP" {
            let cvss = pick_cvss(adp, "CISA-ADP").map_err(DataProblem::msg)?;
            if cvss.is_some() {
                return Ok(cvss);
            }
        }
    }
    Ok(None)
}

/// The CWEs of one container not yet in `cwes`, added to it.
fn add_cwes(c: &Container, cwes: &mut Vec<Cwe>) {
    for pt in &c.problem_types {
        for d in &pt.descriptions {
            let Some(cwe) = d.cwe_id.as_deref().map(str::trim) else {
                continue;
            };
            if !cwe.starts_with("CWE-") || cwes.iter().any(|x| x.id == cwe) {
                continue;
            }
            let name = d.description.as_deref().map(|t| {
                t.trim()
                    .strip_prefix(cwe)
                    .unwrap_or(t)
                    .trim_start_matches([':', ' '])
                    .to_string()
            });
            cwes.push(Cwe {
                id: cwe.to_string(),
                name: name.filter(|n| !n.is_empty()),
            });
        }
    }
}

/// The record's CWEs: the CNA's when it gives any; CISA-ADP's only to fill a gap.
fn record_cwes(containers: &Containers) -> Vec<Cwe> {
    let mut cwes: Vec<Cwe> = Vec::new();
    for c in std::iter::once(&containers.cna).chain(containers.adp.iter()) {
        add_cwes(c, &mut cwes);
        if !cwes.is_empty() {
            break;
        }
    }
    cwes
}

/// `(vendor, product)` from the CNA's `affected`, without repeats or `n/a`.
fn record_affected(cna: &Container) -> Vec<(String, String)> {
    let mut affected: Vec<(String, String)> = Vec::new();
    for a in &cna.affected {
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("n/a"))
                .map(str::to_string)
        };
        let product = clean(&a.product).or_else(|| clean(&a.package_name));
        let vendor = clean(&a.vendor).unwrap_or_default();
        if let Some(product) = product {
            let pair = (vendor, product);
            if !affected.contains(&pair) {
                affected.push(pair);
            }
        }
    }
    affected
}

/// The date `d` of `cveMetadata.{what}` as `YYYY-MM-DD`.
fn metadata_date(d: &Option<String>, what: &str) -> Result<Option<String>, DataProblem> {
    match d {
        None => Ok(None),
        Some(d) => ymd(d)
            .map(Some)
            .ok_or_else(|| DataProblem::msg(format!("cveMetadata.{what} {d:?} is not a date"))),
    }
}

/// Parses the record of `id` from `text` (the file's bytes). Errors say what is wrong (the
/// caller names the file); JSON syntax errors, and text that is not UTF-8, carry their
/// line.
pub fn parse(text: impl AsRef<[u8]>, id: &str) -> Result<CveRecord, DataProblem> {
    let raw: Raw = serde_json::from_slice(text.as_ref()).map_err(DataProblem::json)?;
    let state = check_header(&raw, id)?;
    let cvss = record_cvss(&raw.containers)?;
    let cwes = record_cwes(&raw.containers);
    let cna = &raw.containers.cna;
    let affected = record_affected(cna);
    let m = raw.cve_metadata;
    Ok(CveRecord {
        id: m.cve_id.clone(),
        title: cna
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        description: english(&cna.descriptions),
        rejected_reason: if state == "REJECTED" {
            english(&cna.rejected_reasons)
        } else {
            None
        },
        state,
        cvss,
        cwes,
        affected,
        published: metadata_date(&m.date_published, "datePublished")?,
        updated: metadata_date(&m.date_updated, "dateUpdated")?,
        assigner: m.assigner_short_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(rel: &str) -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/intel/cve")
                .join(rel),
        )
        .unwrap()
    }

    #[test]
    fn cna_cvss_31_cwe_and_products() {
        let r = parse(fixture("2024/3xxx/CVE-2024-3400.json"), "CVE-2024-3400").unwrap();
        let c = r.cvss.unwrap();
        assert_eq!(
            (c.version.as_str(), c.score, c.severity.as_str()),
            ("3.1", 10.0, "CRITICAL")
        );
        assert_eq!(c.vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H");
        assert_eq!(c.source, "CNA");
        assert_eq!(r.cwes[0].id, "CWE-77");
        assert_eq!(
            r.cwes[0].name.as_deref(),
            Some(
                "Improper Neutralization of Special Elements used in a Command ('Command Injection')"
            )
        );
        assert_eq!(r.cwes[1].id, "CWE-20");
        assert_eq!(
            r.affected[0],
            ("Palo Alto Networks".into(), "PAN-OS".into())
        );
        assert_eq!(r.published.as_deref(), Some("2024-04-12"));
        assert_eq!(r.updated.as_deref(), Some("2025-07-28"));
        // The text value, never the supportingMedia HTML.
        assert!(!r.description.unwrap().contains("<br>"));
    }

    #[test]
    fn cvss_40_preferred_first_entry() {
        let r = parse(fixture("2024/0xxx/CVE-2024-0012.json"), "CVE-2024-0012").unwrap();
        let c = r.cvss.unwrap();
        assert_eq!((c.version.as_str(), c.score), ("4.0", 9.3));
        assert!(c.vector.starts_with("CVSS:4.0/AV:N/AC:L/AT:N"));
    }

    #[test]
    fn old_record_without_metrics_or_cwe() {
        let r = parse(fixture("2006/5xxx/CVE-2006-5051.json"), "CVE-2006-5051").unwrap();
        assert!(r.cvss.is_none());
        assert!(r.cwes.is_empty());
        assert!(r.affected.is_empty(), "n/a is not a product");
        assert_eq!(r.published.as_deref(), Some("2006-09-27"));
    }

    #[test]
    fn package_name_stands_for_product() {
        let r = parse(fixture("2024/6xxx/CVE-2024-6387.json"), "CVE-2024-6387").unwrap();
        assert_eq!(r.affected[0], (String::new(), "OpenSSH".into()));
        assert_eq!(r.cvss.unwrap().score, 8.1);
    }

    #[test]
    fn bad_records_are_refused() {
        let good = fixture("2024/3xxx/CVE-2024-3400.json");
        let e = parse(&good, "CVE-2024-9999").unwrap_err();
        assert!(
            e.message.contains("holds the record of \"CVE-2024-3400\""),
            "{}",
            e.message
        );
        let e = parse(
            good.replace("\"baseScore\": 10,", "\"baseScore\": 11,"),
            "CVE-2024-3400",
        )
        .unwrap_err();
        assert!(e.message.contains("baseScore 11"), "{}", e.message);
        let e = parse(&good[..good.len() / 2], "CVE-2024-3400").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        let e = parse("{\"dataType\": \"CVE_RECORD\"}", "CVE-2024-3400").unwrap_err();
        assert!(e.message.contains("cveMetadata"), "{}", e.message);
    }

    /// A rejected record: cveMetadata with state REJECTED and the CNA container of the
    /// CVE JSON 5 schema's rejected example (schema/docs/cnaContainer-rejected-example.json).
    const REJECTED: &str = r#"{
  "dataType": "CVE_RECORD",
  "dataVersion": "5.1",
  "cveMetadata": {"cveId": "CVE-2024-0001", "assignerOrgId": "00000000-0000-4000-9000-000000000000", "state": "REJECTED", "dateReserved": "2023-11-01T00:00:00.000Z", "dateRejected": "2024-01-02T00:00:00.000Z", "dateUpdated": "2024-01-02T00:00:00.000Z"},
  "containers": {
    "cna": {
      "providerMetadata": {"orgId": "00000000-0000-4000-9000-000000000000", "shortName": "example"},
      "rejectedReasons": [{"lang": "en", "value": "This CVE ID has been rejected or withdrawn by its CVE Numbering Authority."}]
    }
  }
}"#;

    #[test]
    fn rejected_record() {
        let r = parse(REJECTED, "CVE-2024-0001").unwrap();
        assert_eq!(r.state, "REJECTED");
        assert_eq!(
            r.rejected_reason.as_deref(),
            Some("This CVE ID has been rejected or withdrawn by its CVE Numbering Authority.")
        );
        assert!(r.cvss.is_none() && r.description.is_none());
    }

    #[test]
    fn candidate_paths() {
        let c = candidates(Path::new("d"), "CVE-2024-3400");
        assert_eq!(c[1], Path::new("d/2024/3xxx/CVE-2024-3400.json"));
        assert_eq!(c[2], Path::new("d/cves/2024/3xxx/CVE-2024-3400.json"));
        let c = candidates(Path::new("d"), "CVE-2024-47575");
        assert_eq!(c[1], Path::new("d/2024/47xxx/CVE-2024-47575.json"));
    }
}

//! The CISA Known Exploited Vulnerabilities catalog (JSON, as published). The whole file
//! is read (about 1.3 MB), and only the entries of CVEs the site mentions are kept.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{DataProblem, line_of, ymd};
use crate::content::markdown::is_cve_id;

/// What a CVE page shows of a KEV entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: String,
    pub due_date: Option<String>,
    /// `Known` or `Unknown`.
    pub ransomware: String,
    pub required_action: String,
}

/// The catalog's own version and release date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevCatalog {
    pub version: String,
    /// `YYYY-MM-DD`.
    pub released: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    catalog_version: String,
    date_released: String,
    vulnerabilities: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    vendor_project: String,
    product: String,
    vulnerability_name: String,
    date_added: String,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    known_ransomware_campaign_use: Option<String>,
    #[serde(default)]
    required_action: Option<String>,
}

/// The catalog: its version and the entries of `wanted`. Bad entries are errors (`problems`
/// gets one per entry, the caller decides whether they fail the build).
pub fn parse(
    text: &str,
    wanted: &BTreeSet<String>,
    problems: &mut Vec<DataProblem>,
) -> Result<(KevCatalog, BTreeMap<String, KevEntry>), DataProblem> {
    let raw: Raw = serde_json::from_str(text).map_err(DataProblem::json)?;
    let released = ymd(&raw.date_released).ok_or_else(|| {
        DataProblem::msg(format!(
            "dateReleased {:?} is not a date",
            raw.date_released
        ))
        .at(line_of(text, "\"dateReleased\""))
    })?;
    let catalog = KevCatalog {
        version: raw.catalog_version,
        released,
    };
    let mut out = BTreeMap::new();
    for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
        let id_hint = v.get("cveID").and_then(|x| x.as_str()).map(str::to_string);
        let wanted_here = id_hint.as_ref().is_none_or(|id| wanted.contains(id));
        let entry: RawEntry = match serde_json::from_value(v) {
            Ok(e) => e,
            Err(e) => {
                let line = id_hint
                    .as_ref()
                    .and_then(|id| line_of(text, &format!("\"{id}\"")));
                problems.push(
                    DataProblem::msg(format!(
                        "vulnerabilities[{i}]{}: {e}",
                        id_hint.map(|id| format!(" ({id})")).unwrap_or_default()
                    ))
                    .at(line),
                );
                continue;
            }
        };
        if !wanted_here {
            continue;
        }
        let line = || line_of(text, &format!("\"{}\"", entry.cve_id));
        if !is_cve_id(&entry.cve_id) {
            problems.push(
                DataProblem::msg(format!(
                    "vulnerabilities[{i}]: cveID {:?} is not a CVE id",
                    entry.cve_id
                ))
                .at(line()),
            );
            continue;
        }
        let Some(date_added) = ymd(&entry.date_added) else {
            problems.push(
                DataProblem::msg(format!(
                    "vulnerabilities[{i}] ({}): dateAdded {:?} is not a date",
                    entry.cve_id, entry.date_added
                ))
                .at(line()),
            );
            continue;
        };
        out.insert(
            entry.cve_id.clone(),
            KevEntry {
                vendor: entry.vendor_project,
                product: entry.product,
                name: entry.vulnerability_name,
                date_added,
                due_date: entry.due_date.as_deref().and_then(ymd),
                ransomware: entry
                    .known_ransomware_campaign_use
                    .unwrap_or_else(|| "Unknown".into()),
                required_action: entry.required_action.unwrap_or_default(),
            },
        );
    }
    Ok((catalog, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> String {
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intel/kev.json"),
        )
        .unwrap()
    }

    fn want(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_only_wanted_entries() {
        let mut problems = Vec::new();
        let (cat, entries) = parse(
            &fixture(),
            &want(&["CVE-2024-3400", "CVE-1999-0001"]),
            &mut problems,
        )
        .unwrap();
        assert!(problems.is_empty());
        assert_eq!(cat.version, "2025.08.25");
        assert_eq!(cat.released, "2025-08-25");
        assert_eq!(entries.len(), 1);
        let e = &entries["CVE-2024-3400"];
        assert_eq!(e.vendor, "Palo Alto Networks");
        assert_eq!(e.product, "PAN-OS");
        assert_eq!(e.date_added, "2024-04-12");
        assert_eq!(e.due_date.as_deref(), Some("2024-04-19"));
        assert_eq!(
            e.name,
            "Palo Alto Networks PAN-OS Command Injection Vulnerability"
        );
    }

    #[test]
    fn bad_entry_named_with_its_line() {
        let text = fixture().replacen(
            "\"dateAdded\": \"2024-04-12\"",
            "\"dateAdded\": \"last week\"",
            1,
        );
        let mut problems = Vec::new();
        let (_, entries) = parse(&text, &want(&["CVE-2024-3400"]), &mut problems).unwrap();
        assert!(entries.is_empty());
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("(CVE-2024-3400): dateAdded"),
            "{:?}",
            problems[0]
        );
        assert!(problems[0].line.is_some());
    }

    #[test]
    fn truncated_file_is_an_error_with_line() {
        let text = fixture();
        let e = parse(&text[..text.len() - 200], &want(&[]), &mut Vec::new()).unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
    }
}
